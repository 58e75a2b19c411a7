import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ApiError } from "../workers/lib/problem";
import { refundOrder } from "../workers/orders/refunds";
import { paidOrder } from "./order-fixtures";

const usd = (amount: number) => ({ amount, currency: "USD" as const });

const Op = fc.record({
  key: fc.constantFrom("a", "b", "c", "d", "e"),
  amount: fc.option(fc.integer({ min: 1, max: 6_000 }), { nil: undefined }),
});

describe("refund invariants (model-based)", () => {
  it("matches a simple model: keys replay, the remainder is never exceeded, books agree with the provider", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5_000 }),
        fc.array(Op, { minLength: 1, maxLength: 7 }),
        async (total, ops) => {
          const { provider, order, payment } = await paidOrder({ total, cartId: "cart_prop" });
          // Per key: the amount refunded and the amount the first request asked for (its body).
          const byKey = new Map<string, { refunded: number; asked: number | undefined }>();
          let refunded = 0;
          for (const op of ops) {
            const outcome = await refundOrder(env, provider, {
              orderId: order.id,
              idempotencyKey: op.key,
              ...(op.amount === undefined ? {} : { amount: usd(op.amount) }),
            }).then(
              (ok) => ({ ok: true as const, ...ok }),
              (error: unknown) => {
                if (!(error instanceof ApiError)) throw error;
                return { ok: false as const, code: error.code };
              },
            );
            const previous = byKey.get(op.key);
            const remaining = total - refunded;
            if (previous !== undefined) {
              if (op.amount !== previous.asked) {
                expect(outcome).toMatchObject({ ok: false, code: "idempotency_key_reused" });
              } else {
                expect(outcome).toMatchObject({
                  ok: true,
                  created: false,
                  refund: { amount: usd(previous.refunded) },
                });
              }
            } else if (remaining === 0) {
              expect(outcome).toMatchObject({ ok: false, code: "order_fully_refunded" });
            } else if ((op.amount ?? remaining) > remaining) {
              expect(outcome).toMatchObject({ ok: false, code: "refund_exceeds_refundable" });
            } else {
              const amount = op.amount ?? remaining;
              expect(outcome).toMatchObject({
                ok: true,
                created: true,
                refund: { amount: usd(amount), status: "succeeded" },
              });
              byKey.set(op.key, { refunded: amount, asked: op.amount });
              refunded += amount;
            }
            const books = await env.DB.prepare(
              `SELECT o.refunded_total, o.payment_status, o.status, p.refunded_amount
             FROM orders o, test_payments p WHERE o.id = ?1 AND p.id = ?2`,
            )
              .bind(order.id, payment.payment_id)
              .first<{
                refunded_total: number;
                payment_status: string;
                status: string;
                refunded_amount: number;
              }>();
            expect(books?.refunded_total).toBe(refunded);
            expect(books?.refunded_amount).toBe(refunded);
            const expectedPayment =
              refunded === 0 ? "paid" : refunded === total ? "refunded" : "partially_refunded";
            expect(books?.payment_status).toBe(expectedPayment);
            expect(books?.status).toBe(refunded === total ? "refunded" : "paid");
          }
        },
      ),
      { numRuns: 10 },
    );
  });
});
