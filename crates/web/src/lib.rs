//! HTTP for phananh. Handlers are thin: extract, call one use case of `phananh_app`, render.
//!
//! - `/api/v1/...`: the JSON API (intake for every channel, public report view, staff
//!   actions), described by `/api/v1/openapi.json`.
//! - `/console/...`: the staff console, server-rendered, Vietnamese first.
//! - `/healthz`, `/metrics`: operations.

// Handlers answer early with a ready `Response` as the error (axum's idiom); boxing it would
// only add an allocation on every refusal.
#![allow(clippy::result_large_err)]

mod api;
pub(crate) mod assets;
mod charts;
mod client_ip;
mod console;
mod csrf;
mod error;
mod headers;
mod i18n;
mod layout;
mod open311;
mod ops;
mod public;
mod questions;
mod ratelimit;
pub mod routes;
mod session;
mod spool;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use phananh_app::App;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;

pub use client_ip::TrustedProxies;
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
    /// Largest request body accepted, in bytes.
    pub max_body: usize,
    /// Map tiles (Leaflet URL template) and their attribution.
    pub tile_url: String,
    pub tile_attribution: String,
    /// The `jurisdiction_id` Open311 clients may send (besides the city's code).
    pub jurisdiction_id: String,
    /// How far around a new report's position the form looks for the same problem, in metres.
    pub nearby_radius_m: f64,
    /// The licence of the open data (`/open-data/`).
    pub open_data_licence: String,
    /// Messenger and Viber: tokens, secrets and API base URLs.
    pub chat: phananh_channels::ChatConfig,
    /// SMS gateways: inbound tokens and signatures.
    pub sms: phananh_channels::sms::SmsConfig,
    /// The telephone exchange's token and extensions.
    pub hotline: phananh_app::hotline::HotlineConfig,
    /// Where citizens reach this server (links in chats and emails).
    pub public_url: String,
    /// A connection must send a whole request head within this time, or it is closed.
    pub header_read_timeout: Duration,
    /// A request body that sends nothing for this long is cut off.
    pub body_read_timeout: Duration,
    /// The longest a request may take, reading its body included (408 after it);
    /// long-lived event streams are exempt.
    pub request_timeout: Duration,
    /// When set, `/metrics` answers only `Authorization: Bearer <metrics_token>`.
    pub metrics_token: String,
    /// Photo uploads per hour one IP may make anonymously (0: no limit).
    pub uploads_per_hour: u32,
    /// Bytes of photos per hour one IP may upload anonymously (0: no limit).
    pub upload_bytes_per_hour: u64,
    /// Reports one staff member may file per minute and per hour (0: no limit).
    pub staff_filings_per_minute: u32,
    pub staff_filings_per_hour: u32,
    /// Reverse proxies whose `X-Forwarded-For` is believed (empty: the TCP peer is the client).
    pub trusted_proxies: TrustedProxies,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            intake_per_minute: 30,
            login_per_minute: 10,
            contact_per_hour: 10,
            secure_cookies: true,
            max_body: 256 * 1024,
            tile_url: "https://tile.openstreetmap.org/{z}/{x}/{y}.png".into(),
            tile_attribution: "© OpenStreetMap contributors".into(),
            jurisdiction_id: "hochiminhcity.gov.vn".into(),
            nearby_radius_m: 150.0,
            open_data_licence: phananh_domain::open_data::DEFAULT_LICENCE.into(),
            chat: phananh_channels::ChatConfig::default(),
            sms: phananh_channels::sms::SmsConfig::default(),
            hotline: Default::default(),
            public_url: "http://127.0.0.1:8022".into(),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(120),
            metrics_token: String::new(),
            uploads_per_hour: 60,
            upload_bytes_per_hour: 200 * 1024 * 1024,
            staff_filings_per_minute: 10,
            staff_filings_per_hour: 200,
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    /// Shared, not cloned: every request clones the state, and an `App` holds pools,
    /// channels and settings (cloning it by value showed in the intake profile).
    pub app: Arc<App>,
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
            app: Arc::new(app),
            metrics: Arc::new(ops::HttpMetrics::default()),
        }
    }
}

impl AppState {
    /// Periodic upkeep of the HTTP layer (forget idle rate-limit keys).
    pub fn upkeep(&self) {
        self.limits.prune();
        self.limits.login_backoff.prune(self.app.clock.now());
    }
}

pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body;
    let request_timeout = state.config.request_timeout;
    let body_timeout = state.config.body_read_timeout;
    Router::new()
        .merge(
            all_routes()
                // Every request but the long-lived event streams merged below has a deadline.
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    request_timeout,
                ))
                .merge(console::stream_routes())
                .into_router(),
        )
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::read_only_roles,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::count_requests,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::map_response_with_state(
            Arc::new(headers::SecurityHeaders::new(&state.config)),
            headers::add,
        ))
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
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The span of a request names its method and path only: never the query string, which
/// may carry an integrator's `api_key` (some Open311 clients put it there) or a token.
fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
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
    all_routes().merge(console::stream_routes()).table()
}

/// Serves until `shutdown` resolves, then lets requests in flight finish (graceful).
///
/// HTTP/1.1 only (a reverse proxy speaks it to us), served by hyper directly so that a
/// connection that does not send its request head in time
/// ([`WebConfig::header_read_timeout`]) is closed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};

    let stopping = state.stopping.clone();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(state.config.header_read_timeout)
        .max_buf_size(64 * 1024);
    let router = router(state);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let service = hyper::service::service_fn(
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(addr));
                let mut router = router.clone();
                tower_service::Service::call(&mut router, req)
            },
        );
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %addr, "connection closed with an error");
            }
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    graceful.shutdown().await;
    Ok(())
}

/// How long a graceful shutdown may wait for requests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
