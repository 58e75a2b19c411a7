import type { MiddlewareHandler } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AdminScope } from "../lib/admin-auth";
import type { ApiResult } from "./admin-api";
import { problemText } from "./components";
import { type ConsoleContext, type ConsoleEnv, can } from "./context";
import { ConsoleLayout } from "./layout";
import { render } from "./render";

/** Outcomes a form redirects with (`?notice=`); a code, never text, so a link cannot put words on the page. */
const NOTICES: Record<string, string> = {
  stock_set: "Stock saved.",
  stock_adjusted: "Stock adjusted.",
  sale_saved: "Sale settings saved.",
  released: "Reservation released.",
  refunded: "Refund issued.",
  fulfilled: "Fulfilment recorded.",
  cancelled: "Order cancelled.",
  replayed: "Dead letters sent back to their queues.",
  product_created: "Product created.",
  product_saved: "Product saved.",
  product_archived: "Product archived.",
  variant_added: "Variant added.",
  variant_saved: "Variant saved.",
  category_created: "Category created.",
  promotion_created: "Promotion created.",
  promotion_disabled: "Promotion disabled.",
  promotion_enabled: "Promotion enabled.",
  room_saved: "Waiting room saved.",
  country_added: "Country added to the region.",
  tax_rate_set: "Tax rate saved.",
  tax_rate_removed: "Tax rate removed.",
  shipping_option_added: "Shipping option added.",
  shipping_option_saved: "Free-shipping threshold saved.",
  shipping_option_withdrawn: "Shipping option withdrawn.",
  shipping_option_offered: "Shipping option offered again.",
};

export interface PageOptions {
  error?: string | undefined;
  status?: ContentfulStatusCode;
}

/** Renders a signed-in console page inside the shell. */
export function page(c: ConsoleContext, title: string, body: JSX.Element, opts: PageOptions = {}) {
  const session = c.get("session");
  const notice = NOTICES[c.req.query("notice") ?? ""];
  return render(
    c,
    <ConsoleLayout
      title={title}
      path={new URL(c.req.url).pathname}
      user={{ tokenId: session.principal.id, csrf: session.csrf, canRead: (s: AdminScope) => can(c, s) }}
      notice={notice}
      error={opts.error}
    >
      {body}
    </ConsoleLayout>,
    opts.status ?? 200,
  );
}

/** The status and words of a failed admin API call, for re-rendering the form that caused it. */
export function failure(result: ApiResult<unknown> & { ok: false }): PageOptions {
  const status = (result.status >= 400 && result.status < 600 ? result.status : 500) as ContentfulStatusCode;
  return { error: problemText(result.problem), status };
}

/** A section the token cannot read answers 403 with an explanation, not a blank page. */
export const section = (scope: AdminScope): MiddlewareHandler<ConsoleEnv> =>
  async function section(c, next) {
    if (!can(c, scope)) {
      return page(
        c,
        "Not allowed",
        <p>
          This token lacks the <code>{scope}</code> scope needed for this section.
        </p>,
        {
          status: 403,
        },
      );
    }
    await next();
  };

/** Redirect-after-post with an outcome code. */
export const done = (c: ConsoleContext, path: string, notice: keyof typeof NOTICES) =>
  c.redirect(`${path}${path.includes("?") ? "&" : "?"}notice=${notice}`, 303);
