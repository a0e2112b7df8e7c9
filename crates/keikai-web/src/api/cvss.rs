//! Scoring a CVSS vector through the REST API ([`keikai_app::cvss::score`]).

use axum::Json;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use keikai_app::cvss;
use keikai_cvss::ScoreReport;
use serde::Deserialize;

use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult, ErrorBody};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScoreQuery {
    /// A CVSS 2.0, 3.0, 3.1 or 4.0 vector, e.g. `CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H`.
    vector: String,
}

/// Scores a vector; the same record `keikai cvss score` prints.
#[utoipa::path(get, path = "/api/v1/cvss", tag = "cvss", params(ScoreQuery),
    responses((status = 200, body = ScoreReport), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn score_api(
    ctx: Ctx,
    query: Result<Query<ScoreQuery>, QueryRejection>,
) -> AppResult<Json<ScoreReport>> {
    ctx.signed_in()?;
    // `vector` is the only parameter, so whatever is wrong with the query is wrong with it.
    let Query(q) = query.map_err(|e| AppError::invalid("vector", e.body_text()))?;
    Ok(Json(cvss::score(&ctx.caller, &q.vector)?.report()))
}
