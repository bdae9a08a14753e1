// Where a plate was seen: camera positions drawn as an SVG plot scaled to their bounding box, with a
// graticule. Needs no tile server; if a tile URL template ({z}/{x}/{y}) is configured, tiles are laid
// underneath, but the points never depend on them.
(function () {
  "use strict";
  var svg = document.getElementById("search-map");
  var dataEl = document.getElementById("search-map-data");
  if (!svg || !dataEl) return;
  var data = JSON.parse(dataEl.textContent);
  var tileEl = document.getElementById("search-map-tiles");
  var tileUrl = tileEl ? JSON.parse(tileEl.textContent) : "";
  var NS = "http://www.w3.org/2000/svg";
  var W = +svg.getAttribute("width"), H = +svg.getAttribute("height"), PAD = 36;

  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    svg.appendChild(e);
    return e;
  }

  var pts = data.points || [];
  if (!pts.length) {
    el("text", {x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#666"}, "No camera positions known");
    return;
  }
  var lats = pts.map(function (p) { return p.lat; }), lons = pts.map(function (p) { return p.lon; });
  var minLat = Math.min.apply(null, lats), maxLat = Math.max.apply(null, lats);
  var minLon = Math.min.apply(null, lons), maxLon = Math.max.apply(null, lons);
  var span = Math.max(maxLat - minLat, maxLon - minLon, 0.01);
  var midLat = (minLat + maxLat) / 2, midLon = (minLon + maxLon) / 2;
  minLat = midLat - span * 0.6; maxLat = midLat + span * 0.6;
  var kx = Math.cos(midLat * Math.PI / 180) || 1;  // equirectangular, corrected at the mid latitude
  var lonSpan = span * 0.6 / kx * (W / H);
  minLon = midLon - lonSpan; maxLon = midLon + lonSpan;
  function x(lon) { return PAD + (lon - minLon) / (maxLon - minLon) * (W - 2 * PAD); }
  function y(lat) { return H - PAD - (lat - minLat) / (maxLat - minLat) * (H - 2 * PAD); }

  el("rect", {x: 0, y: 0, width: W, height: H, fill: "#f7f7f4", stroke: "#ccc"});
  if (tileUrl) {
    // Optional background tiles (one zoom level fitted to the box); points are drawn on top regardless.
    var z = Math.max(0, Math.min(18, Math.floor(Math.log2(360 / (maxLon - minLon)))));
    var n = Math.pow(2, z);
    var tx = function (lon) { return (lon + 180) / 360 * n; };
    var ty = function (lat) { var r = lat * Math.PI / 180; return (1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * n; };
    for (var i = Math.floor(tx(minLon)); i <= Math.floor(tx(maxLon)); i++) {
      for (var j = Math.floor(ty(maxLat)); j <= Math.floor(ty(minLat)); j++) {
        var lon0 = i / n * 360 - 180, lon1 = (i + 1) / n * 360 - 180;
        var lat0 = Math.atan(Math.sinh(Math.PI * (1 - 2 * j / n))) * 180 / Math.PI;
        var lat1 = Math.atan(Math.sinh(Math.PI * (1 - 2 * (j + 1) / n))) * 180 / Math.PI;
        el("image", {href: tileUrl.replace("{z}", z).replace("{x}", i).replace("{y}", j), x: x(lon0), y: y(lat0),
                     width: x(lon1) - x(lon0), height: y(lat1) - y(lat0), opacity: 0.6, preserveAspectRatio: "none"});
      }
    }
  }
  if (!tileUrl) {
    // Honest about what it is: no street map behind the points unless a tile source is configured.
    el("text", {x: W - 6, y: 14, "text-anchor": "end", "font-size": 10, fill: "#666", "data-testid": "map-note"},
       "No street map configured: camera positions on a latitude/longitude grid");
  }
  // Graticule: about five lines each way at a round step.
  function step(range) {
    var raw = range / 5, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
    return (m < 2 ? 1 : m < 5 ? 2 : 5) * p;
  }
  function fmt(v, s) { var d = Math.max(0, -Math.floor(Math.log10(s))); return v.toFixed(d); }
  var sLat = step(maxLat - minLat), sLon = step(maxLon - minLon), v;
  for (v = Math.ceil(minLat / sLat) * sLat; v <= maxLat; v += sLat) {
    el("line", {x1: PAD, x2: W - PAD, y1: y(v), y2: y(v), stroke: "#ddd"});
    el("text", {x: 2, y: y(v) + 4, "font-size": 10, fill: "#888"}, fmt(v, sLat) + "°");
  }
  for (v = Math.ceil(minLon / sLon) * sLon; v <= maxLon; v += sLon) {
    el("line", {x1: x(v), x2: x(v), y1: PAD, y2: H - PAD, stroke: "#ddd"});
    el("text", {x: x(v), y: H - 4, "font-size": 10, fill: "#888", "text-anchor": "middle"}, fmt(v, sLon) + "°");
  }
  var most = Math.max.apply(null, pts.map(function (p) { return p.reads; }));
  pts.forEach(function (p) {
    var r = 5 + 15 * Math.sqrt(p.reads / most);
    var c = el("circle", {cx: x(p.lon), cy: y(p.lat), r: r, fill: p.hits ? "#b3261e" : "#1f5fa8",
                          "fill-opacity": 0.55, stroke: "#222"});
    var t = document.createElementNS(NS, "title");
    t.textContent = p.camera + ": " + p.reads + " read(s), " + p.hits + " hit(s)";
    c.appendChild(t);
    el("text", {x: x(p.lon), y: y(p.lat) + 4, "font-size": 11, "text-anchor": "middle"}, String(p.reads));
    el("text", {x: x(p.lon) + r + 3, y: y(p.lat) - r, "font-size": 11, fill: "#333"}, p.camera);
  });
})();
