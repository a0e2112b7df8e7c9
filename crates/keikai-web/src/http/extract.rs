//! Request bodies as the doors read them: JSON for the API, forms for the pages, each
//! refusing what does not fit with an error naming the field.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::http::error::{AppError, AppResult};

/// Like `axum::Json`, but a body that does not fit answers in our error format and names the
/// field at fault.
pub struct ApiJson<T>(pub T);

/// Largest JSON body the API reads.
const MAX_JSON_BYTES: usize = 2 << 20;

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        if !has_content_type(&req, "application/json") {
            return Err(AppError::bad_request(
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = read_body(req, MAX_JSON_BYTES).await?;
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
        if !has_content_type(&req, "application/x-www-form-urlencoded") {
            return Err(AppError::bad_request(
                "send the form as application/x-www-form-urlencoded",
            ));
        }
        let bytes = read_body(req, MAX_JSON_BYTES).await?;
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(&bytes));
        serde_path_to_error::deserialize::<_, T>(de)
            .map(Self)
            .map_err(|err| {
                let path = err.path().to_string();
                field_error(&path, err.into_inner().to_string())
            })
    }
}

fn has_content_type(req: &Request, expected: &str) -> bool {
    req.headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with(expected))
}

async fn read_body(req: Request, limit: usize) -> AppResult<axum::body::Bytes> {
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| AppError::bad_request(format!("body larger than {limit} bytes")))
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
