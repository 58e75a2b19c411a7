import { afterEach, beforeEach, vi } from "vitest";
/**
 * An in-memory Stripe API for the endpoints Popcart uses, injected into the real SDK through
 * `Stripe.createFetchHttpClient(fake.fetch)`. It keeps Stripe's semantics that matter to us:
 * form-encoded bodies, bearer auth, Idempotency-Key replays (same key + same body → the same
 * response; same key + different body → 400 idempotency_error), PaymentIntent state rules
 * and refund limits.
 */

export interface FakeIntent {
  id: string;
  object: "payment_intent";
  amount: number;
  currency: string;
  status: string;
  client_secret: string;
  metadata: Record<string, string>;
  automatic_payment_methods: { enabled: boolean } | null;
  receipt_email: string | null;
  last_payment_error: { message: string; code: string } | null;
  next_action: { type: string; redirect_to_url?: { url: string } } | null;
  latest_charge: string | null;
  amount_refunded: number;
  created: number;
  livemode: false;
}

interface FakeRefund {
  id: string;
  object: "refund";
  amount: number;
  currency: string;
  payment_intent: string;
  charge: string | null;
  status: string;
  reason: string | null;
  metadata: Record<string, string>;
  created: number;
}

interface Recorded {
  method: string;
  path: string;
  idempotencyKey: string | null;
  params: Record<string, unknown>;
}

let counter = 0;
const fakeId = (prefix: string) => `${prefix}_fake${Date.now().toString(36)}${(counter++).toString(36)}`;

/** Parses Stripe's `a[b][c]=v` form encoding into nested objects. */
function parseForm(body: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const parts = key.split(/\[|\]\[|\]/).filter(Boolean);
    let node = out;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) node[part] = value;
      else {
        node[part] ??= {};
        node = node[part] as Record<string, unknown>;
      }
    });
  }
  return out;
}

const stripeError = (
  status: number,
  type: string,
  message: string,
  code?: string,
  headers: HeadersInit = {},
) => Response.json({ error: { type, message, ...(code ? { code } : {}) } }, { status, headers });

export class FakeStripe {
  readonly intents = new Map<string, FakeIntent>();
  readonly refunds = new Map<string, FakeRefund>();
  readonly requests: Recorded[] = [];
  private readonly replays = new Map<string, { fingerprint: string; status: number; body: string }>();
  /**
   * Stripe Tax's rates by destination (`DE`, or `US-CA` for a state), as percentage strings
   * the way Stripe reports them; destinations not listed are not taxed.
   */
  taxRates: Record<string, string> = { DE: "19.0", FR: "20.0", "US-CA": "7.25" };
  readonly taxCalculations: { id: string; params: Record<string, unknown> }[] = [];
  /** Answer the next N requests with a 500, to exercise the SDK's retries. */
  failNext = 0;
  /** Answer the next N requests with Stripe's 429 `rate_limit` (too many requests for the account). */
  rateLimitNext = 0;
  /**
   * While true, requests are processed (an intent is created, a replay recorded) but the
   * answer never arrives: the connection stalls until the caller aborts it, as when Stripe
   * commits a request and the response is lost or late.
   */
  stall = false;

  constructor(readonly secretKey = "sk_test_fake") {}

