#!/usr/bin/env node
// `npm run serve`: the production bundle on Miniflare against the same local state as
// `npm run dev` (run that once first to migrate and seed). Suited to load tests.
import { parseArgs } from "node:util";
import { startServer } from "./lib/server.mjs";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.PORT ?? "8787" },
    host: { type: "string", default: "127.0.0.1" },
    quiet: { type: "boolean", default: false },
  },
});

const server = await startServer({ port: Number(values.port), host: values.host, quiet: values.quiet });
console.log(`Popcart (production bundle on Miniflare) listening on ${server.url}`);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, async () => {
    await server.close();
    process.exit(0);
  });
}
