// Tuki admin: the "select all" box of a changelist, and the search boxes of
// foreign keys and filters on large models. No inline scripts (the pages'
// CSP forbids them).
document.addEventListener("DOMContentLoaded", () => {
  const all = document.getElementById("action-toggle");
  if (all) {
    all.addEventListener("change", () => {
      document.querySelectorAll("input.action-select").forEach((box) => {
        box.checked = all.checked;
      });
    });
  }
  document.querySelectorAll("select[data-autocomplete]").forEach(autocomplete);
});

// A search box before the select: what is typed is looked up on the model's
// autocomplete endpoint and the select's options become the results (the
// chosen one and the empty choice stay). Without this script the select
// still holds the current value, so nothing changes by accident.
function autocomplete(select) {
  const endpoint = select.dataset.autocomplete;
  const box = document.createElement("input");
  box.type = "search";
  box.className = "autocomplete-search";
  box.placeholder = "Buscar…";
  box.setAttribute("aria-label", "Buscar " + (select.getAttribute("aria-label") || ""));
  box.autocomplete = "off";
  select.parentNode.insertBefore(box, select);
  const keep = () =>
    [...select.options].filter((o) => o.value === "" || o.selected).map((o) => o.cloneNode(true));
  let timer = null;
  let asked = 0;
  const search = async () => {
    const ask = ++asked;
    const url = endpoint + "?term=" + encodeURIComponent(box.value.trim());
    const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!res.ok || ask !== asked) return;
    const data = await res.json();
    const kept = keep();
    select.replaceChildren(...kept);
    for (const r of data.results) {
      if (kept.some((o) => o.value === r.id)) continue;
      const o = document.createElement("option");
      o.value = r.id;
      o.textContent = r.text;
      select.appendChild(o);
    }
    select.dataset.loaded = String(data.results.length);
  };
  box.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 250);
  });
  if (select.dataset.submit) {
    select.addEventListener("change", () => select.form.submit());
  }
}
