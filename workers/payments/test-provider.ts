import { and, eq, inArray } from "drizzle-orm";
import { database, readAfter } from "../../db/client";
import { testPayments } from "../../db/schema";
import { derivedId, newId, newSecret } from "../lib/ids";
import type { Currency } from "../lib/money";
import {
  type CreatePaymentInput,
  type PaymentOutcome,
  type PaymentProvider,
  PaymentProviderError,
  type PaymentRecord,
  type PaymentSession,
  type RefundInput,
  type RefundResult,
} from "./provider";

/** Card numbers with a scripted outcome, mirroring Stripe's test cards. */
export const TEST_CARDS = {
  succeeds: "4242424242424242",
  declined: "4000000000000002",
  requiresAction: "4000000000003220",
  insufficientFunds: "4000000000009995",
} as const;

const DECLINES: Record<string, string> = {
  [TEST_CARDS.declined]: "Your card was declined.",
  [TEST_CARDS.insufficientFunds]: "Your card has insufficient funds.",
};

type TestPaymentRow = typeof testPayments.$inferSelect;
type Transition = {
  status: "succeeded" | "failed" | "requires_action";
  failureMessage?: string;
  pendingCard?: string;
};

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** What a card does to a payment that is waiting for one (or for its 3-D Secure step). */
function evaluateCard(card: string, row: Pick<TestPaymentRow, "status" | "pendingCard">): Transition {
  if (row.status === "requires_action" && row.pendingCard === card) return { status: "succeeded" };
  const decline = DECLINES[card];
  if (decline) return { status: "failed", failureMessage: decline };
  if (card === TEST_CARDS.requiresAction) return { status: "requires_action", pendingCard: card };
  if (!luhnValid(card)) return { status: "failed", failureMessage: "Your card number is incorrect." };
  return { status: "succeeded" };
}

function sessionOf(row: TestPaymentRow): PaymentSession {
  const session: PaymentSession = {
    provider: "test",
    payment_id: row.id,
    client_secret: row.clientSecret,
    status: row.status,
    amount: { amount: row.amount, currency: row.currency as Currency },
  };
  // The test provider's "authentication" is a second confirmation with the same card.
  if (row.status === "requires_action") session.next_action = { type: "redirect" };
  return session;
}

function outcomeOf(row: TestPaymentRow): PaymentOutcome {
  if (
    (row.status !== "succeeded" &&
      row.status !== "failed" &&
      row.status !== "canceled" &&
      row.status !== "requires_action") ||
    !row.lastEventId
  ) {
    throw new Error(`test payment ${row.id} in ${row.status} has no outcome`);
  }
  return {
    event_id: row.lastEventId,
    provider: "test",
    payment_id: row.id,
    checkout_id: row.checkoutId,
    cart_id: row.cartId,
    status: row.status,
    amount: { amount: row.amount, currency: row.currency as Currency },
    ...(row.failureMessage ? { failure_message: row.failureMessage } : {}),
  };
}

async function loadPayment(env: Env, paymentId: string): Promise<TestPaymentRow> {
  const row = await database(env.DB).query.testPayments.findFirst({ where: eq(testPayments.id, paymentId) });
  if (!row) throw new PaymentProviderError("payment_not_found", `No test payment ${paymentId}`);
  return row;
}

/**
 * Confirms a test payment with a card number, as Stripe.js would, and returns the outcome
 * Stripe would deliver by webhook. Terminal payments return their recorded outcome again
 * (same `event_id`), so retries and races are harmless. `4000000000003220` first answers
 * `requires_action`; confirming again with it completes the authentication.
 */
export async function confirmTestPayment(
  env: Env,
  paymentId: string,
  cardNumber: string,
): Promise<PaymentOutcome> {
  const card = cardNumber.replace(/[\s-]/g, "");
  if (!/^\d{12,19}$/.test(card))
    throw new PaymentProviderError("invalid_request", "Card number must be 12-19 digits.");
  // The usual case, a payment waiting for its card: one compare-and-set on that state, whose
  // outcome depends on the card alone. Anything else (3-D Secure pending, terminal, unknown)
  // reads the payment and is evaluated against it below.
  const first = evaluateCard(card, { status: "requires_payment_method", pendingCard: null });
  const [moved] = await database(env.DB)
    .update(testPayments)
    .set({
      status: first.status,
      failureMessage: first.failureMessage ?? null,
      pendingCard: first.pendingCard ?? null,
      lastEventId: newId("evt"),
      updatedAt: Date.now(),
    })
    .where(and(eq(testPayments.id, paymentId), eq(testPayments.status, "requires_payment_method")))
    .returning();
  if (moved) return outcomeOf(moved);
  const row = await loadPayment(env, paymentId);
  if (row.status !== "requires_payment_method" && row.status !== "requires_action") return outcomeOf(row);

  const next = evaluateCard(card, row);
  const now = Date.now();
  // Compare-and-set on the state we evaluated: a concurrent confirm that moved first wins.
  const [updated] = await database(env.DB)
    .update(testPayments)
    .set({
      status: next.status,
      failureMessage: next.failureMessage ?? null,
      pendingCard: next.pendingCard ?? null,
      lastEventId: newId("evt"),
      updatedAt: now,
    })
    .where(
      and(
        eq(testPayments.id, row.id),
        eq(testPayments.status, row.status),
        eq(testPayments.updatedAt, row.updatedAt),
      ),
    )
    .returning();
  return outcomeOf(updated ?? (await loadPayment(env, paymentId)));
}

