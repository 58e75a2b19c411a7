#!/usr/bin/env node
// Migrates and seeds the local D1 database: `npm run db:seed:local [-- --products 100000]`.
import { parseArgs } from "node:util";
import { DEFAULT_PERSIST, migrateLocal, seedLocal } from "./lib/local-d1.mjs";

const { values } = parseArgs({
  options: {
    products: { type: "string", default: "200" },
    seed: { type: "string", default: "1" },
    "persist-to": { type: "string", default: DEFAULT_PERSIST },
  },
});
const products = Number(values.products);
const seed = Number(values.seed);
if (!Number.isSafeInteger(products) || products < 1 || !Number.isSafeInteger(seed)) {
  console.error("usage: seed-local.mjs [--products N] [--seed S] [--persist-to DIR]");
  process.exit(2);
}

const started = performance.now();
await migrateLocal({ persistTo: values["persist-to"] });
const { files, bytes } = await seedLocal({ persistTo: values["persist-to"], products, seed });
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `Seeded local D1 with the demo catalog (${products} active products, seed ${seed}; ${files} file(s), ${(bytes / 1e6).toFixed(1)} MB SQL) in ${seconds}s.`,
);
