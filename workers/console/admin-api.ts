import type { ExecutionContext } from "hono";
import { type AdminPrincipal, actingAs } from "../lib/admin-auth";
import type { ProblemBody } from "../lib/problem";

/** Hands a request to the edge app (its `fetch`), in process. */
export type Dispatch = (request: Request, env: Env, ctx?: ExecutionContext) => Promise<Response>;

export type ApiResult<T> =
  | { ok: true; status: number; data: T }
  | { ok: false; status: number; problem: ProblemBody };

/**
 * The admin API as the console sees it: every read and write goes through the real
 * `/admin/api` routes in process, acting as the signed-in session's token. Validation, scope
 * checks, idempotency and refusals therefore live in one place, and the console can never
 * do something the token could not do with curl.
 */
export class AdminApi {
  constructor(
    private readonly dispatch: Dispatch,
    private readonly env: Env,
    private readonly principal: AdminPrincipal,
    private readonly origin: string,
    private readonly ctx: ExecutionContext | undefined,
  ) {}

  get<T>(path: string, query: Record<string, string | undefined> = {}): Promise<ApiResult<T>> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
    const search = params.size ? `?${params}` : "";
    return this.send<T>("GET", `${path}${search}`);
  }

  async send<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResult<T>> {
    const init: RequestInit = { method, headers: { accept: "application/json", ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)["content-type"] = "application/json";
    }
    const request = new Request(new URL(`/admin/api${path}`, this.origin), init);
    const res = await this.dispatch(request, actingAs(this.env, this.principal), this.ctx);
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as unknown) : null;
    if (res.ok) return { ok: true, status: res.status, data: parsed as T };
    return { ok: false, status: res.status, problem: parsed as ProblemBody };
  }
}
