import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { CartResult } from "../../durable-objects/cart";
import type { AppEnv } from "../lib/env";
import { createRouter } from "../lib/router";
import { problemResponses } from "../lib/schemas";
import { useCartVersionKey } from "../lib/version-affinity";
import { countFailedGuess, refuseBlockedGuess } from "../promotions/guess-limits";
import { recordAdmissionRefusal, requestAdmission } from "../waiting-room/admission-header";
import { AdmissionHeaderSchema } from "../waiting-room/schemas";
import { cartProblem } from "./problems";
import {
  AddLineBodySchema,
  AddPromotionBodySchema,
  AddressSchema,
  CartSchema,
  CreateCartBodySchema,
  CreatedCartSchema,
  SetEmailBodySchema,
  SetShippingMethodBodySchema,
  UpdateLineBodySchema,
} from "./schemas";
import { createCart, withCart } from "./service";

/** Cookie alternative to the X-Cart-Token header, for storefronts that prefer cookies. */
export const CART_TOKEN_COOKIE = "popcart_cart_token";

/**
 * Whether a cart creation also adds lines (and so may hold stock): it then counts against
 * the per-client reservation limit like `POST /api/carts/{id}/lines`. Hono caches the parsed
 * body, so validation does not read it twice; an unreadable body is left to validation.
 */
export async function createsLines(c: Context<AppEnv>): Promise<boolean> {
  const parsed: unknown = await c.req.json().catch(() => null);
  if (typeof parsed !== "object" || parsed === null || !("lines" in parsed)) return false;
  return Array.isArray(parsed.lines) && parsed.lines.length > 0;
}

/** The caller's cart token: the header wins over the cookie. */
export function cartToken(c: Context<AppEnv>): string | undefined {
  return c.req.header("x-cart-token") ?? getCookie(c, CART_TOKEN_COOKIE);
}

// Path ids are checked by the service (malformed ids answer 404 like a wrong token), not here.
const IdParam = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});
const LineParams = IdParam.extend({
  line_id: z
    .string()
    .max(64)
    .openapi({ param: { name: "line_id", in: "path" } }),
});
const CodeParams = IdParam.extend({
  code: z
    .string()
    .max(64)
    .openapi({ param: { name: "code", in: "path" } }),
});

const cartJson = { "application/json": { schema: CartSchema } } as const;
const admissionNote =
  "SKUs whose sale has a waiting room need its admission to take new stock: send the ticket's `admission_token` as `Popcart-Admission` " +
  "(403 `admission_required` / `admission_expired` otherwise, with the `join_url`).";
const body = <S extends z.ZodType>(schema: S) => ({
  body: { required: true, content: { "application/json": { schema } } },
});
const tags = ["Carts"];
const security = [{ cartToken: [] }];

function cartResponse(c: Context<AppEnv>, result: CartResult) {
  if (!result.ok) {
    recordAdmissionRefusal(c, result);
    throw cartProblem(result);
  }
  c.header("cache-control", "no-store");
  return c.json(result.cart, 200);
}

const create = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Create a cart, optionally whole: lines, email, shipping address and method in one call",
  description:
    "Returns the cart with its secret `token`; send it as `X-Cart-Token` on every later cart call. " +
    "A cart created with everything a checkout needs is ready for `POST /api/carts/{id}/checkout`, " +
    "so a purchase takes three requests (create, check out, confirm). " +
    "All or nothing: if any line is refused (unknown or unavailable SKU, sold out, over a limit), " +
    "the address is outside the currency's region or the shipping method is not offered, " +
    "the answer is that line's problem (`sold_out`, `address_outside_region`, `unknown_shipping_method` …), " +
    "no cart is created and no stock stays held. Creating a cart with lines counts against the per-client " +
    `reservation limit like adding a line. ${admissionNote}`,
  request: { headers: AdmissionHeaderSchema, ...body(CreateCartBodySchema) },
  responses: {
    201: { description: "Created", content: { "application/json": { schema: CreatedCartSchema } } },
    ...problemResponses(400, 403, 409, 413, 422, 429, 503),
  },
});

const get = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  security,
  summary: "Read a cart, priced from current catalog prices",
  request: { params: IdParam },
  responses: { 200: { description: "The cart", content: cartJson }, ...problemResponses(404) },
});

const addLine = createRoute({
  method: "post",
  path: "/{id}/lines",
  tags,
  security,
  summary: "Add a SKU (adding a SKU already in the cart increases its line)",
  description: admissionNote,
  request: { params: IdParam, headers: AdmissionHeaderSchema, ...body(AddLineBodySchema) },
  responses: {
    200: { description: "The cart", content: cartJson },
    ...problemResponses(400, 403, 404, 409, 422),
  },
});

const updateLine = createRoute({
  method: "patch",
  path: "/{id}/lines/{line_id}",
  tags,
  security,
  summary: "Change a line's quantity (0 removes it)",
  description: `${admissionNote} Lowering a quantity or removing a line never needs one.`,
  request: { params: LineParams, headers: AdmissionHeaderSchema, ...body(UpdateLineBodySchema) },
  responses: {
    200: { description: "The cart", content: cartJson },
    ...problemResponses(400, 403, 404, 409, 422),
  },
});

const removeLine = createRoute({
  method: "delete",
  path: "/{id}/lines/{line_id}",
  tags,
  security,
  summary: "Remove a line",
  request: { params: LineParams },
  responses: { 200: { description: "The cart", content: cartJson }, ...problemResponses(404, 409) },
});

