import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { cartProblem } from "../cart/problems";
import { cartToken } from "../cart/routes";
import type { AppEnv } from "../lib/env";
import { ApiError, problems } from "../lib/problem";
import { createRouter } from "../lib/router";
import { problemResponses } from "../lib/schemas";
import { recordAdmissionRefusal, requestAdmission } from "../waiting-room/admission-header";
import { AdmissionHeaderSchema } from "../waiting-room/schemas";
import type { CheckoutResult } from "./saga";
import { CheckoutSchema, ConfirmCheckoutBodySchema, IdempotencyKeySchema } from "./schemas";
import { confirmCheckout, getCheckout, startCheckout } from "./service";

const IdParam = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});
const checkoutJson = { "application/json": { schema: CheckoutSchema } } as const;
const tags = ["Checkout"];
const security = [{ cartToken: [] }];

function checkoutOf(c: Context<AppEnv>, result: CheckoutResult) {
  if (!result.ok) {
    recordAdmissionRefusal(c, result);
    throw cartProblem(result);
  }
  c.header("cache-control", "no-store");
  c.get("log").fields.checkout_id = result.checkout.id;
  return result;
}

const start = createRoute({
  method: "post",
  path: "/carts/{id}/checkout",
  tags,
  security,
  summary: "Check out a cart: re-price, reserve every line, create the payment",
  description:
    "Idempotent by the `Idempotency-Key` header: repeating it returns the same checkout (200) and creates nothing. " +
    "The key stands for the cart as it was checked out: sent again after the cart changed (lines, email, address, shipping, codes) it answers 422 `idempotency_key_reused`. " +
    "While a checkout awaits payment, another key is refused with `checkout_in_progress`. " +
    "503 `payment_provider_unavailable` or `database_unavailable` (with `Retry-After` and `checkout_id` once one exists) means the payment could not be started: " +
    "retry with the same key to resume that checkout (its holds are kept for 2 minutes); it never creates a second payment. " +
    "Lines of a sale behind a waiting room that hold no stock yet need its admission (`Popcart-Admission`, 403 `admission_required` otherwise).",
  request: {
    params: IdParam,
    headers: AdmissionHeaderSchema.extend({
      // Optional to the validator so a missing key answers its own 400 `idempotency_key_required`;
      // required in the document, because it is.
      "idempotency-key": z
        .string()
        .optional()
        .openapi({
          param: { required: true },
          description:
            "A fresh random value per checkout attempt, reused on retries: 8-255 printable characters",
          example: "3f6c1f9e-8d0b-4a57-9a63-2b1e7c4d5a10",
        }),
    }),
  },
  responses: {
    201: { description: "Checkout created", content: checkoutJson },
    200: { description: "Replay of the checkout created with this key", content: checkoutJson },
    ...problemResponses(400, 403, 404, 409, 422, 503),
  },
});

const read = createRoute({
  method: "get",
  path: "/checkouts/{id}",
  tags,
  security,
  summary: "Checkout status (reconciled with the payment provider while awaiting payment)",
  description:
    "While the checkout awaits payment, a read asks the provider at most once every few seconds per checkout; " +
    "reads in between answer from the stored state (the webhook is the fast path). Rate limited per client.",
  request: { params: IdParam },
  responses: { 200: { description: "The checkout", content: checkoutJson }, ...problemResponses(404) },
});

const confirm = createRoute({
  method: "post",
  path: "/checkouts/{id}/confirm",
  tags,
  security,
  summary: "Confirm a test-provider payment with a test card",
  description:
    "Only when no Stripe key is configured (409 `confirmation_not_supported` otherwise). Cards: 4242424242424242 succeeds, " +
    "4000000000000002 is declined, 4000000000003220 requires action (confirm again to authenticate), 4000000000009995 has insufficient funds.",
  request: {
    params: IdParam,
    body: { required: true, content: { "application/json": { schema: ConfirmCheckoutBodySchema } } },
  },
  responses: {
    200: { description: "The checkout", content: checkoutJson },
    ...problemResponses(400, 404, 409, 422),
  },
});

/** Checkout routes under `/api`. */
export const checkoutRoutes = createRouter()
  .openapi(start, async (c) => {
    const { id } = c.req.valid("param");
    const header = c.req.header("idempotency-key");
    if (header === undefined) {
      throw new ApiError(400, "idempotency_key_required", "Idempotency-Key required", {
        detail:
          "Send an Idempotency-Key header (a fresh random value per checkout attempt, reused on retries).",
      });
    }
    const key = IdempotencyKeySchema.safeParse(header);
    if (!key.success) {
      throw problems.validation([
        { path: "header.idempotency-key", message: key.error.issues[0]?.message ?? "invalid" },
      ]);
    }
    const result = checkoutOf(
      c,
      await startCheckout(c.env, {
        cartId: id,
        token: cartToken(c),
        idempotencyKey: key.data,
        admission: await requestAdmission(c),
      }),
    );
    return result.created ? c.json(result.checkout, 201) : c.json(result.checkout, 200);
  })
  .openapi(read, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(checkoutOf(c, await getCheckout(c.env, id, cartToken(c))).checkout, 200);
  })
  .openapi(confirm, async (c) => {
    const { id } = c.req.valid("param");
    const { card_number } = c.req.valid("json");
    const result = await confirmCheckout(c.env, {
      checkoutId: id,
      token: cartToken(c),
      cardNumber: card_number,
    });
    return c.json(checkoutOf(c, result).checkout, 200);
  });
