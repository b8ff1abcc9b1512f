// Browser scenarios for the citizen pages, in headless Chromium on a 360-px phone.
// Started by crates/server/tests/it/browser.rs, which runs the server and checks the database
// afterwards. Environment:
//   PHANANH_BASE_URL     the server, e.g. http://127.0.0.1:40123
//   PHANANH_PHOTO        a phone JPEG with EXIF GPS
//   PHANANH_SCREENSHOTS  where the full-page screenshots go (default target/screenshots)
//   PHANANH_E2E_RESULT   a JSON file to write the codes and descriptions to (optional)
//   PHANANH_CHROMIUM     the browser (default /usr/bin/chromium)
//   PHANANH_FIELD_EMAIL, PHANANH_FIELD_PASSWORD, PHANANH_FIELD_CODE, PHANANH_FAR_PHOTO
//                        a unit's staff member, their task, and a photo taken far from it:
//                        "my tasks" offline and resolving with a photo (optional)
//   PHANANH_STAFF_EMAIL, PHANANH_STAFF_PASSWORD, PHANANH_PBX_TOKEN
//                        an operator's account and the exchange's token: the console's
//                        login, report map and hotline popup (server-sent events) are
//                        driven too (optional)
// Any Content-Security-Policy violation fails the run.
import { chromium } from "playwright-core";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const base = process.env.PHANANH_BASE_URL;
const photo = process.env.PHANANH_PHOTO;
const shots = process.env.PHANANH_SCREENSHOTS || "target/screenshots";
if (!base || !photo) throw new Error("PHANANH_BASE_URL and PHANANH_PHOTO are required");
mkdirSync(shots, { recursive: true });

const tag = Date.now().toString(36);
const person = { name: "Nguyễn Thị E2E", phone: "0909123456", email: "e2e.private@example.org" };
const result = {};

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
  console.log("ok -", what);
}
function noPersonalData(text, where) {
  for (const [k, v] of Object.entries(person)) check(!text.includes(v), `no ${k} in ${where}`);
}
async function shot(page, name) {
  await page.screenshot({ path: join(shots, name + ".png"), fullPage: true });
}

const browser = await chromium.launch({ executablePath: process.env.PHANANH_CHROMIUM || "/usr/bin/chromium" });
async function phone() {
  const context = await browser.newContext({
    baseURL: base,
    viewport: { width: 360, height: 740 },
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
    locale: "vi-VN",
    timezoneId: "Asia/Ho_Chi_Minh",
    geolocation: { latitude: 10.7769, longitude: 106.7009, accuracy: 10 },
    permissions: ["geolocation"],
  });
  // Nothing leaves the machine (map tiles point at a closed local port anyway).
  await context.route((url) => !url.href.startsWith(base), (route) => route.abort());
  // The browser reports CSP violations as console errors and as events; both fail the run.
  await context.addInitScript(() => document.addEventListener("securitypolicyviolation", (e) =>
    console.error(`Content Security Policy violation: ${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`)));
  const page = await context.newPage();
  watch(page);
  return { context, page };
}

let cspViolations = 0;
function watch(page) {
  page.on("pageerror", (e) => { console.error("page error:", e); process.exitCode = 1; });
  page.on("console", (m) => {
    if (/content.security.policy/i.test(m.text())) {
      cspViolations++;
      console.error("CSP violation on", page.url(), ":", m.text());
      process.exitCode = 1;
    }
  });
}

async function fillForm(page, description) {
  await page.waitForFunction(() => document.getElementById("lat").value !== "", null, { timeout: 15000 });
  await page.locator('input[name="field"][value="sidewalk"]').check();
  await page.fill("#description", description);
}

