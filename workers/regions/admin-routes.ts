import { createRoute, z } from "@hono/zod-openapi";
import { requireScope } from "../lib/admin-auth";
import { createRouter } from "../lib/router";
import { problemResponses } from "../lib/schemas";
import {
  createRegion,
  createShippingOption,
  deleteTaxRate,
  getRegion,
  listRegions,
  putTaxRate,
  updateRegion,
  updateShippingOption,
} from "./admin-service";
import {
  CreateRegionBodySchema,
  CreateShippingOptionBodySchema,
  PutTaxRateBodySchema,
  RegionCodeSchema,
  RegionListSchema,
  RegionSchema,
  ShippingOptionIdSchema,
  UpdateRegionBodySchema,
  UpdateShippingOptionBodySchema,
} from "./schemas";

const TAGS = ["Admin: regions, tax and shipping"];
const security = [{ adminToken: [] }];
const middleware = requireScope("regions:write");
const json = <T extends z.ZodType>(schema: T) => ({ "application/json": { schema } });
const region = (description: string) => ({ description, content: json(RegionSchema) });
const CodeParams = z.object({ code: RegionCodeSchema });

/** `/admin/api/regions`: selling regions, their countries, tax rates and shipping options. */
export const regionAdminRoutes = createRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: TAGS,
      summary: "List regions with their countries, tax rates and shipping options",
      security,
      middleware,
      responses: {
        200: { description: "Every region", content: json(RegionListSchema) },
        ...problemResponses(401, 403),
      },
    }),
    async (c) => c.json({ data: await listRegions(c.env) }, 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: TAGS,
      summary: "Create a region (countries, currency, tax-inclusive or exclusive prices)",
      security,
      middleware,
      request: { body: { required: true, content: json(CreateRegionBodySchema) } },
      responses: { 201: region("Created"), ...problemResponses(400, 401, 403, 409, 422) },
    }),
    async (c) => c.json(await createRegion(c.env, c.req.valid("json")), 201),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{code}",
      tags: TAGS,
      summary: "A region",
      security,
      middleware,
      request: { params: CodeParams },
      responses: { 200: region("The region"), ...problemResponses(401, 403, 404, 422) },
    }),
    async (c) => c.json(await getRegion(c.env, c.req.valid("param").code), 200),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{code}",
      tags: TAGS,
      summary: "Change a region: name, countries, tax convention or provider",
      security,
      middleware,
      request: { params: CodeParams, body: { required: true, content: json(UpdateRegionBodySchema) } },
      responses: { 200: region("Updated"), ...problemResponses(400, 401, 403, 404, 409, 422) },
    }),
    async (c) => c.json(await updateRegion(c.env, c.req.valid("param").code, c.req.valid("json")), 200),
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/{code}/tax-rates",
      tags: TAGS,
      summary: "Set the tax rate of a country, subdivision or product tax class of the region",
      security,
      middleware,
      request: { params: CodeParams, body: { required: true, content: json(PutTaxRateBodySchema) } },
      responses: { 200: region("Rate set"), ...problemResponses(400, 401, 403, 404, 422) },
    }),
    async (c) => c.json(await putTaxRate(c.env, c.req.valid("param").code, c.req.valid("json")), 200),
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{code}/tax-rates/{rate_id}",
      tags: TAGS,
      summary: "Remove a tax rate (lookups fall back to the country's, then to no tax)",
      security,
      middleware,
      request: {
        params: z.object({
          code: RegionCodeSchema,
          rate_id: z
            .string()
            .max(64)
            .openapi({ param: { name: "rate_id", in: "path" } }),
        }),
      },
      responses: { 200: region("Removed"), ...problemResponses(401, 403, 404, 422) },
    }),
    async (c) => {
      const { code, rate_id } = c.req.valid("param");
      return c.json(await deleteTaxRate(c.env, code, rate_id), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{code}/shipping-options",
      tags: TAGS,
      summary: "Add a shipping option (flat or weight bands, free-over threshold, countries, delivery days)",
      security,
      middleware,
      request: {
        params: CodeParams,
        body: { required: true, content: json(CreateShippingOptionBodySchema) },
      },
      responses: { 201: region("Created"), ...problemResponses(400, 401, 403, 404, 409, 422) },
    }),
    async (c) =>
      c.json(await createShippingOption(c.env, c.req.valid("param").code, c.req.valid("json")), 201),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{code}/shipping-options/{option_id}",
      tags: TAGS,
      summary: "Change a shipping option (active: false withdraws it)",
      security,
      middleware,
      request: {
        params: z.object({ code: RegionCodeSchema, option_id: ShippingOptionIdSchema }),
        body: { required: true, content: json(UpdateShippingOptionBodySchema) },
      },
      responses: { 200: region("Updated"), ...problemResponses(400, 401, 403, 404, 422) },
    }),
    async (c) => {
      const { code, option_id } = c.req.valid("param");
      return c.json(await updateShippingOption(c.env, code, option_id, c.req.valid("json")), 200);
    },
  );
