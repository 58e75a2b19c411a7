import type { z } from "@hono/zod-openapi";
import { Hono } from "hono";
import type { FC } from "hono/jsx";
import type { SkuLevel } from "../../inventory/levels";
import type { InventorySchema } from "../../inventory/schemas";
import { SKU_PATTERN } from "../../inventory/types";
import { DataTable, Field, PostForm, ReadOnly, when } from "../components";
import { type ConsoleContext, type ConsoleEnv, can } from "../context";
import { formFields, formKey, intField, keyFrom, limitField, toUtcInput, utcField } from "../form";
import { inventoryHub } from "../live-hub";
import { done, failure, type PageOptions, page, section } from "../page";

type InventoryView = z.infer<typeof InventorySchema>;

const skuPath = (sku: string) => `/admin/inventory/${encodeURIComponent(sku)}`;
const apiPath = (sku: string) => `/inventory/${encodeURIComponent(sku)}`;

/** The four counters, each marked for the live script (`data-field`) to update in place. */
export const Counters: FC<{ view: Pick<InventoryView, "on_hand" | "available" | "reserved" | "sold"> }> = ({
  view,
}) => (
  <dl class="counters">
    {(
      [
        ["on_hand", "On hand"],
        ["available", "Available"],
        ["reserved", "Held"],
        ["sold", "Sold"],
      ] as const
    ).map(([key, label]) => (
      <div class={`counter counter-${key}`}>
        <dt>{label}</dt>
        <dd data-field={key}>{view[key]}</dd>
      </div>
    ))}
  </dl>
);

const ListPage: FC<{ rows: SkuLevel[]; q: string; next: string | null }> = ({ rows, q, next }) => (
  <>
    <h1>Inventory &amp; sales</h1>
    <search>
      <form method="get" action="/admin/inventory" class="inline-form">
        <Field name="q" label="SKU starts with" value={q} />
        <button type="submit">Search</button>
      </form>
    </search>
    <form method="get" action="/admin/inventory/open" class="inline-form">
      <Field
        name="sku"
        label="Open a SKU"
        id="f-open-sku"
        hint="Also for a SKU that has never been stocked."
      />
      <button type="submit">Open</button>
    </form>
    <DataTable
      caption="SKUs (reporting copy, about a second behind the live counters)"
      headers={["SKU", "On hand", "Available", "Held", "Sold", "Shards"]}
    >
      {rows.map((r) => (
        <tr>
          <th scope="row">
            <a href={skuPath(r.sku)}>{r.sku}</a>
          </th>
          <td>{r.on_hand}</td>
          <td>{r.available}</td>
          <td>{r.reserved}</td>
          <td>{r.sold}</td>
          <td>{r.shards}</td>
        </tr>
      ))}
    </DataTable>
    {rows.length === 0 ? <p>No SKUs match.</p> : null}
    {next ? (
      <p>
        <a href={`/admin/inventory?${new URLSearchParams({ q, cursor: next })}`}>Next page</a>
      </p>
    ) : null}
  </>
);

