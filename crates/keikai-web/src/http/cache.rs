//! Conditional GET for public files: an `ETag` (the SHA-256 of the bytes) and
//! `Last-Modified`, so that caches and clients revalidate instead of fetching again.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use keikai_app::public::PublicFile;
use sha2::Digest;

/// The file, or 304 when the client's copy is current (`If-None-Match`, else
/// `If-Modified-Since`).
pub fn respond(file: PublicFile, headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", hex::encode(sha2::Sha256::digest(&file.bytes)));
    // HTTP dates have whole seconds.
    let modified =
        Timestamp::from_second(file.last_modified.as_second()).unwrap_or(file.last_modified);
    let last_modified = modified.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let not_modified = match headers.get(header::IF_NONE_MATCH) {
        Some(v) => v
            .to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*")),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| jiff::fmt::rfc2822::parse(v).ok())
            .is_some_and(|since| modified <= since.timestamp()),
    };
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&last_modified) {
        h.insert(header::LAST_MODIFIED, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    if not_modified {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    if let Ok(v) = HeaderValue::from_str(&file.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    (h, file.bytes).into_response()
}
