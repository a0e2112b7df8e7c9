//! The partner portal's pages (`/partner…`), for partner contacts under a valid agreement:
//! their packages, each package with its partner editions and questions, and the alerts.
//! Anyone else finds nothing: the use cases ([`keikai_app::partners`]) start from the seat.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use keikai_app::partners as app;
use keikai_domain::{AdvisoryId, ReleaseId};

use crate::api::partner_portal::{AlertView, AskInput, PackageDetail, PackageSummary};
use crate::http::ctx::Ctx;
use crate::http::error::AppResult;
use crate::http::extract::UiForm;
use crate::http::state::WebState;
use crate::ui::layout::{Page, render};
use crate::ui::partners::when;

#[derive(Template)]
#[template(path = "partner_portal.html")]
struct PortalTemplate {
    page: Page,
    organisation: String,
    tier: String,
    expires: String,
    packages: Vec<(PackageSummary, String, String)>,
    alerts: Vec<AlertView>,
}

/// `GET /partner`: the packages and alerts of the caller's organisation.
pub async fn portal(State(state): State<WebState>, ctx: Ctx) -> AppResult<Response> {
    let p = app::portal(&state.app, &ctx.caller).await?;
    let packages = p
        .packages
        .iter()
        .map(|p| {
            let summary = PackageSummary::from(p);
            let embargo = when(&state, &ctx, summary.embargo_until);
            let delivered = when(&state, &ctx, summary.delivered_at);
            (summary, embargo, delivered)
        })
        .collect();
    let tpl = PortalTemplate {
        page: ctx.page("partner-portal-title"),
        organisation: p.seat.org.name.to_string(),
        tier: p.seat.agreement.tier.clone(),
        expires: when(&state, &ctx, p.seat.agreement.expires_at),
        packages,
        alerts: p.alerts.into_iter().map(AlertView::from).collect(),
    };
    Ok(render(StatusCode::OK, &tpl))
}

#[derive(Template)]
#[template(path = "partner_package.html")]
struct PackageTemplate {
    page: Page,
    detail: PackageDetail,
    embargo: String,
}

/// `GET /partner/releases/{release}`: one package.
pub async fn package(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(release): Path<String>,
) -> AppResult<Response> {
    let release = ctx.id(&release)?;
    let opened = app::open_package(&state.app, &ctx.caller, release).await?;
    let detail = PackageDetail::from(&opened);
    let embargo = when(&state, &ctx, detail.package.embargo_until);
    let mut page = ctx.page("partner-package-title");
    page.title = format!("{} — {}", page.title, detail.package.title);
    Ok(render(
        StatusCode::OK,
        &PackageTemplate {
            page,
            detail,
            embargo,
        },
    ))
}

/// `POST /partner/releases/{release}/advisories/{advisory}/questions`.
pub async fn ask(
    State(state): State<WebState>,
    ctx: Ctx,
    Path((release, advisory)): Path<(String, String)>,
    UiForm(form): UiForm<AskInput>,
) -> AppResult<Response> {
    let (release, advisory): (ReleaseId, AdvisoryId) = (ctx.id(&release)?, ctx.id(&advisory)?);
    app::ask(&state.app, &ctx.caller, form.command(release, advisory)).await?;
    Ok(Redirect::to(&format!("/partner/releases/{release}#advisory-{advisory}")).into_response())
}

/// `POST /partner/alerts/{id}/ack`.
pub async fn acknowledge(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    app::acknowledge(&state.app, &ctx.caller, ctx.id(&id)?).await?;
    Ok(Redirect::to("/partner#alerts").into_response())
}
