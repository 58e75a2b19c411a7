import { describe, expect, it } from "vitest";
import { body, CARDS, type CheckoutBody, checkout, confirm, stockedSku, stockOf } from "./checkout-fixtures";
import { callJson, expectJson, expectProblem, inOneWindow } from "./helpers";
import { expectConsistent } from "./inventory-fixtures";
import { addressIn, admin, createRegion, ok, suffix, viewCart } from "./regions-fixtures";
import { seedSku, type TestCart, US_ADDRESS } from "./revenue-fixtures";

interface CreatedCart {
  id: string;
  token: string;
  email: string | null;
  shipping_address: { country: string } | null;
  shipping_method: { id: string } | null;
  lines: { sku: string; quantity: number; reservation: { id: string } | null }[];
  totals: { subtotal: { amount: number }; shipping: { amount: number }; total: { amount: number } };
}

const randomIp = () => `10.${rand(250)}.${rand(250)}.${rand(250)}`;
const rand = (n: number) => 1 + Math.floor(Math.random() * n);

const whole = (lines: { sku: string; quantity: number }[], overrides: Record<string, unknown> = {}) => ({
  currency: "USD",
  email: `whole-${crypto.randomUUID()}@example.com`,
  lines,
  shipping_address: US_ADDRESS,
  shipping_method: "us_standard",
  ...overrides,
});

const create = (payload: unknown, headers: Record<string, string> = {}) =>
  callJson("/api/carts", "POST", payload, headers);

async function created(res: Response): Promise<CreatedCart & { cart: TestCart }> {
  const cart = await expectJson<CreatedCart>(res, 201);
  return { ...cart, cart: { id: cart.id, token: cart.token, headers: { "x-cart-token": cart.token } } };
}

