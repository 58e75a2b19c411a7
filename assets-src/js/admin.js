// Admin console enhancements. Pages work without this file; it adds confirmations for
// destructive forms and live counters fed by server-sent events (GET /admin/live).

for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}

const when = (iso) => (iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 19) : "—");

function cell(row, text, tag = "td") {
  const el = document.createElement(tag);
  if (tag === "th") el.scope = "row";
  el.textContent = String(text);
  row.append(el);
  return el;
}

function releaseForm(section, sku, reservation) {
  const form = document.createElement("form");
  form.method = "post";
  form.action = `/admin/inventory/${encodeURIComponent(sku)}/reservations/${encodeURIComponent(reservation.id)}/release`;
  form.dataset.confirm = "Release this hold? The shopper loses it.";
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
  const csrf = document.createElement("input");
  csrf.type = "hidden";
  csrf.name = "_csrf";
  csrf.value = section.dataset.csrf;
  const button = document.createElement("button");
  button.type = "submit";
  button.className = "secondary";
  button.textContent = "Release";
  button.setAttribute("aria-label", `Force-release ${reservation.id}`);
  form.append(csrf, button);
  return form;
}

function renderShards(body, shards) {
  body.replaceChildren(
    ...shards.map((s) => {
      const row = document.createElement("tr");
      cell(row, s.shard, "th");
      cell(row, s.active ? "yes" : "retired");
      for (const key of ["on_hand", "available", "reserved", "sold"]) cell(row, s[key]);
      return row;
    }),
  );
}

function renderHolds(section, body, sku, reservations) {
  // Keep the row that holds keyboard focus: rebuilding it would throw the user's place away.
  const focused = document.activeElement?.closest("tr[data-reservation]")?.dataset.reservation;
  const existing = new Map(
    [...body.querySelectorAll("tr[data-reservation]")].map((r) => [r.dataset.reservation, r]),
  );
  const rows = reservations.map((r) => {
    if (r.id === focused && existing.has(r.id)) return existing.get(r.id);
    const row = document.createElement("tr");
    row.dataset.reservation = r.id;
    const id = document.createElement("code");
    id.textContent = r.id;
    cell(row, "").append(id);
    cell(row, r.holder);
    cell(row, r.quantity);
    cell(row, when(r.expires_at));
    const action = cell(row, "");
    if (section.dataset.writable === "1") action.append(releaseForm(section, sku, r));
    return row;
  });
  body.replaceChildren(...rows);
  const empty = section.querySelector("[data-live-empty]");
  if (empty) empty.hidden = reservations.length > 0;
}

function apply(view) {
  for (const section of document.querySelectorAll("[data-live-sku]")) {
    if (section.dataset.liveSku !== view.sku) continue;
    for (const field of section.querySelectorAll("[data-field]")) {
      const value = view[field.dataset.field];
      if (value === undefined || field.textContent === String(value)) continue;
      field.textContent = String(value);
      field.classList.remove("changed");
      void field.offsetWidth;
      field.classList.add("changed");
    }
    const shards = section.querySelector("[data-live-shards]");
    if (shards) renderShards(shards, view.shards);
    const holds = section.querySelector("[data-live-reservations]");
    if (holds) renderHolds(section, holds, view.sku, view.reservations);
  }
}

const watched = [
  ...new Set([...document.querySelectorAll("[data-live-sku]")].map((el) => el.dataset.liveSku)),
];
if (watched.length && "EventSource" in window) {
  const badges = document.querySelectorAll("[data-live-status]");
  const status = (text) => {
    for (const badge of badges) badge.textContent = text;
  };
  const source = new EventSource(
    `/admin/live?skus=${watched.slice(0, 10).map(encodeURIComponent).join(",")}`,
  );
  source.addEventListener("open", () => status("● live"));
  source.addEventListener("error", () => status("reconnecting…"));
  source.addEventListener("inventory", (event) => {
    status("● live");
    apply(JSON.parse(event.data));
  });
}