const setEmail = createRoute({
  method: "put",
  path: "/{id}/email",
  tags,
  security,
  summary: "Set the customer email",
  request: { params: IdParam, ...body(SetEmailBodySchema) },
  responses: { 200: { description: "The cart", content: cartJson }, ...problemResponses(400, 404, 409, 422) },
});

const setAddress = createRoute({
  method: "put",
  path: "/{id}/shipping-address",
  tags,
  security,
  summary: "Set the shipping address (must be in the cart's region)",
  request: { params: IdParam, ...body(AddressSchema) },
  responses: { 200: { description: "The cart", content: cartJson }, ...problemResponses(400, 404, 409, 422) },
});

const setMethod = createRoute({
  method: "put",
  path: "/{id}/shipping-method",
  tags,
  security,
  summary: "Choose one of the cart's offered shipping methods",
  request: { params: IdParam, ...body(SetShippingMethodBodySchema) },
  responses: { 200: { description: "The cart", content: cartJson }, ...problemResponses(400, 404, 409, 422) },
});

const addPromotion = createRoute({
  method: "post",
  path: "/{id}/promotions",
  tags,
  security,
  summary: "Apply a promotion code",
  description:
    "Codes that fail (422 `promotion_invalid`) are counted per client across carts and per code prefix; " +
    "over either limit every attempt is answered 429 `rate_limited` with `Retry-After`, before the code is looked at.",
  request: { params: IdParam, ...body(AddPromotionBodySchema) },
  responses: { 200: { description: "The cart", content: cartJson }, ...problemResponses(400, 404, 409, 422) },
});

const removePromotion = createRoute({
  method: "delete",
  path: "/{id}/promotions/{code}",
  tags,
  security,
  summary: "Remove a promotion code",
  request: { params: CodeParams },
  responses: { 200: { description: "The cart", content: cartJson }, ...problemResponses(404, 409) },
});

/** `/api/carts`: one cart object per cart, every call authorised by the cart's token. */
export const cartRoutes = createRouter()
  .openapi(create, async (c) => {
    const input = c.req.valid("json");
    const created = await createCart(
      c.env,
      input,
      input.lines?.length ? await requestAdmission(c) : undefined,
    );
    if (!created.ok) {
      recordAdmissionRefusal(c, created);
      throw cartProblem(created);
    }
    const { cart, token } = created;
    c.get("log").fields.cart_id = cart.id;
    await useCartVersionKey(c, cart.id);
    c.header("cache-control", "no-store");
    return c.json({ ...cart, token }, 201);
  })
  .openapi(get, async (c) => {
    const { id } = c.req.valid("param");
    return cartResponse(c, await withCart(c.env, id, cartToken(c), (cart, hash) => cart.view(hash)));
  })
  .openapi(addLine, async (c) => {
    const { id } = c.req.valid("param");
    const input = c.req.valid("json");
    const admission = await requestAdmission(c);
    return cartResponse(
      c,
      await withCart(c.env, id, cartToken(c), (cart, hash) => cart.addLine(hash, input, admission)),
    );
  })
  .openapi(updateLine, async (c) => {
    const { id, line_id } = c.req.valid("param");
    const { quantity } = c.req.valid("json");
    const admission = await requestAdmission(c);
    return cartResponse(
      c,
      await withCart(c.env, id, cartToken(c), (cart, hash) =>
        cart.updateLine(hash, line_id, quantity, admission),
      ),
    );
  })
  .openapi(removeLine, async (c) => {
    const { id, line_id } = c.req.valid("param");
    return cartResponse(
      c,
      await withCart(c.env, id, cartToken(c), (cart, hash) => cart.removeLine(hash, line_id)),
    );
  })
  .openapi(setEmail, async (c) => {
    const { id } = c.req.valid("param");
    const { email } = c.req.valid("json");
    return cartResponse(
      c,
      await withCart(c.env, id, cartToken(c), (cart, hash) => cart.setEmail(hash, email)),
    );
  })
  .openapi(setAddress, async (c) => {
    const { id } = c.req.valid("param");
    const address = c.req.valid("json");
    return cartResponse(
      c,
      await withCart(c.env, id, cartToken(c), (cart, hash) => cart.setShippingAddress(hash, address)),
    );
  })
  .openapi(setMethod, async (c) => {
    const { id } = c.req.valid("param");
    const { id: methodId } = c.req.valid("json");
    return cartResponse(
      c,
      await withCart(c.env, id, cartToken(c), (cart, hash) => cart.setShippingMethod(hash, methodId)),
    );
  })
  .openapi(addPromotion, async (c) => {
    const { id } = c.req.valid("param");
    const { code } = c.req.valid("json");
    await refuseBlockedGuess(c, code);
    const result = await withCart(c.env, id, cartToken(c), (cart, hash) => cart.addPromotion(hash, code));
    if (!result.ok && result.reason === "promotion_invalid") {
      await countFailedGuess(c, code, String(result.data?.why ?? "invalid"));
    }
    return cartResponse(c, result);
  })
  .openapi(removePromotion, async (c) => {
    const { id, code } = c.req.valid("param");
    return cartResponse(
      c,
      await withCart(c.env, id, cartToken(c), (cart, hash) => cart.removePromotion(hash, code.toUpperCase())),
    );
  });
