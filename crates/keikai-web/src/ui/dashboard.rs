//! The dashboard every signed-in person starts from ([`keikai_app::admin::account::dashboard`]).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use keikai_app::admin::account::{self, Dashboard};
use keikai_app::cases::Counts;

use crate::http::ctx::Ctx;
use crate::http::error::AppResult;
use crate::http::i18n;
use crate::http::state::WebState;
use crate::ui::layout::{Page, render};

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardTemplate {
    page: Page,
    welcome: String,
    products: Option<usize>,
    organisations: Option<usize>,
    users: Option<usize>,
    roles: Vec<String>,
    cases: Counts,
    unread: Vec<String>,
}

pub async fn dashboard(State(state): State<WebState>, ctx: Ctx) -> AppResult<Response> {
    let Dashboard {
        products,
        organisations,
        users,
        cases,
        unread,
    } = account::dashboard(&state.app, &ctx.caller).await?;
    let name = ctx
        .identity
        .user
        .as_ref()
        .map(|u| u.display_name.as_str().to_owned())
        .unwrap_or_default();
    let mut roles: Vec<String> = ctx
        .caller
        .principal()
        .map(|p| p.memberships.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|m| ctx.t(&format!("role-{}", m.role)))
        .collect();
    roles.dedup();
    let tpl = DashboardTemplate {
        welcome: i18n::t_with(ctx.lang, "dashboard-welcome", &[("name", &name)]),
        page: ctx.page("dashboard-title"),
        products,
        organisations,
        users,
        roles,
        cases,
        unread,
    };
    Ok(render(StatusCode::OK, &tpl))
}
