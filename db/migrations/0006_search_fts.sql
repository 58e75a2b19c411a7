-- Full-text index over search_docs (rowid = search_docs.doc_id). The indexer writes it in
-- the same D1 batch as search_docs. Column order matters: bm25() weights are positional
-- (workers/search/query-sql.ts): title, brand, skus, categories, attributes, description.
-- remove_diacritics 2 folds accents so "creme" finds "crème"; prefix indexes 2 and 3 make
-- as-you-type prefix queries ("sne"*) index lookups instead of term scans.
CREATE VIRTUAL TABLE `search_fts` USING fts5(
	`title`,
	`brand`,
	`skus`,
	`categories`,
	`attributes`,
	`description`,
	tokenize = 'unicode61 remove_diacritics 2',
	prefix = '2 3'
);
