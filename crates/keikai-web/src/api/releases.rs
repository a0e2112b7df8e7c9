//! Releases through the REST API: the same use cases as the release pages
//! ([`keikai_app::releases`], [`keikai_app::publishing`]), as JSON. Only the PSIRT sees
//! releases: anyone else gets 404. Bad input answers 422 naming the field; publishing a
//! release that has gone out, 409.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use jiff::civil::DateTime;
use keikai_app::releases::{self as app, LocalTime, PlanRelease, ReleaseTime};
use keikai_app::{App, publishing};
use keikai_domain::advisory::{AdvisoryState, Localized, Readiness};
use keikai_domain::release::{Release, ReleaseKind, ReleaseState, display_in, parse_zone};
use keikai_domain::{AdvisoryId, ReleaseId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::advisories::titles;
use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::{ApiJson, blank_to_none};
use crate::http::state::WebState;

// ---------------------------------------------------------------- request bodies

/// When a release leaves: one of an RFC 3339 instant, a month (monthly releases: the
/// schedule gives the instant) or a local date and time in a zone.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ReleaseTimeInput {
    /// An instant, e.g. `2026-03-10T17:00:00Z`. A monthly release must be at its month's
    /// instant.
    #[serde(default)]
    pub scheduled_at: Option<String>,
    /// `YYYY-MM`: the monthly release of that month (second Tuesday at the configured time).
    #[serde(default)]
    pub month: Option<String>,
    /// `YYYY-MM-DDTHH:MM`, read in `zone`.
    #[serde(default)]
    pub local_time: Option<String>,
    /// An IANA time zone for `local_time` (default: the release schedule's zone).
    #[serde(default)]
    pub zone: Option<String>,
}

