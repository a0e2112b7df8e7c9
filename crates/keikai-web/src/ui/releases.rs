//! The release pages: the planned releases and those gone out (with the forms that plan a
//! monthly or an out-of-band one), and one release with the readiness of every advisory
//! planned for it, the form that moves it and the button that publishes it now. Every form
//! calls one use case of [`keikai_app::releases`] or [`keikai_app::publishing`].

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use keikai_app::releases::{self as app, Reschedule};
use keikai_app::{App, publishing};
use keikai_domain::release::{Release, ReleaseKind, ReleaseState, display_in};
use keikai_domain::{Action, Locale, ReleaseId};
use serde::Deserialize;

use crate::api::releases::{NewReleaseInput, ReleaseTimeInput, kind_str};
use crate::http::ctx::Ctx;
use crate::http::error::AppResult;
use crate::http::extract::{UiForm, lenient_i64};
use crate::http::i18n::{self, viewer_zone};
use crate::http::state::WebState;
use crate::ui::advisories::{AdvisoryRow, advisory_row};
use crate::ui::layout::{Page, render, submit};
use crate::ui::view::at;

struct ReleaseRow {
    id: String,
    title: String,
    kind_label: String,
    state: &'static str,
    state_label: String,
    /// In the schedule's zone.
    when: String,
    /// In the viewer's zone, when that differs.
    when_viewer: String,
    published_at: String,
}

fn release_row(app: &App, lang: Locale, r: &Release) -> ReleaseRow {
    let schedule = &app.config().publishing.schedule;
    let when = schedule.display(r.scheduled_at());
    let viewer = display_in(r.scheduled_at(), &viewer_zone(lang));
    ReleaseRow {
        id: r.id().to_string(),
        title: r.title().to_owned(),
        kind_label: i18n::t(lang, &format!("release-kind-{}", kind_str(r.kind()))),
        state: r.state().as_str(),
        state_label: i18n::t(lang, &format!("release-state-{}", r.state().as_str())),
        when_viewer: if viewer == when {
            String::new()
        } else {
            viewer
        },
        when,
        published_at: r.published_at().map(at).unwrap_or_default(),
    }
}

fn release_url(id: ReleaseId) -> String {
    format!("/releases/{id}")
}

// ---------------------------------------------------------------- the list

#[derive(Template)]
#[template(path = "releases.html")]
struct ReleasesTemplate {
    page: Page,
    planned: Vec<ReleaseRow>,
    published: Vec<ReleaseRow>,
    schedule: String,
    /// The next monthly release's month (`YYYY-MM`) and when it leaves.
    next_month: String,
    next_when: String,
    draft_title: String,
    draft_local_time: String,
    draft_zone: String,
    can_manage: bool,
}

/// How many releases that have gone out the list shows.
const RECENT_RELEASES: usize = 12;

async fn releases_page(
    s: &WebState,
    ctx: &Ctx,
    draft: Option<&NewReleaseInput>,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let all = app::overview(&s.app, &ctx.caller, RECENT_RELEASES).await?;
    let schedule = &s.app.config().publishing.schedule;
    let (next_month, next_when) = all.next_monthly.map_or_else(Default::default, |t| {
        let z = t.to_zoned(schedule.zone().clone());
        (
            format!("{:04}-{:02}", z.year(), z.month()),
            schedule.display(t),
        )
    });
    let mut page = ctx.page("releases-title");
    page.error = error;
    let rows = |list: &[Release]| -> Vec<ReleaseRow> {
        list.iter().map(|r| release_row(&s.app, lang, r)).collect()
    };
    let tpl = ReleasesTemplate {
        page,
        planned: rows(&all.planned),
        published: rows(&all.gone),
        schedule: schedule.to_string(),
        next_month,
        next_when,
        draft_title: draft.map(|d| d.title.clone()).unwrap_or_default(),
        draft_local_time: draft
            .and_then(|d| d.time.local_time.clone())
            .unwrap_or_default(),
        draft_zone: draft
            .and_then(|d| d.time.zone.clone())
            .unwrap_or_else(|| schedule.zone_name().to_owned()),
        can_manage: ctx.caller.allows(Action::ManageReleases),
    };
    Ok(render(status, &tpl))
}

