// Service worker of the citizen pages. The app shell is kept in a cache named after the
// version (the server fills it in), pages are fetched from the network first with the kept
// copy as the offline fallback, static files come from the cache first. The API, the staff
// console, photos, recordings and anything but GET never touch the cache, except a staff
// member's "my tasks" page and the reports opened from it (network first, the last copy
// offline, in their own cache that logging out clears with Clear-Site-Data).
var CACHE = "phananh-__VERSION__";
var SHELL = ["/", "/new", "/mine", "/manifest.webmanifest", "/static/app.css", "/static/pwa.js",
  "/static/report.js", "/static/nearby.js", "/static/mine.js", "/static/leaflet/leaflet.css", "/static/leaflet/leaflet.js",
  "/static/leaflet/images/marker-icon.png", "/static/leaflet/images/marker-icon-2x.png",
  "/static/leaflet/images/marker-shadow.png", "/static/icons/icon-192.png"];
var NEVER = /^\/(api|console|login|logout|lang|photos|media|open311|healthz|metrics|sw\.js)(\/|$)/;
var STAFF = /^\/console\/(tasks|reports\/[A-Z0-9]{4}-[A-Z0-9]{4})$/;
var STAFF_CACHE = "phananh-staff";

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) {
    // Without cookies: the shell is the anonymous, Vietnamese one.
    return c.addAll(SHELL.map(function (u) { return new Request(u, { credentials: "omit", cache: "reload" }); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("phananh-") === 0 && k !== CACHE; })
      .filter(function (k) { return k !== STAFF_CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (e) {
  var req = e.request, url = new URL(req.url);
  if (req.method === "GET" && req.mode === "navigate" && url.origin === self.location.origin &&
      STAFF.test(url.pathname) && !url.search) { e.respondWith(staffPage(req)); return; }
  if (req.method !== "GET" || url.origin !== self.location.origin || NEVER.test(url.pathname)) return;
  if (req.mode === "navigate") e.respondWith(page(req));
  else if (url.pathname.indexOf("/static/") === 0 || url.pathname === "/manifest.webmanifest") e.respondWith(asset(req));
});

// Pages with a query (filters, "?new=1") are not kept: the cache stays small.
function page(req) {
  return fetch(req).then(function (r) {
    if (r.ok && !r.redirected && r.type === "basic" && !new URL(req.url).search) {
      var copy = r.clone();
      caches.open(CACHE).then(function (c) { return c.put(req.url, copy); });
    }
    return r;
  }).catch(function () {
    return caches.open(CACHE).then(function (c) {
      return c.match(req.url).then(function (hit) { return hit || c.match(req.url, { ignoreSearch: true }); })
        .then(function (hit) { return hit || c.match("/"); });
    }).then(function (hit) { return hit || Response.error(); });
  });
}

function asset(req) {
  return caches.open(CACHE).then(function (c) {
    return c.match(req).then(function (hit) {
      return hit || fetch(req).then(function (r) { if (r.ok) c.put(req, r.clone()); return r; });
    });
  });
}

// A staff page: the network's answer when there is one (kept unless it is the login page a
// lapsed session is sent to), the last copy when offline.
function staffPage(req) {
  return fetch(req).then(function (r) {
    if (r.ok && !r.redirected && r.type === "basic") {
      var copy = r.clone();
      caches.open(STAFF_CACHE).then(function (c) { return c.put(req.url, copy); });
    }
    return r;
  }).catch(function () {
    return caches.open(STAFF_CACHE).then(function (c) { return c.match(req.url); })
      .then(function (hit) { return hit || Response.error(); });
  });
}
