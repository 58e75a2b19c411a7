import { describe, expect, it } from "vitest";
import { signPayload, verifySignature } from "../workers/fulfilment/signature";
import { call } from "./helpers";

const SECRET = "test-fulfilment-secret";

async function deliver(body: string, signature: string | undefined) {
  return call("/dev/3pl/orders", {
    method: "POST",
    headers: { "content-type": "application/json", ...(signature ? { "popcart-signature": signature } : {}) },
    body,
  });
}

describe("fulfilment webhook signatures", () => {
  it("are accepted by the receiver when genuine", async () => {
    const body = JSON.stringify({ type: "fulfilment.requested", order_id: "ord_x" });
    const res = await deliver(body, await signPayload(SECRET, body));
    expect(res.status).toBe(202);
  });

  it("are rejected when the body was tampered with, missing, signed with another secret, or stale", async () => {
    const body = JSON.stringify({ type: "fulfilment.requested", order_id: "ord_x" });
    const genuine = await signPayload(SECRET, body);
    expect((await deliver(`${body} `, genuine)).status).toBe(401);
    expect((await deliver(body, undefined)).status).toBe(401);
    expect((await deliver(body, await signPayload("other-secret", body))).status).toBe(401);
    const stale = await signPayload(SECRET, body, Math.floor(Date.now() / 1000) - 3600);
    expect(await (await deliver(body, stale)).json()).toEqual({ ok: false, reason: "stale" });
  });

  it("verify with an explicit clock and tolerance", async () => {
    const signature = await signPayload(SECRET, "{}", 1_000);
    expect(await verifySignature(SECRET, signature, "{}", 300, 1_200)).toEqual({ ok: true });
    expect(await verifySignature(SECRET, signature, "{}", 300, 1_400)).toEqual({
      ok: false,
      reason: "stale",
    });
    expect(await verifySignature(SECRET, "t=abc,v1=zz", "{}")).toEqual({ ok: false, reason: "malformed" });
  });
});
