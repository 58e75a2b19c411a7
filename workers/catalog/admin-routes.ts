import { createRoute } from "@hono/zod-openapi";
import { requireScope } from "../lib/admin-auth";
import { createRouter } from "../lib/router";
import { problemResponses } from "../lib/schemas";
import {
  addVariant,
  archiveProduct,
  createCategory,
  createProduct,
  getAdminProduct,
  listAdminCategories,
  listAdminProducts,
  updateProduct,
  updateVariant,
} from "./admin-service";
import {
  AdminCategoryListSchema,
  AdminCategorySchema,
  AdminProductListQuerySchema,
  AdminProductListSchema,
  AdminProductSchema,
  AdminVariantSchema,
  CategoryCreateSchema,
  IdParamSchema,
  ProductCreateSchema,
  ProductUpdateSchema,
  VariantCreateSchema,
  VariantUpdateSchema,
} from "./schemas";

const security = [{ adminToken: [] }];
const tags = ["Admin: catalog"];
const json = <T>(schema: T) => ({ "application/json": { schema } });
const body = <T>(schema: T) => ({ body: { required: true, content: json(schema) } });

const read = requireScope("catalog:read");
const write = requireScope("catalog:write");

const listProducts = createRoute({
  method: "get",
  path: "/products",
  tags,
  security,
  middleware: [read] as const,
  summary: "List products of any status, newest first",
  request: { query: AdminProductListQuerySchema },
  responses: {
    200: { description: "A page of products", content: json(AdminProductListSchema) },
    ...problemResponses(401, 403, 422),
  },
});

const createProductRoute = createRoute({
  method: "post",
  path: "/products",
  tags,
  security,
  middleware: [write] as const,
  summary: "Create a product with variants, prices, categories, media and attributes",
  request: body(ProductCreateSchema),
  responses: {
    201: { description: "Created", content: json(AdminProductSchema) },
    ...problemResponses(400, 401, 403, 409, 413, 422),
  },
});

const getProductRoute = createRoute({
  method: "get",
  path: "/products/{id}",
  tags,
  security,
  middleware: [read] as const,
  summary: "A product with every variant and currency",
  request: { params: IdParamSchema },
  responses: {
    200: { description: "The product", content: json(AdminProductSchema) },
    ...problemResponses(401, 403, 404),
  },
});

const updateProductRoute = createRoute({
  method: "patch",
  path: "/products/{id}",
  tags,
  security,
  middleware: [write] as const,
  summary: "Update a product; category_ids, media and attributes replace the current lists",
  request: { params: IdParamSchema, ...body(ProductUpdateSchema) },
  responses: {
    200: { description: "Updated", content: json(AdminProductSchema) },
    ...problemResponses(400, 401, 403, 404, 409, 413, 422),
  },
});

const archiveProductRoute = createRoute({
  method: "delete",
  path: "/products/{id}",
  tags,
  security,
  middleware: [write] as const,
  summary: "Archive a product (it leaves the storefront; history is kept)",
  request: { params: IdParamSchema },
  responses: {
    200: { description: "Archived", content: json(AdminProductSchema) },
    ...problemResponses(401, 403, 404),
  },
});

const addVariantRoute = createRoute({
  method: "post",
  path: "/products/{id}/variants",
  tags,
  security,
  middleware: [write] as const,
  summary: "Add a variant (SKU) with prices",
  request: { params: IdParamSchema, ...body(VariantCreateSchema) },
  responses: {
    201: { description: "Created", content: json(AdminVariantSchema) },
    ...problemResponses(400, 401, 403, 404, 409, 413, 422),
  },
});

const updateVariantRoute = createRoute({
  method: "patch",
  path: "/variants/{id}",
  tags,
  security,
  middleware: [write] as const,
  summary: "Update a variant; `prices` upserts per currency (amount and compare-at)",
  request: { params: IdParamSchema, ...body(VariantUpdateSchema) },
  responses: {
    200: { description: "Updated", content: json(AdminVariantSchema) },
    ...problemResponses(400, 401, 403, 404, 409, 413, 422),
  },
});

const listCategoriesRoute = createRoute({
  method: "get",
  path: "/categories",
  tags,
  security,
  middleware: [read] as const,
  summary: "Every category (flat, with parent ids)",
  responses: {
    200: { description: "Categories", content: json(AdminCategoryListSchema) },
    ...problemResponses(401, 403),
  },
});

const createCategoryRoute = createRoute({
  method: "post",
  path: "/categories",
  tags,
  security,
  middleware: [write] as const,
  summary: "Create a category",
  request: body(CategoryCreateSchema),
  responses: {
    201: { description: "Created", content: json(AdminCategorySchema) },
    ...problemResponses(400, 401, 403, 409, 413, 422),
  },
});

/**
 * Admin catalog API, mounted at `/admin/api`. Every write changes D1 in one batch, bumps the
 * product revision and publishes `catalog.changed`; the storefront catches up through the
 * queue consumer (see kv-keys.ts for the staleness window).
 */
export const catalogAdminRoutes = createRouter()
  .openapi(listProducts, async (c) => c.json(await listAdminProducts(c.env, c.req.valid("query")), 200))
  .openapi(createProductRoute, async (c) => c.json(await createProduct(c.env, c.req.valid("json")), 201))
  .openapi(getProductRoute, async (c) => c.json(await getAdminProduct(c.env, c.req.valid("param").id), 200))
  .openapi(updateProductRoute, async (c) =>
    c.json(await updateProduct(c.env, c.req.valid("param").id, c.req.valid("json")), 200),
  )
  .openapi(archiveProductRoute, async (c) =>
    c.json(await archiveProduct(c.env, c.req.valid("param").id), 200),
  )
  .openapi(addVariantRoute, async (c) =>
    c.json(await addVariant(c.env, c.req.valid("param").id, c.req.valid("json")), 201),
  )
  .openapi(updateVariantRoute, async (c) =>
    c.json(await updateVariant(c.env, c.req.valid("param").id, c.req.valid("json")), 200),
  )
  .openapi(listCategoriesRoute, async (c) => c.json({ items: await listAdminCategories(c.env) }, 200))
  .openapi(createCategoryRoute, async (c) => c.json(await createCategory(c.env, c.req.valid("json")), 201));
