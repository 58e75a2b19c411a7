ALTER TABLE `checkout_index` ADD `payment_id` text;--> statement-breakpoint
ALTER TABLE `order_refunds` ADD `request_fingerprint` text;