// Search results page: renders /api/search results, with brand and category facets as links.
import { api, escapeHtml, formatMoney, preferredCurrency, showError } from "./api.js";

const root = document.querySelector("[data-search-results]");
const params = new URL(location.href).searchParams;

const hrefWith = (name, value) => {
  const next = new URLSearchParams(params);
  next.delete("cursor");
  if (next.getAll(name).includes(value)) {
    const kept = next.getAll(name).filter((v) => v !== value);
    next.delete(name);
    for (const v of kept) next.append(name, v);
  } else {
    next.append(name, value);
  }
  return `/search?${next}`;
};

function facetHtml(title, name, values) {
  if (!values.length) return "";
  return `<fieldset><legend>${title}</legend><ul>${values
    .map(
      (v) =>
        `<li><a href="${escapeHtml(hrefWith(name, v.value))}"${v.selected ? ' aria-current="true"' : ""}>${v.selected ? "✓ " : ""}${escapeHtml(v.label)} (${v.count})</a></li>`,
    )
    .join("")}</ul></fieldset>`;
}

async function load() {
  const q = params.get("q") ?? "";
  if (!q.trim()) return;
  const query = new URLSearchParams(params);
  query.set("currency", preferredCurrency());
  const data = await api(`/api/search?${query}`);
  root.querySelector("[data-search-status]").textContent = data.results.length
    ? `${data.total} result(s) for “${q}”`
    : `No results for “${q}”. Try a different word or browse the categories.`;
  root.querySelector("[data-search-facets]").innerHTML =
    facetHtml("Category", "category", data.facets.category) + facetHtml("Brand", "brand", data.facets.brand);
  root.querySelector("[data-search-list]").innerHTML = data.results
    .map(
      (p) =>
        `<li class="card"><a href="/p/${encodeURIComponent(p.slug)}">${
          p.thumbnail_url
            ? `<img src="${escapeHtml(p.thumbnail_url)}" alt="" width="600" height="600" style="aspect-ratio:1/1;object-fit:cover" loading="lazy">`
            : ""
        }<h3>${escapeHtml(p.title)}</h3></a>${p.brand ? `<div>${escapeHtml(p.brand)}</div>` : ""}${
          p.price ? `<span class="price">${escapeHtml(formatMoney(p.price))}</span>` : ""
        }${p.in_stock ? "" : ' <span class="badge">Sold out</span>'}</li>`,
    )
    .join("");
  if (data.next_cursor) {
    const next = new URLSearchParams(params);
    next.set("cursor", data.next_cursor);
    root.querySelector("[data-search-next]").innerHTML =
      `<a href="/search?${escapeHtml(next.toString())}" rel="next">Next page</a>`;
  }
}

load().catch((error) => showError(root.querySelector("[data-search-error]"), error));