/**
 * The offline provider used when no Stripe key is configured. Payments live in D1 and move
 * through the same states as PaymentIntents; `confirmTestPayment` plays the card network.
 */
export class TestPaymentProvider implements PaymentProvider {
  readonly name = "test" as const;

  constructor(private readonly env: Env) {}

  async createPayment(i: CreatePaymentInput, record?: PaymentRecord): Promise<PaymentSession> {
    const db = database(this.env.DB);
    // Named by its key, as one Stripe create retried under a key is one PaymentIntent: so the
    // record can name the payment in the same transaction, whether or not this call makes it.
    const id = await derivedId("pay", i.idempotencyKey);
    const now = Date.now();
    const insert = db
      .insert(testPayments)
      .values({
        id,
        idempotencyKey: i.idempotencyKey,
        checkoutId: i.checkoutId,
        cartId: i.cartId,
        email: i.email ?? null,
        amount: i.amount.amount,
        currency: i.amount.currency,
        status: "requires_payment_method",
        clientSecret: `${id}_secret_${newSecret()}`,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing()
      .returning();
    const [inserted] = record ? (await readAfter(this.env.DB, [record(id)], [insert]))[0] : await insert;
    // A retry under the same key inserts nothing: read the payment the first call created.
    const row =
      inserted ??
      (await db.query.testPayments.findFirst({
        where: eq(testPayments.idempotencyKey, i.idempotencyKey),
      }));
    if (!row) throw new Error("test payment vanished after insert");
    // Made under this key by a release that named payments at random: record its real id.
    if (record && row.id !== id) await record(row.id).run();
    if (
      row.checkoutId !== i.checkoutId ||
      row.cartId !== i.cartId ||
      row.amount !== i.amount.amount ||
      row.currency !== i.amount.currency
    ) {
      throw new PaymentProviderError(
        "idempotency_conflict",
        "Idempotency key reused with different parameters.",
      );
    }
    return sessionOf(row);
  }

  async getPayment(paymentId: string): Promise<PaymentSession> {
    return sessionOf(await loadPayment(this.env, paymentId));
  }

  async cancelPayment(paymentId: string, _idempotencyKey: string): Promise<PaymentSession> {
    const [updated] = await database(this.env.DB)
      .update(testPayments)
      .set({ status: "canceled", lastEventId: newId("evt"), pendingCard: null, updatedAt: Date.now() })
      .where(
        and(
          eq(testPayments.id, paymentId),
          inArray(testPayments.status, ["requires_payment_method", "requires_action"]),
        ),
      )
      .returning();
    return sessionOf(updated ?? (await loadPayment(this.env, paymentId)));
  }

  async refund(i: RefundInput): Promise<RefundResult> {
    const payment = await loadPayment(this.env, i.paymentId);
    if (i.amount && i.amount.currency !== payment.currency) {
      throw new PaymentProviderError("invalid_request", `Refund currency must be ${payment.currency}.`);
    }
    const requested = i.amount?.amount ?? null;
    if (requested !== null && requested <= 0)
      throw new PaymentProviderError("invalid_request", "Refund must be positive.");
    const now = Date.now();
    // One batch (one transaction): the remainder check, the insert and the running total
    // cannot interleave with a concurrent refund of the same payment.
    const [, , found] = await this.env.DB.batch([
      this.env.DB.prepare(
        `INSERT INTO test_refunds (id, payment_id, idempotency_key, amount, reason, created_at)
         SELECT ?1, p.id, ?3, COALESCE(?4, p.amount - p.refunded_amount), ?5, ?6 FROM test_payments p
         WHERE p.id = ?2 AND p.status = 'succeeded'
           AND COALESCE(?4, p.amount - p.refunded_amount) > 0
           AND p.refunded_amount + COALESCE(?4, p.amount - p.refunded_amount) <= p.amount
         ON CONFLICT(idempotency_key) DO NOTHING`,
      ).bind(newId("ref"), i.paymentId, i.idempotencyKey, requested, i.reason ?? null, now),
      this.env.DB.prepare(
        `UPDATE test_payments SET updated_at = ?2,
           refunded_amount = (SELECT COALESCE(SUM(amount), 0) FROM test_refunds WHERE payment_id = ?1)
         WHERE id = ?1`,
      ).bind(i.paymentId, now),
      this.env.DB.prepare("SELECT id, payment_id, amount FROM test_refunds WHERE idempotency_key = ?1").bind(
        i.idempotencyKey,
      ),
    ]);
    const refund = found?.results[0] as { id: string; payment_id: string; amount: number } | undefined;
    if (!refund) {
      if (payment.status !== "succeeded") {
        throw new PaymentProviderError("not_refundable", `Payment ${payment.id} is ${payment.status}.`);
      }
      throw new PaymentProviderError("amount_too_large", "Refund exceeds the amount left to refund.");
    }
    if (refund.payment_id !== i.paymentId || (requested !== null && refund.amount !== requested)) {
      throw new PaymentProviderError(
        "idempotency_conflict",
        "Idempotency key reused with different parameters.",
      );
    }
    return {
      refund_id: refund.id,
      amount: { amount: refund.amount, currency: payment.currency as Currency },
      status: "succeeded",
    };
  }
}
