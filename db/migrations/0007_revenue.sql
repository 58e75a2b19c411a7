CREATE TABLE `checkout_index` (
	`id` text PRIMARY KEY NOT NULL,
	`cart_id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `checkout_index_cart_idx` ON `checkout_index` (`cart_id`);--> statement-breakpoint
CREATE TABLE `promotion_redemptions` (
	`id` text PRIMARY KEY NOT NULL,
	`promotion_id` text NOT NULL,
	`checkout_id` text NOT NULL,
	`email` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`promotion_id`) REFERENCES `promotions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `promotion_redemptions_live_unique` ON `promotion_redemptions` (`promotion_id`,`checkout_id`) WHERE status IN ('held', 'redeemed');--> statement-breakpoint
CREATE INDEX `promotion_redemptions_customer_idx` ON `promotion_redemptions` (`promotion_id`,`email`,`status`);--> statement-breakpoint
CREATE INDEX `promotion_redemptions_checkout_idx` ON `promotion_redemptions` (`checkout_id`,`status`);--> statement-breakpoint
CREATE TABLE `promotions` (
	`id` text PRIMARY KEY NOT NULL,
	`code` text NOT NULL,
	`type` text NOT NULL,
	`percentage_bp` integer,
	`amount_off` integer,
	`currency` text,
	`minimum_subtotal` integer,
	`starts_at` integer,
	`ends_at` integer,
	`usage_limit` integer,
	`per_customer_limit` integer,
	`times_used` integer DEFAULT 0 NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `promotions_code_unique` ON `promotions` (`code`);--> statement-breakpoint
CREATE INDEX `promotions_created_idx` ON `promotions` (`created_at`,`id`);