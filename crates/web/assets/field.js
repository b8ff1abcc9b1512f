// The unit in the field: on a report page, the resolution photo is uploaded as soon as it
// is taken (the server reads where the camera says it was, then strips that), the phone's
// position is asked for, and the distance to the report's place is shown; over the limit
// the staff member confirms before resolving. The history keeps the distance either way.
// On "my tasks", the page registers the service worker so the list stays readable offline.
(function () {
  if ("serviceWorker" in navigator && document.querySelector("[data-offline-tasks]")) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  }
  var box = document.querySelector(".resolve-photo");
  if (!box) return;
  var form = box.closest("form");
  var file = box.querySelector("input[type=file]");
  var status = box.querySelector("[role=status]");
  var csrf = form.querySelector("input[name=csrf]").value;
  var place = { lat: parseFloat(box.dataset.lat), lon: parseFloat(box.dataset.lon) };
  var far = parseInt(box.dataset.far, 10);
  var photoAt = null, phoneAt = null, uploading = false;

  function set(name, v) { form.querySelector("input[name=" + name + "]").value = v; }
  function metres(a, b) {
    var r = 6371000, rad = Math.PI / 180;
    var dla = (b.lat - a.lat) * rad, dlo = (b.lon - a.lon) * rad;
    var h = Math.pow(Math.sin(dla / 2), 2) +
      Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.pow(Math.sin(dlo / 2), 2);
    return Math.round(2 * r * Math.asin(Math.min(1, Math.sqrt(h))));
  }
  function distance() {
    var at = photoAt || phoneAt;
    return at && !isNaN(place.lat) && !isNaN(place.lon) ? metres(at, place) : null;
  }
  function show() {
    var d = distance();
    if (d !== null) status.textContent = d + " m";
  }

  // The phone's position, when the staff member opens the form and allows it.
  if (navigator.geolocation) {
    form.closest("details").addEventListener("toggle", function () {
      navigator.geolocation.getCurrentPosition(function (p) {
        phoneAt = { lat: p.coords.latitude, lon: p.coords.longitude };
        set("lat", phoneAt.lat); set("lon", phoneAt.lon); show();
      }, function () {}, { enableHighAccuracy: true, timeout: 15000 });
    }, { once: true });
  }

  file.addEventListener("change", function () {
    if (!file.files.length) return;
    uploading = true;
    status.textContent = "…";
    fetch("/api/v1/photos", {
      method: "POST", body: file.files[0], credentials: "same-origin",
      headers: { "x-csrf-token": csrf, "content-type": file.files[0].type || "application/octet-stream" }
    }).then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (res) {
        uploading = false;
        if (!res.ok) { status.textContent = res.j.message || "×"; set("photo", ""); return; }
        set("photo", res.j.photo);
        photoAt = res.j.position || null;
        status.textContent = "✓";
        show();
      }).catch(function () { uploading = false; status.textContent = "×"; });
  });

  form.addEventListener("submit", function (e) {
    if (uploading) { e.preventDefault(); return; }
    var d = distance();
    if (d !== null && d > far && !window.confirm(box.dataset.warn.replace("{m}", d))) e.preventDefault();
  });
})();
