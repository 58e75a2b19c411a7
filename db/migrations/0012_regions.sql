CREATE TABLE `order_tax_lines` (
	`id` text PRIMARY KEY NOT NULL,
	`order_id` text NOT NULL,
	`position` integer,
	`country` text NOT NULL,
	`subdivision` text NOT NULL,
	`tax_class` text NOT NULL,
	`rate_bp` integer NOT NULL,
	`taxable_amount` integer NOT NULL,
	`amount` integer NOT NULL,
	`name` text NOT NULL,
	`provider` text NOT NULL,
	`provider_reference` text
);
--> statement-breakpoint
CREATE INDEX `order_tax_lines_order_idx` ON `order_tax_lines` (`order_id`,`position`);--> statement-breakpoint
CREATE TABLE `region_countries` (
	`country` text PRIMARY KEY NOT NULL,
	`region_code` text NOT NULL,
	FOREIGN KEY (`region_code`) REFERENCES `regions`(`code`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `region_countries_region_idx` ON `region_countries` (`region_code`);--> statement-breakpoint
CREATE TABLE `regions` (
	`code` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`currency` text NOT NULL,
	`tax_inclusive` integer NOT NULL,
	`tax_provider` text DEFAULT 'tables' NOT NULL,
	`default_country` text NOT NULL,
	`position` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `regions_currency_idx` ON `regions` (`currency`,`position`);--> statement-breakpoint
CREATE TABLE `shipping_options` (
	`id` text PRIMARY KEY NOT NULL,
	`region_code` text NOT NULL,
	`name` text NOT NULL,
	`price_type` text NOT NULL,
	`amount` integer,
	`weight_bands` text,
	`free_over` integer,
	`countries` text,
	`min_days` integer NOT NULL,
	`max_days` integer NOT NULL,
	`position` integer DEFAULT 0 NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`region_code`) REFERENCES `regions`(`code`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `shipping_options_region_idx` ON `shipping_options` (`region_code`,`position`);--> statement-breakpoint
CREATE TABLE `tax_rates` (
	`id` text PRIMARY KEY NOT NULL,
	`country` text NOT NULL,
	`subdivision` text DEFAULT '' NOT NULL,
	`tax_class` text DEFAULT '' NOT NULL,
	`rate_bp` integer NOT NULL,
	`name` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tax_rates_scope_unique` ON `tax_rates` (`country`,`subdivision`,`tax_class`);--> statement-breakpoint
ALTER TABLE `products` ADD `tax_class` text;--> statement-breakpoint
ALTER TABLE `orders` ADD `region_code` text;--> statement-breakpoint
-- Backfill: the regions, rates and shipping options that were constants in code (db/seed-regions.ts),
-- with real standard VAT rates and US state base rates, so existing carts keep their region codes.
INSERT INTO regions (code, name, currency, tax_inclusive, tax_provider, default_country, position, created_at, updated_at) VALUES
  ('US', 'United States', 'USD', 0, 'tables', 'US', 0, 1798761600000, 1798761600000),
  ('EU', 'European Union', 'EUR', 1, 'tables', 'DE', 0, 1798761600000, 1798761600000),
  ('GB', 'United Kingdom', 'GBP', 1, 'tables', 'GB', 0, 1798761600000, 1798761600000),
  ('JP', 'Japan', 'JPY', 1, 'tables', 'JP', 0, 1798761600000, 1798761600000)
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO region_countries (country, region_code) VALUES
  ('US', 'US'),
  ('AT', 'EU'),
  ('BE', 'EU'),
  ('DE', 'EU'),
  ('ES', 'EU'),
  ('FI', 'EU'),
  ('FR', 'EU'),
  ('IE', 'EU'),
  ('IT', 'EU'),
  ('LU', 'EU'),
  ('NL', 'EU'),
  ('PT', 'EU'),
  ('GB', 'GB'),
  ('JP', 'JP')
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO tax_rates (id, country, subdivision, tax_class, rate_bp, name, updated_at) VALUES
  ('txr_at_all_standard', 'AT', '', '', 2000, 'VAT', 1798761600000),
  ('txr_be_all_standard', 'BE', '', '', 2100, 'VAT', 1798761600000),
  ('txr_de_all_standard', 'DE', '', '', 1900, 'VAT', 1798761600000),
  ('txr_de_all_reduced', 'DE', '', 'reduced', 700, 'VAT (reduced)', 1798761600000),
  ('txr_es_all_standard', 'ES', '', '', 2100, 'VAT', 1798761600000),
  ('txr_fi_all_standard', 'FI', '', '', 2550, 'VAT', 1798761600000),
  ('txr_fr_all_standard', 'FR', '', '', 2000, 'VAT', 1798761600000),
  ('txr_fr_all_reduced', 'FR', '', 'reduced', 550, 'VAT (reduced)', 1798761600000),
  ('txr_ie_all_standard', 'IE', '', '', 2300, 'VAT', 1798761600000),
  ('txr_it_all_standard', 'IT', '', '', 2200, 'VAT', 1798761600000),
  ('txr_lu_all_standard', 'LU', '', '', 1700, 'VAT', 1798761600000),
  ('txr_nl_all_standard', 'NL', '', '', 2100, 'VAT', 1798761600000),
  ('txr_nl_all_reduced', 'NL', '', 'reduced', 900, 'VAT (reduced)', 1798761600000),
  ('txr_pt_all_standard', 'PT', '', '', 2300, 'VAT', 1798761600000),
  ('txr_gb_all_standard', 'GB', '', '', 2000, 'VAT', 1798761600000),
  ('txr_jp_all_standard', 'JP', '', '', 1000, 'Consumption tax', 1798761600000),
  ('txr_us_ca_standard', 'US', 'CA', '', 725, 'CA state sales tax', 1798761600000),
  ('txr_us_il_standard', 'US', 'IL', '', 625, 'IL state sales tax', 1798761600000),
  ('txr_us_ny_standard', 'US', 'NY', '', 400, 'NY state sales tax', 1798761600000),
  ('txr_us_tx_standard', 'US', 'TX', '', 625, 'TX state sales tax', 1798761600000),
  ('txr_us_wa_standard', 'US', 'WA', '', 650, 'WA state sales tax', 1798761600000)
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO shipping_options (id, region_code, name, price_type, amount, weight_bands, free_over, countries, min_days, max_days, position, active, created_at, updated_at) VALUES
  ('us_standard', 'US', 'Standard', 'flat', 599, NULL, NULL, NULL, 3, 5, 0, 1, 1798761600000, 1798761600000),
  ('us_express', 'US', 'Express', 'flat', 1999, NULL, NULL, NULL, 1, 2, 1, 1, 1798761600000, 1798761600000),
  ('eu_standard', 'EU', 'Standard', 'flat', 499, NULL, NULL, NULL, 3, 7, 0, 1, 1798761600000, 1798761600000),
  ('eu_express', 'EU', 'Express', 'flat', 1499, NULL, NULL, '["AT","BE","DE","FR","LU","NL"]', 1, 3, 1, 1, 1798761600000, 1798761600000),
  ('gb_standard', 'GB', 'Standard', 'flat', 399, NULL, NULL, NULL, 2, 4, 0, 1, 1798761600000, 1798761600000),
  ('gb_next_day', 'GB', 'Next day', 'flat', 999, NULL, NULL, NULL, 1, 1, 1, 1, 1798761600000, 1798761600000),
  ('jp_standard', 'JP', 'Standard', 'flat', 600, NULL, NULL, NULL, 2, 4, 0, 1, 1798761600000, 1798761600000),
  ('jp_express', 'JP', 'Express', 'flat', 1500, NULL, NULL, NULL, 1, 1, 1, 1, 1798761600000, 1798761600000)
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO sequences (name, value) VALUES ('region_config', 1) ON CONFLICT DO NOTHING;
