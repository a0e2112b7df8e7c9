//! Reports and questions through the API: the same use case as the public form
//! ([`keikai_app::cases::intake::submit`]), as JSON.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use keikai_app::cases::intake;
use keikai_domain::case::{CaseState, ReportInput};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::ctx::Ctx;
use crate::http::error::{AppResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::http::state::{ClientAddr, WebState};

/// What the reporter keeps: the only copy of the link to their portal.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmittedReport {
    /// The reporter's private link to the portal (status, messages, credit). It is returned
    /// this once and cannot be recovered; anyone holding it can read the conversation.
    pub tracking_url: String,
    /// The secret part of the link.
    pub tracking_token: String,
    pub state: CaseState,
}

/// Submit a vulnerability report or a customer question. No account is needed; when one is
/// used, the report is linked to it. JSON carries no files: send them as a message from the
/// portal (`/track/{token}`) once the report is in. Anonymous callers may send a limited
/// number of reports per hour (429 beyond it).
#[utoipa::path(post, path = "/api/v1/reports", tag = "intake", request_body = ReportInput,
    security((), ("bearer" = []), ("session" = [])),
    responses((status = 201, body = SubmittedReport),
        (status = 403, description = "a read-only API token", body = ErrorBody),
        (status = 422, description = "a field is wrong; `field` names it", body = ErrorBody),
        (status = 429, description = "too many reports from this address", body = ErrorBody)))]
pub async fn submit_api(
    State(state): State<WebState>,
    ctx: Ctx,
    client: ClientAddr,
    ApiJson(input): ApiJson<ReportInput>,
) -> AppResult<(StatusCode, Json<SubmittedReport>)> {
    let cmd = intake::SubmitReport {
        input,
        uploads: Vec::new(),
        too_large: Vec::new(),
        client: client.0,
    };
    let done = intake::submit(&state.app, &ctx.caller, cmd).await?;
    Ok((
        StatusCode::CREATED,
        Json(SubmittedReport {
            tracking_url: done.tracking_url(&state.app),
            tracking_token: done.secret,
            state: done.case.state,
        }),
    ))
}
