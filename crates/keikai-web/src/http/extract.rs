//! Request bodies as the doors read them: JSON for the API, forms for the pages, each
//! refusing what does not fit with an error naming the field.

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::http::error::{AppError, AppResult};

/// Like `axum::Json`, but a body that does not fit answers in our error format and names the
/// field at fault.
pub struct ApiJson<T>(pub T);

/// Largest JSON body the API reads.
const MAX_JSON_BYTES: usize = 2 << 20;

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_of(
            req,
            "application/json",
            "send the body as JSON with Content-Type: application/json",
        )
        .await?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize::<_, T>(de) {
            Ok(v) => Ok(Self(v)),
            Err(err) => {
                let path = err.path().to_string();
                let inner = err.into_inner();
                if inner.is_syntax() || inner.is_eof() {
                    return Err(AppError::bad_request(format!("malformed JSON: {inner}")));
                }
                Err(field_error(&path, inner.to_string()))
            }
        }
    }
}

/// A form body (`application/x-www-form-urlencoded`) whose errors name the field, like
/// [`ApiJson`].
pub struct UiForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for UiForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_of(
            req,
            "application/x-www-form-urlencoded",
            "send the form as application/x-www-form-urlencoded",
        )
        .await?;
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(&bytes));
        serde_path_to_error::deserialize::<_, T>(de)
            .map(Self)
            .map_err(|err| {
                let path = err.path().to_string();
                field_error(&path, err.into_inner().to_string())
            })
    }
}

/// The `Content-Type` a request names (empty when none, or unreadable).
pub(crate) fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Whether a request's body is of the type `expected` (parameters such as `charset` aside).
pub(crate) fn has_content_type(req: &Request, expected: &str) -> bool {
    content_type(req.headers()).starts_with(expected)
}

/// The body of a request of the type `expected` (at most [`MAX_JSON_BYTES`]); one of another
/// type is refused with `refusal`.
async fn body_of(
    req: Request,
    expected: &str,
    refusal: &'static str,
) -> AppResult<axum::body::Bytes> {
    if !has_content_type(&req, expected) {
        return Err(AppError::bad_request(refusal));
    }
    axum::body::to_bytes(req.into_body(), MAX_JSON_BYTES)
        .await
        .map_err(|_| AppError::bad_request(format!("body larger than {MAX_JSON_BYTES} bytes")))
}

/// serde reports a missing field at the parent's path; name the field itself.
fn field_error(path: &str, msg: String) -> AppError {
    let field = match msg
        .strip_prefix("missing field `")
        .and_then(|m| m.split('`').next())
    {
        Some(f) if path == "." => f.to_owned(),
        Some(f) => format!("{path}.{f}"),
        None => path.to_owned(),
    };
    AppError::invalid(field, msg)
}

pub(crate) fn parse_id<T: std::str::FromStr>(s: &str) -> AppResult<T> {
    // A malformed id names nothing that exists.
    s.parse().map_err(|_| AppError::not_found())
}

/// Accepts a number, a numeric string (forms send text) or nothing (`null`, `""`).
pub fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Int(n)) => Ok(Some(n)),
        Some(Raw::Text(t)) => lenient_number(&t).map_err(serde::de::Error::custom),
    }
}

/// A number as a form field holds it: blank is none, `#7` is 7, anything else is refused.
pub fn lenient_number(t: &str) -> Result<Option<i64>, String> {
    let n = t.trim();
    if n.is_empty() {
        return Ok(None);
    }
    n.trim_start_matches('#')
        .parse()
        .map(Some)
        .map_err(|_| format!("\"{t}\" is not a number"))
}

/// A text field left blank means "not given".
pub fn blank_to_none(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|t| !t.is_empty())
}

/// An optional id from a form or query: blank is none, anything else must parse.
pub fn opt_id<T: std::str::FromStr>(
    field: &str,
    what: &str,
    s: Option<&str>,
) -> AppResult<Option<T>> {
    blank_to_none(s)
        .map(|t| {
            t.parse()
                .map_err(|_| AppError::invalid(field, format!("{field}: \"{t}\" is not {what} id")))
        })
        .transpose()
}

/// The page a list query asks for, from 1 (blank: the first).
pub fn page_number(s: Option<&str>) -> AppResult<u32> {
    match blank_to_none(s) {
        None => Ok(1),
        Some(t) => t
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=100_000).contains(p))
            .ok_or_else(|| {
                AppError::invalid("page", format!("page: \"{t}\" is not a page number"))
            }),
    }
}

/// A yes/no field of a query: blank is none.
pub fn opt_bool(field: &str, s: Option<&str>) -> AppResult<Option<bool>> {
    match blank_to_none(s) {
        None => Ok(None),
        Some("true" | "1" | "on" | "yes") => Ok(Some(true)),
        Some("false" | "0" | "off" | "no") => Ok(Some(false)),
        Some(other) => Err(AppError::invalid(
            field,
            format!("{field}: \"{other}\" is not true or false"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct N {
        #[serde(default, deserialize_with = "lenient_i64")]
        n: Option<i64>,
    }

    fn n(json: &str) -> Result<Option<i64>, String> {
        serde_json::from_str::<N>(json)
            .map(|v| v.n)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn numbers_come_as_numbers_or_text() {
        assert_eq!(n(r#"{"n": 7}"#), Ok(Some(7)));
        assert_eq!(n(r#"{"n": "7"}"#), Ok(Some(7)));
        assert_eq!(n(r##"{"n": "#7"}"##), Ok(Some(7)));
        assert_eq!(n(r#"{"n": ""}"#), Ok(None));
        assert_eq!(n(r#"{"n": null}"#), Ok(None));
        assert_eq!(n("{}"), Ok(None));
        assert!(n(r#"{"n": "seven"}"#).is_err());
    }

    #[test]
    fn booleans_in_queries() {
        assert_eq!(opt_bool("open", Some("on")).ok(), Some(Some(true)));
        assert_eq!(opt_bool("open", Some("")).ok(), Some(None));
        assert_eq!(opt_bool("open", Some("0")).ok(), Some(Some(false)));
        let e = opt_bool("overdue", Some("maybe")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("overdue"));
    }
}
