import { createRoute } from "@hono/zod-openapi";
import { requireScope } from "../lib/admin-auth";
import { createRouter } from "../lib/router";
import { problemResponses } from "../lib/schemas";
import { AuditQuerySchema, AuditReportSchema, RepairReportSchema } from "./schemas";
import { recordAudit, repairAudit, runAudit } from "./service";

const tags = ["Admin: audit"];
const security = [{ adminToken: [] }];

const options = (query: { sku?: string | undefined; min_age_seconds?: number | undefined }) => ({
  ...(query.sku ? { skus: [query.sku] } : {}),
  ...(query.min_age_seconds === undefined ? {} : { minAgeMs: query.min_age_seconds * 1000 }),
});

const audit = createRoute({
  method: "get",
  path: "/audit",
  tags,
  security,
  summary: "Stock ↔ orders ↔ payments invariants, with every discrepancy and its ids",
  description:
    "Runs the invariant auditor now (the cron runs it every minute and stores its findings): units committed in the " +
    "inventory objects vs order lines in D1, held units vs the carts and checkouts relying on them, succeeded payments " +
    "vs orders, and each inventory object's counters. Activity younger than `min_age_seconds` is in flight and not judged.",
  middleware: [requireScope("orders:read")] as const,
  request: { query: AuditQuerySchema },
  responses: {
    200: { description: "The audit", content: { "application/json": { schema: AuditReportSchema } } },
    ...problemResponses(401, 403, 422),
  },
});

const repairs = createRoute({
  method: "post",
  path: "/audit/repairs",
  tags,
  security,
  summary: "Repair what the auditor can: re-drive owed completions, release orphaned holds",
  description:
    "Idempotent: each repair is safe to repeat, and a second call finds nothing left to do. Discrepancies marked " +
    "`repairable: false` are reported for a person to look into and left alone.",
  middleware: [requireScope("orders:write"), requireScope("inventory:write")] as const,
  request: { query: AuditQuerySchema },
  responses: {
    200: {
      description: "What was done, and the audit afterwards",
      content: { "application/json": { schema: RepairReportSchema } },
    },
    ...problemResponses(401, 403, 422),
  },
});

/** The invariant auditor under `/admin/api`. */
export const auditAdminRoutes = createRouter()
  .openapi(audit, async (c) => {
    const started = Date.now();
    const report = await runAudit(c.env, options(c.req.valid("query")));
    await recordAudit(c.env, "admin", report, started);
    c.header("cache-control", "no-store");
    return c.json(report, 200);
  })
  .openapi(repairs, async (c) => {
    const report = await repairAudit(c.env, options(c.req.valid("query")));
    return c.json(report, 200);
  });