describe("creating a whole cart in one call", () => {
  it("takes lines, email, address and shipping method, so a purchase is three requests", async () => {
    const flash = await stockedSku(5, { flash: true, price: 2500 });
    const plain = await stockedSku(5, { price: 1000 });
    const cart = await created(
      await create(
        whole([
          { sku: flash, quantity: 2 },
          { sku: plain, quantity: 1 },
        ]),
      ),
    );
    expect(cart.shipping_address?.country).toBe("US");
    expect(cart.shipping_method?.id).toBe("us_standard");
    expect(cart.lines.map((line) => [line.sku, line.quantity])).toEqual([
      [flash, 2],
      [plain, 1],
    ]);
    // The flash-sale line holds its units from creation; the other holds nothing until checkout.
    expect(cart.lines[0]?.reservation).not.toBeNull();
    expect(cart.lines[1]?.reservation).toBeNull();
    expect(cart.totals.subtotal.amount).toBe(6000);
    expect(cart.totals.shipping.amount).toBeGreaterThan(0);
    expect(await stockOf(flash)).toMatchObject({ available: 3, reserved: 2 });

    const started = await body(await checkout(cart.cart), [201]);
    const paid = await body(await confirm(cart.cart, started.id, CARDS.ok), [200]);
    expect(paid.status).toBe("completed");
    expect(paid.order).not.toBeNull();
    expect(await stockOf(flash)).toMatchObject({ available: 3, reserved: 0, sold: 2 });
    expect(await stockOf(plain)).toMatchObject({ available: 4, reserved: 0, sold: 1 });
  });

  it("makes one line of a SKU listed twice, with the summed quantity", async () => {
    const flash = await stockedSku(5, { flash: true });
    const cart = await created(
      await create(
        whole([
          { sku: flash, quantity: 1 },
          { sku: flash, quantity: 2 },
        ]),
      ),
    );
    expect(cart.lines).toHaveLength(1);
    expect(cart.lines[0]?.quantity).toBe(3);
    expect(await stockOf(flash)).toMatchObject({ reserved: 3 });
  });

  it("still creates a bare cart from a currency alone", async () => {
    const cart = await created(await create({ currency: "EUR" }));
    expect(cart.lines).toEqual([]);
    expect(cart.shipping_address).toBeNull();
    expect(cart.shipping_method).toBeNull();
  });

  it("refuses a sold-out line with sold_out, creates no cart and gives back the other lines' holds", async () => {
    const fine = await stockedSku(5, { flash: true });
    const gone = await stockedSku(1, { flash: true });
    const res = await create(
      whole([
        { sku: fine, quantity: 2 },
        { sku: gone, quantity: 2 },
      ]),
    );
    const problem = await expectProblem(res, 409, "sold_out");
    expect(problem).toMatchObject({ sku: gone, available: 1 });
    expect(problem).not.toHaveProperty("id");
    expect(await stockOf(fine)).toMatchObject({ available: 5, reserved: 0 });
    expect(await stockOf(gone)).toMatchObject({ available: 1, reserved: 0 });
    await expectConsistent(fine);
  });

  it("refuses an address outside the currency's region before holding any stock", async () => {
    const flash = await stockedSku(3, { flash: true });
    const res = await create(
      whole([{ sku: flash, quantity: 1 }], { shipping_address: { ...US_ADDRESS, country: "FR" } }),
    );
    const problem = await expectProblem(res, 422, "address_outside_region");
    expect(problem).toMatchObject({ country: "FR" });
    expect(await stockOf(flash)).toMatchObject({ available: 3, reserved: 0 });
  });

  it("refuses a shipping method the region does not offer before holding any stock", async () => {
    const flash = await stockedSku(3, { flash: true });
    const res = await create(whole([{ sku: flash, quantity: 1 }], { shipping_method: "eu_standard" }));
    await expectProblem(res, 422, "unknown_shipping_method");
    expect(await stockOf(flash)).toMatchObject({ available: 3, reserved: 0 });
  });

  it("places a EUR cart with a German address in region EU at 19 % VAT, with the method it asked for", async () => {
    const flash = await stockedSku(3, { flash: true, price: 11_900, currency: "EUR" });
    const cart = await created(
      await create(
        whole([{ sku: flash, quantity: 1 }], {
          currency: "EUR",
          shipping_address: addressIn("DE"),
          shipping_method: "eu_express",
        }),
      ),
    );
    const view = await viewCart(cart.cart);
    expect(view.region).toBe("EU");
    expect(view.shipping_method).toMatchObject({ id: "eu_express", min_days: 1, max_days: 3 });
    expect(view.lines[0]).toMatchObject({ tax_rate_bp: 1900, tax: { amount: 1900 } });
    // 11900 holds 1900 at 19 %, 1499 of express holds 239: prices include VAT, so the total is their sum.
    expect(view.totals).toMatchObject({
      subtotal: { amount: 11_900, currency: "EUR" },
      shipping: { amount: 1499 },
      tax: { amount: 2139 },
      total: { amount: 13_399 },
      tax_inclusive: true,
      tax_lines: [{ name: "VAT", rate_bp: 1900, amount: { amount: 2139, currency: "EUR" } }],
    });
    expect(await stockOf(flash)).toMatchObject({ available: 2, reserved: 1 });
  });

  it("refuses a EUR cart to a country outside every EUR region with address_outside_region, holding nothing", async () => {
    const flash = await stockedSku(3, { flash: true, currency: "EUR" });
    const res = await create(
      whole([{ sku: flash, quantity: 1 }], {
        currency: "EUR",
        shipping_address: addressIn("CH"),
        shipping_method: "eu_standard",
      }),
    );
    const problem = await expectProblem(res, 422, "address_outside_region");
    expect(problem).toMatchObject({ country: "CH" });
    expect(await stockOf(flash)).toMatchObject({ available: 3, reserved: 0 });
    await expectConsistent(flash);
  });

  it("refuses express to a country of the region it does not serve (shipping_method_unavailable, as on an existing cart), holding nothing", async () => {
    const flash = await stockedSku(3, { flash: true, currency: "EUR" });
    const res = await create(
      whole([{ sku: flash, quantity: 1 }], {
        currency: "EUR",
        shipping_address: { ...addressIn("IE"), city: "Dublin" },
        shipping_method: "eu_express",
      }),
    );
    expect(await expectProblem(res, 422, "shipping_method_unavailable")).toMatchObject({
      id: "eu_express",
      why: "not_offered_to_country",
      country: "IE",
    });
    expect(await stockOf(flash)).toMatchObject({ available: 3, reserved: 0 });
    // The same cart with the option Ireland is offered goes through.
    const standard = await created(
      await create(
        whole([{ sku: flash, quantity: 1 }], {
          currency: "EUR",
          shipping_address: { ...addressIn("IE"), city: "Dublin" },
          shipping_method: "eu_standard",
        }),
      ),
    );
    // Irish VAT is 23 %.
    expect((await viewCart(standard.cart)).lines[0]?.tax_rate_bp).toBe(2300);
  });

  it("refuses a weight-band option the goods are too heavy for with shipping_method_unavailable, holding nothing", async () => {
    const code = await createRegion({
      code: "LV",
      name: "Latvia",
      currency: "EUR",
      tax_inclusive: true,
      countries: ["LV"],
      default_country: "LV",
      position: 50,
    });
    const id = `lv_parcel_${suffix().toLowerCase()}`;
    await ok(
      await admin(`/${code}/shipping-options`, "POST", {
        id,
        name: "Parcel",
        price: { type: "weight_bands", bands: [{ max_grams: 2000, amount: 450 }] },
        min_days: 2,
        max_days: 4,
      }),
      201,
    );
    const heavy = await stockedSku(5, { flash: true, currency: "EUR", weightGrams: 1500 });
    const riga = { ...addressIn("LV"), city: "Riga" };
    const res = await create(
      whole([{ sku: heavy, quantity: 2 }], { currency: "EUR", shipping_address: riga, shipping_method: id }),
    );
    expect(await expectProblem(res, 422, "shipping_method_unavailable")).toMatchObject({
      id,
      why: "too_heavy",
      country: "LV",
    });
    expect(await stockOf(heavy)).toMatchObject({ available: 5, reserved: 0 });
    // One unit (1.5 kg) fits the 2 kg band.
    const light = await created(
      await create(
        whole([{ sku: heavy, quantity: 1 }], {
          currency: "EUR",
          shipping_address: riga,
          shipping_method: id,
        }),
      ),
    );
    expect(light.shipping_method?.id).toBe(id);
    expect(light.totals.shipping.amount).toBe(450);
  });

  it("refuses unknown and unpurchasable SKUs without holding the other lines", async () => {
    const flash = await stockedSku(3, { flash: true });
    const unknown = await create(
      whole([
        { sku: flash, quantity: 1 },
        { sku: "NO-SUCH-SKU", quantity: 1 },
      ]),
    );
    expect(await expectProblem(unknown, 422, "unknown_sku")).toMatchObject({ sku: "NO-SUCH-SKU" });
    const { sku: yenOnly } = await seedSku({ JPY: 500 });
    const unpriced = await create(
      whole([
        { sku: flash, quantity: 1 },
        { sku: yenOnly, quantity: 1 },
      ]),
    );
    await expectProblem(unpriced, 409, "sku_unavailable");
    expect(await stockOf(flash)).toMatchObject({ available: 3, reserved: 0 });
  });

  it("answers validation_failed for malformed lines, too many lines and unknown fields", async () => {
    const flash = await stockedSku(3, { flash: true });
    const zero = await create(whole([{ sku: flash, quantity: 0 }]));
    expect((await expectProblem(zero, 422, "validation_failed")).errors?.map((e) => e.path)).toContain(
      "body.lines.0.quantity",
    );
    const many = Array.from({ length: 51 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1 }));
    await expectProblem(await create(whole(many)), 422, "validation_failed");
    await expectProblem(await create(whole([], { gift_wrap: true })), 422, "validation_failed");
    await expectProblem(await create(whole([], { shipping_method: "" })), 422, "validation_failed");
    expect(await stockOf(flash)).toMatchObject({ available: 3, reserved: 0 });
  });

  it("sells exactly the stock when many shoppers create whole carts at once", async () => {
    const flash = await stockedSku(10, { flash: true });
    const results = await Promise.all(
      Array.from({ length: 30 }, () => create(whole([{ sku: flash, quantity: 1 }]))),
    );
    const statuses = results.map((res) => res.status).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(10);
    expect(statuses.filter((status) => status === 409)).toHaveLength(20);
    await Promise.all(results.map((res) => res.body?.cancel()));
    expect(await stockOf(flash)).toMatchObject({ available: 0, reserved: 10 });
    await expectConsistent(flash);
  });

  it("checks out a whole cart exactly once per idempotency key", async () => {
    const flash = await stockedSku(2, { flash: true });
    const cart = await created(await create(whole([{ sku: flash, quantity: 1 }])));
    const key = crypto.randomUUID();
    const [first, again] = await Promise.all([checkout(cart.cart, key), checkout(cart.cart, key)]);
    const bodies = [await body<CheckoutBody>(first), await body<CheckoutBody>(again)];
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(await stockOf(flash)).toMatchObject({ available: 1, reserved: 1 });
  });
});

describe("whole-cart creation and the abuse limits", () => {
  // wrangler.toml: RESERVATION_RATE_LIMITER allows 20 stock-reserving requests per 10 s per client.
  const RESERVATION_LIMIT = 20;
  const PERIOD_MS = 10_000;

  it("counts a cart created with lines against the client's reservation limit, but not a bare one", async () => {
    const { statuses, limited, headers } = await inOneWindow(PERIOD_MS, async () => {
      const { sku } = await seedSku({ USD: 700 });
      const headers = { "cf-connecting-ip": randomIp() };
      const statuses: number[] = [];
      for (let i = 0; i < RESERVATION_LIMIT; i++) {
        const res = await create({ currency: "USD", lines: [{ sku, quantity: 1 }] }, headers);
        statuses.push(res.status);
        await res.body?.cancel();
      }
      const limited = await create({ currency: "USD", lines: [{ sku, quantity: 1 }] }, headers);
      return { statuses, limited, headers };
    });
    expect(statuses).toEqual(Array(RESERVATION_LIMIT).fill(201));
    await expectProblem(limited, 429, "rate_limited");
    const bare = await create({ currency: "USD" }, headers);
    expect(bare.status).toBe(201);
    await bare.body?.cancel();
  });
});
