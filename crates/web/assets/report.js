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
// Sending: with JavaScript the form goes through the JSON API. Without a connection (or when
// the server cannot be reached) the report and its photos wait in the offline queue
// (pwa.js) and are sent when the connection comes back. Errors show next to their field.
// A report with a video or voice note is sent as the plain form (multipart) instead.
(function () {
  var form = document.querySelector('form[action="/new"]');
  if (!form || !window.fetch || !window.indexedDB || !window.Promise) return;
  var queue = document.createElement("div"); queue.id = "queue";
  form.parentNode.insertBefore(queue, form);
  var spots = { field: ".fields", description: "#description", photos: "#photo", location: "#loc-status",
    ward: "#loc-status", address: "#loc-status", lat: "#loc-status", lon: "#loc-status",
    attributes: ".questions:not([hidden])", name: 'label[for="name"]', phone: 'label[for="phone"]', email: 'label[for="email"]' };
  function clearErrors() {
    Array.prototype.forEach.call(form.parentNode.querySelectorAll(".error"), function (e) { e.remove(); });
  }
  function showErrors(res, P) {
    clearErrors();
    var top = document.createElement("div"); top.className = "error"; top.setAttribute("role", "alert");
    top.textContent = P.t("Vui lòng kiểm tra các mục được đánh dấu bên dưới.", "Please check the marked items below.");
    var first = null;
    res.fields.forEach(function (f) {
      var at = form.querySelector(spots[f.field] || "button[type=submit]");
      var id = (f.field === "photos" ? "photo" : spots[f.field] === "#loc-status" ? "location" : f.field) + "-error";
      var p = document.getElementById(id);
      if (!p) { p = document.createElement("p"); p.className = "error"; p.id = id; p.setAttribute("role", "alert"); at.parentNode.insertBefore(p, at); p.textContent = ""; }
      p.textContent = (p.textContent ? p.textContent + ". " : "") + (P.en ? f.message_en : f.message_vi);
      first = first || p;
    });
    if (!res.fields.length) top.textContent = res.message;
    form.parentNode.insertBefore(top, form);
    (first || top).scrollIntoView({ block: "center" });
  }
  form.addEventListener("submit", function (ev) {
    var P = window.phananh, els = form.elements;
    if (!P || (els.website && els.website.value)) return; // the plain form post
    // A video or voice note goes with the plain multipart post (not queued offline).
    if (els.media && els.media.files && els.media.files.length) return;
    ev.preventDefault();
    var val = function (n) { return els[n] && els[n].value.trim() ? els[n].value.trim() : null; };
    var num = function (n) { var x = parseFloat(val(n)); return isFinite(x) ? x : null; };
    var field = form.querySelector('input[name="field"]:checked');
    var files = Array.prototype.filter.call(els.photo.files || [], function (f) { return f.size > 0; });
    if (files.length > 5) {
      showErrors({ fields: [{ field: "photos", message_vi: "Tối đa 5 ảnh", message_en: "At most 5 photos" }] }, P);
      return;
    }
    var rec = P.record({
      field: field ? field.value : "", description: els.description.value,
      lat: num("lat"), lon: num("lon"), address: val("address"), ward: val("ward"),
      name: val("name"), phone: val("phone"), email: val("email"), consent: !!(val("phone") || val("email")),
      attributes: window.phananhAnswers ? window.phananhAnswers(form) : {}
    }, files);
    var button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    function queued() {
      clearErrors();
      var la = els.lat.value, lo = els.lon.value;
      form.reset(); els.lat.value = la; els.lon.value = lo;
      button.disabled = false;
      queue.scrollIntoView({ block: "start" });
    }
    if (!navigator.onLine) { P.enqueue(rec).then(queued, function () { form.submit(); }); return; }
    P.send(rec).then(function (res) {
      if (res.ok) { P.remember(res.code); location.href = "/r/" + res.code + "?new=1"; return; }
      if (res.retry) return P.enqueue(rec).then(queued, function () { form.submit(); });
      button.disabled = false;
      showErrors(res, P);
    });
  });
})();