impl ReleaseTimeInput {
    /// The time given: an instant decides alone; otherwise the month and the local time, of
    /// which the release's kind picks.
    pub fn time(&self) -> AppResult<ReleaseTime> {
        if let Some(s) = blank_to_none(self.scheduled_at.as_deref()) {
            let at = s.parse::<Timestamp>().map_err(|_| {
                AppError::invalid(
                    "scheduled_at",
                    format!(
                        "scheduled_at: \"{s}\" is not an RFC 3339 time (e.g. 2026-03-10T17:00:00Z)"
                    ),
                )
            })?;
            return Ok(ReleaseTime {
                at: Some(at),
                ..ReleaseTime::default()
            });
        }
        let month = blank_to_none(self.month.as_deref())
            .map(|m| {
                let bad = || {
                    AppError::invalid(
                        "month",
                        format!("month: \"{m}\" is not a month in the form YYYY-MM"),
                    )
                };
                let (y, mo) = m.split_once('-').ok_or_else(bad)?;
                Ok::<_, AppError>((
                    y.parse::<i16>().map_err(|_| bad())?,
                    mo.parse::<i8>().map_err(|_| bad())?,
                ))
            })
            .transpose()?;
        let local = blank_to_none(self.local_time.as_deref())
            .map(|t| {
                let at: DateTime = t.parse().map_err(|_| {
                    AppError::invalid(
                        "local_time",
                        format!("local_time: \"{t}\" is not a date and time (YYYY-MM-DDTHH:MM)"),
                    )
                })?;
                let zone = blank_to_none(self.zone.as_deref())
                    .map(|z| parse_zone(z).map(|(zone, _)| zone))
                    .transpose()?;
                Ok::<_, AppError>(LocalTime { at, zone })
            })
            .transpose()?;
        Ok(ReleaseTime {
            at: None,
            month,
            local,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewReleaseInput {
    /// `monthly` or `out_of_band`.
    pub kind: String,
    /// Default: "Monthly release YYYY-MM" or "Out-of-band release YYYY-MM-DD".
    #[serde(default)]
    pub title: String,
    #[serde(flatten)]
    pub time: ReleaseTimeInput,
}

impl NewReleaseInput {
    pub fn command(&self) -> AppResult<PlanRelease> {
        let kind = match self.kind.trim() {
            "monthly" => ReleaseKind::Monthly,
            "out_of_band" => ReleaseKind::OutOfBand,
            other => {
                return Err(AppError::invalid(
                    "kind",
                    format!("kind: \"{other}\" is not monthly or out_of_band"),
                ));
            }
        };
        Ok(PlanRelease {
            kind,
            title: self.title.clone(),
            time: self.time.time()?,
        })
    }
}

/// The name of a release's kind, as bodies and the pages' messages use it.
pub fn kind_str(k: ReleaseKind) -> &'static str {
    match k {
        ReleaseKind::Monthly => "monthly",
        ReleaseKind::OutOfBand => "out_of_band",
    }
}

// ---------------------------------------------------------------- responses

#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseView {
    pub id: ReleaseId,
    /// `monthly` or `out_of_band`.
    pub kind: String,
    pub state: ReleaseState,
    pub title: String,
    #[schema(value_type = String)]
    pub scheduled_at: Timestamp,
    /// `scheduled_at` in the release schedule's zone, e.g. `2026-03-10 10:00 PDT`.
    pub scheduled_at_local: String,
    /// The release schedule's zone.
    pub zone: String,
    #[schema(value_type = Option<String>)]
    pub published_at: Option<Timestamp>,
    pub revision: i64,
}

impl ReleaseView {
    fn of(app: &App, r: &Release) -> Self {
        let schedule = &app.config().publishing.schedule;
        Self {
            id: r.id(),
            kind: kind_str(r.kind()).to_owned(),
            state: r.state(),
            title: r.title().to_owned(),
            scheduled_at: r.scheduled_at(),
            scheduled_at_local: display_in(r.scheduled_at(), schedule.zone()),
            zone: schedule.zone_name().to_owned(),
            published_at: r.published_at(),
            revision: r.revision,
        }
    }
}

/// One advisory of a release, with what stands between it and publication.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessRow {
    pub id: AdvisoryId,
    pub tracking_id: String,
    pub title: Localized<String>,
    pub state: AdvisoryState,
    /// `ready`: it will be published with the release (scheduled and approved).
    pub readiness: Readiness,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseDetail {
    pub release: ReleaseView,
    pub advisories: Vec<ReadinessRow>,
}

/// What a publication did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Outcome {
    pub published: Vec<Published>,
    /// Advisories planned for the release that were not published, with the reason.
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Published {
    pub tracking_id: String,
    pub version: u32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Skipped {
    pub tracking_id: String,
    pub reason: String,
}

impl From<publishing::Outcome> for Outcome {
    fn from(o: publishing::Outcome) -> Self {
        Self {
            published: o
                .published
                .into_iter()
                .map(|p| Published {
                    tracking_id: p.tracking_id,
                    version: p.version,
                })
                .collect(),
            skipped: o
                .skipped
                .into_iter()
                .map(|s| Skipped {
                    tracking_id: s.tracking_id,
                    reason: s.reason,
                })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------- handlers

#[utoipa::path(get, path = "/api/v1/releases", tag = "releases",
    responses((status = 200, description = "planned releases soonest first, then those gone out, latest first", body = Vec<ReleaseView>),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_releases(
    State(s): State<WebState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<ReleaseView>>> {
    let all = app::overview(&s.app, &ctx.caller, usize::MAX).await?;
    Ok(Json(
        all.planned
            .iter()
            .chain(all.gone.iter())
            .map(|r| ReleaseView::of(&s.app, r))
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/releases", tag = "releases", request_body = NewReleaseInput,
    responses((status = 201, body = ReleaseView), (status = 404, body = ErrorBody),
        (status = 422, description = "bad input; a monthly release off its month's instant, or a time not in the future, is refused naming `scheduled_at`", body = ErrorBody)))]
pub async fn plan_release(
    State(s): State<WebState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<NewReleaseInput>,
) -> AppResult<(StatusCode, Json<ReleaseView>)> {
    ctx.signed_in()?;
    let r = app::plan(&s.app, &ctx.caller, body.command()?).await?;
    Ok((StatusCode::CREATED, Json(ReleaseView::of(&s.app, &r))))
}

#[utoipa::path(get, path = "/api/v1/releases/{id}", tag = "releases",
    params(("id" = ReleaseId, Path)),
    responses((status = 200, description = "the release and its readiness: every advisory planned for it, in any state", body = ReleaseDetail),
        (status = 404, body = ErrorBody)))]
pub async fn get_release(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<ReleaseDetail>> {
    let (release, list) = app::readiness(&s.app, &ctx.caller, ctx.id(&id)?).await?;
    Ok(Json(ReleaseDetail {
        release: ReleaseView::of(&s.app, &release),
        advisories: list
            .into_iter()
            .map(|(a, readiness)| ReadinessRow {
                id: a.id,
                tracking_id: a.tracking_id.clone(),
                title: titles(&a),
                state: a.state,
                readiness,
            })
            .collect(),
    }))
}

/// `POST /api/v1/releases/{id}/publish`: publishes a planned release now.
#[utoipa::path(post, path = "/api/v1/releases/{id}/publish", tag = "releases",
    params(("id" = String, Path)),
    responses((status = 200, body = Outcome), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn publish_now_api(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<Outcome>> {
    let outcome = publishing::publish_release(&s.app, &ctx.caller, ctx.id(&id)?).await?;
    Ok(Json(outcome.into()))
}
