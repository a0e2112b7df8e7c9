//! The HTML side of the partner programme: the partner portal (`/partner…`) and the PSIRT's
//! overview (`/partners`) with its forms (agreements, revocations, alerts, answers). The rules
//! live in [`crate::partners`]; these pages render and turn form fields into its inputs.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::{BTreeSet, HashMap};

use keikai_domain::advisory::Tlp;
use keikai_domain::partner::{
    AgreementInput, AlertGroups, AlertInput, Audience, PartnerType, ProductScope,
};
use keikai_domain::release::display_in;
use keikai_domain::{Action, BranchId, Locale};
use serde::Deserialize;

use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::UiForm;
use crate::http::forms::{Pairs, field, fields};
use crate::http::state::AppState;
use crate::partners::{self, AlertReport, AlertView, PackageDetail, PackageSummary, PartnerRow};
use crate::ui::layout::{Page, after_submit, render};

fn when(state: &AppState, ctx: &Ctx, t: jiff::Timestamp) -> String {
    let schedule = &state.config.publishing.schedule;
    let main = schedule.display(t);
    let viewer = display_in(t, &crate::http::i18n::viewer_zone(ctx.lang));
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

pub(crate) async fn portal(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
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
    partners::log_alert_views(&state, &seat, &alerts).await?;
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

pub(crate) async fn package(
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
pub(crate) struct AskForm {
    text: String,
}

pub(crate) async fn ask(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((release, advisory)): Path<(String, String)>,
    UiForm(form): UiForm<AskForm>,
) -> AppResult<Response> {
    partners::ask(&state, &ctx, &release, &advisory, &form.text).await?;
    Ok(Redirect::to(&format!("/partner/releases/{release}#advisory-{advisory}")).into_response())
}

pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    partners::acknowledge(&state, &ctx, &id).await?;
    Ok(Redirect::to("/partner#alerts").into_response())
}

/// A partner organisation on the overview, with what its agreement form shows.
struct PartnerView {
    row: PartnerRow,
    expires: String,
    /// The form's values: the current agreement, or what was typed before an error.
    form: AgreementForm,
}

/// The agreement form as typed: dates as `YYYY-MM-DD`, the scope as `all` or `areas` with
/// the chosen branches.
#[derive(Debug, Clone, Default)]
struct AgreementForm {
    partner_type: String,
    tier: String,
    scope: String,
    branches: Vec<String>,
    signed_at: String,
    expires_at: String,
}

/// A question on the overview, with the names the PSIRT needs to answer it.
struct QuestionRow {
    id: String,
    release: String,
    tracking_id: String,
    organisation: String,
    text: String,
    asked_at: String,
    answers: Vec<(String, String, String)>,
}

/// What a failed form held, to show again with the error.
#[derive(Default)]
struct OverviewDrafts {
    agreement: Option<(String, AgreementForm)>,
    alert: Option<AlertForm>,
    answer: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "partners.html")]
struct OverviewTemplate {
    page: Page,
    partners: Vec<PartnerView>,
    tiers: Vec<(String, String)>,
    alerts: Vec<AlertReport>,
    unanswered: usize,
    can_manage: bool,
    partner_types: Vec<(String, String)>,
    branches: Vec<(String, String)>,
    questions: Vec<QuestionRow>,
    alert_tlps: Vec<(String, String)>,
    alert: AlertForm,
    answer: (String, String),
}

/// A date input's value of a timestamp (UTC, as the form reads it back).
fn date_value(t: jiff::Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .strftime("%Y-%m-%d")
        .to_string()
}

fn type_label(lang: Locale, t: PartnerType) -> String {
    crate::http::i18n::t(lang, &format!("partners-type-{}", t.as_str()))
}

async fn overview_page(
    state: &AppState,
    ctx: &Ctx,
    drafts: OverviewDrafts,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Action::ViewPartners)?;
    let lang = ctx.lang;
    let partners = partners::partner_rows(state)
        .await?
        .into_iter()
        .map(|row| {
            let expires = row
                .agreement
                .as_ref()
                .map(|a| when(state, ctx, a.expires_at))
                .unwrap_or_default();
            let typed = drafts
                .agreement
                .as_ref()
                .filter(|(org, _)| *org == row.org_id.to_string())
                .map(|(_, f)| f.clone());
            let form = typed.unwrap_or_else(|| match &row.agreement {
                Some(a) => AgreementForm {
                    partner_type: a.partner_type.as_str().to_owned(),
                    tier: a.tier.clone(),
                    scope: match a.scope {
                        ProductScope::All => "all".to_owned(),
                        ProductScope::Areas(_) => "areas".to_owned(),
                    },
                    branches: match &a.scope {
                        ProductScope::All => Vec::new(),
                        ProductScope::Areas(b) => b.iter().map(ToString::to_string).collect(),
                    },
                    signed_at: date_value(a.signed_at),
                    expires_at: date_value(a.expires_at),
                },
                None => AgreementForm {
                    scope: "all".to_owned(),
                    ..AgreementForm::default()
                },
            });
            PartnerView { row, expires, form }
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
        alerts.push(partners::alert_report(state, a).await?);
    }
    let all_questions = state.store.list_questions(None).await?;
    let unanswered = all_questions.iter().filter(|q| !q.is_answered()).count();
    let can_manage = ctx.allows(Action::ManagePartners);
    let branch_list = state.store.list_branches().await?;
    let paths = crate::ui::cases::branch_paths(&branch_list);
    let mut branches: Vec<(String, String)> = paths
        .iter()
        .map(|(id, path)| (id.to_string(), path.clone()))
        .collect();
    branches.sort_by(|a, b| a.1.cmp(&b.1));
    let orgs: HashMap<_, String> = state
        .store
        .list_orgs()
        .await?
        .into_iter()
        .map(|o| (o.id, o.name.to_string()))
        .collect();
    let mut releases = HashMap::new();
    let mut tracking = HashMap::new();
    let mut questions = Vec::new();
    let mut sorted = all_questions;
    sorted.sort_by_key(|q| std::cmp::Reverse(q.asked_at));
    for q in sorted {
        if let std::collections::hash_map::Entry::Vacant(e) = releases.entry(q.release_id) {
            let title = match state.store.get_release(q.release_id).await {
                Ok(r) => r.title().to_owned(),
                Err(keikai_store::StoreError::NotFound) => q.release_id.to_string(),
                Err(e) => return Err(e.into()),
            };
            e.insert(title);
        }
        if let std::collections::hash_map::Entry::Vacant(e) = tracking.entry(q.advisory_id) {
            let t = match state.store.get_advisory(q.advisory_id).await {
                Ok(a) => a.tracking_id,
                Err(keikai_store::StoreError::NotFound) => q.advisory_id.to_string(),
                Err(e) => return Err(e.into()),
            };
            e.insert(t);
        }
        questions.push(QuestionRow {
            id: q.id.to_string(),
            release: releases.get(&q.release_id).cloned().unwrap_or_default(),
            tracking_id: tracking.get(&q.advisory_id).cloned().unwrap_or_default(),
            organisation: orgs.get(&q.org_id).cloned().unwrap_or_default(),
            asked_at: when(state, ctx, q.asked_at),
            answers: q
                .answers
                .iter()
                .map(|a| {
                    let audience = match a.audience {
                        Audience::Everyone => "everyone",
                        Audience::Asker => "asker",
                    };
                    (
                        a.text.clone(),
                        crate::http::i18n::t(lang, &format!("partners-audience-{audience}")),
                        when(state, ctx, a.at),
                    )
                })
                .collect(),
            text: q.text,
        });
    }
    let mut page = ctx.page("partners-title");
    page.error = error;
    Ok(render(
        status,
        &OverviewTemplate {
            page,
            partners,
            tiers,
            alerts,
            unanswered,
            can_manage,
            partner_types: PartnerType::ALL
                .iter()
                .map(|t| (t.as_str().to_owned(), type_label(lang, *t)))
                .collect(),
            branches,
            questions,
            alert_tlps: [Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red]
                .iter()
                .map(|t| (t.as_str().to_owned(), t.label().to_owned()))
                .collect(),
            alert: drafts.alert.unwrap_or_else(|| AlertForm {
                tlp: Tlp::Amber.as_str().to_owned(),
                ..AlertForm::default()
            }),
            answer: drafts.answer.unwrap_or_default(),
        },
    ))
}

pub(crate) async fn overview(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    overview_page(
        &state,
        &ctx,
        OverviewDrafts::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// A `YYYY-MM-DD` date input as UTC midnight.
fn parse_date(name: &str, value: &str) -> AppResult<jiff::Timestamp> {
    let bad = || {
        AppError::invalid(
            name,
            format!("{name}: \"{value}\" is not a date (YYYY-MM-DD)"),
        )
    };
    let date: jiff::civil::Date = value.trim().parse().map_err(|_| bad())?;
    date.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .map_err(|_| bad())
}

impl AgreementForm {
    fn from_pairs(pairs: &Pairs) -> Self {
        Self {
            partner_type: field(pairs, "partner_type"),
            tier: field(pairs, "tier"),
            scope: field(pairs, "scope"),
            branches: fields(pairs, "branches"),
            signed_at: field(pairs, "signed_at"),
            expires_at: field(pairs, "expires_at"),
        }
    }

    fn input(&self) -> AppResult<AgreementInput> {
        let partner_type: PartnerType = self.partner_type.parse()?;
        let scope = match self.scope.as_str() {
            "all" => ProductScope::All,
            "areas" => {
                let mut set = BTreeSet::new();
                for b in &self.branches {
                    let id: BranchId = b.trim().parse().map_err(|_| {
                        AppError::invalid(
                            "scope",
                            format!("scope: \"{b}\" is not a product branch"),
                        )
                    })?;
                    set.insert(id);
                }
                ProductScope::Areas(set)
            }
            other => {
                return Err(AppError::invalid(
                    "scope",
                    format!("scope: \"{other}\" is neither all products nor chosen areas"),
                ));
            }
        };
        Ok(AgreementInput {
            partner_type,
            tier: self.tier.trim().to_owned(),
            scope,
            signed_at: parse_date("signed_at", &self.signed_at)?,
            expires_at: parse_date("expires_at", &self.expires_at)?,
        })
    }
}

/// `POST /partners/{org}/agreement`: records or renews an agreement.
pub(crate) async fn record_agreement(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(org): Path<String>,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    ctx.require(Action::ManagePartners)?;
    let form = AgreementForm::from_pairs(&pairs);
    let result = match form.input() {
        Ok(input) => partners::put_agreement(&state, &ctx, &org, input).await,
        Err(e) => Err(e),
    };
    let target = match &result {
        Ok(a) => format!("/partners#org-{}", a.org_id),
        Err(_) => String::new(),
    };
    let drafts = OverviewDrafts {
        agreement: Some((org.clone(), form)),
        ..OverviewDrafts::default()
    };
    after_submit(result, &target, |msg, status| {
        overview_page(&state, &ctx, drafts, Some(msg), status)
    })
    .await
}

/// `POST /partners/{org}/revoke`.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(org): Path<String>,
    UiForm(form): UiForm<partners::RevokeInput>,
) -> AppResult<Response> {
    ctx.require(Action::ManagePartners)?;
    let result = partners::revoke(&state, &ctx, &org, form).await;
    let target = match &result {
        Ok(a) => format!("/partners#org-{}", a.org_id),
        Err(_) => String::new(),
    };
    after_submit(result, &target, |msg, status| {
        overview_page(&state, &ctx, OverviewDrafts::default(), Some(msg), status)
    })
    .await
}

/// The alert form: groups as checkboxes (`tier`, `partner_type`, repeated).
#[derive(Debug, Clone, Default)]
struct AlertForm {
    title: String,
    body: String,
    tlp: String,
    tiers: Vec<String>,
    partner_types: Vec<String>,
}

impl AlertForm {
    fn input(&self) -> AppResult<AlertInput> {
        let tlp: Tlp = self.tlp.trim().parse()?;
        let mut groups = AlertGroups {
            tiers: self.tiers.iter().cloned().collect(),
            ..AlertGroups::default()
        };
        for t in &self.partner_types {
            groups.partner_types.insert(t.parse()?);
        }
        Ok(AlertInput {
            title: self.title.clone(),
            body: self.body.clone(),
            tlp,
            groups,
        })
    }
}

/// `POST /partners/alerts`: sends an emergency alert at once.
pub(crate) async fn send_alert(
    State(state): State<AppState>,
    ctx: Ctx,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    ctx.require(Action::ManagePartners)?;
    let form = AlertForm {
        title: field(&pairs, "title"),
        body: field(&pairs, "body"),
        tlp: field(&pairs, "tlp"),
        tiers: fields(&pairs, "tier"),
        partner_types: fields(&pairs, "partner_type"),
    };
    let result = match form.input() {
        Ok(input) => partners::send_alert(&state, &ctx, input).await,
        Err(e) => Err(e),
    };
    let target = match &result {
        Ok(r) => format!("/partners#alert-{}", r.alert.id),
        Err(_) => String::new(),
    };
    let drafts = OverviewDrafts {
        alert: Some(form),
        ..OverviewDrafts::default()
    };
    after_submit(result, &target, |msg, status| {
        overview_page(&state, &ctx, drafts, Some(msg), status)
    })
    .await
}

#[derive(Deserialize)]
pub(crate) struct AnswerForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    audience: String,
}

/// `POST /partners/questions/{id}/answers`.
pub(crate) async fn answer(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    UiForm(form): UiForm<AnswerForm>,
) -> AppResult<Response> {
    ctx.require(Action::ManagePartners)?;
    let audience = match form.audience.as_str() {
        "everyone" => Ok(Audience::Everyone),
        "asker" => Ok(Audience::Asker),
        other => Err(AppError::invalid(
            "audience",
            format!("audience: \"{other}\" is neither everyone nor the asker"),
        )),
    };
    let result = match audience {
        Ok(audience) => {
            partners::answer(
                &state,
                &ctx,
                &id,
                partners::AnswerInput {
                    text: form.text.clone(),
                    audience,
                },
            )
            .await
        }
        Err(e) => Err(e),
    };
    let target = match &result {
        Ok(q) => format!("/partners#question-{}", q.id),
        Err(_) => String::new(),
    };
    let drafts = OverviewDrafts {
        answer: Some((id.clone(), form.text)),
        ..OverviewDrafts::default()
    };
    after_submit(result, &target, |msg, status| {
        overview_page(&state, &ctx, drafts, Some(msg), status)
    })
    .await
}
