/**
 * The typed Popcart API client: openapi-fetch over the types openapi-typescript generates from
 * the API contract (client/openapi.json). Paths, parameters, bodies and answers are checked at
 * compile time; errors come back as the RFC 9457 problem the API sends.
 */
import createClient, { type Client, type ClientOptions } from "openapi-fetch";
import type { components, paths } from "./schema";

export type { components, paths } from "./schema";

/** Every named schema of the API (`Cart`, `Checkout`, `Order`, `Money` …). */
export type Schemas = components["schemas"];
export type Money = Schemas["Money"];
export type Problem = Schemas["Problem"];
export type PopcartClient = Client<paths>;

/**
 * A client for one Popcart deployment, e.g. `createPopcartClient({ baseUrl: "https://shop.example.com" })`.
 * Pass `fetch` to route requests elsewhere (a service binding, a test worker).
 */
export function createPopcartClient(options: ClientOptions & { baseUrl: string }): PopcartClient {
  return createClient<paths>(options);
}

/** A refused request: the problem document the API answered with (`code` is stable). */
export class PopcartProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(`${status} ${problem.code}: ${problem.detail ?? problem.title}`);
    this.name = "PopcartProblem";
  }
}

/** The data of a successful answer; a problem answer throws it as a `PopcartProblem`. */
export async function must<T>(
  request: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await request;
  if (error !== undefined || data === undefined) {
    const problem = (error ?? {
      type: "about:blank",
      title: response.statusText,
      status: response.status,
      code: "empty_response",
    }) as Problem;
    throw new PopcartProblem(response.status, problem);
  }
  return data;
}

/** `{ "X-Cart-Token": token }`: the header every call on a cart (and its checkout) needs. */
export const cartAuth = (token: string) => ({ "X-Cart-Token": token });
