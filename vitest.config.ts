import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { buildAssets } from "./scripts/build-assets.mjs";

// The storefront imports the generated asset manifest, so fingerprint the client files first.
buildAssets();

const migrations = await readD1Migrations(fileURLToPath(new URL("./db/migrations", import.meta.url)));

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: migrations,
          ADMIN_TOKEN: "test-admin-token",
          // A read-only scoped token ("catalog-reader-token"), stored hashed like production.
          ADMIN_TOKENS: JSON.stringify([
            {
              id: "catalog-reader",
              sha256: "bb637fb2772cd3779c5f78aa25f903b0e7ab57f90e6de7b8f8aea777338fa825",
              scopes: ["catalog:read"],
            },
            // "inventory-reader-token": the console's read-only scope tests.
            {
              id: "inventory-reader",
              sha256: "c8b41efcc5ab8c079ad6504bb06f20229a66cffcbe76da2c0a35d31b07398cbe",
              scopes: ["inventory:read"],
            },
          ]),
          STRIPE_SECRET_KEY: "",
          // The offline test provider pays the suites' checkouts (never enabled in production).
          PAYMENT_TEST_PROVIDER: "enabled",
          STRIPE_PUBLISHABLE_KEY: "",
          STRIPE_WEBHOOK_SECRET: "",
          FULFILMENT_WEBHOOK_SECRET: "test-fulfilment-secret",
          WAITING_ROOM_SECRET: "test-waiting-room-secret-0123456789abcdef",
          ADMIN_SESSION_SECRET: "test-admin-session-secret-0123456789abcdef",
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["./test/setup.ts"],
    testTimeout: 30_000,
    // Structured request/event logs only matter when a test fails.
    silent: "passed-only",
  },
});
