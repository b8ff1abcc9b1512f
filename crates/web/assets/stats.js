// The statistics page's ward map: the wards shaded by their reports or their on-time share
// over the period shown (the figures come from /api/v1/public/wards.geojson; the tables on
// the page have them too, for screen readers and without script).
(function () {
  var el = document.getElementById("ward-map");
  if (!el || typeof L === "undefined") return;
  var map = L.map(el).setView([parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)], 10);
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 18, attribution: el.dataset.attribution || "" }).addTo(map);
  }
  var shade = document.getElementById("ward-shade");
  var legend = document.getElementById("ward-legend");
  var layer = null, data = null;
  // Light to dark red for counts; red to green for the on-time share.
  var reds = ["#fff5f0", "#fcbba1", "#fb6a4a", "#cb181d", "#67000d"];
  function colour(props, by, max) {
    if (by === "on_time_share") {
      var s = props.on_time_share;
      if (s === null || s === undefined) return "#d0d7de";
      return s >= 0.9 ? "#1a7f37" : s >= 0.75 ? "#8fd19e" : s >= 0.5 ? "#f2cc60" : "#cf222e";
    }
    if (!props.reports) return "#f6f8fa";
    return reds[Math.min(reds.length - 1, Math.floor(props.reports / (max + 1) * reds.length))];
  }
  function draw() {
    if (!data) return;
    var by = shade.value;
    var max = 0;
    data.features.forEach(function (f) { max = Math.max(max, f.properties.reports || 0); });
    if (layer) map.removeLayer(layer);
    layer = L.geoJSON(data, {
      style: function (f) {
        return { color: "#57606a", weight: 1, fillColor: colour(f.properties, by, max), fillOpacity: 0.7 };
      },
      onEachFeature: function (f, l) {
        var p = f.properties;
        var share = p.on_time_share === null || p.on_time_share === undefined ? "—" : Math.round(p.on_time_share * 100) + " %";
        l.bindTooltip(p.name + ": " + p.reports + " " + el.dataset.reports + ", " + share + " " + el.dataset.ontime);
      }
    }).addTo(map);
    legend.textContent = by === "on_time_share"
      ? "≥ 90 % · 75–90 % · 50–75 % · < 50 % " + el.dataset.ontime
      : "0 – " + max + " " + el.dataset.reports;
    el.dataset.drawn = String(data.features.length);
  }
  fetch(el.dataset.src, { credentials: "omit" }).then(function (r) { return r.json(); })
    .then(function (j) { data = j; draw(); });
  shade.addEventListener("change", draw);
})();