const SkuPage: FC<{ sku: string; view: InventoryView | null; csrf: string; writable: boolean }> = ({
  sku,
  view,
  csrf,
  writable,
}) => {
  const policy = view?.policy;
  const held = view?.reservations.filter((r) => r.status === "held") ?? [];
  return (
    <>
      <p class="crumbs">
        <a href="/admin/inventory">Inventory</a> / {sku}
      </p>
      <h1>{sku}</h1>
      {view ? (
        <section
          aria-labelledby="live-h"
          data-live-sku={sku}
          data-csrf={csrf}
          data-writable={writable ? "1" : "0"}
        >
          <h2 id="live-h">
            Live counters <span class="live-badge" data-live-status aria-live="polite" />
          </h2>
          <Counters view={view} />
          <p class="muted">
            In transit between shards: <span data-field="in_transit">{view.in_transit}</span> · Shards:{" "}
            <span data-field="shard_count">{view.shard_count}</span>
          </p>
          <DataTable
            caption="Per shard"
            bodyAttr="data-live-shards"
            headers={["Shard", "Active", "On hand", "Available", "Held", "Sold"]}
          >
            {view.shards.map((s) => (
              <tr>
                <th scope="row">{s.shard}</th>
                <td>{s.active ? "yes" : "retired"}</td>
                <td>{s.on_hand}</td>
                <td>{s.available}</td>
                <td>{s.reserved}</td>
                <td>{s.sold}</td>
              </tr>
            ))}
          </DataTable>
          <h2 id="holds-h">Live reservations</h2>
          <DataTable
            labelledBy="holds-h"
            bodyAttr="data-live-reservations"
            headers={["Reservation", "Holder", "Qty", "Expires (UTC)", { hidden: "Action" }]}
          >
            {held.map((r) => (
              <tr data-reservation={r.id}>
                <td>
                  <code>{r.id}</code>
                </td>
                <td>{r.holder}</td>
                <td>{r.quantity}</td>
                <td>{when(r.expires_at)}</td>
                <td>
                  {writable ? (
                    <PostForm
                      action={`${skuPath(sku)}/reservations/${encodeURIComponent(r.id)}/release`}
                      csrf={csrf}
                      confirm="Release this hold? The shopper loses it."
                    >
                      <button type="submit" class="secondary" aria-label={`Force-release ${r.id}`}>
                        Release
                      </button>
                    </PostForm>
                  ) : null}
                </td>
              </tr>
            ))}
          </DataTable>
          <p class="muted" data-live-empty hidden={held.length > 0}>
            No units are on hold.
          </p>
        </section>
      ) : (
        <p>No stock was ever set for this SKU. Setting stock creates it.</p>
      )}

      {writable ? (
        <div class="forms">
          <section aria-labelledby="stock-h" class="card">
            <h2 id="stock-h">Set stock</h2>
            <PostForm action={`${skuPath(sku)}/stock`} csrf={csrf} label="Set stock">
              <input type="hidden" name="idempotency_key" value={formKey()} />
              <Field
                name="on_hand"
                label="On hand (total units)"
                type="number"
                min={0}
                value={view?.on_hand ?? 0}
                required
              />
              <Field name="reason" label="Reason" required hint="Recorded in the adjustments log." />
              <button type="submit">Set stock</button>
            </PostForm>
          </section>
          <section aria-labelledby="sale-h" class="card">
            <h2 id="sale-h">Sale</h2>
            <PostForm action={`${skuPath(sku)}/sale`} csrf={csrf} label="Configure sale">
              <Field
                name="sale_starts_at"
                label="Starts (UTC)"
                type="datetime-local"
                value={toUtcInput(policy?.sale_starts_at)}
                hint="Empty: no start bound."
              />
              <Field
                name="sale_ends_at"
                label="Ends (UTC)"
                type="datetime-local"
                value={toUtcInput(policy?.sale_ends_at)}
                hint="Empty: no end bound."
              />
              <Field
                name="reservation_ttl_seconds"
                label="Hold time (seconds)"
                type="number"
                min={1}
                value={policy?.reservation_ttl_seconds ?? 600}
              />
              <Field
                name="per_customer_limit"
                label="Per-customer limit"
                type="number"
                min={1}
                value={policy?.per_customer_limit ?? ""}
                hint="Empty: no limit."
              />
              <Field
                name="max_per_reservation"
                label="Max units per reservation"
                type="number"
                min={1}
                value={policy?.max_per_reservation ?? ""}
                hint="Empty: no limit."
              />
              <Field name="shards" label="Shards" type="number" min={1} value={view?.shard_count ?? 1} />
              <Field
                name="waiting_room"
                label="Waiting room"
                value={policy?.waiting_room ?? ""}
                hint="Name of a waiting room shoppers must pass; empty for none."
              />
              <div class="field check">
                <input
                  id="f-reserve"
                  name="reserve_on_add_to_cart"
                  type="checkbox"
                  value="1"
                  checked={policy?.reserve_on_add_to_cart ?? false}
                />
                <label for="f-reserve">Hold units when added to a cart</label>
              </div>
              <button type="submit">Save sale</button>
            </PostForm>
          </section>
        </div>
      ) : (
        <ReadOnly scope="inventory:write" />
      )}

      {view ? (
        <section aria-labelledby="adj-h">
          <h2 id="adj-h">Adjustments log</h2>
          <DataTable labelledBy="adj-h" headers={["When (UTC)", "Kind", "Change", "On hand after", "Reason"]}>
            {view.adjustments.map((a) => (
              <tr>
                <td>{when(a.created_at)}</td>
                <td>{a.kind}</td>
                <td>{a.delta > 0 ? `+${a.delta}` : a.delta}</td>
                <td>{a.on_hand_after}</td>
                <td>{a.reason}</td>
              </tr>
            ))}
          </DataTable>
        </section>
      ) : null}
    </>
  );
};

