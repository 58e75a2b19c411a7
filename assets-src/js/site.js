// Loaded on every page: search autocomplete (ARIA combobox), the region switcher's
// auto-submit, and the cart count badge. Everything here degrades to plain HTML forms.
import { api, loadCart } from "./api.js";

/** Suggestions in the order a shopper scans them: products, then categories, then query completions. */
function suggestionItems(data) {
  return [
    ...data.products.map((p) => ({ label: p.title, href: `/p/${encodeURIComponent(p.slug)}` })),
    ...data.categories.map((c) => ({
      label: `${c.name} (category)`,
      href: `/c/${encodeURIComponent(c.slug)}`,
    })),
    ...data.queries.map((q) => ({ label: q.text, href: `/search?q=${encodeURIComponent(q.text)}` })),
  ].slice(0, 8);
}

function autocomplete(form) {
  const input = form.querySelector("input[role=combobox]");
  const listbox = form.querySelector("[role=listbox]");
  if (!input || !listbox) return;
  let items = [];
  let active = -1;
  let timer;
  let seq = 0;

  const render = () => {
    listbox.replaceChildren(
      ...items.map((item, i) => {
        const li = document.createElement("div");
        li.id = `suggestion-${i}`;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", String(i === active));
        li.textContent = item.label;
        li.addEventListener("mousedown", (event) => {
          event.preventDefault();
          location.href = item.href;
        });
        return li;
      }),
    );
    input.setAttribute("aria-expanded", String(items.length > 0));
    if (active >= 0) input.setAttribute("aria-activedescendant", `suggestion-${active}`);
    else input.removeAttribute("aria-activedescendant");
  };
  const close = () => {
    items = [];
    active = -1;
    render();
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) return close();
    timer = setTimeout(async () => {
      const mine = ++seq;
      try {
        const data = await api(`/api/search/suggest?q=${encodeURIComponent(q)}`);
        if (mine !== seq) return;
        items = suggestionItems(data);
        active = -1;
        render();
      } catch {
        close();
      }
    }, 150);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && items.length) {
      active = (active + 1) % items.length;
      render();
      event.preventDefault();
    } else if (event.key === "ArrowUp" && items.length) {
      active = (active - 1 + items.length) % items.length;
      render();
      event.preventDefault();
    } else if (event.key === "Escape") {
      close();
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      location.href = items[active].href;
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
}

for (const form of document.querySelectorAll("form[data-search]")) autocomplete(form);

for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form?.requestSubmit());
}

loadCart().catch(() => {});
