import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CONTRACT_STEPS, contractStatements } from "../db/contract-steps";
import { CART_STORAGE_MIGRATIONS } from "../durable-objects/cart-storage";
import { INVENTORY_STORAGE_MIGRATIONS } from "../durable-objects/inventory-storage";
import { WAITING_ROOM_STORAGE_MIGRATIONS } from "../durable-objects/waiting-room";
import { sha256Hex } from "../workers/lib/crypto";
import { RELEASES } from "./compat-fixtures";

/** Every migration this code ships: D1 files and the objects' storage steps, by name. */
function allMigrations(): { migration: string; sql: string }[] {
  return [
    ...env.TEST_MIGRATIONS.map((m) => ({ migration: m.name, sql: m.queries.join(";\n") })),
    ...CART_STORAGE_MIGRATIONS.map((sql, i) => ({ migration: `cart-storage#${i + 1}`, sql })),
    ...INVENTORY_STORAGE_MIGRATIONS.map((step, i) => ({
      migration: `inventory-storage#${i + 1}`,
      sql: step.join(";\n"),
    })),
    ...WAITING_ROOM_STORAGE_MIGRATIONS.map((step, i) => ({
      migration: `waiting-room-storage#${i + 1}`,
      sql: step.join(";\n"),
    })),
  ];
}

describe("migrations are expand-then-contract", () => {
  it("no migration drops or renames anything unless it is a listed contract step", () => {
    const unlisted = allMigrations().flatMap(({ migration, sql }) =>
      contractStatements(sql)
        .filter(
          (statement) =>
            !CONTRACT_STEPS.some(
              (step) => step.migration === migration && statement.includes(step.statement),
            ),
        )
        .map((statement) => `${migration}: ${statement}`),
    );
    expect(unlisted).toEqual([]);
  });

  it("a listed contract step exists, and ships only after the release it waits for has shipped", () => {
    const released = RELEASES.map((set) => set.release);
    const migrations = allMigrations();
    for (const step of CONTRACT_STEPS) {
      expect(released, `${step.migration} waits for ${step.safe_after_release}`).toContain(
        step.safe_after_release,
      );
      const sql = migrations.find((m) => m.migration === step.migration)?.sql ?? "";
      expect(
        contractStatements(sql).some((s) => s.includes(step.statement)),
        step.migration,
      ).toBe(true);
    }
  });

  it("recognises drops, renames and drizzle's table rebuilds, and lets additions through", () => {
    const rebuild = [
      "CREATE TABLE `__new_orders` (`id` text PRIMARY KEY NOT NULL)",
      "INSERT INTO `__new_orders`(`id`) SELECT `id` FROM `orders`",
      "DROP TABLE `orders`",
      "ALTER TABLE `__new_orders` RENAME TO `orders`",
    ].join(";--> statement-breakpoint\n");
    expect(contractStatements(rebuild)).toEqual([
      "DROP TABLE `orders`",
      "ALTER TABLE `__new_orders` RENAME TO `orders`",
    ]);
    expect(contractStatements("ALTER TABLE orders DROP COLUMN flags")).toHaveLength(1);
    expect(contractStatements("ALTER TABLE orders DROP flags")).toHaveLength(1);
    expect(contractStatements("ALTER TABLE orders RENAME COLUMN flags TO labels")).toHaveLength(1);
    expect(
      contractStatements(
        "ALTER TABLE `orders` ADD `channel` text;\nCREATE INDEX orders_channel ON orders (channel);\n-- DROP TABLE x\nDROP INDEX orders_old",
      ),
    ).toEqual([]);
  });
});

describe.each(RELEASES)("migrations shipped by release $release", ({ manifest }) => {
  it("are unchanged and still first, in order (released migrations are append-only)", async () => {
    const current = [];
    for (const migration of env.TEST_MIGRATIONS) {
      current.push({ name: migration.name, sha256: await sha256Hex(migration.queries.join("\n")) });
    }
    expect(current.slice(0, manifest.d1_migrations.length)).toEqual(manifest.d1_migrations);
    expect(CART_STORAGE_MIGRATIONS.slice(0, manifest.storage_migrations.cart.length)).toEqual(
      manifest.storage_migrations.cart,
    );
    expect(
      INVENTORY_STORAGE_MIGRATIONS.slice(0, manifest.storage_migrations.inventory.length).map((s) => [...s]),
    ).toEqual(manifest.storage_migrations.inventory);
    expect(
      WAITING_ROOM_STORAGE_MIGRATIONS.slice(0, manifest.storage_migrations.waiting_room.length).map((s) => [
        ...s,
      ]),
    ).toEqual(manifest.storage_migrations.waiting_room);
  });
});
