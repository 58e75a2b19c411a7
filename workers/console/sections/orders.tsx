import { Hono } from "hono";
import type { FC } from "hono/jsx";
import { formatMoney } from "../../lib/money";
import { ORDER_STATUSES } from "../../orders/lifecycle";
import type { AdminOrderView, OrderSummary } from "../../orders/schemas";
import { parsePrice } from "../../storefront/catalog";
import { Amount, DataTable, Field, PostForm, ReadOnly, when } from "../components";
import { type ConsoleContext, type ConsoleEnv, can } from "../context";
import { formFields, formKey, keyFrom } from "../form";
import { done, failure, type PageOptions, page, section } from "../page";

const orderPath = (id: string) => `/admin/orders/${encodeURIComponent(id)}`;
const apiPath = (id: string) => `/orders/${encodeURIComponent(id)}`;

interface Filters {
  status: string;
  email: string;
  date: string;
}

/** A `YYYY-MM-DD` day as the API's [created_from, created_to) range in UTC. */
function dayRange(day: string): { created_from?: string; created_to?: string } {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(day))) return {};
  const from = Date.parse(`${day}T00:00:00Z`);
  return {
    created_from: new Date(from).toISOString(),
    created_to: new Date(from + 86_400_000).toISOString(),
  };
}

const ListPage: FC<{ orders: OrderSummary[]; filters: Filters; next: string | null }> = ({
  orders,
  filters,
  next,
}) => (
  <>
    <h1>Orders</h1>
    <search>
      <form method="get" action="/admin/orders" class="filters">
        <div class="field">
          <label for="f-status">Status</label>
          <select id="f-status" name="status">
            <option value="">Any</option>
            {ORDER_STATUSES.map((s) => (
              <option value={s} selected={filters.status === s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <Field name="email" label="Email" type="email" value={filters.email} />
        <Field name="date" label="Placed on (UTC)" type="date" value={filters.date} />
        <button type="submit">Filter</button>
      </form>
    </search>
    <DataTable
      caption="Newest first"
      headers={["Order", "Placed (UTC)", "Email", "Status", "Payment", "Total"]}
    >
      {orders.map((o) => (
        <tr>
          <th scope="row">
            <a href={orderPath(o.id)}>{o.number}</a>
          </th>
          <td>{when(o.created_at)}</td>
          <td>{o.email}</td>
          <td>{o.status}</td>
          <td>{o.payment_status}</td>
          <td>
            <Amount money={o.total} />
          </td>
        </tr>
      ))}
    </DataTable>
    {orders.length === 0 ? <p>No orders match.</p> : null}
    {next ? (
      <p>
        <a href={`/admin/orders?${new URLSearchParams({ ...filters, cursor: next })}`}>Older orders</a>
      </p>
    ) : null}
  </>
);

const OrderPage: FC<{ order: AdminOrderView; csrf: string; writable: boolean }> = ({
  order,
  csrf,
  writable,
}) => {
  const refundable = order.total.amount - order.refunded_total.amount;
  return (
    <>
      <p class="crumbs">
        <a href="/admin/orders">Orders</a> / {order.number}
      </p>
      <h1>Order {order.number}</h1>
      <dl class="facts">
        <dt>Status</dt>
        <dd data-order-status>{order.status}</dd>
        <dt>Payment</dt>
        <dd data-payment-status>{order.payment_status}</dd>
        <dt>Email</dt>
        <dd>{order.email}</dd>
        <dt>Total</dt>
        <dd>
          <Amount money={order.total} />
        </dd>
        <dt>Refunded</dt>
        <dd data-refunded>
          <Amount money={order.refunded_total} />
        </dd>
        <dt>Placed (UTC)</dt>
        <dd>{when(order.created_at)}</dd>
      </dl>
      <h2 id="lines-h">Lines</h2>
      <DataTable labelledBy="lines-h" headers={["Item", "SKU", "Qty", "Unit", "Total"]}>
        {order.lines.map((l) => (
          <tr>
            <td>
              {l.title}
              {l.variant_title ? ` — ${l.variant_title}` : ""}
            </td>
            <td>
              <a href={`/admin/inventory/${encodeURIComponent(l.sku)}`}>{l.sku}</a>
            </td>
            <td>{l.quantity}</td>
            <td>
              <Amount money={l.unit_price} />
            </td>
            <td>
              <Amount money={l.total} />
            </td>
          </tr>
        ))}
      </DataTable>
      <p>
        Subtotal <Amount money={order.subtotal} /> · Discounts <Amount money={order.discount_total} /> ·
        Shipping <Amount money={order.shipping_total} /> ({order.shipping_method.name}) · Tax{" "}
        <Amount money={order.tax_total} />
      </p>

      {writable ? (
        <div class="forms">
          <section class="card" aria-labelledby="refund-h">
            <h2 id="refund-h">Refund</h2>
            {refundable > 0 ? (
              <PostForm
                action={`${orderPath(order.id)}/refund`}
                csrf={csrf}
                label="Refund"
                confirm="Refund this order through its payment provider?"
              >
                <input type="hidden" name="idempotency_key" value={formKey()} />
                <Field
                  name="amount"
                  label={`Amount (${order.currency})`}
                  inputmode="decimal"
                  hint={`Empty refunds everything that remains (${formatMoney({ amount: refundable, currency: order.currency })}).`}
                />
                <Field name="reason" label="Reason" />
                <button type="submit">Refund</button>
              </PostForm>
            ) : (
              <p>Nothing left to refund.</p>
            )}
          </section>
          <section class="card" aria-labelledby="fulfil-h">
            <h2 id="fulfil-h">Fulfil</h2>
            <PostForm action={`${orderPath(order.id)}/fulfil`} csrf={csrf} label="Fulfil">
              <div class="field">
                <label for="f-fstatus">Mark as</label>
                <select id="f-fstatus" name="status">
                  <option value="fulfilling">fulfilling</option>
                  <option value="shipped">shipped</option>
                  <option value="delivered">delivered</option>
                </select>
              </div>
              <Field name="carrier" label="Carrier" hint="With the tracking number, for shipped." />
              <Field name="tracking" label="Tracking number" />
              <button type="submit">Record</button>
            </PostForm>
          </section>
          <section class="card" aria-labelledby="cancel-h">
            <h2 id="cancel-h">Cancel</h2>
            <PostForm
              action={`${orderPath(order.id)}/cancel`}
              csrf={csrf}
              label="Cancel order"
              confirm="Cancel this order? Its units are restocked and its payment refunded."
            >
              <Field name="reason" label="Reason" id="f-cancel-reason" />
              <button type="submit" class="danger">
                Cancel order
              </button>
            </PostForm>
          </section>
        </div>
      ) : (
        <ReadOnly scope="orders:write" />
      )}

      <h2 id="payments-h">Payments and refunds</h2>
      <ul aria-labelledby="payments-h">
        {order.payments.map((p) => (
          <li>
            {p.provider} payment <code>{p.payment_id}</code>: <Amount money={p.amount} /> {p.status} ·{" "}
            {when(p.created_at)}
          </li>
        ))}
        {order.refunds.map((r) => (
          <li data-refund={r.id}>
            Refund <code>{r.id}</code>: <Amount money={r.amount} /> {r.status}
            {r.reason ? ` (${r.reason})` : ""} · {when(r.created_at)}
          </li>
        ))}
      </ul>
      <h2 id="history-h">History</h2>
      <ol aria-labelledby="history-h">
        {order.status_history.map((h) => (
          <li>
            {when(h.created_at)} — {h.status}
            {h.note ? `: ${h.note}` : ""}
          </li>
        ))}
      </ol>
      <h2 id="deliveries-h">Events and fulfilment deliveries</h2>
      <ul aria-labelledby="deliveries-h">
        {order.events.map((e) => (
          <li>
            {when(e.created_at)} {e.type} —{" "}
            {e.sent_at ? "sent" : `not sent yet (${e.send_attempts} attempts)`}
          </li>
        ))}
        {order.deliveries.map((d) => (
          <li>
            {when(d.created_at)} {d.event_type} → {d.url}: attempt {d.attempt},{" "}
            {d.ok ? "delivered" : `failed ${d.status_code ?? ""} ${d.error ?? ""}`}
          </li>
        ))}
      </ul>
    </>
  );
};

async function showOrder(c: ConsoleContext, id: string, opts: PageOptions = {}) {
  const result = await c.get("api").get<AdminOrderView>(apiPath(id));
  if (!result.ok) return page(c, "Order", <p>No such order.</p>, failure(result));
  return page(
    c,
    `Order ${result.data.number}`,
    <OrderPage order={result.data} csrf={c.get("session").csrf} writable={can(c, "orders:write")} />,
    opts,
  );
}

/** Orders: filtered list, detail with history, and the fulfil / cancel / refund actions. */
export const ordersSection = new Hono<ConsoleEnv>()
  .use("*", section("orders:read"))
  .get("/", async (c) => {
    const filters: Filters = {
      status: c.req.query("status") ?? "",
      email: c.req.query("email")?.trim() ?? "",
      date: c.req.query("date") ?? "",
    };
    const result = await c.get("api").get<{ items: OrderSummary[]; next_cursor: string | null }>("/orders", {
      status: filters.status,
      email: filters.email,
      ...dayRange(filters.date),
      cursor: c.req.query("cursor"),
      limit: "50",
    });
    if (!result.ok)
      return page(c, "Orders", <ListPage orders={[]} filters={filters} next={null} />, failure(result));
    return page(
      c,
      "Orders",
      <ListPage orders={result.data.items} filters={filters} next={result.data.next_cursor} />,
    );
  })
  .get("/:id", (c) => showOrder(c, c.req.param("id")))
  .post("/:id/refund", async (c) => {
    const id = c.req.param("id");
    const f = await formFields(c);
    const current = await c.get("api").get<AdminOrderView>(apiPath(id));
    if (!current.ok) return showOrder(c, id, failure(current));
    const currency = current.data.currency;
    const amount = f.amount ? parsePrice(f.amount, currency) : undefined;
    if (amount === null || amount === 0) {
      return showOrder(c, id, {
        error: `Enter the amount in ${currency}, like 12.50, or leave it empty.`,
        status: 422,
      });
    }
    const result = await c.get("api").send(
      "POST",
      `${apiPath(id)}/refunds`,
      {
        ...(amount === undefined ? {} : { amount: { amount, currency } }),
        ...(f.reason ? { reason: f.reason } : {}),
      },
      { "idempotency-key": keyFrom(f) },
    );
    if (!result.ok) return showOrder(c, id, failure(result));
    return done(c, orderPath(id), "refunded");
  })
  .post("/:id/fulfil", async (c) => {
    const id = c.req.param("id");
    const f = await formFields(c);
    const tracking =
      f.carrier || f.tracking ? { carrier: f.carrier ?? "", number: f.tracking ?? "" } : undefined;
    const result = await c
      .get("api")
      .send("POST", `${apiPath(id)}/fulfilments`, { status: f.status, ...(tracking ? { tracking } : {}) });
    if (!result.ok) return showOrder(c, id, failure(result));
    return done(c, orderPath(id), "fulfilled");
  })
  .post("/:id/cancel", async (c) => {
    const id = c.req.param("id");
    const f = await formFields(c);
    const result = await c
      .get("api")
      .send("POST", `${apiPath(id)}/cancel`, f.reason ? { reason: f.reason } : {});
    if (!result.ok) return showOrder(c, id, failure(result));
    return done(c, orderPath(id), "cancelled");
  });
