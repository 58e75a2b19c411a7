// Search results page: renders /api/search results and facet counts for `?q=`.
import { api, escapeHtml, formatMoney, preferredCurrency, showError } from "./api.js";

const root = document.querySelector("[data-search-results]");
const params = new URL(location.href).searchParams;

async function load() {
  const q = params.get("q") ?? "";
  if (!q.trim()) return;
  const query = new URLSearchParams(params);
  query.set("currency", preferredCurrency());
  const data = await api(`/api/search?${query}`);
  const results = data.results ?? data.items ?? data.products ?? [];
  const status = root.querySelector("[data-search-status]");
  status.textContent = results.length
    ? `${data.total ?? results.length} result(s) for “${q}”`
    : `No results for “${q}”. Try a different word or browse the categories.`;
  root.querySelector("[data-search-list]").innerHTML = results
    .map((p) => {
      const image = p.image ?? p.media?.[0];
      const price = p.price ?? p.price_from ?? p.min_price;
      return `<li class="card"><a href="/p/${encodeURIComponent(p.slug)}">${
        image
          ? `<img src="${escapeHtml(image.url)}" alt="${escapeHtml(image.alt ?? "")}" width="${image.width ?? 600}" height="${image.height ?? 600}" loading="lazy">`
          : ""
      }<h3>${escapeHtml(p.title)}</h3>${price ? `<span class="price">${escapeHtml(formatMoney(price))}</span>` : ""}</a></li>`;
    })
    .join("");
  if (data.next_cursor) {
    const next = new URLSearchParams(params);
    next.set("cursor", data.next_cursor);
    root.querySelector("[data-search-next]").innerHTML =
      `<a href="/search?${escapeHtml(next.toString())}">Next page</a>`;
  }
}

load().catch((error) => showError(root.querySelector("[data-search-error]"), error));
