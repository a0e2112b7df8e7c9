//! The HTML side of the partner programme: the partner portal (`/partner…`) and the PSIRT's
//! overview (`/partners`). The rules live in [`crate::partners`]; these pages only render.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use keikai_domain::Action;
use keikai_domain::release::display_in;
use serde::Deserialize;

use crate::AppState;
use crate::api::UiForm;
use crate::ctx::Ctx;
use crate::error::AppResult;
use crate::partners::{self, AlertReport, AlertView, PackageDetail, PackageSummary, PartnerRow};
use crate::ui::{Page, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/partners", get(overview))
        .route("/partners/access.csv", get(partners::access_csv))
        .route("/partner", get(portal))
        .route("/partner/releases/{release}", get(package))
        .route(
            "/partner/releases/{release}/advisories/{advisory}/csaf",
            get(partners::download_csaf),
        )
        .route(
            "/partner/releases/{release}/advisories/{advisory}/questions",
            post(ask),
        )
        .route("/partner/alerts/{id}/ack", post(acknowledge))
}

fn when(state: &AppState, ctx: &Ctx, t: jiff::Timestamp) -> String {
    let schedule = &state.config.publishing.schedule;
    let main = schedule.display(t);
    let viewer = display_in(t, &crate::advisories::viewer_zone(ctx.lang));
    if viewer == main {
        main
    } else {
        format!("{main} ({viewer})")
    }
}

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

async fn portal(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let seat = partners::seat(&state, &ctx).await?;
    let packages = partners::package_summaries(&state, &seat)
        .await?
        .into_iter()
        .map(|p| {
            let embargo = when(&state, &ctx, p.embargo_until);
            let delivered = when(&state, &ctx, p.delivered_at);
            (p, embargo, delivered)
        })
        .collect();
    let alerts = partners::seat_alerts(&state, &seat).await?;
    let tpl = PortalTemplate {
        page: ctx.page("partner-portal-title"),
        organisation: seat.org.name.to_string(),
        tier: seat.agreement.tier.clone(),
        expires: when(&state, &ctx, seat.agreement.expires_at),
        packages,
        alerts,
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

async fn package(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(release): Path<String>,
) -> AppResult<Response> {
    let (_, detail) = partners::open_package(&state, &ctx, &release).await?;
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

#[derive(Deserialize)]
struct AskForm {
    text: String,
}

async fn ask(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((release, advisory)): Path<(String, String)>,
    UiForm(form): UiForm<AskForm>,
) -> AppResult<Response> {
    partners::ask(&state, &ctx, &release, &advisory, &form.text).await?;
    Ok(Redirect::to(&format!("/partner/releases/{release}#advisory-{advisory}")).into_response())
}

async fn acknowledge(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    partners::acknowledge(&state, &ctx, &id).await?;
    Ok(Redirect::to("/partner#alerts").into_response())
}

#[derive(Template)]
#[template(path = "partners.html")]
struct OverviewTemplate {
    page: Page,
    partners: Vec<(PartnerRow, String)>,
    tiers: Vec<(String, String)>,
    alerts: Vec<AlertReport>,
    unanswered: usize,
}

async fn overview(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    ctx.require(Action::ViewPartners)?;
    let partners = partners::partner_rows(&state)
        .await?
        .into_iter()
        .map(|p| {
            let expires = p
                .agreement
                .as_ref()
                .map(|a| when(&state, &ctx, a.expires_at))
                .unwrap_or_default();
            (p, expires)
        })
        .collect();
    let tiers = state
        .config
        .partners
        .all()
        .iter()
        .map(|t| (t.name.clone(), format!("{:#}", t.lead)))
        .collect();
    let mut alerts = Vec::new();
    for a in state.store.list_alerts().await?.into_iter().take(20) {
        alerts.push(partners::alert_report(&state, a).await?);
    }
    let unanswered = state
        .store
        .list_questions(None)
        .await?
        .iter()
        .filter(|q| !q.is_answered())
        .count();
    Ok(render(
        StatusCode::OK,
        &OverviewTemplate {
            page: ctx.page("partners-title"),
            partners,
            tiers,
            alerts,
            unanswered,
        },
    ))
}