async function showSku(c: ConsoleContext, sku: string, opts: PageOptions = {}) {
  const result = await c.get("api").get<InventoryView>(apiPath(sku));
  if (!result.ok && result.problem?.code !== "inventory_not_found")
    return page(c, sku, <p />, failure(result));
  const view = result.ok ? result.data : null;
  return page(
    c,
    sku,
    <SkuPage sku={sku} view={view} csrf={c.get("session").csrf} writable={can(c, "inventory:write")} />,
    opts,
  );
}

/** Inventory and sales: SKU list, per-SKU live counters, stock, sale settings, holds, audit log. */
export const inventorySection = new Hono<ConsoleEnv>()
  .use("*", section("inventory:read"))
  .get("/", async (c) => {
    const q = c.req.query("q")?.trim() ?? "";
    const result = await c.get("api").get<{ data: SkuLevel[]; next_cursor: string | null }>("/inventory", {
      q,
      cursor: c.req.query("cursor"),
      limit: "50",
    });
    if (!result.ok) return page(c, "Inventory", <ListPage rows={[]} q={q} next={null} />, failure(result));
    return page(c, "Inventory", <ListPage rows={result.data.data} q={q} next={result.data.next_cursor} />);
  })
  .get("/open", (c) => {
    const sku = c.req.query("sku")?.trim() ?? "";
    if (!SKU_PATTERN.test(sku)) return c.redirect("/admin/inventory", 303);
    return c.redirect(skuPath(sku), 303);
  })
  .get("/:sku", (c) => showSku(c, c.req.param("sku")))
  .post("/:sku/stock", async (c) => {
    const sku = c.req.param("sku");
    const fields = await formFields(c);
    const result = await c
      .get("api")
      .send(
        "PUT",
        apiPath(sku),
        { on_hand: intField(fields.on_hand), reason: fields.reason || undefined },
        { "idempotency-key": keyFrom(fields) },
      );
    if (!result.ok) return showSku(c, sku, failure(result));
    inventoryHub.invalidate(sku);
    return done(c, skuPath(sku), "stock_set");
  })
  .post("/:sku/sale", async (c) => {
    const sku = c.req.param("sku");
    const f = await formFields(c);
    const body = {
      sale_starts_at: utcField(f.sale_starts_at),
      sale_ends_at: utcField(f.sale_ends_at),
      reservation_ttl_seconds: intField(f.reservation_ttl_seconds),
      per_customer_limit: limitField(f.per_customer_limit),
      max_per_reservation: limitField(f.max_per_reservation),
      shards: intField(f.shards),
      waiting_room: f.waiting_room ? f.waiting_room : null,
      reserve_on_add_to_cart: f.reserve_on_add_to_cart === "1",
    };
    const result = await c.get("api").send("PUT", `${apiPath(sku)}/sale`, body);
    if (!result.ok) return showSku(c, sku, failure(result));
    inventoryHub.invalidate(sku);
    return done(c, skuPath(sku), "sale_saved");
  })
  .post("/:sku/reservations/:id/release", async (c) => {
    const sku = c.req.param("sku");
    const id = c.req.param("id");
    const result = await c
      .get("api")
      .send("DELETE", `${apiPath(sku)}/reservations/${encodeURIComponent(id)}`);
    if (!result.ok) return showSku(c, sku, failure(result));
    inventoryHub.invalidate(sku);
    return done(c, skuPath(sku), "released");
  });
