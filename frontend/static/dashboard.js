// Live alert dashboard: renders alerts, keeps a websocket open, reloads the feed after reconnecting.
(function () {
  "use strict";
  const list = document.getElementById("alerts");          // unhandled: new and acknowledged, never trimmed
  const handledList = document.getElementById("handled");  // dispositioned: the newest few
  const handledMax = Number(list.dataset.handledMax || 20);
  const empty = document.getElementById("empty");
  const conn = document.getElementById("conn");
  const announcer = document.getElementById("announcer");
  const unhandledCount = document.getElementById("unhandled-count");
  const feedUrl = list.dataset.feedUrl;
  const zone = document.body.dataset.timeZone || undefined;
  const baseTitle = document.title;
  const known = new Map();
  const statusOf = new Map();

  // Times in the agency's zone (the server formats alert times; this is for the page's own notes).
  function agencyTime(date, withDate) {
    try {
      const parts = {};
      const options = { timeZone: zone, timeZoneName: "short", hourCycle: "h23", hour: "2-digit", minute: "2-digit",
                        second: "2-digit" };
      if (withDate) Object.assign(options, { year: "numeric", month: "2-digit", day: "2-digit" });
      for (const p of new Intl.DateTimeFormat("en-US", options).formatToParts(date)) parts[p.type] = p.value;
      const time = parts.hour + ":" + parts.minute + ":" + parts.second + " " + parts.timeZoneName;
      return withDate ? parts.year + "-" + parts.month + "-" + parts.day + " " + time : time;
    } catch (e) {
      return withDate ? date.toLocaleString() : date.toLocaleTimeString();
    }
  }

  // Sounds are synthesised (no audio files); browsers allow them after the officer clicks "sound on".
  // The choice is kept in localStorage; a kept "on" starts the audio at the page's first click or key.
  const SOUND_KEY = "alpr.sound";
  let audio = null;
  let soundWanted = false;
  const soundButton = document.getElementById("sound");
  function store(key, value) { try { localStorage.setItem(key, value); } catch (e) { /* private mode */ } }
  function stored(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }
  function showSound() {
    soundButton.textContent = soundWanted ? "sound on" : "sound off";
    soundButton.setAttribute("aria-pressed", soundWanted ? "true" : "false");
  }
  function startAudio() {
    if (!soundWanted) return;
    if (!audio) audio = new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === "suspended") audio.resume();
  }
  if (soundButton) {
    soundWanted = stored(SOUND_KEY) === "on";
    showSound();
    soundButton.addEventListener("click", (event) => {
      event.stopPropagation();
      soundWanted = !soundWanted;
      store(SOUND_KEY, soundWanted ? "on" : "off");
      if (soundWanted) startAudio(); else audio = null;
      showSound();
    });
    for (const kind of ["click", "keydown", "touchstart"]) document.addEventListener(kind, startAudio, { passive: true });
  }

  // Browser notifications, once the officer allows them.
  const notifyButton = document.getElementById("notify");
  function canNotify() { return "Notification" in window && Notification.permission === "granted"; }
  function showNotify() {
    if (!notifyButton || !("Notification" in window)) return;
    notifyButton.hidden = Notification.permission !== "default";
  }
  if (notifyButton && "Notification" in window) {
    showNotify();
    notifyButton.addEventListener("click", async () => {
      await Notification.requestPermission();
      showNotify();
    });
  }
  function announce(alert) {
    const what = alert.entry.plate + (alert.entry.vehicle ? ", " + alert.entry.vehicle : "") + ": " +
      (alert.entry.reason || alert.entry.list) + " at " + alert.camera.name;
    announcer.textContent = "New alert. " + what;
    if (canNotify() && (document.hidden || !document.hasFocus())) {
      try {
        const n = new Notification("Hotlist alert: " + alert.entry.plate, { body: what, tag: "alert-" + alert.id });
        n.onclick = () => { window.focus(); location.href = alert.url; };
      } catch (e) { /* some browsers only notify from a service worker */ }
    }
  }
  function updateTitle() {
    let waiting = 0;
    for (const status of statusOf.values()) if (status === "new") waiting += 1;
    let unhandled = 0;
    for (const status of statusOf.values()) if (status !== "dispositioned") unhandled += 1;
    document.title = (waiting ? "(" + waiting + " new) " : "") + baseTitle;
    if (unhandledCount) unhandledCount.textContent = String(unhandled + notShown);
  }
  let notShown = 0;  // unhandled alerts beyond what the server sent (the page links to them in the history)
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
                        text: agencyTime(new Date()) + ": " + n.message });
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
    const when = alert.read.captured_at_display || new Date(alert.read.captured_at).toLocaleString();
    const dl = el("dl", {}, [
      ...row("Vehicle", alert.entry.vehicle),
      ...row("Reason", alert.entry.reason),
      ...row("Case number", alert.entry.case_number),
      ...row("List", alert.entry.list),
      ...row("Camera", alert.camera.name + (alert.camera.location ? " — " + alert.camera.location : "")),
      ...row("Seen", when),
      ...(alert.repeats ? row("Seen again", alert.repeats + " time(s), last " + alert.last_seen_at_display) : []),
      ...row("Notes", alert.entry.notes),
    ]);
    dl.querySelector("dd").setAttribute("data-testid", "vehicle");
    dl.querySelector("dd").classList.add("vehicle");
    const side = el("div", { class: "side" }, [
      el("span", { class: "badge", "data-testid": "alert-status", text: statusText }),
      alert.repeats ? el("span", { class: "priority", "data-testid": "repeats", text: "seen " + (alert.repeats + 1) + " times" }) : null,
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
    const card = el("article", { class: "alert" + (ack ? " acknowledged" : "") + (fresh ? " fresh" : "") + (alert.historical ? " historical" : ""), "data-alert-id": String(alert.id), "data-testid": "alert", "aria-label": "Alert " + alert.entry.plate }, [
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
        alert.entry.instructions ? el("p", { class: "instructions", "data-testid": "instructions", text: "Instructions: " + alert.entry.instructions }) : null,
        dl,
      ]),
      side,
    ]);
    if (!ack) card.style.borderLeftColor = alert.colour;  // CSSOM, not a style attribute (CSP)
    return card;
  }

  // Unhandled alerts stay in the first list until they are dispositioned (never trimmed); handled
  // ones move to the second, which keeps the newest few.
  function upsert(alert, fresh) {
    const card = render(alert, fresh);
    const old = known.get(alert.id);
    if (old) old.remove();
    const target = alert.status === "dispositioned" ? handledList : list;
    let before = null;
    for (const node of target.children) {  // newest first
      if (Number(node.dataset.alertId) < alert.id) { before = node; break; }
    }
    target.insertBefore(card, before);
    known.set(alert.id, card);
    statusOf.set(alert.id, alert.status);
    while (handledList.children.length > handledMax) {
      const last = handledList.lastElementChild;
      known.delete(Number(last.dataset.alertId));
      statusOf.delete(Number(last.dataset.alertId));
      last.remove();
    }
    empty.hidden = list.children.length > 0;
    updateTitle();
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
      if (msg.type === "alert.new") {
        upsert(msg.alert, true);
        if (!msg.alert.historical) { ring(msg.alert.sound); announce(msg.alert); }
      }
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
      const until = agencyTime(new Date(data.entry.expires), true);
      out.textContent = `${data.entry.plate} is on the ${data.entry.list} list until ${until}.`;
      boloForm.reset();
    } else {
      out.className = "error";
      out.textContent = Object.entries(data.errors).map(([k, v]) => `${k}: ${v.join(" ")}`).join("; ");
    }
  });

  const initial = JSON.parse(document.getElementById("initial-alerts").textContent);
  const serverUnhandled = Number(unhandledCount ? unhandledCount.textContent : 0) || 0;
  for (const alert of initial.slice().reverse()) upsert(alert, false);
  notShown = Math.max(0, serverUnhandled - list.children.length);
  updateTitle();
  connect();
})();