  readonly fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const response = await this.handle(input, init);
    if (!this.stall) return response;
    const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    return new Promise<Response>((_, reject) => {
      signal?.addEventListener("abort", () => reject(signal.reason));
    });
  }) as typeof fetch;

  private readonly handle = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.hostname !== "api.stripe.com") throw new Error(`fake Stripe got a request for ${url.hostname}`);
    if (request.headers.get("authorization") !== `Bearer ${this.secretKey}`) {
      return stripeError(401, "invalid_request_error", "Invalid API Key provided");
    }
    // Decoded from bytes: workerd warns when .text() reads a form-encoded body.
    const text =
      request.method === "GET" ? url.search.slice(1) : new TextDecoder().decode(await request.arrayBuffer());
    const params = parseForm(text);
    const key = request.headers.get("idempotency-key");
    this.requests.push({ method: request.method, path: url.pathname, idempotencyKey: key, params });
    if (this.failNext > 0) {
      this.failNext--;
      return stripeError(500, "api_error", "Simulated outage");
    }
    if (this.rateLimitNext > 0) {
      this.rateLimitNext--;
      return stripeError(429, "invalid_request_error", "Too many requests", "rate_limit");
    }
    if (request.method === "POST" && key) {
      const fingerprint = `${url.pathname}?${text}`;
      const replay = this.replays.get(key);
      if (replay) {
        if (replay.fingerprint !== fingerprint) {
          return stripeError(
            400,
            "idempotency_error",
            "Keys for idempotent requests can only be used with the same parameters they were first used with.",
          );
        }
        return new Response(replay.body, {
          status: replay.status,
          headers: { "content-type": "application/json", "idempotent-replayed": "true" },
        });
      }
      const response = this.route(request.method, url.pathname, params);
      const body = await response.clone().text();
      this.replays.set(key, { fingerprint, status: response.status, body });
      return response;
    }
    return this.route(request.method, url.pathname, params);
  };

  private route(method: string, path: string, params: Record<string, unknown>): Response {
    const intentMatch = /^\/v1\/payment_intents\/([^/]+)(\/cancel)?$/.exec(path);
    if (method === "POST" && path === "/v1/payment_intents") return this.createIntent(params);
    if (method === "GET" && intentMatch && !intentMatch[2])
      return this.withIntent(intentMatch[1], (pi) => pi);
    if (method === "POST" && intentMatch?.[2]) return this.cancelIntent(intentMatch[1] ?? "");
    if (method === "POST" && path === "/v1/refunds") return this.createRefund(params);
    if (method === "POST" && path === "/v1/tax/calculations") return this.createTaxCalculation(params);
    return stripeError(404, "invalid_request_error", `Unrecognized request URL (${method}: ${path})`);
  }

  /** A Stripe Tax calculation: each line and shipping taxed at the destination's rate (Stripe rounds). */
  private createTaxCalculation(params: Record<string, unknown>): Response {
    const address = ((params.customer_details as { address?: Record<string, string> })?.address ??
      {}) as Record<string, string>;
    const country = address.country ?? "";
    const percentage =
      this.taxRates[address.state ? `${country}-${address.state}` : country] ?? this.taxRates[country];
    const rate = percentage === undefined ? 0 : Number(percentage);
    const taxOf = (amount: number, behavior: string) =>
      behavior === "inclusive"
        ? amount - Math.round(amount / (1 + rate / 100))
        : Math.round((amount * rate) / 100);
    const breakdown = (amount: number, tax: number) => [
      {
        amount: tax,
        taxable_amount: amount,
        sourcing: "destination",
        taxability_reason: percentage === undefined ? "not_collecting" : "standard_rated",
        jurisdiction: { country, state: address.state ?? null, display_name: country, level: "country" },
        tax_rate_details:
          percentage === undefined
            ? null
            : { percentage_decimal: percentage, display_name: "VAT", tax_type: "vat" },
      },
    ];
    const items = Object.values((params.line_items as Record<string, Record<string, string>>) ?? {});
    const id = fakeId("taxcalc");
    const lineItems = items.map((item, i) => {
      const amount = Number(item.amount);
      const tax = taxOf(amount, item.tax_behavior ?? "exclusive");
      return {
        id: `tax_li_${i}`,
        object: "tax.calculation_line_item",
        amount,
        amount_tax: tax,
        quantity: Number(item.quantity ?? 1),
        reference: item.reference,
        tax_behavior: item.tax_behavior ?? "exclusive",
        tax_breakdown: breakdown(amount, tax),
        tax_code: item.tax_code ?? "txcd_99999999",
      };
    });
    const shippingParams = params.shipping_cost as Record<string, string> | undefined;
    const shippingAmount = Number(shippingParams?.amount ?? 0);
    const shippingTax = shippingParams
      ? taxOf(shippingAmount, shippingParams.tax_behavior ?? "exclusive")
      : 0;
    this.taxCalculations.push({ id, params });
    return Response.json({
      id,
      object: "tax.calculation",
      currency: params.currency,
      line_items: {
        object: "list",
        data: lineItems,
        has_more: false,
        url: `/v1/tax/calculations/${id}/line_items`,
      },
      shipping_cost: shippingParams
        ? {
            amount: shippingAmount,
            amount_tax: shippingTax,
            tax_behavior: shippingParams.tax_behavior ?? "exclusive",
            tax_breakdown: breakdown(shippingAmount, shippingTax),
            tax_code: "txcd_92010001",
          }
        : null,
      tax_amount_exclusive: 0,
      tax_amount_inclusive: 0,
      livemode: false,
    });
  }

  private withIntent(id: string | undefined, f: (pi: FakeIntent) => unknown): Response {
    const pi = id ? this.intents.get(id) : undefined;
    if (!pi)
      return stripeError(404, "invalid_request_error", `No such payment_intent: '${id}'`, "resource_missing");
    return Response.json(f(pi));
  }

  private createIntent(params: Record<string, unknown>): Response {
    const amount = Number(params.amount);
    if (!Number.isInteger(amount) || amount < 1) {
      return stripeError(400, "invalid_request_error", "Invalid integer", "parameter_invalid_integer");
    }
    const id = fakeId("pi");
    const pi: FakeIntent = {
      id,
      object: "payment_intent",
      amount,
      currency: String(params.currency),
      status: "requires_payment_method",
      client_secret: `${id}_secret_${crypto.randomUUID().replaceAll("-", "")}`,
      metadata: (params.metadata as Record<string, string>) ?? {},
      automatic_payment_methods:
        (params.automatic_payment_methods as { enabled: string } | undefined)?.enabled === "true"
          ? { enabled: true }
          : null,
      receipt_email: (params.receipt_email as string) ?? null,
      last_payment_error: null,
      next_action: null,
      latest_charge: null,
      amount_refunded: 0,
      created: Math.floor(Date.now() / 1000),
      livemode: false,
    };
    this.intents.set(id, pi);
    return Response.json(pi);
  }

  private cancelIntent(id: string): Response {
    const pi = this.intents.get(id);
    if (!pi)
      return stripeError(404, "invalid_request_error", `No such payment_intent: '${id}'`, "resource_missing");
    if (
      !["requires_payment_method", "requires_action", "requires_confirmation", "requires_capture"].includes(
        pi.status,
      )
    ) {
      return stripeError(
        400,
        "invalid_request_error",
        `You cannot cancel this PaymentIntent because it has a status of ${pi.status}.`,
        "payment_intent_unexpected_state",
      );
    }
    pi.status = "canceled";
    return Response.json(pi);
  }

  private createRefund(params: Record<string, unknown>): Response {
    const pi = this.intents.get(String(params.payment_intent));
    if (!pi) return stripeError(404, "invalid_request_error", "No such payment_intent", "resource_missing");
    if (pi.status !== "succeeded") {
      return stripeError(
        400,
        "invalid_request_error",
        "This PaymentIntent does not have a successful charge to refund.",
        "payment_intent_unexpected_state",
      );
    }
    const remaining = pi.amount - pi.amount_refunded;
    if (remaining === 0) {
      return stripeError(
        400,
        "invalid_request_error",
        "Charge has already been refunded.",
        "charge_already_refunded",
      );
    }
    const amount = params.amount === undefined ? remaining : Number(params.amount);
    if (amount > remaining) {
      return stripeError(
        400,
        "invalid_request_error",
        `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`,
        "amount_too_large",
      );
    }
    pi.amount_refunded += amount;
    const refund: FakeRefund = {
      id: fakeId("re"),
      object: "refund",
      amount,
      currency: pi.currency,
      payment_intent: pi.id,
      charge: pi.latest_charge,
      status: "succeeded",
      reason: (params.reason as string) ?? null,
      metadata: (params.metadata as Record<string, string>) ?? {},
      created: Math.floor(Date.now() / 1000),
    };
    this.refunds.set(refund.id, refund);
    return Response.json(refund);
  }

  /** A refund made outside Popcart (the Stripe dashboard): Stripe's balance moves, ours does not. */
  refundInDashboard(id: string, amount: number): void {
    const pi = this.intents.get(id);
    if (!pi) throw new Error(`no intent ${id}`);
    pi.amount_refunded += amount;
  }

  /** Plays the client side (Stripe.js confirming a card): moves an intent to `status`. */
  settle(id: string, status: "succeeded" | "requires_action" | "failed" | "processing"): FakeIntent {
    const pi = this.intents.get(id);
    if (!pi) throw new Error(`no intent ${id}`);
    if (status === "failed") {
      pi.status = "requires_payment_method";
      pi.last_payment_error = { message: "Your card was declined.", code: "card_declined" };
    } else {
      pi.status = status;
      pi.last_payment_error = null;
      pi.next_action = status === "requires_action" ? { type: "use_stripe_sdk" } : null;
      if (status === "succeeded") pi.latest_charge = fakeId("ch");
    }
    return pi;
  }
}

/**
 * Sends every request for api.stripe.com to `fake` (the real Stripe SDK inside the cart
 * object talks to it over a stubbed global fetch); everything else goes out as before.
 * Undo with `vi.unstubAllGlobals()`.
 */
export function routeStripeTo(fake: FakeStripe): void {
  const realFetch = globalThis.fetch;
  vi.stubGlobal("fetch", (input: RequestInfo | URL, init?: RequestInit) =>
    new URL(input instanceof Request ? input.url : String(input)).hostname === "api.stripe.com"
      ? fake.fetch(input, init)
      : realFetch(input, init),
  );
}

/**
 * A fresh fake per test with Stripe routed to it (and the route undone after): returns the
 * current test's fake.
 */
export function useFakeStripe(): () => FakeStripe {
  let fake = new FakeStripe();
  beforeEach(() => {
    fake = new FakeStripe();
    routeStripeTo(fake);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });
  return () => fake;
}
