// Public map: reports in view, clustered, loaded from /api/v1/public/reports for the map's
// bounds and the page's filters. The list under the map works without this script.
(function () {
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") return;
  var map = L.map(el).setView([parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)], 12);
  L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
  var layer = L.markerClusterGroup ? L.markerClusterGroup() : L.layerGroup();
  map.addLayer(layer);
  var filters = el.dataset.filters || "";
  function load() {
    var b = map.getBounds();
    var url = "/api/v1/public/reports?per_page=500&bbox=" + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",") + (filters ? "&" + filters : "");
    fetch(url).then(function (r) { return r.json(); }).then(function (data) {
      layer.clearLayers();
      data.items.forEach(function (r) {
        if (r.lat == null || r.lon == null) return;
        var m = L.marker([r.lat, r.lon]);
        var a = document.createElement("a");
        a.href = "/r/" + r.code; a.textContent = r.code + " · " + r.field_name + " · " + r.status_label;
        m.bindPopup(a);
        layer.addLayer(m);
      });
    }).catch(function () {});
  }
  // Opening a popup may pan the map; reloading then would close the popup at once.
  var open = false;
  map.on("popupopen", function () { open = true; });
  map.on("popupclose", function () { open = false; });
  map.on("moveend", function () { if (!open) load(); });
  load();
})();
