// Staff console: draws the report's location on a map when Leaflet and the tiles load.
// Without tiles (offline, blocked), the coordinates and the link beside the map remain.
(function () {
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") return;
  var lat = parseFloat(el.dataset.lat), lon = parseFloat(el.dataset.lon);
  if (isNaN(lat) || isNaN(lon)) return;
  var map = L.map(el).setView([lat, lon], 17);
  L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
  L.marker([lat, lon]).addTo(map);
})();
