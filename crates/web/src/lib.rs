//! HTTP for phananh. Handlers are thin: extract, call one use case of `phananh_app`, render.
//!
//! - `/api/v1/...`: the JSON API (intake for every channel, public report view, staff
//!   actions), described by `/api/v1/openapi.json`.
//! - `/console/...`: the staff console, server-rendered, Vietnamese first.
//! - `/healthz`, `/metrics`: operations.

mod api;
pub(crate) mod assets;
mod console;
mod error;
mod i18n;
mod open311;
mod ops;
mod public;
mod ratelimit;
pub mod routes;
mod session;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use phananh_app::App;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use i18n::Lang;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Reports per minute one IP may file anonymously (0: no limit, for benchmarks).
    pub intake_per_minute: u32,
    /// Login attempts per minute per IP and per email.
    pub login_per_minute: u32,
    /// Anonymous reports per hour per phone number or email address (0: no limit).
    pub contact_per_hour: u32,
    /// Set the `Secure` flag on cookies (off only for plain-HTTP development).
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Largest request body accepted, in bytes.
    pub max_body: usize,
    /// Map tiles (Leaflet URL template) and their attribution.
    pub tile_url: String,
    pub tile_attribution: String,
    /// The `jurisdiction_id` Open311 clients may send (besides the city's code).
    pub jurisdiction_id: String,
    /// How far around a new report's position the form looks for the same problem, in metres.
    pub nearby_radius_m: f64,
    /// Messenger and Viber: tokens, secrets and API base URLs.
    pub chat: phananh_channels::ChatConfig,
    /// SMS gateways: inbound tokens and signatures.
    pub sms: phananh_channels::sms::SmsConfig,
    /// The telephone exchange's token and extensions.
    pub hotline: phananh_app::hotline::HotlineConfig,
    /// Where citizens reach this server (links in chats and emails).
    pub public_url: String,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            intake_per_minute: 30,
            login_per_minute: 10,
            contact_per_hour: 10,
            secure_cookies: true,
            trust_forwarded_for: false,
            max_body: 256 * 1024,
            tile_url: "https://tile.openstreetmap.org/{z}/{x}/{y}.png".into(),
            tile_attribution: "© OpenStreetMap contributors".into(),
            jurisdiction_id: "hochiminhcity.gov.vn".into(),
            nearby_radius_m: 150.0,
            chat: phananh_channels::ChatConfig::default(),
            sms: phananh_channels::sms::SmsConfig::default(),
            hotline: Default::default(),
            public_url: "http://127.0.0.1:8022".into(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub config: Arc<WebConfig>,
    limits: Arc<ratelimit::Limits>,
    metrics: Arc<ops::HttpMetrics>,
    /// Turns true when the server stops, so long-lived streams end and the graceful
    /// shutdown does not wait for them.
    stopping: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    pub fn new(app: App, config: WebConfig) -> AppState {
        AppState {
            limits: Arc::new(ratelimit::Limits::new(&config)),
            stopping: tokio::sync::watch::channel(false).0,
            config: Arc::new(config),
            app,
            metrics: Arc::new(ops::HttpMetrics::default()),
        }
    }
}

impl AppState {
    /// Periodic upkeep of the HTTP layer (forget idle rate-limit keys).
    pub fn upkeep(&self) {
        self.limits.prune();
    }
}

pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body;
    Router::new()
        .merge(all_routes().into_router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::count_requests,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Every route the binary serves, declared through [`routes::Routes`].
fn all_routes() -> routes::Routes {
    routes::Routes::new()
        .merge(assets::routes())
        .merge(webhooks::routes())
        .merge(api::routes())
        .merge(console::routes())
        .merge(ops::routes())
        .merge(open311::routes())
        .merge(public::routes())
}

/// The (method, path) pairs [`router`] serves, for the role × route matrix test.
pub fn route_table() -> Vec<(&'static str, &'static str)> {
    all_routes().table()
}

/// Serves until `shutdown` resolves, then lets requests in flight finish (graceful).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stopping = state.stopping.clone();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stopping.send(true);
        })
        .await
}

/// How long a graceful shutdown may wait for requests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
