// On every citizen page: registers the service worker (offline app shell), remembers this
// device's tracking codes ("my reports", localStorage), and keeps reports made without a
// connection in IndexedDB, photos included, until they can be sent through the JSON API.
// A queued report has its own Idempotency-Key; the photo keys are saved before the report is
// created, so every retry sends the same body and the server files it once.
(function () {
  "use strict";
  if (/^\/(console|login)(\/|$)/.test(location.pathname)) return;
  var en = document.documentElement.lang === "en";
  function t(vi, e) { return en ? e : vi; }
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});

  // My reports: [{code, at}], newest first.
  var MINE = "phananh.mine";
  function mine() { try { return JSON.parse(localStorage.getItem(MINE)) || []; } catch (e) { return []; } }
  function save(list) { try { localStorage.setItem(MINE, JSON.stringify(list.slice(0, 100))); } catch (e) { /* private mode */ } }
  function forget(code) { save(mine().filter(function (m) { return m.code !== code; })); }
  function remember(code) { var l = mine().filter(function (m) { return m.code !== code; }); l.unshift({ code: code, at: Date.now() }); save(l); }
  var here = location.pathname.match(/^\/r\/([A-Za-z0-9-]+)$/);
  if (here && /[?&]new=1(&|$)/.test(location.search) && !document.querySelector(".error")) remember(here[1]);

  // The queue: IndexedDB "phananh", store "queue", records keyed by their Idempotency-Key.
  function db() {
    return new Promise(function (ok, ko) {
      var r = indexedDB.open("phananh", 1);
      r.onupgradeneeded = function () { r.result.createObjectStore("queue", { keyPath: "key" }); };
      r.onsuccess = function () { ok(r.result); };
      r.onerror = function () { ko(r.error); };
    });
  }
  function tx(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (ok, ko) {
        var x = d.transaction("queue", mode), req = fn(x.objectStore("queue")), out;
        if (req) req.onsuccess = function () { out = req.result; };
        x.oncomplete = function () { d.close(); ok(out); };
        x.onerror = x.onabort = function () { d.close(); ko(x.error); };
      });
    });
  }
  function all() {
    if (!window.indexedDB) return Promise.resolve([]);
    return tx("readonly", function (s) { return s.getAll(); }).then(function (l) {
      return (l || []).sort(function (a, b) { return a.created - b.created; });
    }, function () { return []; });
  }
  function put(rec) { return tx("readwrite", function (s) { s.put(rec); }); }
  function drop(key) { return tx("readwrite", function (s) { s.delete(key); }).then(changed); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var a = new Uint8Array(16); crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }
  function record(report, files) {
    return { key: newKey(), created: Date.now(), report: report, files: files, photos: files.map(function () { return null; }), state: "pending" };
  }
  function enqueue(rec) { rec.state = "pending"; return put(rec).then(changed); }

  // One attempt: photos not yet uploaded, then the report. Resolves to {ok, code} or
  // {ok: false, retry, fields, message}; never rejects.
  function send(rec) {
    var i = 0;
    function fail(r) {
      var retry = r.status === 408 || r.status === 429 || r.status >= 500;
      return r.json().catch(function () { return {}; }).then(function (b) {
        var e = b.error || {};
        return { ok: false, retry: retry, fields: e.fields || [], message: e.message || "HTTP " + r.status };
      });
    }
    function next() {
      if (i >= rec.files.length) return create();
      if (rec.photos[i]) { i++; return next(); }
      return fetch("/api/v1/photos", { method: "POST", body: rec.files[i], credentials: "omit" }).then(function (r) {
        if (r.status !== 201) return fail(r);
        return r.json().then(function (b) {
          rec.photos[i] = b.photo; i++;
          // Saved before the report is created: a retry reuses these keys.
          return (rec.queued ? put(rec) : Promise.resolve()).then(next);
        });
      });
    }
    function create() {
      var body = {}; for (var k in rec.report) body[k] = rec.report[k];
      body.photos = rec.photos;
      return fetch("/api/v1/reports", {
        method: "POST", credentials: "omit", body: JSON.stringify(body),
        headers: { "Content-Type": "application/json", "Idempotency-Key": rec.key }
      }).then(function (r) {
        if (r.status !== 200 && r.status !== 201) return fail(r);
        return r.json().then(function (b) { return { ok: true, code: b.code }; });
      });
    }
    return next().catch(function (e) { return { ok: false, retry: true, fields: [], message: String(e) }; });
  }
  function describe(res) {
    var m = res.fields.map(function (f) { return en ? f.message_en : f.message_vi; });
    return m.length ? m.join(". ") : res.message;
  }

  // Sends what waits, one record at a time, one pass at a time (across tabs too).
  var sent = [], busy = null, again = false;
  function flush() {
    // A call during a pass asks for one more pass after it (the record may have just failed).
    if (busy) { again = true; return busy; }
    function run() {
      return all().then(function (list) {
        var p = Promise.resolve();
        list.forEach(function (rec) {
          if (rec.state === "error") return;
          p = p.then(function () {
            if (!navigator.onLine) return;
            rec.queued = true;
            return send(rec).then(function (res) {
              if (res.ok) {
                remember(res.code); sent.push({ code: res.code, description: rec.report.description });
                return drop(rec.key);
              }
              rec.tries = (rec.tries || 0) + 1;
              if (!res.retry) { rec.state = "error"; rec.error = describe(res); }
              return put(rec).then(changed);
            });
          });
        });
        return p;
      });
    }
    busy = (navigator.locks ? navigator.locks.request("phananh-queue", run) : run())
      .catch(function () {}).then(function () {
        busy = null; changed();
        if (again) { again = false; return flush(); }
      });
    return busy;
  }

  // The list of waiting (and just sent) reports, in #queue when the page has one.
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text) e.textContent = text; return e; }
  function render() {
    var box = document.getElementById("queue");
    if (!box) return Promise.resolve();
    return all().then(function (list) {
      box.textContent = "";
      if (!list.length && !sent.length) { box.className = ""; return; }
      box.className = "card queue";
      box.setAttribute("role", "status"); box.setAttribute("aria-live", "polite");
      box.appendChild(el("h2", "", t("Phản ánh gửi từ thiết bị này", "Reports from this device")));
      var ul = el("ul");
      sent.forEach(function (s) {
        var li = el("li", "sent");
        li.appendChild(el("span", "", t("Đã gửi. Mã hồ sơ: ", "Sent. Tracking code: ")));
        var a = el("a", "code", s.code); a.href = "/r/" + s.code; li.appendChild(a);
        li.appendChild(el("div", "muted", s.description.slice(0, 80)));
        ul.appendChild(li);
      });
      list.forEach(function (rec) {
        var li = el("li", rec.state === "error" ? "failed" : "pending");
        li.appendChild(el("strong", "", rec.state === "error"
          ? t("Không gửi được: ", "Could not be sent: ") + rec.error
          : t("Đang chờ gửi — sẽ tự gửi khi có mạng", "Waiting to send — it will be sent when you are back online")));
        li.appendChild(el("div", "muted", rec.report.description.slice(0, 80) + " · " +
          (rec.files.length ? rec.files.length + t(" ảnh · ", " photo(s) · ") : "") + new Date(rec.created).toLocaleString(en ? "en-GB" : "vi-VN")));
        if (rec.state === "error") {
          li.appendChild(el("div", "", t("Hãy gửi lại phản ánh với thông tin đã sửa.", "Please send the report again with the details corrected.")));
          var b = el("button", "secondary", t("Bỏ phản ánh này", "Discard this report")); b.type = "button";
          b.onclick = function () { drop(rec.key); };
          li.appendChild(b);
        } else if (navigator.onLine) {
          var s = el("button", "secondary", t("Gửi ngay", "Send now")); s.type = "button";
          s.onclick = function () { flush(); };
          li.appendChild(s);
        }
        ul.appendChild(li);
      });
      box.appendChild(ul);
    });
  }
  function changed() { render(); document.dispatchEvent(new CustomEvent("phananh:queue")); }

  function offlineBanner() {
    var b = document.getElementById("offline");
    if (navigator.onLine) { if (b) b.remove(); return; }
    if (b) return;
    b = el("div", "offline", t("Bạn đang không có mạng. Phản ánh gửi lúc này sẽ được lưu và tự gửi khi có mạng.",
      "You are offline. Reports made now are kept and sent when you are back online."));
    b.id = "offline"; b.setAttribute("role", "status");
    var main = document.querySelector("main"); if (main) main.insertBefore(b, main.firstChild);
  }

  window.phananh = { t: t, en: en, mine: mine, remember: remember, forget: forget, record: record,
    enqueue: enqueue, send: send, describe: describe, flush: flush, all: all, render: render };
  window.addEventListener("online", function () { offlineBanner(); flush(); });
  window.addEventListener("offline", function () { offlineBanner(); render(); });
  offlineBanner();
  render().then(flush);
  setInterval(flush, 30000);
})();
