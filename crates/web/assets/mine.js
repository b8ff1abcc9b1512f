// "My reports on this device" (/mine): the tracking codes kept in localStorage by pwa.js,
// with their current status from the public list, and a way to forget one. The reports
// still waiting to be sent are listed by pwa.js in #queue.
document.addEventListener("DOMContentLoaded", function () {
  var P = window.phananh, box = document.getElementById("mine");
  if (!P || !box) return;
  var labels = JSON.parse(box.dataset.labels || "{}");
  var ul = document.getElementById("mine-list"), empty = document.getElementById("mine-empty");
  function add(parent, tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text) e.textContent = text; parent.appendChild(e); return e; }
  function draw(found, failed) {
    var list = P.mine();
    ul.textContent = "";
    ul.hidden = !list.length; empty.hidden = !!list.length;
    list.forEach(function (m) {
      var r = found[m.code], li = add(ul, "li"), top = add(li, "div", "mine-top");
      var a = add(top, "a", "code", m.code); a.href = "/r/" + m.code;
      if (r) add(top, "span", "badge " + r.status, labels[r.status] || r.status_label);
      else add(top, "span", "muted", failed ? box.dataset.offline : box.dataset.hidden);
      var when = new Date(m.at).toLocaleString(P.en ? "en-GB" : "vi-VN", { timeZone: "Asia/Ho_Chi_Minh" });
      add(li, "div", "muted", (r ? r.field_name + (r.ward_name ? " · " + r.ward_name : "") + " · " : "") + when);
      var x = add(li, "button", "secondary", box.dataset.forget); x.type = "button";
      x.onclick = function () { P.forget(m.code); draw(found, failed); };
    });
  }
  function load() {
    var codes = P.mine().map(function (m) { return m.code; });
    if (!codes.length) { draw({}, false); return; }
    fetch("/api/v1/public/reports?per_page=100&codes=" + encodeURIComponent(codes.join(",")), { credentials: "omit" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (d) { var f = {}; d.items.forEach(function (r) { f[r.code] = r; }); draw(f, false); })
      .catch(function () { draw({}, true); });
  }
  load();
  document.addEventListener("phananh:queue", load);
});