try {
  // (a) A report with a photo and contact details, from a phone with GPS.
  {
    const { context, page } = await phone();
    await page.goto("/");
    await shot(page, "home");
    check(await page.locator('a[href="/mine"]').count() > 0, "home links to /mine");
    await page.goto("/new");
    const description = `Ổ gà lớn giữa làn xe máy (e2e online ${tag})`;
    await fillForm(page, description);
    await page.setInputFiles("#photo", photo);
    await page.fill("#name", person.name);
    await page.fill("#phone", person.phone);
    await page.fill("#email", person.email);
    await shot(page, "form");
    await Promise.all([page.waitForURL(/\/r\/[A-Z0-9]{4}-[A-Z0-9]{4}\?new=1$/, { timeout: 20000 }), page.click('button[type="submit"]')]);
    const code = new URL(page.url()).pathname.split("/").pop();
    result.online_code = code;
    result.online_description = description;
    check(await page.locator(".notice .code").innerText() === code, "status page shows the code " + code);
    check((await page.content()).includes(description), "status page shows the description");
    noPersonalData(await page.content(), "the status page");
    check(await page.locator('a[href="/mine"]').count() > 0, "status page links to /mine");
    const thumb = await page.locator(".photos img").first().getAttribute("src");
    const full = await page.locator(".photos a").first().getAttribute("href");
    check(thumb && full, "status page shows the photo");
    for (const p of [thumb, full]) {
      const bytes = await (await context.request.get(p)).body();
      check(bytes[0] === 0xff && bytes[1] === 0xd8, `${p} is a JPEG`);
      check(!bytes.includes(Buffer.from("Exif")) && !bytes.includes(Buffer.from("GPS")), `${p} has no EXIF or GPS`);
    }
    result.online_photo = full;
    await shot(page, "status");

    await page.goto("/map");
    check(await page.locator(`table a[href="/r/${code}"]`).count() === 1, "the map's list has the report");
    const marker = page.locator("img.leaflet-marker-icon").first();
    await marker.waitFor({ timeout: 15000 });
    await marker.click();
    await page.locator(".leaflet-popup-content").waitFor();
    check((await page.locator(".leaflet-popup-content").innerText()).includes(code), "the map's marker opens the report");
    noPersonalData(await page.content(), "/map");
    await page.waitForTimeout(500); // the popup fades in
    await shot(page, "map");

    const api = await (await context.request.get("/api/v1/public/reports")).text();
    check(api.includes(code), "the public API lists the report");
    noPersonalData(api, "/api/v1/public/reports");
    const one = await (await context.request.get(`/api/v1/public/reports?codes=${code.toLowerCase()},${code}`)).json();
    check(one.items.length === 1 && one.items[0].code === code, "codes filter finds the report");

    await page.goto("/stats");
    // The wards' map, shaded by reports, then by on-time share; the weekly line is SVG.
    await page.locator('#ward-map[data-drawn="168"]').waitFor({ timeout: 15000 });
    check(await page.locator("#ward-map path.leaflet-interactive").count() >= 168, "the 168 wards are drawn");
    check((await page.locator("#ward-legend").innerText()).includes("phản ánh"), "a legend for the reports");
    await shot(page, "stats");
    await page.selectOption("#ward-shade", "on_time_share");
    check((await page.locator("#ward-legend").innerText()).includes("90 %"), "shaded by on-time share");
    await shot(page, "stats-on-time");

    await page.goto("/mine");
    await page.locator(`#mine-list a[href="/r/${code}"]`).waitFor({ timeout: 10000 });
    check(await page.locator("#mine-list .badge").count() === 1, "/mine shows the report's status");
    await shot(page, "mine");

    // (c) Bad input: a text file as the photo.
    await page.goto("/new");
    const bad = `Rác thải (e2e bad input ${tag})`;
    result.bad_description = bad;
    await fillForm(page, bad);
    await page.setInputFiles("#photo", { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not a photo at all") });
    await page.click('button[type="submit"]');
    const err = page.locator("#photo-error");
    await err.waitFor({ timeout: 10000 });
    const msg = await err.innerText();
    check(/ảnh|Ảnh|định dạng/.test(msg), "a Vietnamese error next to the photo field: " + msg);
    check(await page.inputValue("#description") === bad, "the typed description is kept");
    check(new URL(page.url()).pathname === "/new", "still on the form");
    await shot(page, "form-error");
    await context.close();
  }

  // (b) Offline: queued with the photo, the form still loads offline, sent once when online.
  {
    const { context, page } = await phone();
    await page.goto("/new");
    await page.waitForFunction(() => navigator.serviceWorker && navigator.serviceWorker.controller, null, { timeout: 15000 });
    check(await page.evaluate(() => caches.keys().then((k) => k.some((n) => n.startsWith("phananh-")))), "the service worker keeps the app shell");
    const cdp = await context.newCDPSession(page);
    // Playwright's contexts are incognito, where Chromium never installs; nothing else may be missing.
    const blockers = (await cdp.send("Page.getInstallabilityErrors")).installabilityErrors.filter((e) => e.errorId !== "in-incognito");
    check(blockers.length === 0, "Chromium finds the app installable " + JSON.stringify(blockers));
    await cdp.detach();
    await context.setOffline(true);
    const description = `Ngập nước sau mưa (e2e offline ${tag})`;
    result.offline_description = description;
    await fillForm(page, description);
    await page.setInputFiles("#photo", photo);
    await page.click('button[type="submit"]');
    await page.locator("#queue li.pending").waitFor({ timeout: 10000 });
    check((await page.locator("#queue").innerText()).includes("Đang chờ gửi"), "the report waits to be sent");
    await shot(page, "offline-pending");

    // Each /new from the server has a fresh form token: the same token as the kept copy
    // before reloading means the page came from the cache, not the network.
    const kept = await page.evaluate(() => caches.match("/new").then((r) => r.text()).then((t) => t.match(/name="csrf" value="([^"]+)"/)[1]));
    await page.reload();
    await page.locator("#description").waitFor();
    check(await page.evaluate(() => !navigator.onLine), "still offline after reloading");
    check(await page.inputValue('input[name="csrf"]') === kept, "the reloaded form is the copy the service worker kept");
    await page.locator("#queue li.pending").waitFor({ timeout: 10000 });
    check(true, "the form loads offline and still shows the waiting report");

    // The first creation reaches the server but its answer is lost: the retry must be
    // answered from the Idempotency-Key, not filed again.
    await page.evaluate(() => {
      const real = window.fetch;
      window.__answers = [];
      let lost = false;
      window.fetch = function (url, opts) {
        const p = real.apply(this, arguments);
        if (String(url).endsWith("/api/v1/reports") && opts && opts.method === "POST") {
          return p.then((r) => { window.__answers.push(r.status); if (!lost) { lost = true; throw new TypeError("answer lost"); } return r; });
        }
        return p;
      };
    });
    await context.setOffline(false);
    await page.waitForFunction(() => window.__answers.length >= 1, null, { timeout: 15000 });
    const waiting = await page.evaluate(() => window.phananh.all());
    check(waiting.length === 1 && waiting[0].photos.length === 1 && waiting[0].photos[0], "the photo key was saved before the report was created");
    // Two resends at once, and the online event again.
    await page.evaluate(() => Promise.all([window.phananh.flush(), window.phananh.flush(), window.dispatchEvent(new Event("online"))]));
    await page.locator("#queue li.sent a.code").waitFor({ timeout: 15000 });
    const code = await page.locator("#queue li.sent a.code").innerText();
    result.offline_code = code;
    const answers = await page.evaluate(() => window.__answers);
    check(answers[0] === 201 && answers.slice(1).every((s) => s === 200), "created once, then replayed: " + answers.join(","));
    await page.evaluate(() => window.phananh.flush());
    check((await page.evaluate(() => window.phananh.all())).length === 0, "the queue is empty");
    await shot(page, "offline-sent");
    const listed = await (await context.request.get(`/api/v1/public/reports?codes=${code}`)).json();
    check(listed.items.length === 1, "the offline report is on the server");
    await page.goto("/mine");
    await page.locator(`#mine-list a[href="/r/${code}"]`).waitFor({ timeout: 10000 });
    check(true, "/mine has the code sent from the queue");
    await page.goto("/lang/en");
    await page.goto("/mine");
    check(await page.locator("h1").innerText() === "My reports on this device", "/mine in English");
    await page.locator(`#mine-list li:has(a[href="/r/${code}"]) button`, { hasText: "Forget" }).click();
    await page.locator(`#mine-list a[href="/r/${code}"]`).waitFor({ state: "detached" });
    check(!(await page.evaluate(() => localStorage.getItem("phananh.mine"))).includes(code), "a code can be forgotten");
    await context.close();
  }

  // (d) Staff: the login form, a report's map in the console, the hotline screen with its
  // map and the caller popping up from the exchange (server-sent events).
  if (process.env.PHANANH_STAFF_EMAIL) {
    const { context, page } = await phone();
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto("/login");
    await page.fill("#email", process.env.PHANANH_STAFF_EMAIL);
    await page.fill("#password", process.env.PHANANH_STAFF_PASSWORD);
    await Promise.all([page.waitForURL(/\/console$/, { timeout: 15000 }), page.click('main button[type="submit"]')]);
    check(true, "staff log in through the form");
    const code = result.online_code;
    await page.goto(`/console/reports/${code}`);
    await page.locator("#map.leaflet-container").waitFor({ timeout: 15000 });
    check(true, "the console's report page draws its map");
    await page.goto("/console/hotline");
    await page.locator("#map.leaflet-container").waitFor({ timeout: 15000 });
    check(true, "the hotline screen draws its map");
    // Give the event stream a moment to connect, then the exchange rings.
    await page.waitForTimeout(500);
    const caller = "0912345678";
    const rang = await context.request.post("/api/v1/pbx/calls", {
      headers: { authorization: "Bearer " + process.env.PHANANH_PBX_TOKEN },
      data: { event: "answered", call_id: "e2e." + tag, caller },
    });
    check(rang.ok(), "the exchange's event is taken");
    await page.locator("#call-banner:not([hidden])").waitFor({ timeout: 10000 });
    check((await page.inputValue("#phone")) === caller, "the caller pops up on the hotline screen");
    await shot(page, "hotline-call");
    // Moderation: cover part of a photo by dragging on it, then publish the report.
    const moderate = process.env.PHANANH_MODERATE_CODE;
    if (moderate) {
      await page.goto(`/console/reports/${moderate}#moderation`);
      const canvas = page.locator(".redact-canvas").first();
      await canvas.waitFor({ timeout: 10000 });
      await page.locator(".redact-image").first().evaluate((img) => img.complete || new Promise((r) => img.addEventListener("load", r)));
      const box = await canvas.boundingBox();
      await page.mouse.move(box.x + 2, box.y + 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width / 4, box.y + box.height / 4, { steps: 5 });
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 5 });
      await page.mouse.up();
      const boxes = await page.inputValue(".redact-boxes");
      check(/^\d+,\d+,\d+,\d+$/.test(boxes), "dragging on the photo fills the area to cover: " + boxes);
      await shot(page, "moderation-redact");
      await Promise.all([page.waitForNavigation({ timeout: 15000 }), page.click(".redact-form button[type=submit]")]);
      check((await page.content()).includes("Công chúng thấy bản đã che"), "the covered copy is shown to the moderator");
      await Promise.all([page.waitForNavigation({ timeout: 15000 }),
        page.click('#moderation form:has(input[value="publish"]) button[type=submit]')]);
      check((await page.content()).includes("Đã công khai"), "the report is published");
      await shot(page, "moderation-published");
      result.moderated = moderate;
    }
    await page.goto("/console/password");
    check(await page.locator("#current").count() === 1, "the change-password page");
    await context.close();
  }
  // (f) A city supervisor's dashboard: a unit's on-time share and backlog by week, drawn by
  // the server as SVG (no script).
  if (process.env.PHANANH_SUPERVISOR_EMAIL && process.env.PHANANH_FIELD_CODE) {
    const { context, page } = await phone();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto("/login");
    await page.fill("#email", process.env.PHANANH_SUPERVISOR_EMAIL);
    await page.fill("#password", process.env.PHANANH_SUPERVISOR_PASSWORD);
    await Promise.all([page.waitForURL(/\/console$/, { timeout: 15000 }), page.click('main button[type="submit"]')]);
    await page.goto("/console/performance");
    const unitLink = page.locator('table a[href*="unit="]').first();
    await unitLink.waitFor({ timeout: 10000 });
    await unitLink.click();
    await page.locator("#trend").waitFor({ timeout: 10000 });
    check(await page.locator("svg.chart").count() === 2, "the unit's two charts are drawn");
    const box = await page.locator("svg.chart").first().boundingBox();
    check(box && box.width > 300 && box.height > 80, "the chart has its size on the page");
    await page.locator("#trend").scrollIntoViewIfNeeded();
    await shot(page, "console-performance-charts");
    await context.close();
  }
  // (e) The unit in the field, on a phone: "my tasks" (and the report opened from it) stay
  // readable offline; resolving with a photo taken ~800 m away asks to confirm first.
  if (process.env.PHANANH_FIELD_EMAIL) {
    const code = process.env.PHANANH_FIELD_CODE;
    const { context, page } = await phone();
    await page.goto("/login");
    await page.fill("#email", process.env.PHANANH_FIELD_EMAIL);
    await page.fill("#password", process.env.PHANANH_FIELD_PASSWORD);
    await Promise.all([page.waitForURL(/\/console$/, { timeout: 15000 }), page.click('main button[type="submit"]')]);
    await page.goto("/console/tasks");
    check(await page.locator(`.task a.code[href="/console/reports/${code}"]`).count() === 1, "the task is on the list");
    check(await page.locator(".task a.directions").count() === 1, "with the way there");
    await page.waitForFunction(() => navigator.serviceWorker && navigator.serviceWorker.controller, null, { timeout: 15000 });
    // Loaded once under the service worker: kept for offline use.
    await page.goto("/console/tasks");
    await page.goto(`/console/reports/${code}`);
    await shot(page, "field-tasks");
    await context.setOffline(true);
    await page.goto("/console/tasks");
    check(await page.locator(`.task a.code[href="/console/reports/${code}"]`).count() === 1, "my tasks read offline");
    await shot(page, "field-tasks-offline");
    await page.goto(`/console/reports/${code}`);
    check((await page.content()).includes("Đèn đường tắt cả dãy trước chợ"), "the report opened from it reads offline");
    await context.setOffline(false);
    await page.goto(`/console/reports/${code}`);
    const resolve = page.locator("details:has(input[value=resolve])");
    await resolve.locator("summary").click();
    await resolve.locator("textarea[name=note]").fill("Đã thay bóng đèn, chụp ảnh tại chỗ");
    await page.setInputFiles("#resolve-file", process.env.PHANANH_FAR_PHOTO);
    await page.waitForFunction(() => document.querySelector(".resolve-photo input[name=photo]").value !== "", null, { timeout: 15000 });
    await shot(page, "field-resolve-photo");
    let warned = "";
    page.once("dialog", (d) => { warned = d.message(); d.accept(); });
    await Promise.all([page.waitForNavigation({ timeout: 15000 }), resolve.locator("button[type=submit]").click()]);
    check(/cách nơi phản ánh \d+ m/.test(warned), "the staff member is warned before resolving so far away: " + warned);
    check((await page.content()).includes("Xa nơi phản ánh"), "the distance is in the history, flagged");
    await shot(page, "field-resolved");
    result.field_resolved = code;
    await context.close();
  }
  check(cspViolations === 0, "no Content-Security-Policy violations");
} finally {
  await browser.close();
  if (process.env.PHANANH_E2E_RESULT) writeFileSync(process.env.PHANANH_E2E_RESULT, JSON.stringify(result, null, 1));
}