pub async fn releases(State(s): State<WebState>, ctx: Ctx) -> AppResult<Response> {
    releases_page(&s, &ctx, None, None, StatusCode::OK).await
}

pub async fn plan_release(
    State(s): State<WebState>,
    ctx: Ctx,
    UiForm(form): UiForm<NewReleaseInput>,
) -> AppResult<Response> {
    ctx.signed_in()?;
    submit(
        form.command(),
        |c| app::plan(&s.app, &ctx.caller, c),
        |r| release_url(r.id()),
        |msg, status| releases_page(&s, &ctx, Some(&form), Some(msg), status),
    )
    .await
}

// ---------------------------------------------------------------- one release

#[derive(Template)]
#[template(path = "release.html")]
struct ReleaseTemplate {
    page: Page,
    rel: ReleaseRow,
    revision: i64,
    monthly: bool,
    planned: bool,
    rows: Vec<AdvisoryRow>,
    ready: usize,
    /// Once the release has gone out: how many of its advisories were published in it.
    published: usize,
    month: String,
    local_time: String,
    zone: String,
    can_manage: bool,
}

async fn release_page(
    s: &WebState,
    ctx: &Ctx,
    id: ReleaseId,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let (release, list) = app::readiness(&s.app, &ctx.caller, id).await?;
    let schedule = &s.app.config().publishing.schedule;
    let local = release.scheduled_at().to_zoned(schedule.zone().clone());
    let rows: Vec<AdvisoryRow> = list
        .into_iter()
        .map(|(a, r)| advisory_row(lang, &a, r))
        .collect();
    let mut page = ctx.page("release-title");
    page.title = release.title().to_owned();
    page.error = error;
    let tpl = ReleaseTemplate {
        page,
        rel: release_row(&s.app, lang, &release),
        revision: release.revision,
        monthly: release.kind() == ReleaseKind::Monthly,
        planned: release.state() == ReleaseState::Planned,
        ready: rows.iter().filter(|r| r.r.ready).count(),
        published: rows.iter().filter(|r| r.state == "published").count(),
        rows,
        month: format!("{:04}-{:02}", local.year(), local.month()),
        local_time: local.datetime().strftime("%Y-%m-%dT%H:%M").to_string(),
        zone: schedule.zone_name().to_owned(),
        can_manage: ctx.caller.allows(Action::ManageReleases),
    };
    Ok(render(status, &tpl))
}

pub async fn release(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    release_page(&s, &ctx, ctx.id(&id)?, None, StatusCode::OK).await
}

/// The form that moves a planned release.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RescheduleForm {
    #[serde(flatten)]
    pub time: ReleaseTimeInput,
    /// The release's revision the change is based on.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub revision: Option<i64>,
}

pub async fn reschedule(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    UiForm(form): UiForm<RescheduleForm>,
) -> AppResult<Response> {
    let id: ReleaseId = ctx.id(&id)?;
    let cmd = form.time.time().map(|time| Reschedule {
        release: id,
        time,
        revision: form.revision,
    });
    submit(
        cmd,
        |c| app::reschedule(&s.app, &ctx.caller, c),
        |r| release_url(r.id()),
        |msg, status| release_page(&s, &ctx, id, Some(msg), status),
    )
    .await
}

/// `POST /releases/{id}/publish`: publishes a planned release now (e.g. out of band).
pub async fn publish_now_ui(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id: ReleaseId = ctx.id(&id)?;
    publishing::publish_release(&s.app, &ctx.caller, id).await?;
    Ok(Redirect::to(&release_url(id)).into_response())
}
