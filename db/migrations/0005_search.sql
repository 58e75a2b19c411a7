CREATE TABLE `search_doc_facets` (
	`facet` text NOT NULL,
	`value` text NOT NULL,
	`doc_id` integer NOT NULL,
	PRIMARY KEY(`facet`, `value`, `doc_id`)
);
--> statement-breakpoint
CREATE INDEX `search_doc_facets_doc_idx` ON `search_doc_facets` (`doc_id`,`facet`,`value`);--> statement-breakpoint
CREATE TABLE `search_doc_prices` (
	`doc_id` integer NOT NULL,
	`currency` text NOT NULL,
	`amount` integer NOT NULL,
	PRIMARY KEY(`doc_id`, `currency`)
);
--> statement-breakpoint
CREATE INDEX `search_doc_prices_currency_idx` ON `search_doc_prices` (`currency`,`amount`,`doc_id`);--> statement-breakpoint
CREATE TABLE `search_docs` (
	`doc_id` integer PRIMARY KEY NOT NULL,
	`product_id` text NOT NULL,
	`slug` text NOT NULL,
	`title` text NOT NULL,
	`brand` text DEFAULT '' NOT NULL,
	`thumbnail_url` text,
	`popularity` integer DEFAULT 0 NOT NULL,
	`boost` real DEFAULT 1 NOT NULL,
	`in_stock` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL,
	`revision` integer NOT NULL,
	`indexed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `search_docs_product_unique` ON `search_docs` (`product_id`);--> statement-breakpoint
CREATE INDEX `search_docs_created_idx` ON `search_docs` (`created_at`,`doc_id`);--> statement-breakpoint
CREATE INDEX `search_docs_popularity_idx` ON `search_docs` (`in_stock`,`popularity`,`doc_id`);--> statement-breakpoint
CREATE TABLE `search_spellings` (
	`variant` text NOT NULL,
	`term` text NOT NULL,
	PRIMARY KEY(`variant`, `term`)
);
--> statement-breakpoint
CREATE TABLE `search_terms` (
	`term` text PRIMARY KEY NOT NULL,
	`df` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `search_zero_results` (
	`query` text PRIMARY KEY NOT NULL,
	`count` integer NOT NULL,
	`example` text NOT NULL,
	`first_seen_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `search_zero_results_count_idx` ON `search_zero_results` (`count`,`query`);