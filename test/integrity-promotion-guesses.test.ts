import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../workers/edge/app";
import type { MetricsSink } from "../workers/lib/metrics";
import { expectProblem, randomIp } from "./helpers";
import { newCart, seedPromotion, type TestCart } from "./revenue-fixtures";

// wrangler.toml: PROMO_GUESS_CLIENT_RATE_LIMITER allows 10 failed guesses per 60 s per client,
// PROMO_GUESS_CODE_RATE_LIMITER 100 per 60 s per code prefix (first 4 characters).
const CLIENT_FAILURES = 10;
const PREFIX_FAILURES = 100;

const points: AnalyticsEngineDataPoint[] = [];
const sink: MetricsSink = { writeDataPoint: (point) => void points.push(point) };
const app = createApp();

const letters = (n: number) =>
  Array.from({ length: n }, () => String.fromCharCode(65 + Math.floor(Math.random() * 26))).join("");

/** Applies `code` to `cart` from client address `ip` through the edge app. */
const apply = (cart: TestCart, code: string, ip: string) =>
  app.request(
    `/api/carts/${cart.id}/promotions`,
    {
      method: "POST",
      headers: { ...cart.headers, "content-type": "application/json", "cf-connecting-ip": ip },
      body: JSON.stringify({ code }),
    },
    { ...env, METRICS: sink },
  );

describe("promotion-code guessing", () => {
  it("answers 429 well before 60 guesses from one client, however many carts it opens", async () => {
    const { code: valid } = await seedPromotion({ type: "percentage", percentage_bp: 500 });
    const guesser = randomIp();
    const statuses: number[] = [];
    let limited: Response | null = null;
    for (let i = 0; i < 60; i++) {
      // A fresh cart per guess: the client+cart limit never sees more than one attempt.
      const res = await apply(await newCart(), `${letters(4)}${i}`, guesser);
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
      else await res.body?.cancel();
    }
    const first429 = statuses.indexOf(429);
    expect(first429, statuses.join(",")).toBeGreaterThanOrEqual(CLIENT_FAILURES);
    // Limiter windows follow the wall clock: one boundary inside the burst allows one more window.
    expect(first429).toBeLessThanOrEqual(2 * CLIENT_FAILURES);
    expect(statuses.slice(0, first429).every((s) => s === 422)).toBe(true);
    expect(statuses.slice(first429).every((s) => s === 429)).toBe(true);
    expect(Number(limited?.headers.get("retry-after"))).toBeGreaterThan(0);
    if (limited) await expectProblem(limited, 429, "rate_limited");

    // While blocked, even a valid code is refused before it is looked at: no oracle.
    await expectProblem(await apply(await newCart(), valid, guesser), 429, "rate_limited");
    // Another client is not affected.
    expect((await apply(await newCart(), valid, randomIp())).status).toBe(200);
  });

  it("never counts codes that apply", async () => {
    const { code } = await seedPromotion({ type: "percentage", percentage_bp: 500 });
    const shopper = randomIp();
    for (let i = 0; i < CLIENT_FAILURES + 5; i++) {
      expect((await apply(await newCart(), code, shopper)).status, `cart ${i + 1}`).toBe(200);
    }
  });

  it("limits one code family guessed from many clients, and only that family", async () => {
    const prefix = letters(4);
    let cart = await newCart();
    let attempts = 0;
    let res: Response;
    do {
      // A new cart every 20 attempts stays under the per-cart write limit.
      if (attempts % 20 === 19) cart = await newCart();
      res = await apply(cart, `${prefix}${attempts}`, randomIp());
      attempts++;
      if (res.status !== 429) expect(res.status).toBe(422);
    } while (res.status !== 429 && attempts < 3 * PREFIX_FAILURES);
    await expectProblem(res, 429, "rate_limited");
    expect(attempts).toBeGreaterThan(PREFIX_FAILURES);

    // A fresh client guessing that family is refused at once; another family still answers.
    await expectProblem(await apply(await newCart(), `${prefix}X`, randomIp()), 429, "rate_limited");
    expect((await apply(await newCart(), `${letters(4)}X`, randomIp())).status).toBe(422);
  });

  it("records a failed attempt in the promotion_code metric, with its reason", async () => {
    points.length = 0;
    const ip = randomIp();
    await apply(await newCart(), `${letters(4)}1`, ip);
    const failed = points.filter((p) => p.blobs?.[0] === "promotion_code");
    expect(failed).toEqual([
      expect.objectContaining({
        blobs: ["promotion_code", "apply", "failed", "unknown_code", expect.any(String)],
      }),
    ]);
  });
});
