CREATE TABLE `audit_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`trigger` text NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer NOT NULL,
	`skus` integer NOT NULL,
	`discrepancies` integer NOT NULL,
	`findings` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_runs_started_idx` ON `audit_runs` (`started_at`);--> statement-breakpoint
ALTER TABLE `checkout_index` ADD `settled_at` integer;--> statement-breakpoint
CREATE INDEX `checkout_index_unsettled_idx` ON `checkout_index` (`settled_at`,`created_at`);