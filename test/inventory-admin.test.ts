import {
  createExecutionContext,
  createMessageBatch,
  getQueueResult,
  runDurableObjectAlarm,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../workers/edge/index";
import type { InventoryLevelEvent } from "../workers/inventory/events";
import { getInventory } from "../workers/inventory/service";
import { ADMIN, call, callJson, callWithEnv, eventually, expectProblem } from "./helpers";
import { coordinator, elapse, randomSku, shard, stockSku } from "./inventory-fixtures";

describe("admin inventory API", () => {
  it("answers 401 without a token and 422 for a malformed SKU", async () => {
    await expectProblem(await call(`/admin/api/inventory/${randomSku()}`), 401, "unauthorized");
    await expectProblem(
      await callJson(
        `/admin/api/inventory/${randomSku()}`,
        "PUT",
        { on_hand: 1 },
        { authorization: "Bearer nope" },
      ),
      401,
      "unauthorized",
    );
    await expectProblem(
      await call("/admin/api/inventory/bad%23sku", { headers: ADMIN }),
      422,
      "validation_failed",
    );
  });

  it("answers 403 when the token lacks the inventory scope", async () => {
    const digest = async (s: string) =>
      [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)))]
        .map((b) => b.toString(16).padStart(2, "0"))
        .join("");
    // A read-only token, in the env this request runs with: enough to see the scope check.
    const token = `ro-${crypto.randomUUID()}`;
    const scoped = {
      ADMIN_TOKENS: JSON.stringify([{ id: "ro", sha256: await digest(token), scopes: ["inventory:read"] }]),
    };
    const auth = { authorization: `Bearer ${token}` };
    const sku = randomSku();
    const res = await callWithEnv(
      `/admin/api/inventory/${sku}`,
      { method: "PUT", headers: { ...auth, "content-type": "application/json" }, body: '{"on_hand":3}' },
      scoped,
    );
    await expectProblem(res, 403, "forbidden");
    const read = await callWithEnv(`/admin/api/inventory/${sku}`, { headers: auth }, scoped);
    await expectProblem(read, 404, "inventory_not_found");
  });

  it("validates bodies strictly: unknown fields, zero deltas, inverted windows", async () => {
    const sku = randomSku();
    await expectProblem(
      await callJson(`/admin/api/inventory/${sku}`, "PUT", { on_hand: 1, extra: true }, ADMIN),
      422,
      "validation_failed",
    );
    await expectProblem(
      await callJson(`/admin/api/inventory/${sku}/adjustments`, "POST", { delta: 0, reason: "x" }, ADMIN),
      422,
      "validation_failed",
    );
    await expectProblem(
      await callJson(`/admin/api/inventory/${sku}/adjustments`, "POST", { delta: 2 }, ADMIN),
      422,
      "validation_failed",
    );
    const body = await expectProblem(
      await callJson(
        `/admin/api/inventory/${sku}/sale`,
        "PUT",
        { sale_starts_at: "2030-01-02T00:00:00Z", sale_ends_at: "2030-01-01T00:00:00Z" },
        ADMIN,
      ),
      422,
      "validation_failed",
    );
    expect(body.errors?.[0]?.path).toBe("body.sale_ends_at");
    await expectProblem(
      await callJson(`/admin/api/inventory/${sku}/sale`, "PUT", { shards: 0 }, ADMIN),
      422,
      "validation_failed",
    );
  });

  it("sets, adjusts and reports stock, refusing adjustments below what is reserved and sold", async () => {
    const sku = randomSku();
    await stockSku(sku, 10);
    const hold = await callJson(
      `/admin/api/inventory/${sku}/reservations`,
      "POST",
      { holder: "ops", quantity: 7 },
      ADMIN,
    );
    expect(hold.status).toBe(201);
    const tooLow = await callJson(
      `/admin/api/inventory/${sku}/adjustments`,
      "POST",
      { delta: -4, reason: "shrinkage" },
      ADMIN,
    );
    const problem = await expectProblem(tooLow, 409, "stock_below_committed");
    expect(problem).toMatchObject({ committed: 7, on_hand: 10 });
    await expectProblem(
      await callJson(`/admin/api/inventory/${sku}`, "PUT", { on_hand: 6 }, ADMIN),
      409,
      "stock_below_committed",
    );
    const ok = await callJson(
      `/admin/api/inventory/${sku}/adjustments`,
      "POST",
      { delta: -3, reason: "damaged" },
      ADMIN,
    );
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({
      on_hand: 7,
      adjustment: { kind: "adjust", delta: -3, reason: "damaged" },
    });
    const view = (await (await call(`/admin/api/inventory/${sku}`, { headers: ADMIN })).json()) as Record<
      string,
      unknown
    >;
    expect(view).toMatchObject({ on_hand: 7, available: 0, reserved: 7, sold: 0, shard_count: 1 });
    expect(view.reservations).toHaveLength(1);
    expect((view.adjustments as unknown[]).length).toBe(2);
  });

  it("replays an adjustment with the same Idempotency-Key instead of applying it twice", async () => {
    const sku = randomSku();
    await stockSku(sku, 1);
    const headers = { ...ADMIN, "idempotency-key": crypto.randomUUID() };
    const first = await callJson(
      `/admin/api/inventory/${sku}/adjustments`,
      "POST",
      { delta: 5, reason: "delivery" },
      headers,
    );
    const second = await callJson(
      `/admin/api/inventory/${sku}/adjustments`,
      "POST",
      { delta: 5, reason: "delivery" },
      headers,
    );
    expect(await second.json()).toEqual(await first.json());
    const view = (await (await call(`/admin/api/inventory/${sku}`, { headers: ADMIN })).json()) as {
      on_hand: number;
    };
    expect(view.on_hand).toBe(6);
  });

  it("maps hold refusals to problems named after the reason", async () => {
    const sku = randomSku();
    await stockSku(sku, 2, { max_per_reservation: 2 });
    const big = await callJson(
      `/admin/api/inventory/${sku}/reservations`,
      "POST",
      { holder: "ops", quantity: 3 },
      ADMIN,
    );
    await expectProblem(big, 409, "quantity_too_large");
    await callJson(`/admin/api/inventory/${sku}/reservations`, "POST", { holder: "ops", quantity: 2 }, ADMIN);
    const none = await callJson(
      `/admin/api/inventory/${sku}/reservations`,
      "POST",
      { holder: "ops2", quantity: 1 },
      ADMIN,
    );
    expect(await expectProblem(none, 409, "insufficient_stock")).toMatchObject({ available: 0 });
  });

  it("force-releases a reservation, idempotently, and 404s unknown ones", async () => {
    const sku = randomSku();
    await stockSku(sku, 2);
    const hold = (await (
      await callJson(
        `/admin/api/inventory/${sku}/reservations`,
        "POST",
        { holder: "ops", quantity: 2 },
        ADMIN,
      )
    ).json()) as { id: string };
    const del = () =>
      call(`/admin/api/inventory/${sku}/reservations/${hold.id}`, { method: "DELETE", headers: ADMIN });
    expect((await del()).status).toBe(204);
    expect((await del()).status).toBe(204);
    await expectProblem(
      await call(`/admin/api/inventory/${sku}/reservations/res_nope`, { method: "DELETE", headers: ADMIN }),
      404,
      "reservation_not_found",
    );
    await expectProblem(
      await call(`/admin/api/inventory/${sku}/reservations/res_0000000000000000000a_0`, {
        method: "DELETE",
        headers: ADMIN,
      }),
      404,
      "reservation_not_found",
    );
    const view = (await (await call(`/admin/api/inventory/${sku}`, { headers: ADMIN })).json()) as {
      available: number;
    };
    expect(view.available).toBe(2);
  });

  it("publishes the inventory routes in the OpenAPI document", async () => {
    const doc = (await (await call("/openapi.json")).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(doc.paths["/admin/api/inventory/{sku}"] ?? {})).toEqual(
      expect.arrayContaining(["get", "put"]),
    );
    expect(doc.paths["/admin/api/inventory/{sku}/adjustments"]?.post).toBeDefined();
    expect(doc.paths["/admin/api/inventory/{sku}/sale"]?.put).toBeDefined();
    expect(doc.paths["/admin/api/inventory/{sku}/reservations/{id}"]?.delete).toBeDefined();
    expect(doc.paths["/api/availability"]?.get).toBeDefined();
  });
});

