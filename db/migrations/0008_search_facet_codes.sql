CREATE TABLE `search_facet_values` (
	`id` integer PRIMARY KEY NOT NULL,
	`facet` text NOT NULL,
	`value` text NOT NULL,
	`doc_count` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `search_facet_values_unique` ON `search_facet_values` (`facet`,`value`);--> statement-breakpoint
ALTER TABLE `search_docs` ADD `facet_codes` text DEFAULT '' NOT NULL;--> statement-breakpoint
-- Facet codes: one character per facet value (code point id + 255, so U+0100..U+D7FF: never a
-- separator, never a surrogate) in search_docs.facet_codes, and each value's doc count.
-- Triggers keep both in step with search_doc_facets whichever release writes the rows, so a
-- gradual rollout never leaves them stale. Values past id 55040 have no code point left:
-- still filterable and counted in doc_count, but not in filtered facet counts.
INSERT INTO search_facet_values (facet, value, doc_count) SELECT facet, value, count(*) FROM search_doc_facets GROUP BY facet, value ORDER BY facet, value;
--> statement-breakpoint
UPDATE search_docs SET facet_codes = coalesce((SELECT group_concat(char(v.id + 255), '') FROM search_doc_facets f JOIN search_facet_values v ON v.facet = f.facet AND v.value = f.value WHERE f.doc_id = search_docs.doc_id AND v.id <= 55040), '');
--> statement-breakpoint
CREATE TRIGGER search_doc_facets_code_added AFTER INSERT ON search_doc_facets BEGIN
  INSERT INTO search_facet_values (facet, value, doc_count) VALUES (NEW.facet, NEW.value, 1)
    ON CONFLICT (facet, value) DO UPDATE SET doc_count = doc_count + 1;
  UPDATE search_docs SET facet_codes = facet_codes || coalesce((SELECT char(id + 255) FROM search_facet_values WHERE facet = NEW.facet AND value = NEW.value AND id <= 55040), '') WHERE doc_id = NEW.doc_id;
END;
--> statement-breakpoint
CREATE TRIGGER search_doc_facets_code_removed AFTER DELETE ON search_doc_facets BEGIN
  UPDATE search_facet_values SET doc_count = doc_count - 1 WHERE facet = OLD.facet AND value = OLD.value;
  UPDATE search_docs SET facet_codes = replace(facet_codes, coalesce((SELECT char(id + 255) FROM search_facet_values WHERE facet = OLD.facet AND value = OLD.value AND id <= 55040), ''), '') WHERE doc_id = OLD.doc_id;
END;
