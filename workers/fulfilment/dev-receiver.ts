import { log } from "../lib/logging";
import { problems } from "../lib/problem";
import { createRouter } from "../lib/router";
import { verifySignature } from "./signature";

/**
 * A stand-in warehouse for `npm run dev`: verifies the fulfilment webhook's signature and
 * logs what a real 3PL would receive. Only mounted outside production.
 */
export const devReceiverRoutes = createRouter().post("/dev/3pl/orders", async (c) => {
  if (c.env.ENVIRONMENT === "production") throw problems.notFound("Route", "route_not_found");
  const body = await c.req.text();
  const secret = c.env.FULFILMENT_WEBHOOK_SECRET;
  const verdict = secret
    ? await verifySignature(secret, c.req.header("popcart-signature"), body)
    : { ok: false as const, reason: "missing" as const };
  if (!verdict.ok) {
    log("warn", "dev_3pl_rejected", { reason: verdict.reason });
    return c.json({ ok: false, reason: verdict.reason }, 401);
  }
  log("info", "dev_3pl_received", {
    idempotency_key: c.req.header("idempotency-key"),
    event_type: c.req.header("popcart-event-type"),
    body: JSON.parse(body) as unknown,
  });
  return c.json({ ok: true }, 202);
});
