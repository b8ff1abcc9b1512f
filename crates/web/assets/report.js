// Citizen report form: fill the position from the phone's GPS, and let a pin on the map
// move it. Without GPS, map tiles or JavaScript the form still works with an address.
(function () {
  var lat = document.getElementById("lat"), lon = document.getElementById("lon");
  var status = document.getElementById("loc-status"), el = document.getElementById("map");
  if (!lat || !lon) return;
  var marker = null, map = null;
  function show(la, lo, how) {
    lat.value = la.toFixed(6); lon.value = lo.toFixed(6);
    if (status) status.textContent = how + " " + lat.value + ", " + lon.value;
    if (map) { if (!marker) { marker = L.marker([la, lo], { draggable: true }).addTo(map);
        marker.on("dragend", function () { var p = marker.getLatLng(); show(p.lat, p.lng, status.dataset.moved); }); }
      else marker.setLatLng([la, lo]); map.setView([la, lo], 17); }
  }
  if (el && typeof L !== "undefined") {
    map = L.map(el).setView([parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)], 12);
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    map.on("click", function (e) { show(e.latlng.lat, e.latlng.lng, status.dataset.moved); });
    if (lat.value && lon.value) show(parseFloat(lat.value), parseFloat(lon.value), status.dataset.gps);
  }
  if (!lat.value && navigator.geolocation) {
    navigator.geolocation.getCurrentPosition(function (p) {
      show(p.coords.latitude, p.coords.longitude, status.dataset.gps);
    }, function () { if (status) status.textContent = status.dataset.nogps; }, { enableHighAccuracy: true, timeout: 15000 });
  }
})();
