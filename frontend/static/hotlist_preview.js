// Live preview of a list's matching policy on its settings page.
(function () {
  "use strict";
  const box = document.getElementById("preview");
  const input = document.getElementById("preview-plate");
  const out = document.getElementById("preview-result");
  const form = document.getElementById("list-settings");
  let timer = null;

  function item(text) { const li = document.createElement("li"); li.textContent = text; return li; }

  async function run() {
    const plate = input.value.trim();
    if (plate.length < 2) { out.replaceChildren(); return; }
    const params = new URLSearchParams({ plate });
    for (const name of ["match_mode", "lookalike_budget", "lookalike_min_length", "edit_budget", "edit_min_length"]) {
      const field = form.elements[name];
      if (field) params.set(name, field.value);
    }
    // A POST with the form's CSRF token: previews are logged, so a link from elsewhere must not run one.
    const response = await fetch(box.dataset.previewUrl, {
      method: "POST", body: params, credentials: "same-origin",
      headers: { "X-CSRFToken": form.elements.csrfmiddlewaretoken.value } });
    const data = await response.json();
    out.replaceChildren();
    if (!response.ok) { out.appendChild(item(data.error)); return; }
    const p = document.createElement("p");
    p.dataset.testid = "preview-summary";
    p.textContent = data.mode === "exact" ? `Exact: only ${data.plate} hits.` :
      `${data.lookalike_count} look-alike misread(s) accepted` + (data.edit_count ? `, and about ${data.edit_count} strings one plain edit away.` : ".");
    out.appendChild(p);
    if (data.lookalike_variants.length) {
      const ul = document.createElement("ul"); ul.className = "variants"; ul.dataset.testid = "preview-variants";
      data.lookalike_variants.forEach((v) => ul.appendChild(item(v)));
      out.appendChild(ul);
    }
    const h = document.createElement("h3");
    h.textContent = `Recent reads that would have matched (of the last ${data.reads_checked})`;
    out.appendChild(h);
    const hits = document.createElement("ul"); hits.dataset.testid = "preview-hits";
    if (!data.recent_hits.length) hits.appendChild(item("none"));
    data.recent_hits.forEach((hit) => hits.appendChild(item(
      `${hit.read} at ${hit.camera}, ${hit.captured_at_display || new Date(hit.captured_at).toLocaleString()}: ${hit.kind} (${hit.explanation})`)));
    out.appendChild(hits);
  }

  function schedule() { clearTimeout(timer); timer = setTimeout(run, 250); }
  input.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
})();
