import { defineConfig } from "drizzle-kit";

/** drizzle-kit writes SQL migrations here; wrangler.toml's migrations_dir points at the same folder. */
export default defineConfig({
  dialect: "sqlite",
  schema: "./db/schema.ts",
  out: "./db/migrations",
});
