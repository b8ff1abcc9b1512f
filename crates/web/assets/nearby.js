// "Is this the same problem?": once a field and a position are chosen, ask for open reports
// of that field nearby and offer to follow one instead of filing a new report.
(function () {
  var box = document.getElementById("nearby");
  var lat = document.getElementById("lat"), lon = document.getElementById("lon");
  if (!box || !lat || !lon || !window.fetch) return;
  var last = "";
  function field() {
    var c = document.querySelector("input[name=field]:checked");
    return c ? c.value : "";
  }
  function check() {
    var f = field();
    if (!f || !lat.value || !lon.value) return;
    var q = "field=" + encodeURIComponent(f) + "&lat=" + lat.value + "&lon=" + lon.value;
    if (q === last) return;
    last = q;
    fetch("/api/v1/public/nearby?" + q).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (q !== last) return;
        box.textContent = "";
        if (!data || !data.items.length) { box.hidden = true; return; }
        var p = document.createElement("p");
        p.textContent = box.dataset.title;
        var ul = document.createElement("ul");
        data.items.forEach(function (it) {
          var li = document.createElement("li");
          var code = document.createElement("strong");
          code.className = "code";
          code.textContent = it.code;
          li.appendChild(code);
          li.appendChild(document.createTextNode(" · " + it.status_label + " · " + box.dataset.away + " " +
            it.distance_m + " m — " + it.description + " "));
          var a = document.createElement("a");
          a.href = it.url + "#follow";
          a.textContent = box.dataset.follow;
          li.appendChild(a);
          ul.appendChild(li);
        });
        box.appendChild(p);
        box.appendChild(ul);
        box.hidden = false;
      }).catch(function () { /* offline: the form still works */ });
  }
  document.addEventListener("change", check);
  // The position is set by script (GPS, pin), which fires no change event.
  setInterval(check, 1500);
})();
