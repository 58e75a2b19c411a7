import type { Child, FC } from "hono/jsx";
import type { AdminScope } from "../lib/admin-auth";
import { ASSETS } from "../storefront/asset-manifest.gen";

/** Console sections and the scope needed to see each; a section the token cannot read is not listed. */
export const SECTIONS: { href: string; label: string; read: AdminScope | null }[] = [
  { href: "/admin", label: "Dashboard", read: null },
  { href: "/admin/products", label: "Products", read: "catalog:read" },
  { href: "/admin/inventory", label: "Inventory & sales", read: "inventory:read" },
  { href: "/admin/waiting-rooms", label: "Waiting rooms", read: "inventory:read" },
  { href: "/admin/orders", label: "Orders", read: "orders:read" },
  { href: "/admin/promotions", label: "Promotions", read: "promotions:write" },
  { href: "/admin/events", label: "Events", read: "orders:read" },
  { href: "/admin/regions", label: "Regions & tax", read: "regions:write" },
];

export interface ConsoleLayoutProps {
  title: string;
  /** The current path, to mark the active section. */
  path?: string;
  /** Signed-in state: the token id, what it may see, and the CSRF token for the sign-out form. */
  user?: { tokenId: string; csrf: string; canRead: (scope: AdminScope) => boolean };
  notice?: string | undefined;
  error?: string | undefined;
  children?: Child;
}

/** The console's HTML shell: skip link, section navigation, sign-out, notices. */
export const ConsoleLayout: FC<ConsoleLayoutProps> = ({
  title,
  path = "",
  user,
  notice,
  error,
  children,
}) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="robots" content="noindex" />
      <title>{`${title} · Popcart admin`}</title>
      <link rel="stylesheet" href={ASSETS["css/admin.css"]} />
      <script type="module" src={ASSETS["js/admin.js"]} />
    </head>
    <body class="console">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="console-header">
        <a class="logo" href="/admin">
          Popcart admin
        </a>
        {user ? (
          <form method="post" action="/admin/sign-out" class="sign-out">
            <input type="hidden" name="_csrf" value={user.csrf} />
            <span class="who">Token: {user.tokenId}</span>
            <button type="submit" class="secondary">
              Sign out
            </button>
          </form>
        ) : null}
      </header>
      {user ? (
        <nav aria-label="Sections" class="console-nav">
          <ul>
            {SECTIONS.filter((s) => s.read === null || user.canRead(s.read)).map((s) => {
              const current = s.href === "/admin" ? path === "/admin" : path.startsWith(s.href);
              return (
                <li>
                  <a href={s.href} aria-current={current ? "page" : undefined}>
                    {s.label}
                  </a>
                </li>
              );
            })}
          </ul>
        </nav>
      ) : null}
      <main id="main" tabindex={-1}>
        {notice ? (
          <p class="notice" role="status">
            {notice}
          </p>
        ) : null}
        {error ? (
          <div class="problem" role="alert">
            {error}
          </div>
        ) : null}
        {children}
      </main>
    </body>
  </html>
);
