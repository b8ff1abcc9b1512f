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
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && form) { e.preventDefault(); form.requestSubmit(); }
  });
})();
