import { Hono } from "hono";
import type { FC } from "hono/jsx";
import type { SkuLevel } from "../../inventory/levels";
import { formatMoney } from "../../lib/money";
import type { Overview } from "../../ops/overview";
import { type ConsoleEnv, can } from "../context";
import { page } from "../page";

const Dashboard: FC<{ overview: Overview | null; drops: SkuLevel[] | null }> = ({ overview, drops }) => (
  <>
    <h1>Dashboard</h1>
    {overview ? (
      <>
        <section aria-labelledby="today-h">
          <h2 id="today-h">Today (since {overview.since.slice(0, 10)} 00:00 UTC)</h2>
          <dl class="counters">
            <div class="counter">
              <dt>Orders</dt>
              <dd data-stat="orders_today">{overview.orders_today}</dd>
            </div>
            {overview.revenue_today.map((r) => (
              <div class="counter">
                <dt>Revenue {r.currency}</dt>
                <dd>{formatMoney({ amount: r.net, currency: r.currency as "USD" })}</dd>
                <dd class="muted">
                  gross {formatMoney({ amount: r.gross, currency: r.currency as "USD" })}, refunded{" "}
                  {formatMoney({ amount: r.refunded, currency: r.currency as "USD" })}
                </dd>
              </div>
            ))}
            <div class="counter">
              <dt>Dead letters</dt>
              <dd data-stat="dead_letters">
                <a href="/admin/events">{overview.dead_letters_pending}</a>
              </dd>
            </div>
          </dl>
        </section>
        <section aria-labelledby="circuits-h">
          <h2 id="circuits-h">Circuit breakers (this isolate)</h2>
          {Object.keys(overview.circuits).length === 0 ? (
            <p>No dependency has been called through a breaker yet: all closed.</p>
          ) : (
            <ul class="circuits">
              {Object.entries(overview.circuits).map(([name, circuit]) => (
                <li data-circuit={name}>
                  <strong>{name}</strong>: <span class={`state state-${circuit.state}`}>{circuit.state}</span>
                  {circuit.failures ? ` (${circuit.failures} consecutive failures)` : ""}
                </li>
              ))}
            </ul>
          )}
        </section>
      </>
    ) : (
      <p class="read-only">Orders, revenue and events need the orders:read scope.</p>
    )}
    {drops ? (
      <section aria-labelledby="drops-h">
        <h2 id="drops-h">
          Live drops <span class="live-badge" data-live-status aria-live="polite" />
        </h2>
        <p class="muted">SKUs with units on hold right now; numbers update by themselves.</p>
        {drops.length === 0 ? <p>Nothing is on hold.</p> : null}
        <div class="drops">
          {drops.map((d) => (
            <article class="card" data-live-sku={d.sku}>
              <h3>
                <a href={`/admin/inventory/${encodeURIComponent(d.sku)}`}>{d.sku}</a>
              </h3>
              <dl class="counters compact">
                <div class="counter">
                  <dt>Available</dt>
                  <dd data-field="available">{d.available}</dd>
                </div>
                <div class="counter">
                  <dt>Held</dt>
                  <dd data-field="reserved">{d.reserved}</dd>
                </div>
                <div class="counter">
                  <dt>Sold</dt>
                  <dd data-field="sold">{d.sold}</dd>
                </div>
              </dl>
            </article>
          ))}
        </div>
      </section>
    ) : null}
  </>
);

/** The console's landing page: today's numbers, live drops, dead letters, circuit states. */
export const dashboardSection = new Hono<ConsoleEnv>().get("/", async (c) => {
  const api = c.get("api");
  const [overview, drops] = await Promise.all([
    can(c, "orders:read") ? api.get<Overview>("/overview") : null,
    can(c, "inventory:read")
      ? api.get<{ data: SkuLevel[] }>("/inventory", { active: "true", limit: "10" })
      : null,
  ]);
  return page(
    c,
    "Dashboard",
    <Dashboard overview={overview?.ok ? overview.data : null} drops={drops?.ok ? drops.data.data : null} />,
  );
});
