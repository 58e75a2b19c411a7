-- The checkout sweeper's turn order (workers/checkout/sweeper.ts): a checkout it asked that is
-- still pending (its payment window still open) waits until next_sweep_at before it is asked
-- again, so checkouts abandoned at the payment step can never keep a newer one (a payment its
-- cart never heard of) out of the sweeper's per-tick batch.
ALTER TABLE `checkout_index` ADD `next_sweep_at` integer;--> statement-breakpoint
CREATE INDEX `checkout_index_sweep_idx` ON `checkout_index` (`settled_at`,`next_sweep_at`,`created_at`);