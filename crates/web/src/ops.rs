//! Operations: `/healthz` and `/metrics` (Prometheus text format).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::routes::{Routes, get};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

#[derive(Default)]
pub struct HttpMetrics {
    /// By status class: 1xx..5xx.
    responses: [AtomicU64; 6],
    /// Sum of request durations in microseconds.
    duration_us: AtomicU64,
}

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
    match state.app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
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
    if let Ok(rows) = state.app.store.count_by_status().await {
        let _ = writeln!(
            out,
            "# HELP phananh_reports Reports by status.\n# TYPE phananh_reports gauge"
        );
        for (status, n) in rows {
            let _ = writeln!(out, "phananh_reports{{status=\"{status}\"}} {n}");
        }
    }
    if let Ok(rows) = state.app.store.count_jobs_by_status().await {
        let _ = writeln!(
            out,
            "# HELP phananh_jobs Jobs in the outbox by status.\n# TYPE phananh_jobs gauge"
        );
        for (status, n) in rows {
            let _ = writeln!(out, "phananh_jobs{{status=\"{status}\"}} {n}");
        }
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        out,
    )
        .into_response()
}
