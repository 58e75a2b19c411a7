import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { holdPromotionUses, redeemPromotionUses, releasePromotionUses } from "../workers/promotions/service";
import { ADMIN, call, callJson, expectProblem } from "./helpers";
import { seedPromotion } from "./revenue-fixtures";

const timesUsed = async (id: string) =>
  (
    await env.DB.prepare("SELECT times_used AS n FROM promotions WHERE id = ?")
      .bind(id)
      .first<{ n: number }>()
  )?.n;

/** How many stored promotions have `code` (codes are case-insensitive). */
const storedCodes = async (code: string) =>
  (
    await env.DB.prepare("SELECT COUNT(*) AS n FROM promotions WHERE code = ? COLLATE NOCASE")
      .bind(code)
      .first<{ n: number }>()
  )?.n;

const checkoutId = () => `chk_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;

describe("promotion admin API", () => {
  it("creates percentage and fixed-amount codes and lists them newest first", async () => {
    const pct = await seedPromotion({ type: "percentage", percentage_bp: 1500, usage_limit: 10 });
    const fixed = await seedPromotion({
      type: "fixed_amount",
      amount_off: { amount: 500, currency: "GBP" },
      minimum_subtotal: { amount: 2000, currency: "GBP" },
      per_customer_limit: 1,
    });
    const res = await call("/admin/api/promotions?limit=100", { headers: ADMIN });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { id: string; times_used: number; amount_off: unknown }[] };
    const ids = body.data.map((promotion) => promotion.id);
    expect(ids.indexOf(fixed.id)).toBeLessThan(ids.indexOf(pct.id));
    expect(body.data.find((promotion) => promotion.id === fixed.id)).toMatchObject({
      amount_off: { amount: 500, currency: "GBP" },
      times_used: 0,
    });
  });

  it("requires the promotions:write scope and refuses duplicate codes case-insensitively", async () => {
    await expectProblem(await call("/admin/api/promotions"), 401, "unauthorized");
    // A valid token without promotions:write (vitest.config.ts: catalog:read only).
    const refusedCode = `SCOPE${crypto.randomUUID().slice(0, 6)}`;
    await expectProblem(
      await call("/admin/api/promotions", { headers: { authorization: "Bearer catalog-reader-token" } }),
      403,
      "forbidden",
    );
    const refused = await expectProblem(
      await callJson(
        "/admin/api/promotions",
        "POST",
        { code: refusedCode, type: "percentage", percentage_bp: 5 },
        { authorization: "Bearer catalog-reader-token" },
      ),
      403,
      "forbidden",
    );
    expect(refused).toMatchObject({ detail: "This token lacks the 'promotions:write' scope." });
    // Refused before anything was written (the same count finds a code the admin token creates).
    expect(await storedCodes(refusedCode)).toBe(0);
    const { code } = await seedPromotion({ type: "percentage", percentage_bp: 100 });
    expect(await storedCodes(code.toLowerCase())).toBe(1);
    await expectProblem(
      await callJson(
        "/admin/api/promotions",
        "POST",
        { code: code.toLowerCase(), type: "percentage", percentage_bp: 5 },
        ADMIN,
      ),
      409,
      "promotion_code_taken",
    );
  });

  it("rejects inconsistent definitions field by field", async () => {
    const bad: Record<string, unknown>[] = [
      { code: "AB", type: "percentage", percentage_bp: 100 },
      { code: "OKCODE1", type: "percentage" },
      { code: "OKCODE2", type: "percentage", percentage_bp: 10_001 },
      { code: "OKCODE3", type: "fixed_amount", amount_off: { amount: -5, currency: "USD" } },
      { code: "OKCODE4", type: "fixed_amount", amount_off: { amount: 5, currency: "XXX" } },
      {
        code: "OKCODE5",
        type: "percentage",
        percentage_bp: 5,
        ends_at: "2020-01-01T00:00:00Z",
        starts_at: "2021-01-01T00:00:00Z",
      },
      { code: "OKCODE6", type: "percentage", percentage_bp: 5, usage_limit: 0 },
      { code: "OKCODE7", type: "percentage", percentage_bp: 5, surprise: true },
    ];
    for (const body of bad) {
      await expectProblem(
        await callJson("/admin/api/promotions", "POST", body, ADMIN),
        422,
        "validation_failed",
      );
    }
  });
});

describe("promotion usage limits", () => {
  it("never grants more uses than the global limit, however many checkouts race", async () => {
    const { id } = await seedPromotion({ type: "percentage", percentage_bp: 1000, usage_limit: 5 });
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        holdPromotionUses(env, {
          checkoutId: checkoutId(),
          email: `racer${i}@example.com`,
          promotionIds: [id],
        }),
      ),
    );
    expect(results.filter((result) => result.ok)).toHaveLength(5);
    expect(results.filter((result) => !result.ok && result.reason === "usage_limit_reached")).toHaveLength(
      25,
    );
    expect(await timesUsed(id)).toBe(5);
  });

  it("gives a released use back exactly once and lets another checkout take it", async () => {
    const { id } = await seedPromotion({ type: "percentage", percentage_bp: 1000, usage_limit: 1 });
    const first = checkoutId();
    expect(
      await holdPromotionUses(env, { checkoutId: first, email: "a@example.com", promotionIds: [id] }),
    ).toEqual({
      ok: true,
    });
    // Holding again for the same checkout is idempotent.
    expect(
      (await holdPromotionUses(env, { checkoutId: first, email: "a@example.com", promotionIds: [id] })).ok,
    ).toBe(true);
    expect(await timesUsed(id)).toBe(1);
    const second = checkoutId();
    expect(
      (await holdPromotionUses(env, { checkoutId: second, email: "b@example.com", promotionIds: [id] })).ok,
    ).toBe(false);
    await Promise.all([releasePromotionUses(env, first), releasePromotionUses(env, first)]);
    expect(await timesUsed(id)).toBe(0);
    expect(
      (await holdPromotionUses(env, { checkoutId: second, email: "b@example.com", promotionIds: [id] })).ok,
    ).toBe(true);
    await redeemPromotionUses(env, { checkoutId: second, email: "b@example.com", promotionIds: [id] });
    await releasePromotionUses(env, second);
    expect(await timesUsed(id)).toBe(1);
  });

  it("enforces the per-customer limit by email and releases all holds of a failed multi-code checkout", async () => {
    const once = await seedPromotion({ type: "percentage", percentage_bp: 500, per_customer_limit: 1 });
    const other = await seedPromotion({ type: "fixed_amount", amount_off: { amount: 100, currency: "USD" } });
    const email = `Repeat${crypto.randomUUID()}@Example.com`;
    expect(
      (await holdPromotionUses(env, { checkoutId: checkoutId(), email, promotionIds: [once.id] })).ok,
    ).toBe(true);
    const refused = await holdPromotionUses(env, {
      checkoutId: checkoutId(),
      email: email.toLowerCase(),
      promotionIds: [other.id, once.id],
    });
    expect(refused).toEqual({ ok: false, reason: "customer_limit_reached", promotionId: once.id });
    expect(await timesUsed(other.id)).toBe(0);
  });

  it("keeps times_used equal to the live uses and within the limit under any interleaving of holds, releases and redemptions", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(
          fc.array(
            fc.record({
              op: fc.constantFrom("hold", "release", "redeem"),
              checkout: fc.integer({ min: 0, max: 5 }),
            }),
            { minLength: 1, maxLength: 4 },
          ),
          { minLength: 1, maxLength: 6 },
        ),
        async (limit, rounds) => {
          const { id } = await seedPromotion({ type: "percentage", percentage_bp: 100, usage_limit: limit });
          const checkouts = Array.from({ length: 6 }, checkoutId);
          for (const round of rounds) {
            // Each round's operations race each other, as concurrent checkouts would.
            await Promise.all(
              round.map(({ op, checkout }) => {
                const target = checkouts[checkout] ?? "";
                const email = `model${checkout}@example.com`;
                if (op === "hold")
                  return holdPromotionUses(env, { checkoutId: target, email, promotionIds: [id] });
                if (op === "release") return releasePromotionUses(env, target);
                return redeemPromotionUses(env, { checkoutId: target, email, promotionIds: [] });
              }),
            );
            const live = await env.DB.prepare(
              "SELECT count(*) AS n FROM promotion_redemptions WHERE promotion_id = ?1 AND status IN ('held', 'redeemed')",
            )
              .bind(id)
              .first<{ n: number }>();
            const used = await timesUsed(id);
            expect(used).toBe(live?.n);
            expect(used).toBeLessThanOrEqual(limit);
          }
        },
      ),
      { numRuns: 15 },
    );
  });
});
