// Live alert dashboard: renders alerts, keeps a websocket open, reloads the feed after reconnecting.
(function () {
  "use strict";
  const list = document.getElementById("alerts");
  const empty = document.getElementById("empty");
  const conn = document.getElementById("conn");
  const feedUrl = list.dataset.feedUrl;
  const known = new Map();

  // Sounds are synthesised (no audio files); browsers allow them after the officer clicks "sound on".
  let audio = null;
  const soundButton = document.getElementById("sound");
  if (soundButton) soundButton.addEventListener("click", () => {
    audio = audio ? null : new (window.AudioContext || window.webkitAudioContext)();
    soundButton.textContent = audio ? "sound on" : "sound off";
  });
  const PATTERNS = { chime: [[880, 0.15], [1320, 0.25]], beep: [[1000, 0.12], [0, 0.08], [1000, 0.12]],
                     siren: [[700, 0.25], [1100, 0.25], [700, 0.25], [1100, 0.25]] };
  function ring(name) {
    if (!audio || !PATTERNS[name]) return;
    let t = audio.currentTime;
    for (const [freq, len] of PATTERNS[name]) {
      if (freq) {
        const osc = audio.createOscillator(); const gain = audio.createGain();
        osc.frequency.value = freq; gain.gain.value = 0.15;
        osc.connect(gain).connect(audio.destination); osc.start(t); osc.stop(t + len);
      }
      t += len;
    }
  }

  function notice(n) {
    const box = document.getElementById("notices");
    const p = el("p", { class: n.type === "camera.back" ? "notice ok" : "notice", "data-testid": "notice",
                        text: new Date().toLocaleTimeString() + ": " + n.message });
    box.prepend(p);
  }

  function csrfToken() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined) continue;
      if (k === "text") node.textContent = v;
      else if (k === "style") Object.assign(node.style, v);  // CSSOM, which the CSP allows; a style attribute it does not
      else node.setAttribute(k, v);
    }
    for (const child of children || []) if (child) node.appendChild(child);
    return node;
  }

  // Plate text with the characters that differ between read and entry marked.
  function highlighted(text, differences, key, testid) {
    const marked = new Set((differences || []).filter((d) => d[key] !== null && d[key] !== undefined &&
      (key === "position" ? d.kind !== "deletion" : d.kind !== "insertion")).map((d) => d[key]));
    const node = el("div", { class: "plate-text", "data-testid": testid });
    [...text].forEach((ch, i) => node.appendChild(el("span", { class: marked.has(i) ? "diff" : null, text: ch })));
    return node;
  }

  function row(label, value) {
    return [el("dt", { text: label }), el("dd", { text: value || "—" })];
  }

  function render(alert, fresh) {
    const ack = alert.status !== "new";
    const statusText = alert.status === "dispositioned" ? alert.disposition_label + " (" + alert.dispositioned_by + ")"
      : ack ? "acknowledged by " + alert.acknowledged_by : "new";
    const when = new Date(alert.read.captured_at).toLocaleString();
    const dl = el("dl", {}, [
      ...row("Reason", alert.entry.reason),
      ...row("Case number", alert.entry.case_number),
      ...row("List", alert.entry.list),
      ...row("Camera", alert.camera.name + (alert.camera.location ? " — " + alert.camera.location : "")),
      ...row("Seen", when),
      ...row("Notes", alert.entry.notes),
    ]);
    const side = el("div", { class: "side" }, [
      el("span", { class: "badge", "data-testid": "alert-status", text: statusText }),
      alert.repeats ? el("span", { class: "priority", text: alert.repeats + " more read(s) of this pass" }) : null,
      alert.event && alert.event.reads > 1 ? el("span", { class: "priority", "data-testid": "consensus", text: "consensus " + alert.event.plate + " over " + alert.event.reads + " reads" }) : null,
      el("span", { class: "priority", text: alert.priority + " priority" }),
      alert.historical ? el("span", { class: "badge historical", "data-testid": "historical", text: "historical hit: seen before the entry was listed" }) : null,
      alert.covert ? el("span", { class: "badge covert", text: "covert list" }) : null,
    ]);
    if (!ack) {
      const button = el("button", { type: "button", "data-testid": "ack", text: "Acknowledge" });
      button.addEventListener("click", () => acknowledge(alert.id, button));
      side.appendChild(button);
    }
    side.appendChild(el("a", { href: alert.url, "data-testid": "open-alert", text: alert.status === "dispositioned" ? "Details" : "Check and record" }));
    const card = el("article", { class: "alert" + (ack ? " acknowledged" : "") + (fresh ? " fresh" : "") + (alert.historical ? " historical" : ""), "data-alert-id": String(alert.id), "data-testid": "alert", style: ack ? null : { borderLeftColor: alert.colour } }, [
      el("div", { class: "images" }, [
        alert.read.crop_url ? el("img", { class: "plate", src: alert.read.crop_url, alt: "plate crop " + alert.read.text }) : null,
        alert.frame.thumb_url ? el("img", { class: "frame", src: alert.frame.thumb_url, alt: "frame" }) : null,
      ]),
      el("div", {}, [
        el("div", { class: "compare" }, [
          el("div", {}, [el("small", { text: "Read (" + Math.round(alert.read.confidence * 100) + "%)" }), highlighted(alert.matched_text || alert.read.text, alert.differences, "position", "read-text")]),
          el("div", {}, [el("small", { text: "Hotlist " + (alert.entry.state ? "(" + alert.entry.state + ")" : "") }), highlighted(alert.entry.plate, alert.differences, "entry_position", "entry-plate")]),
          el("span", { class: "kind kind-" + alert.match_kind, "data-testid": "match-kind", text: alert.match_kind }),
        ]),
        alert.match_kind !== "exact" ? el("p", { class: "explanation", "data-testid": "explanation", text: alert.explanation }) : null,
        alert.matched_text && alert.matched_text !== alert.read.text ? el("p", { class: "hint", text: "Matched the OCR alternative " + alert.matched_text + " (top reading " + alert.read.text + ")" }) : null,
        dl,
      ]),
      side,
    ]);
    return card;
  }

  function upsert(alert, fresh) {
    const card = render(alert, fresh);
    const old = known.get(alert.id);
    if (old) {
      old.replaceWith(card);
    } else {
      // Keep newest first.
      let before = null;
      for (const node of list.children) {
        if (Number(node.dataset.alertId) < alert.id) { before = node; break; }
      }
      list.insertBefore(card, before);
    }
    known.set(alert.id, card);
    empty.hidden = known.size > 0;
  }

  async function acknowledge(id, button) {
    button.disabled = true;
    const response = await fetch("/alerts/" + id + "/acknowledge/", {
      method: "POST", headers: { "X-CSRFToken": csrfToken() }, credentials: "same-origin",
    });
    if (response.ok) upsert((await response.json()).alert, false);
    else button.disabled = false;
  }

  async function reloadFeed() {
    const newest = Math.max(0, ...known.keys());
    const response = await fetch(feedUrl + "?after=" + newest, { credentials: "same-origin" });
    if (!response.ok) return;
    const data = await response.json();
    for (const alert of data.alerts.slice().reverse()) upsert(alert, !known.has(alert.id));
  }

  let delay = 500;
  let everConnected = false;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/alerts/");
    socket.addEventListener("open", () => {
      conn.textContent = "live"; conn.className = "conn conn-on"; delay = 500;
      if (everConnected) reloadFeed();  // catch up on what happened while we were away
      everConnected = true;
    });
    socket.addEventListener("message", (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === "alert.new") { upsert(msg.alert, true); if (!msg.alert.historical) ring(msg.alert.sound); }
      else if (msg.type === "alert.updated") upsert(msg.alert, false);
      else if (msg.type === "system.notice") notice(msg.notice);
    });
    socket.addEventListener("close", (event) => {
      conn.textContent = event.code === 4401 || event.code === 4403 ? "not allowed" : "reconnecting…";
      conn.className = "conn conn-off";
      if (event.code === 4401) { location.reload(); return; }
      if (event.code === 4403) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    });
  }

  const boloForm = document.getElementById("bolo-form");
  if (boloForm) boloForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const out = document.getElementById("bolo-result");
    const response = await fetch(boloForm.action, { method: "POST", body: new FormData(boloForm),
      headers: { "X-CSRFToken": csrfToken() }, credentials: "same-origin" });
    const data = await response.json();
    if (response.ok) {
      out.className = "ok";
      out.textContent = `${data.entry.plate} is on the ${data.entry.list} list until ${new Date(data.entry.expires).toLocaleString()}.`;
      boloForm.reset();
    } else {
      out.className = "error";
      out.textContent = Object.entries(data.errors).map(([k, v]) => `${k}: ${v.join(" ")}`).join("; ");
    }
  });

  const initial = JSON.parse(document.getElementById("initial-alerts").textContent);
  for (const alert of initial.slice().reverse()) upsert(alert, false);
  connect();
})();
