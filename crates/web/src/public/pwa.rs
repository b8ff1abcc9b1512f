//! The installable app: the web app manifest, the service worker that keeps the citizen
//! pages usable offline, the scripts of the offline queue, and `/mine`, the tracking codes
//! kept on this device. Nothing here stores personal data on the server's side: the codes and
//! the reports waiting to be sent live in the citizen's browser only.

use std::sync::LazyLock;

use crate::routes::{Routes, get};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use phananh_domain::model::Status;

use crate::layout::page;
use crate::session::lang_of;

const SW_JS: &str = include_str!("../../assets/sw.js");

/// The service worker's cache name changes whenever one of the embedded files does (or
/// the version), so a new build replaces the offline copy of the app shell.
static SW_VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h = crate::assets::fingerprint();
    for b in SW_JS.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!(
        "{}-{:012x}",
        env!("CARGO_PKG_VERSION"),
        h & 0xffff_ffff_ffff
    )
});

static SW_BODY: LazyLock<String> = LazyLock::new(|| SW_JS.replace("__VERSION__", &SW_VERSION));

pub fn routes() -> Routes {
    Routes::new()
        .route("/manifest.webmanifest", get(manifest))
        .route("/sw.js", get(service_worker))
        .route("/mine", get(mine_page))
}

/// The web app manifest (W3C "Web Application Manifest"): what the browser needs to
/// install the citizen pages as an app.
#[derive(serde::Serialize)]
struct Manifest {
    id: &'static str,
    name: &'static str,
    short_name: &'static str,
    description: &'static str,
    lang: &'static str,
    dir: &'static str,
    start_url: &'static str,
    scope: &'static str,
    display: &'static str,
    background_color: &'static str,
    theme_color: &'static str,
    icons: [Icon; 3],
    shortcuts: [Shortcut; 2],
}

#[derive(serde::Serialize)]
struct Icon {
    src: &'static str,
    sizes: &'static str,
    #[serde(rename = "type")]
    mime: &'static str,
    purpose: &'static str,
}

#[derive(serde::Serialize)]
struct Shortcut {
    name: &'static str,
    url: &'static str,
}

const MANIFEST: Manifest = Manifest {
    id: "/",
    name: "Phản ánh đô thị",
    short_name: "Phản ánh",
    description: "Gửi phản ánh về hạ tầng, môi trường, trật tự đô thị và theo dõi kết quả xử lý / Report problems in the city and follow what happens",
    lang: "vi",
    dir: "ltr",
    start_url: "/",
    scope: "/",
    display: "standalone",
    background_color: "#f6f8fa",
    theme_color: crate::layout::THEME_COLOR,
    icons: [
        Icon {
            src: "/static/icons/icon-192.png",
            sizes: "192x192",
            mime: "image/png",
            purpose: "any",
        },
        Icon {
            src: "/static/icons/icon-512.png",
            sizes: "512x512",
            mime: "image/png",
            purpose: "any",
        },
        Icon {
            src: "/static/icons/icon-maskable-512.png",
            sizes: "512x512",
            mime: "image/png",
            purpose: "maskable",
        },
    ],
    shortcuts: [
        Shortcut {
            name: "Gửi phản ánh",
            url: "/new",
        },
        Shortcut {
            name: "Phản ánh của tôi",
            url: "/mine",
        },
    ],
};

async fn manifest() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/manifest+json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        axum::Json(MANIFEST),
    )
        .into_response()
}

/// The service worker: at the root so its scope is the whole site, never cached by HTTP so
/// a new version is picked up on the next visit.
async fn service_worker() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (
                header::HeaderName::from_static("service-worker-allowed"),
                "/",
            ),
        ],
        SW_BODY.as_str(),
    )
        .into_response()
}

/// "My reports on this device": the page is a shell; `mine.js` fills it from the codes in
/// localStorage, the statuses from `/api/v1/public/reports?codes=…`, and the reports waiting
/// in the offline queue.
async fn mine_page(headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let labels: serde_json::Map<String, serde_json::Value> = Status::ALL
        .iter()
        .map(|s| {
            (
                s.as_str().to_string(),
                lang.t(s.label_vi(), s.label_en()).into(),
            )
        })
        .collect();
    page(lang.t("Phản ánh của tôi", "My reports"), lang, None, html! {
        h1 { (lang.t("Phản ánh của tôi trên thiết bị này", "My reports on this device")) }
        p class="muted" { (lang.t("Mã hồ sơ của các phản ánh gửi từ thiết bị này được lưu ngay trên thiết bị (không lưu trên máy chủ). Xóa dữ liệu trình duyệt sẽ xóa danh sách này.",
            "Tracking codes of the reports sent from this device are kept on the device only (not on the server). Clearing the browser's data clears this list.")) }
        div id="queue" {}
        div class="card" id="mine" data-labels=(serde_json::Value::Object(labels).to_string())
            data-empty=(lang.t("Chưa có mã hồ sơ nào trên thiết bị này.", "No tracking codes on this device yet."))
            data-offline=(lang.t("Không tải được trạng thái (không có mạng).", "Could not load the statuses (offline)."))
            data-hidden=(lang.t("Không có trong danh sách công khai", "Not in the public list"))
            data-forget=(lang.t("Bỏ khỏi danh sách", "Forget")) {
            noscript { p { (lang.t("Trang này cần JavaScript để đọc các mã hồ sơ lưu trên thiết bị. Bạn vẫn có thể tra cứu theo mã ở trang chủ.",
                "This page needs JavaScript to read the codes kept on this device. You can still look up a code on the home page.")) } }
            ul id="mine-list" class="mine-list" hidden {}
            p id="mine-empty" class="muted" hidden { (lang.t("Chưa có mã hồ sơ nào trên thiết bị này.", "No tracking codes on this device yet.")) }
        }
        p { a class="button" href="/new" { (lang.t("Gửi phản ánh", "Report a problem")) } " " a href="/" { (lang.t("Tra cứu theo mã", "Look up a code")) } }
        script src="/static/mine.js" {}
    })
    .into_response()
}
