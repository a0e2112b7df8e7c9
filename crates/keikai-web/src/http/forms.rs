//! Helpers the HTML forms share: reading fields in order, the pre-session CSRF cookie of
//! the public forms, and response touches (no caching, CSV cells).

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use keikai_app::secret::random_secret;
use keikai_domain::attachment::{AttachmentName, served_as, sniff};
use keikai_domain::case::AttachmentMeta;

use crate::http::auth::{PRE_SESSION_CSRF_COOKIE, cookie_value, set_cookie};
use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult};

/// Form fields in order, for forms that repeat a name (checkboxes, multi-selects).
pub(crate) type Pairs = Vec<(String, String)>;

/// The first value of `name`, or an empty string.
pub(crate) fn field(pairs: &Pairs, name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or_else(String::new, |(_, v)| v.clone())
}

/// Every value of `name`, in order.
pub(crate) fn fields(pairs: &Pairs, name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

/// The `revision` a form carries (see [`crate::http::extract::lenient_i64`]).
pub(crate) fn revision(pairs: &Pairs) -> AppResult<Option<i64>> {
    crate::http::extract::lenient_number(&field(pairs, "revision"))
        .map_err(|e| AppError::invalid("revision", format!("revision: {e}")))
}

/// How long a public form's CSRF cookie lives: longer than the sign-in form's, so that a
/// long report, or a key pasted into a subscription, can still be sent.
const FORM_COOKIE_SECS: i64 = 24 * 3600;

/// The CSRF token for a visitor's forms, and the pre-session cookie to (re)send when they
/// have no session.
pub(crate) fn form_csrf(ctx: &Ctx, headers: &HeaderMap, secure: bool) -> (String, Option<String>) {
    if ctx.identity.session.is_some() {
        return (ctx.csrf.clone(), None);
    }
    let value = match cookie_value(headers, PRE_SESSION_CSRF_COOKIE) {
        Some(c) if c.len() == 43 => c.to_owned(),
        _ => random_secret(),
    };
    let cookie = set_cookie(
        PRE_SESSION_CSRF_COOKIE,
        &value,
        FORM_COOKIE_SECS,
        secure,
        true,
    );
    (value, Some(cookie))
}

/// Adds a cookie to a response (besides any it sets already).
pub(crate) fn append_cookie(res: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

pub(crate) fn with_cookie(mut res: Response, cookie: Option<String>) -> Response {
    if let Some(c) = cookie {
        append_cookie(&mut res, &c);
    }
    res
}

/// Pages that show or sit behind a secret are not kept by caches.
pub(crate) fn no_store(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

/// A CSV field: quoted when it must be, and defused against spreadsheet formulas.
pub(crate) fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A CSV file to download: the header line and one line per row, each cell as
/// [`csv_field`] writes it, with CRLF line ends; not kept by caches.
pub(crate) fn csv_download<R: AsRef<[String]>>(
    file_name: &str,
    header: &[&str],
    rows: impl IntoIterator<Item = R>,
) -> Response {
    let mut out = header.join(",");
    out.push_str("\r\n");
    for row in rows {
        let cells: Vec<String> = row.as_ref().iter().map(|c| csv_field(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    let mut res = out.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The type is sniffed again from the bytes (never taken from the client or the database),
/// and the file is always a download, sandboxed and not cached.
pub fn attachment_response(meta: &AttachmentMeta, bytes: Vec<u8>) -> Response {
    let serve = served_as(&sniff(&bytes));
    let name = AttachmentName::sanitise(&meta.file_name);
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(serve.content_type),
    );
    if let Ok(v) = HeaderValue::from_str(&name.content_disposition(false)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
    }

    #[tokio::test]
    async fn a_csv_download_quotes_its_fields_and_is_not_cached() {
        let res = csv_download(
            "trail.csv",
            &["a", "b"],
            [
                vec!["x,y".to_owned(), "=1".to_owned()],
                vec![String::new(); 2],
            ],
        );
        let h = res.headers();
        assert_eq!(h[header::CONTENT_TYPE], "text/csv; charset=utf-8");
        assert_eq!(
            h[header::CONTENT_DISPOSITION],
            "attachment; filename=\"trail.csv\""
        );
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        let body = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        assert_eq!(&body[..], b"a,b\r\n\"x,y\",'=1\r\n,\r\n");
    }

    #[test]
    fn fields_keep_their_order() {
        let pairs: Pairs = vec![
            ("a".into(), "1".into()),
            ("b".into(), "2".into()),
            ("a".into(), "3".into()),
        ];
        assert_eq!(field(&pairs, "a"), "1");
        assert_eq!(field(&pairs, "c"), "");
        assert_eq!(fields(&pairs, "a"), ["1", "3"]);
    }
}
