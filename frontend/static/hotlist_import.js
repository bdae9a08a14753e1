// Hotlist upload: the file's transfer progress, then the import's progress, polled from the server.
(function () {
  "use strict";
  const phase = document.getElementById("import-phase");
  const bar = document.getElementById("import-bar");
  const box = document.getElementById("import-progress");
  const result = document.getElementById("import-result");

  function show(text, percent) {
    box.hidden = false;
    phase.textContent = text;
    if (percent === null) bar.removeAttribute("value"); else bar.value = percent;
  }

  function csrfToken() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function postButton(url, label, fields, cls, testid) {
    const form = document.createElement("form");
    form.method = "post"; form.action = url;
    for (const [name, value] of Object.entries({ csrfmiddlewaretoken: csrfToken(), ...fields })) {
      const input = document.createElement("input");
      input.type = "hidden"; input.name = name; input.value = value;
      form.appendChild(input);
    }
    const button = document.createElement("button");
    button.type = "submit"; button.textContent = label;
    if (cls) button.className = cls;
    button.setAttribute("data-testid", testid);
    form.appendChild(button);
    return form;
  }

  // The import would remove entries: nothing was written; say what it would do and ask.
  function askToConfirm(state) {
    const c = state.counts;
    show("waiting for your confirmation", 0);
    const div = document.createElement("div");
    div.className = "notice";
    div.setAttribute("data-testid", "import-confirm");
    const p = document.createElement("p");
    p.textContent = `Nothing has changed yet. This ${state.mode} import of ${state.file} into ${state.list} would ` +
      `add ${c.added}, change ${c.updated} and REMOVE ${c.removed} entries (${c.unchanged} unchanged).`;
    div.append(p,
      postButton(state.confirm_url, `Remove ${c.removed} entries and import`, { removals: c.removed }, "danger", "confirm-import"),
      postButton(state.cancel_url, "Cancel: leave the list as it is", {}, "secondary", "cancel-import"));
    result.appendChild(div);
    div.scrollIntoView({ block: "center" });
  }

  function finish(state) {
    result.replaceChildren();
    if (state.status === "awaiting") { askToConfirm(state); return; }
    if (state.status === "cancelled") { show("cancelled: the list is unchanged", 0); return; }
    if (state.status === "done") {
      const c = state.counts;
      show("done", 100);
      const p = document.createElement("p");
      p.className = "ok";
      p.textContent = `Imported into ${state.list} (${state.format}): ${c.added} added, ${c.updated} updated, ` +
        `${c.removed} removed, ${c.unchanged} unchanged, ${c.duplicates} duplicates merged.`;
      result.appendChild(p);
      if (state.hotlist_url) {
        const a = document.createElement("a");
        a.href = state.hotlist_url; a.textContent = "Open the list"; a.className = "button";
        result.appendChild(a);
      }
    } else {
      show(state.status, 0);
      const div = document.createElement("div");
      div.className = "error";
      const strong = document.createElement("strong");
      strong.textContent = `${state.error_count} error(s); nothing was imported.`;
      const ul = document.createElement("ul");
      for (const [line, message] of state.errors) {
        const li = document.createElement("li");
        li.textContent = line ? `line ${line}: ${message}` : message;
        ul.appendChild(li);
      }
      div.append(strong, ul);
      result.appendChild(div);
    }
  }

  function poll(url) {
    fetch(url, { credentials: "same-origin" }).then((r) => r.json()).then((state) => {
      if (state.status === "queued" || state.status === "running") {
        const p = state.progress || {};
        if (p.phase === "writing" && p.total) show(`writing ${p.done.toLocaleString()} of ${p.total.toLocaleString()} entries`, Math.round(100 * p.done / p.total));
        else show(p.phase ? p.phase + "…" : state.status + "…", null);
        setTimeout(() => poll(url), 500);
      } else {
        finish(state);
      }
    }).catch(() => setTimeout(() => poll(url), 1500));
  }

  const form = document.getElementById("upload-form");
  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action || location.href);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) show(`uploading ${Math.round(100 * e.loaded / e.total)}%`, Math.round(100 * e.loaded / e.total));
      });
      xhr.addEventListener("load", () => {
        if (xhr.status === 202) {
          const data = JSON.parse(xhr.responseText);
          show("queued…", null);
          poll(data.status_url);
        } else {
          document.open(); document.write(xhr.responseText); document.close();  // the form with its errors
        }
      });
      xhr.addEventListener("error", () => show("upload failed; check the connection and try again", 0));
      show("uploading 0%", 0);
      xhr.send(new FormData(form));
    });
  }
  const initial = document.getElementById("import-state");
  if (initial) {
    const state = JSON.parse(initial.textContent);
    if (state.status === "queued" || state.status === "running") poll(`/hotlists/imports/${state.id}/status`);
    else finish(state);
  }
})();
