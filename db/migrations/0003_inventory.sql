CREATE TABLE `inventory_levels` (
	`sku` text NOT NULL,
	`shard` integer NOT NULL,
	`level_version` integer NOT NULL,
	`on_hand` integer NOT NULL,
	`available` integer NOT NULL,
	`reserved` integer NOT NULL,
	`sold` integer NOT NULL,
	`sku_on_hand` integer,
	`occurred_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`sku`, `shard`)
);
