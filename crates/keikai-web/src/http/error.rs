//! One error type for every handler. It renders JSON under `/api` and an HTML page elsewhere.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use keikai_domain::DomainError;
use serde::Serialize;

/// Whether a request came to the API or to the UI; errors answer in the same language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Api,
    Ui,
}

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    /// A stable, machine-readable code such as `not_found` or `invalid_field`.
    pub code: &'static str,
    pub message: String,
    /// The input field at fault, when there is one.
    pub field: Option<String>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "not found")
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in or send an API token",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message);
        e.field = Some(field.into());
        e
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this path does not take that method",
        )
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn too_many_requests(message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// A mistake in what a form sent (a client error, but not "not found"): a page shows the
    /// form again with it, where anything else becomes an error page.
    pub(crate) fn is_form_mistake(&self) -> bool {
        self.status.is_client_error() && self.status != StatusCode::NOT_FOUND
    }
}

impl From<keikai_app::Error> for AppError {
    fn from(e: keikai_app::Error) -> Self {
        use keikai_app::Error as E;
        match e {
            E::NotFound => Self::not_found(),
            E::Unauthenticated => Self::unauthenticated(),
            E::Forbidden(m) => Self::forbidden(m),
            E::Conflict(m) => Self::conflict(m),
            E::Invalid { field, message } => Self::invalid(field, message),
            E::InvalidReference(m) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_reference", m)
            }
            E::RateLimited(m) => Self::too_many_requests(m),
            E::Unavailable(m) => Self::unavailable(m),
            E::Internal(m) => Self::internal(m),
        }
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        let field = e.field();
        Self::invalid(field, e.to_string())
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

/// Attached to every error response so that the outermost layer can re-render it as an HTML
/// page (or a sign-in redirect) when the request came to the UI.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub message: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let info = ErrorInfo {
            status: self.status,
            message: self.message.clone(),
        };
        let mut res = (
            self.status,
            axum::Json(ErrorBody {
                error: ErrorDetail {
                    code: self.code.to_owned(),
                    message: self.message,
                    field: self.field,
                },
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res.extensions_mut().insert(info);
        res
    }
}