describe("public availability", () => {
  it("serves in stock / low / sold out from the published snapshot", async () => {
    const plenty = randomSku("PLENTY");
    const few = randomSku("FEW");
    const unknown = randomSku("UNKNOWN");
    await stockSku(plenty, 50);
    await stockSku(few, 3);
    const read = async () =>
      (await (await call(`/api/availability?skus=${plenty},${few},${unknown}`)).json()) as {
        items: Record<string, { status: string; available: number | null }>;
      };
    const body = await eventually(
      read,
      (b) => b.items[few]?.status === "low" && b.items[plenty]?.status === "in_stock",
      8_000,
    );
    expect(body.items[plenty]).toEqual({ status: "in_stock", available: null });
    expect(body.items[few]).toEqual({ status: "low", available: 3 });
    expect(body.items[unknown]).toEqual({ status: "sold_out", available: 0 });

    // A change inside the throttle window is published by the alarm once the second has passed.
    await callJson(`/admin/api/inventory/${few}/reservations`, "POST", { holder: "ops", quantity: 3 }, ADMIN);
    await elapse(coordinator(few), 1100);
    await runDurableObjectAlarm(coordinator(few));
    const after = await eventually(read, (b) => b.items[few]?.status === "sold_out", 3000);
    expect(after.items[few]).toEqual({ status: "sold_out", available: 0 });
  });

  it("sums the shards of a sharded SKU", async () => {
    const sku = randomSku("SHARDED");
    await stockSku(sku, 8, { shards: 3 });
    for (let i = 0; i < 6; i++) {
      await callJson(
        `/admin/api/inventory/${sku}/reservations`,
        "POST",
        { holder: `h${i}`, quantity: 1 },
        ADMIN,
      );
    }
    for (const n of [0, 1, 2, 3]) {
      await elapse(shard(sku, n), 1100);
      await runDurableObjectAlarm(shard(sku, n));
    }
    const body = await eventually(
      async () =>
        (await (await call(`/api/availability?skus=${sku}`)).json()) as {
          items: Record<string, { status: string; available: number | null }>;
        },
      (b) => b.items[sku]?.available === 2,
      3000,
    );
    expect(body.items[sku]).toEqual({ status: "low", available: 2 });
  });

  it("rejects a malformed SKU list", async () => {
    await expectProblem(await call("/api/availability?skus=a%23b"), 422, "validation_failed");
    await expectProblem(await call("/api/availability"), 422, "validation_failed");
  });
});

