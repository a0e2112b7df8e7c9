//! Health, readiness, metrics, static assets and response headers every page carries.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use keikai_app::ops;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult};
use crate::http::state::WebState;

#[derive(rust_embed::RustEmbed)]
#[folder = "static/"]
struct Assets;

/// The process-wide Prometheus recorder (a recorder can be installed once per process; tests
/// start several servers in one).
fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder is installed; then our handle renders nothing, which
        // is better than refusing to start.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

pub fn init_metrics() {
    let _ = prometheus();
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<WebState>) -> Response {
    match ops::ready(&state.app).await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response(),
    }
}

/// Prometheus text format, for administrators (a scraper uses an admin's read-only token):
/// the requests served by this instance, and the outbox's jobs by state (shared by all).
pub async fn metrics(State(state): State<WebState>, ctx: Ctx) -> AppResult<Response> {
    let jobs = ops::job_counts(&state.app, &ctx.caller).await?;
    // The recorder first, so that the gauges below are recorded.
    let handle = prometheus();
    for (name, n) in [
        ("queued", jobs.queued),
        ("running", jobs.running),
        ("done", jobs.done),
        ("dead", jobs.dead),
    ] {
        // Gauges are floats; a queue of 2^53 jobs would have other problems first.
        metrics::gauge!("keikai_jobs", "state" => name).set(n as f64);
    }
    let body = handle.render();
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response())
}

pub async fn track_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let res = next.run(req).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", res.status().as_u16().to_string()),
    ];
    metrics::counter!("keikai_http_requests_total", &labels).increment(1);
    metrics::histogram!("keikai_http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    res
}

pub async fn static_asset(Path(path): Path<String>, headers: axum::http::HeaderMap) -> Response {
    let Some(file) = Assets::get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mime = match path.rsplit_once('.').map(|(_, e)| e) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    // Vendored files carry their version in the name and never change under it.
    let cache = if path.starts_with("vendor/") {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    // A browser revalidating its copy gets an empty answer when nothing changed.
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return (
            StatusCode::NOT_MODIFIED,
            [
                (header::CACHE_CONTROL, cache),
                (header::ETAG, etag.as_str()),
            ],
        )
            .into_response();
    }
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, cache),
            (header::ETAG, etag.as_str()),
        ],
        file.data,
    )
        .into_response()
}

pub async fn ui_not_found() -> AppError {
    AppError::not_found()
}

pub async fn api_not_found() -> AppError {
    AppError::not_found()
}

pub async fn api_method_not_allowed() -> AppError {
    AppError::method_not_allowed()
}

/// Headers that make a stolen page less useful: no framing, no sniffing, no inline scripts
/// from elsewhere, no referrer leaks.
pub async fn security_headers(req: Request, next: Next) -> Response {
    // A reporter's portal and the links mailed to subscribers have their secret in the
    // address: no request from them names the page, not even to us (error pages included).
    let secret_address = crate::http::state::has_secret(req.uri().path());
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static(if secret_address {
            "no-referrer"
        } else {
            "same-origin"
        }),
    );
    // A handler that set a policy of its own (a sandboxed download) keeps it: it is stricter.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
            ),
        );
    }
    res
}
