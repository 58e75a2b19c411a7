-- Change feed of the search index for the search replicas (durable-objects/search-replica.ts):
-- one row per indexed product with the sequence number of its latest change (a compacted log).
-- A replica pulls rows with seq above the last one it applied; a product whose search_docs row
-- is gone is a removal. Triggers keep it in step with search_docs whichever release writes; a product's
-- seq only grows (updated in place, never re-inserted: a conflict clause inside a trigger
-- yields to the outer statement's, so INSERT OR REPLACE would fail under the indexer's upsert).
CREATE TABLE `search_changes` (
	`product_id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `search_changes_seq_idx` ON `search_changes` (`seq`);
--> statement-breakpoint
INSERT INTO search_changes (product_id, seq) SELECT product_id, doc_id FROM search_docs;
--> statement-breakpoint
CREATE TRIGGER search_docs_changed_insert AFTER INSERT ON search_docs BEGIN
  UPDATE search_changes SET seq = (SELECT max(seq) FROM search_changes) + 1 WHERE product_id = NEW.product_id;
  INSERT INTO search_changes (product_id, seq)
    SELECT NEW.product_id, coalesce((SELECT max(seq) FROM search_changes), 0) + 1
    WHERE NOT EXISTS (SELECT 1 FROM search_changes WHERE product_id = NEW.product_id);
END;
--> statement-breakpoint
CREATE TRIGGER search_docs_changed_update AFTER UPDATE OF slug, title, brand, thumbnail_url, popularity, boost, in_stock, created_at, revision, indexed_at ON search_docs BEGIN
  UPDATE search_changes SET seq = (SELECT max(seq) FROM search_changes) + 1 WHERE product_id = NEW.product_id;
  INSERT INTO search_changes (product_id, seq)
    SELECT NEW.product_id, coalesce((SELECT max(seq) FROM search_changes), 0) + 1
    WHERE NOT EXISTS (SELECT 1 FROM search_changes WHERE product_id = NEW.product_id);
END;
--> statement-breakpoint
CREATE TRIGGER search_docs_changed_delete AFTER DELETE ON search_docs BEGIN
  UPDATE search_changes SET seq = (SELECT max(seq) FROM search_changes) + 1 WHERE product_id = OLD.product_id;
  INSERT INTO search_changes (product_id, seq)
    SELECT OLD.product_id, coalesce((SELECT max(seq) FROM search_changes), 0) + 1
    WHERE NOT EXISTS (SELECT 1 FROM search_changes WHERE product_id = OLD.product_id);
END;
