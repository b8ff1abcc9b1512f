//! Operations: `/healthz` and `/metrics` (Prometheus text format).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::routes::{Routes, get};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::AppState;

#[derive(Default)]
pub struct HttpMetrics {
    /// By status class: 1xx..5xx.
    responses: [AtomicU64; 6],
    /// Sum of request durations in microseconds.
    duration_us: AtomicU64,
    /// The gauges that need the database (reports and jobs by status), with when they
    /// were counted: a scrape recounts at most every [`GAUGE_TTL`], and concurrent
    /// scrapes wait for one count instead of starting their own.
    gauges: tokio::sync::Mutex<Option<(std::time::Instant, String)>>,
}

/// How long counted gauges are served from memory.
pub const GAUGE_TTL: std::time::Duration = std::time::Duration::from_secs(15);

pub fn routes() -> Routes {
    Routes::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

pub async fn count_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = std::time::Instant::now();
    let response = next.run(req).await;
    let class = (response.status().as_u16() / 100).min(5) as usize;
    state.metrics.responses[class].fetch_add(1, Relaxed);
    state
        .metrics
        .duration_us
        .fetch_add(start.elapsed().as_micros() as u64, Relaxed);
    response
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.app.health().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

/// Whether the request may read `/metrics`: always when no token is configured, else
/// only with `Authorization: Bearer <token>` (compared in constant time).
fn metrics_allowed(token: &str, headers: &HeaderMap) -> bool {
    if token.is_empty() {
        return true;
    }
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Equal lengths first (the length of the token is no secret worth hiding), then
    // every byte, without an early exit.
    given.len() == token.len() && bool::from(given.as_bytes().ct_eq(token.as_bytes()))
}

/// The database gauges, counted at most every [`GAUGE_TTL`].
async fn gauges(state: &AppState) -> String {
    let mut cached = state.metrics.gauges.lock().await;
    if let Some((at, text)) = cached.as_ref()
        && at.elapsed() < GAUGE_TTL
    {
        return text.clone();
    }
    let mut out = String::new();
    if let Ok(rows) = state.app.reports_by_status().await {
        let _ = writeln!(
            out,
            "# HELP phananh_reports Reports by status.\n# TYPE phananh_reports gauge"
        );
        for (status, n) in rows {
            let _ = writeln!(out, "phananh_reports{{status=\"{status}\"}} {n}");
        }
    }
    if let Ok(rows) = state.app.jobs_by_status().await {
        let _ = writeln!(
            out,
            "# HELP phananh_jobs Jobs in the outbox by status.\n# TYPE phananh_jobs gauge"
        );
        for (status, n) in rows {
            let _ = writeln!(out, "phananh_jobs{{status=\"{status}\"}} {n}");
        }
    }
    *cached = Some((std::time::Instant::now(), out.clone()));
    out
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !metrics_allowed(&state.config.metrics_token, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(axum::http::header::WWW_AUTHENTICATE, "Bearer")],
            "cần mã truy cập / bearer token required\n",
        )
            .into_response();
    }
    let m = &state.app.metrics;
    let mut out = String::new();
    let counters = [
        (
            "phananh_reports_created_total",
            "Reports filed.",
            &m.reports_created,
        ),
        (
            "phananh_reports_replayed_total",
            "Submissions answered from an idempotency key.",
            &m.reports_replayed,
        ),
        (
            "phananh_transitions_total",
            "Actions applied to reports.",
            &m.transitions,
        ),
        ("phananh_jobs_done_total", "Jobs completed.", &m.jobs_done),
        (
            "phananh_jobs_failed_total",
            "Job attempts that failed and will be retried.",
            &m.jobs_failed,
        ),
        (
            "phananh_jobs_dead_total",
            "Jobs dead-lettered.",
            &m.jobs_dead,
        ),
        (
            "phananh_logins_failed_total",
            "Failed logins.",
            &m.logins_failed,
        ),
    ];
    for (name, help, value) in counters {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
            value.load(Relaxed)
        );
    }
    let _ = writeln!(
        out,
        "# HELP phananh_http_responses_total HTTP responses by status class.\n# TYPE phananh_http_responses_total counter"
    );
    for (i, c) in state.metrics.responses.iter().enumerate().skip(1) {
        let _ = writeln!(
            out,
            "phananh_http_responses_total{{class=\"{i}xx\"}} {}",
            c.load(Relaxed)
        );
    }
    let _ = writeln!(
        out,
        "# HELP phananh_http_request_duration_seconds_sum Time spent answering requests.\n# TYPE phananh_http_request_duration_seconds_sum counter\nphananh_http_request_duration_seconds_sum {}",
        state.metrics.duration_us.load(Relaxed) as f64 / 1e6
    );
    out.push_str(&gauges(&state).await);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        out,
    )
        .into_response()
}
