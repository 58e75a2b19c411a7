import { html, raw } from "hono/html";
import { ASSETS } from "../storefront/asset-manifest.gen";

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; description?: string }[];
  requestBody?: unknown;
  responses?: Record<string, { description?: string }>;
}
interface OpenApiLike {
  info: { title: string; version: string; description?: string };
  paths?: object;
}

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

/**
 * The API reference at /docs: Swagger UI (schemas, examples, "Try it out") from our own static
 * assets, so it works offline and under the pages' CSP (scripts from 'self' only). The
 * server-rendered list of operations under it is what a browser without JavaScript shows.
 */
export function renderApiReference(doc: OpenApiLike) {
  const byTag = new Map<string, { method: string; path: string; op: Operation }[]>();
  for (const [path, item] of Object.entries(
    (doc.paths ?? {}) as Record<string, Partial<Record<string, Operation>>>,
  )) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? "Other";
      const list = byTag.get(tag) ?? [];
      list.push({ method, path, op });
      byTag.set(tag, list);
    }
  }
  const sections = [...byTag.entries()].map(
    ([tag, ops]) => html`<section>
      <h2 id="${tag.toLowerCase().replaceAll(" ", "-")}">${tag}</h2>
      ${ops.map(
        ({ method, path, op }) => html`<article>
          <h3><span class="m m-${method}">${method.toUpperCase()}</span> <code>${path}</code></h3>
          ${op.summary ? html`<p>${op.summary}</p>` : ""}
          ${
            op.parameters?.length
              ? html`<table>
                  <thead><tr><th>Parameter</th><th>In</th><th>Required</th><th>Description</th></tr></thead>
                  <tbody>${op.parameters.map(
                    (p) =>
                      html`<tr><td><code>${p.name}</code></td><td>${p.in}</td><td>${p.required ? "yes" : "no"}</td><td>${p.description ?? ""}</td></tr>`,
                  )}</tbody>
                </table>`
              : ""
          }
          ${op.requestBody ? html`<p class="body">Takes a JSON body (schema in <a href="/openapi.json">openapi.json</a>).</p>` : ""}
          <ul class="responses">${Object.entries(op.responses ?? {}).map(
            ([status, r]) => html`<li><strong>${status}</strong> ${r.description ?? ""}</li>`,
          )}</ul>
        </article>`,
      )}
    </section>`,
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${doc.info.title} — API reference</title>
<link rel="stylesheet" href="${ASSETS["vendor/swagger-ui.css"]}">
<script src="${ASSETS["vendor/swagger-ui-bundle.js"]}" defer></script>
<script type="module" src="${ASSETS["js/api-docs.js"]}"></script>
<style>${raw(`body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem;color:#1a1a1a}
code{font-family:ui-monospace,monospace}h3{font-size:1rem;margin:1.5rem 0 .25rem}
.m{display:inline-block;min-width:4.5rem;text-align:center;border-radius:4px;color:#fff;font-size:.8rem;padding:.1rem .3rem}
.m-get{background:#1d5fb4}.m-post{background:#17723b}.m-put,.m-patch{background:#8a5300}.m-delete{background:#a4161a}
table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}
.responses{font-size:.9rem;margin:.25rem 0}`)}</style>
</head>
<body>
<div id="api-reference"></div>
<div data-static-reference>
<header><h1>${doc.info.title} <small>v${doc.info.version}</small></h1>
<p>${doc.info.description ?? ""} Machine-readable document: <a href="/openapi.json">/openapi.json</a>.</p></header>
<main>${sections}</main>
</div>
</body>
</html>`;
}
