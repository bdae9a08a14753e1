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

  function finish(state) {
    result.replaceChildren();
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
