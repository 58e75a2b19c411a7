import { Hono } from "hono";
import type { FC } from "hono/jsx";
import { CURRENCY_CODES, type Currency, formatMoney } from "../../lib/money";
import type { PromotionView } from "../../promotions/schemas";
import { parsePrice } from "../../storefront/catalog";
import { DataTable, Field, PostForm, when } from "../components";
import type { ConsoleContext, ConsoleEnv } from "../context";
import { basisPoints, formFields, intField, utcField } from "../form";
import { done, failure, type PageOptions, page, section } from "../page";

const describe = (p: PromotionView) =>
  p.type === "percentage"
    ? `${(p.percentage_bp ?? 0) / 100}% off`
    : p.amount_off
      ? `${formatMoney(p.amount_off)} off`
      : "amount off";

const PromotionsPage: FC<{ items: PromotionView[]; next: string | null; csrf: string }> = ({
  items,
  next,
  csrf,
}) => (
  <>
    <h1>Promotions</h1>
    <DataTable
      caption="Newest first"
      headers={["Code", "Discount", "Window (UTC)", "Used", "State", { hidden: "Action" }]}
    >
      {items.map((p) => (
        <tr data-promotion={p.code}>
          <th scope="row">
            <code>{p.code}</code>
          </th>
          <td>{describe(p)}</td>
          <td>
            {when(p.starts_at)} → {when(p.ends_at)}
          </td>
          <td>
            {p.times_used}
            {p.usage_limit ? ` of ${p.usage_limit}` : ""}
            {p.per_customer_limit ? ` (max ${p.per_customer_limit} per customer)` : ""}
          </td>
          <td>{p.active ? "active" : "disabled"}</td>
          <td>
            <PostForm action={`/admin/promotions/${encodeURIComponent(p.id)}/active`} csrf={csrf}>
              <input type="hidden" name="active" value={p.active ? "0" : "1"} />
              <button
                type="submit"
                class="secondary"
                aria-label={`${p.active ? "Disable" : "Enable"} ${p.code}`}
              >
                {p.active ? "Disable" : "Enable"}
              </button>
            </PostForm>
          </td>
        </tr>
      ))}
    </DataTable>
    {next ? (
      <p>
        <a href={`/admin/promotions?cursor=${encodeURIComponent(next)}`}>Older codes</a>
      </p>
    ) : null}
    <section class="card" aria-labelledby="new-promo-h">
      <h2 id="new-promo-h">New code</h2>
      <PostForm action="/admin/promotions" csrf={csrf} label="New promotion">
        <Field
          name="code"
          label="Code"
          required
          hint="Letters, digits, - and _; shoppers type it in any case."
        />
        <div class="field">
          <label for="f-type">Type</label>
          <select id="f-type" name="type">
            <option value="percentage">Percentage off</option>
            <option value="fixed_amount">Amount off</option>
          </select>
        </div>
        <Field
          name="percent"
          label="Percent off"
          inputmode="decimal"
          hint="For percentage codes, e.g. 10 or 12.5."
        />
        <Field name="amount" label="Amount off" inputmode="decimal" hint="For amount-off codes." />
        <div class="field">
          <label for="f-currency">Currency of the amount</label>
          <select id="f-currency" name="currency">
            {CURRENCY_CODES.map((c) => (
              <option value={c}>{c}</option>
            ))}
          </select>
        </div>
        <Field name="starts_at" label="Starts (UTC)" type="datetime-local" />
        <Field name="ends_at" label="Ends (UTC)" type="datetime-local" />
        <Field name="usage_limit" label="Total uses" type="number" min={1} hint="Empty: unlimited." />
        <Field
          name="per_customer_limit"
          label="Uses per customer"
          type="number"
          min={1}
          hint="Empty: unlimited."
        />
        <button type="submit">Create code</button>
      </PostForm>
    </section>
  </>
);

async function showPromotions(c: ConsoleContext, opts: PageOptions = {}) {
  const result = await c
    .get("api")
    .get<{ data: PromotionView[]; next_cursor: string | null }>("/promotions", {
      cursor: c.req.query("cursor"),
      limit: "50",
    });
  const csrf = c.get("session").csrf;
  if (!result.ok)
    return page(c, "Promotions", <PromotionsPage items={[]} next={null} csrf={csrf} />, failure(result));
  return page(
    c,
    "Promotions",
    <PromotionsPage items={result.data.data} next={result.data.next_cursor} csrf={csrf} />,
    opts,
  );
}

/** Promotions: codes with their usage; create; disable or re-enable. Needs `promotions:write` even to list. */
export const promotionsSection = new Hono<ConsoleEnv>()
  .use("*", section("promotions:write"))
  .get("/", (c) => showPromotions(c))
  .post("/", async (c) => {
    const f = await formFields(c);
    const currency = (CURRENCY_CODES as readonly string[]).includes(f.currency ?? "")
      ? (f.currency as Currency)
      : "USD";
    const percentage = f.type === "percentage" && f.percent ? basisPoints(f.percent) : undefined;
    const amount = f.type === "fixed_amount" && f.amount ? parsePrice(f.amount, currency) : undefined;
    if (percentage === null || amount === null) {
      return showPromotions(c, { error: "Enter the discount as a number, like 10 or 12.50.", status: 422 });
    }
    const starts = utcField(f.starts_at);
    const ends = utcField(f.ends_at);
    const result = await c.get("api").send("POST", "/promotions", {
      code: f.code,
      type: f.type,
      ...(percentage === undefined ? {} : { percentage_bp: percentage }),
      ...(amount === undefined ? {} : { amount_off: { amount, currency } }),
      ...(starts ? { starts_at: starts } : {}),
      ...(ends ? { ends_at: ends } : {}),
      ...(f.usage_limit ? { usage_limit: intField(f.usage_limit) } : {}),
      ...(f.per_customer_limit ? { per_customer_limit: intField(f.per_customer_limit) } : {}),
    });
    if (!result.ok) return showPromotions(c, failure(result));
    return done(c, "/admin/promotions", "promotion_created");
  })
  .post("/:id/active", async (c) => {
    const f = await formFields(c);
    const active = f.active === "1";
    const result = await c
      .get("api")
      .send("PATCH", `/promotions/${encodeURIComponent(c.req.param("id"))}`, { active });
    if (!result.ok) return showPromotions(c, failure(result));
    return done(c, "/admin/promotions", active ? "promotion_enabled" : "promotion_disabled");
  });
