// The switchboard screen: look the caller up as their number is typed, pop the caller up
// when the exchange says this operator answered a call, and Ctrl+Enter to file.
(function () {
  var phone = document.getElementById("phone"), callId = document.getElementById("call_id");
  var list = document.getElementById("caller-reports"), banner = document.getElementById("call-banner");
  var form = document.getElementById("hotline-form");
  if (!phone || !list) return;
  function fill(id, v) { var el = document.getElementById(id); if (el && !el.value && v) el.value = v; }
  function render(c) {
    list.textContent = "";
    if (!c) return;
    if (c.name) { var p = document.createElement("p"); p.textContent = c.name + " · " + c.phone; list.appendChild(p); }
    fill("name", c.name); fill("email", c.email);
    if (!c.reports.length) { var none = document.createElement("p"); none.className = "muted"; none.textContent = list.dataset.none; list.appendChild(none); return; }
    var ul = document.createElement("ul");
    c.reports.forEach(function (r) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.className = "code"; a.href = "/console/reports/" + r.code; a.textContent = r.code;
      li.appendChild(a);
      li.appendChild(document.createTextNode(" " + r.status_label + " · " + r.field_name + " · " + r.created_at));
      ul.appendChild(li);
    });
    list.appendChild(ul);
  }
  function lookup() {
    var p = phone.value.trim();
    if (p.replace(/\D/g, "").length < 8) return;
    fetch("/console/hotline/caller?phone=" + encodeURIComponent(p), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; }).then(render).catch(function () {});
  }
  phone.addEventListener("change", lookup);
  phone.addEventListener("keyup", function () { clearTimeout(phone._t); phone._t = setTimeout(lookup, 400); });
  if (window.EventSource) {
    var es = new EventSource("/console/hotline/events");
    es.addEventListener("call", function (e) {
      var c = JSON.parse(e.data);
      phone.value = c.caller; callId.value = c.call_id;
      banner.textContent = banner.dataset.text + " " + c.caller;
      banner.hidden = false;
      lookup();
      document.getElementById("field").focus();
    });
  }
  // The place, pinned on the map as the caller describes it (no GPS: it would be ours).
  var el = document.getElementById("map"), lat = document.getElementById("lat"), lon = document.getElementById("lon");
  if (el && lat && window.L) {
    var map = L.map(el).setView([parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)], 12), pin = null;
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    var put = function (ll) {
      lat.value = ll.lat.toFixed(6); lon.value = ll.lng.toFixed(6);
      document.getElementById("pin-status").textContent = lat.value + ", " + lon.value;
      if (!pin) { pin = L.marker(ll, { draggable: true }).addTo(map); pin.on("dragend", function () { put(pin.getLatLng()); }); }
      else pin.setLatLng(ll);
    };
    map.on("click", function (e) { put(e.latlng); });
    if (lat.value && lon.value) put(L.latLng(parseFloat(lat.value), parseFloat(lon.value)));
  }
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && form) { e.preventDefault(); form.requestSubmit(); }
  });
})();
