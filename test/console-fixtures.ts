import { call } from "./helpers";

export const ORIGIN = "http://popcart.test";
export const HTML = { accept: "text/html" } as const;

/** A browser-like client: keeps the cookies the console sets and sends them back. */
export class ConsoleClient {
  readonly cookies = new Map<string, string>();

  constructor(readonly ip = `10.${rand()}.${rand()}.${rand()}`) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size && !headers.has("cookie")) headers.set("cookie", this.cookieHeader());
    headers.set("cf-connecting-ip", this.ip);
    if (!headers.has("accept")) headers.set("accept", "text/html");
    const res = await call(path, { ...init, headers, redirect: "manual" });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const [name = "", ...value] = pair.split("=");
      if (/max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value.join("="));
    }
    return res;
  }

  /** Posts a form as a same-origin browser would. */
  post(path: string, fields: Record<string, string | string[]>, headers: Record<string, string> = {}) {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
    return this.request(path, {
      method: "POST",
      body,
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, ...headers },
    });
  }

  /** GET sign-in, then post the token with the form's CSRF value; returns the POST response. */
  async signIn(token: string, next?: string): Promise<Response> {
    const form = await this.request(`/admin/sign-in${next ? `?next=${encodeURIComponent(next)}` : ""}`);
    const csrf = csrfOf(await form.text());
    return this.post("/admin/sign-in", { _csrf: csrf, token, next: next ?? "/admin" });
  }

  /** Signs in and returns the session's CSRF token (from the page's sign-out form). */
  async session(token = "test-admin-token"): Promise<string> {
    const res = await this.signIn(token);
    if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`);
    const page = await this.request("/admin");
    return csrfOf(await page.text());
  }
}

const rand = () => 1 + Math.floor(Math.random() * 250);

/** The `_csrf` hidden field of the first form on a page. */
export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error("no CSRF field on the page");
  return match[1];
}
