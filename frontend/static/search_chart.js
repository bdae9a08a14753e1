// Reads and hits per hour per camera, as an SVG bar chart: stacked reads per camera, hits as a line.
(function () {
  "use strict";
  var svg = document.getElementById("search-chart");
  var dataEl = document.getElementById("search-chart-data");
  if (!svg || !dataEl) return;
  var data = JSON.parse(dataEl.textContent);
  var NS = "http://www.w3.org/2000/svg";
  var W = +svg.getAttribute("width"), H = +svg.getAttribute("height");
  var L = 40, R = 10, T = 10, B = 60;
  var COLOURS = ["#1f5fa8", "#2e8b57", "#d08c00", "#7b3fa0", "#00838f", "#8d6e63", "#5c6bc0", "#9e9d24"];

  function el(name, attrs, text, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    (parent || svg).appendChild(e);
    return e;
  }

  var hours = data.hours || [], series = data.series || [];
  if (!hours.length) return;
  var totals = hours.map(function (_, i) {
    return series.reduce(function (s, c) { return s + c.reads[i]; }, 0);
  });
  var hits = hours.map(function (_, i) {
    return series.reduce(function (s, c) { return s + c.hits[i]; }, 0);
  });
  var max = Math.max(1, Math.max.apply(null, totals));
  var bw = Math.min(48, (W - L - R) / hours.length);  // one hour of data is one readable bar, not the whole width
  function y(v) { return H - B - v / max * (H - T - B); }

  el("line", {x1: L, x2: W - R, y1: H - B, y2: H - B, stroke: "#444"});
  el("line", {x1: L, x2: L, y1: T, y2: H - B, stroke: "#444"});
  [0, 0.5, 1].forEach(function (f) {
    var v = Math.round(max * f);
    el("text", {x: L - 4, y: y(v) + 4, "font-size": 10, "text-anchor": "end"}, String(v));
  });
  var labelEvery = Math.ceil(hours.length / 12);
  hours.forEach(function (h, i) {
    var base = 0;
    series.forEach(function (c, k) {
      var n = c.reads[i];
      if (!n) return;
      var r = el("rect", {x: L + i * bw + 1, y: y(base + n), width: Math.max(1, bw - 2), height: y(base) - y(base + n),
                          fill: COLOURS[k % COLOURS.length]});
      el("title", {}, c.camera + " " + h.slice(0, 13) + "h: " + n + " read(s), " + c.hits[i] + " hit(s)", r);
      base += n;
    });
    if (i % labelEvery === 0) {
      el("text", {x: L + i * bw + bw / 2, y: H - B + 12, "font-size": 9, "text-anchor": "end",
                  transform: "rotate(-45 " + (L + i * bw + bw / 2) + " " + (H - B + 12) + ")"},
         h.slice(5, 13).replace("T", " ") + "h");
    }
  });
  var path = hits.map(function (n, i) { return (i ? "L" : "M") + (L + i * bw + bw / 2) + " " + y(n); }).join(" ");
  el("path", {d: path, fill: "none", stroke: "#b3261e", "stroke-width": 2});
  hits.forEach(function (n, i) {
    if (n) el("circle", {cx: L + i * bw + bw / 2, cy: y(n), r: 3, fill: "#b3261e"});
  });
  var lx = L;
  series.slice(0, 8).forEach(function (c, k) {
    el("rect", {x: lx, y: H - 14, width: 10, height: 10, fill: COLOURS[k % COLOURS.length]});
    el("text", {x: lx + 13, y: H - 5, "font-size": 10}, c.camera);
    lx += 20 + 6 * c.camera.length;
  });
  el("line", {x1: lx, x2: lx + 12, y1: H - 9, y2: H - 9, stroke: "#b3261e", "stroke-width": 2});
  el("text", {x: lx + 15, y: H - 5, "font-size": 10}, "hits");
})();