describe("D1 reporting copy", () => {
  const event = (sku: string, version: number, available: number): InventoryLevelEvent => ({
    type: "inventory.level",
    version: 1,
    sku,
    shard: 0,
    level_version: version,
    on_hand: 10,
    available,
    reserved: 10 - available,
    sold: 0,
    sku_on_hand: 10,
    occurred_at: new Date().toISOString(),
  });

  it("upserts levels, newest version wins, malformed messages are dropped", async () => {
    const sku = randomSku("LEVELS");
    const deliver = async (bodies: unknown[]) => {
      const batch = createMessageBatch(
        "popcart-inventory-events",
        bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
      );
      const ctx = createExecutionContext();
      await worker.queue(batch, env, ctx);
      return getQueueResult(batch, ctx);
    };
    const result = await deliver([event(sku, 5, 4), event(sku, 3, 9), { nonsense: true }]);
    expect(result.explicitAcks.sort()).toEqual(["m0", "m1", "m2"]);
    await deliver([event(sku, 5, 1)]);
    const row = await env.DB.prepare("SELECT level_version, available FROM inventory_levels WHERE sku = ?")
      .bind(sku)
      .first();
    expect(row).toEqual({ level_version: 5, available: 4 });
  });

  it("is fed by the objects through the queue, off the reservation path", async () => {
    const sku = randomSku("FEED");
    await stockSku(sku, 12);
    const row = await eventually(
      () =>
        env.DB.prepare("SELECT sku_on_hand, available FROM inventory_levels WHERE sku = ? AND shard = 0")
          .bind(sku)
          .first(),
      (r) => r !== null,
      8_000,
    );
    expect(row).toEqual({ sku_on_hand: 12, available: 12 });
  });
});

describe("bulk initial stock", () => {
  it("stocks never-stocked SKUs and leaves stocked ones alone, so re-running a seed is safe", async () => {
    const fresh = randomSku("INIT");
    const touched = randomSku("INIT");
    await stockSku(touched, 3);
    const body = {
      items: [
        { sku: fresh, on_hand: 40 },
        { sku: touched, on_hand: 99 },
      ],
    };
    const first = await callJson("/admin/api/inventory/initial-stock", "POST", body, ADMIN);
    expect(await first.json()).toEqual({ initialised: 1, skipped: 1 });
    const again = await callJson("/admin/api/inventory/initial-stock", "POST", body, ADMIN);
    expect(await again.json()).toEqual({ initialised: 0, skipped: 2 });
    expect((await getInventory(env, fresh)).on_hand).toBe(40);
    expect((await getInventory(env, touched)).on_hand).toBe(3);

    await expectProblem(
      await callJson(
        "/admin/api/inventory/initial-stock",
        "POST",
        { items: [{ sku: fresh, on_hand: -1 }] },
        ADMIN,
      ),
      422,
      "validation_failed",
    );
    await expectProblem(
      await callJson("/admin/api/inventory/initial-stock", "POST", body),
      401,
      "unauthorized",
    );
  });
});
