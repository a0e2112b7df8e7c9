//! The PSIRT's pages of the partner programme (`/partners`): the overview with its forms
//! (agreements, revocations, alerts, answers) and the access trail as CSV. The rules live in
//! [`keikai_app::partners`]; these pages render and turn form fields into its inputs.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use keikai_app::partners as app;
use keikai_domain::advisory::Tlp;
use keikai_domain::partner::{
    AgreementInput, AlertGroups, AlertInput, Audience, PartnerType, ProductScope,
};
use keikai_domain::release::display_in;
use keikai_domain::{Action, BranchId, Locale, OrgId};
use serde::Deserialize;

use crate::api::partners::{AlertReport, AnswerInput, PartnerRow, RevokeInput};
use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::UiForm;
use crate::http::forms::{Pairs, csv_download, field, fields};
use crate::http::state::WebState;
use crate::ui::layout::{Page, render, submit};
use crate::ui::view::branch_options;

/// A time as the release schedule's zone shows it, and in the viewer's zone when that
/// differs.
pub(crate) fn when(state: &WebState, ctx: &Ctx, t: Timestamp) -> String {
    let main = state.app.config().publishing.schedule.display(t);
    let viewer = display_in(t, &crate::http::i18n::viewer_zone(ctx.lang));
    if viewer == main {
        main
    } else {
        format!("{main} ({viewer})")
    }
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
    agreement: Option<(OrgId, AgreementForm)>,
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
fn date_value(t: Timestamp) -> String {
    t.to_zoned(TimeZone::UTC)
        .date()
        .strftime("%Y-%m-%d")
        .to_string()
}

fn type_label(lang: Locale, t: PartnerType) -> String {
    crate::http::i18n::t(lang, &format!("partners-type-{}", t.as_str()))
}

impl AgreementForm {
    fn of(agreement: Option<&keikai_domain::partner::Agreement>) -> Self {
        match agreement {
            Some(a) => Self {
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
            None => Self {
                scope: "all".to_owned(),
                ..Self::default()
            },
        }
    }
}

async fn overview_page(
    state: &WebState,
    ctx: &Ctx,
    drafts: OverviewDrafts,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let o = app::overview(&state.app, &ctx.caller).await?;
    let lang = ctx.lang;
    let partners = o
        .partners
        .into_iter()
        .map(|p| {
            let expires = p
                .agreement
                .as_ref()
                .map(|a| when(state, ctx, a.expires_at))
                .unwrap_or_default();
            let form = match &drafts.agreement {
                Some((org, typed)) if *org == p.org.id => typed.clone(),
                _ => AgreementForm::of(p.agreement.as_ref()),
            };
            PartnerView {
                row: p.into(),
                expires,
                form,
            }
        })
        .collect();
    let tiers = state
        .app
        .config()
        .partner_tiers
        .all()
        .iter()
        .map(|t| (t.name.clone(), format!("{:#}", t.lead)))
        .collect();
    let branches = branch_options(&o.branches);
    let questions = o
        .questions
        .into_iter()
        .map(|e| QuestionRow {
            id: e.question.id.to_string(),
            release: e.release,
            tracking_id: e.tracking_id,
            organisation: e.organisation,
            asked_at: when(state, ctx, e.question.asked_at),
            answers: e
                .question
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
            text: e.question.text,
        })
        .collect();
    let mut page = ctx.page("partners-title");
    page.error = error;
    Ok(render(
        status,
        &OverviewTemplate {
            page,
            partners,
            tiers,
            alerts: o.alerts.into_iter().map(AlertReport::from).collect(),
            unanswered: o.unanswered,
            can_manage: ctx.caller.allows(Action::ManagePartners),
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

pub async fn overview(State(state): State<WebState>, ctx: Ctx) -> AppResult<Response> {
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
fn parse_date(name: &str, value: &str) -> AppResult<Timestamp> {
    let bad = || {
        AppError::invalid(
            name,
            format!("{name}: \"{value}\" is not a date (YYYY-MM-DD)"),
        )
    };
    let date: jiff::civil::Date = value.trim().parse().map_err(|_| bad())?;
    date.to_zoned(TimeZone::UTC)
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
pub async fn record_agreement(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(org): Path<String>,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    let org: OrgId = ctx.id(&org)?;
    let form = AgreementForm::from_pairs(&pairs);
    let input = form.input();
    let drafts = OverviewDrafts {
        agreement: Some((org, form)),
        ..OverviewDrafts::default()
    };
    submit(
        input,
        |input| app::record_agreement(&state.app, &ctx.caller, org, input),
        |a| format!("/partners#org-{}", a.org_id),
        |msg, status| overview_page(&state, &ctx, drafts, Some(msg), status),
    )
    .await
}

/// `POST /partners/{org}/revoke`.
pub async fn revoke(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(org): Path<String>,
    UiForm(form): UiForm<RevokeInput>,
) -> AppResult<Response> {
    let org: OrgId = ctx.id(&org)?;
    submit(
        Ok(form),
        async |form: RevokeInput| {
            app::revoke_agreement(&state.app, &ctx.caller, org, &form.reason).await
        },
        |a| format!("/partners#org-{}", a.org_id),
        |msg, status| overview_page(&state, &ctx, OverviewDrafts::default(), Some(msg), status),
    )
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
pub async fn send_alert(
    State(state): State<WebState>,
    ctx: Ctx,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    let form = AlertForm {
        title: field(&pairs, "title"),
        body: field(&pairs, "body"),
        tlp: field(&pairs, "tlp"),
        tiers: fields(&pairs, "tier"),
        partner_types: fields(&pairs, "partner_type"),
    };
    let input = form.input();
    let drafts = OverviewDrafts {
        alert: Some(form),
        ..OverviewDrafts::default()
    };
    submit(
        input,
        |input| app::send_alert(&state.app, &ctx.caller, input),
        |r| format!("/partners#alert-{}", r.alert.id),
        |msg, status| overview_page(&state, &ctx, drafts, Some(msg), status),
    )
    .await
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    audience: String,
}

impl AnswerForm {
    /// The answer as the API takes it; the audience as the form's select names it.
    fn input(&self) -> AppResult<AnswerInput> {
        let audience = match self.audience.as_str() {
            "everyone" => Audience::Everyone,
            "asker" => Audience::Asker,
            other => {
                return Err(AppError::invalid(
                    "audience",
                    format!("audience: \"{other}\" is neither everyone nor the asker"),
                ));
            }
        };
        Ok(AnswerInput {
            text: self.text.clone(),
            audience,
        })
    }
}

/// `POST /partners/questions/{id}/answers`.
pub async fn answer(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    UiForm(form): UiForm<AnswerForm>,
) -> AppResult<Response> {
    let question: uuid::Uuid = ctx.id(&id)?;
    let input = form.input();
    let drafts = OverviewDrafts {
        answer: Some((id, form.text)),
        ..OverviewDrafts::default()
    };
    submit(
        input,
        |input: AnswerInput| app::answer(&state.app, &ctx.caller, input.command(question)),
        |q| format!("/partners#question-{}", q.id),
        |msg, status| overview_page(&state, &ctx, drafts, Some(msg), status),
    )
    .await
}

/// `GET /partners/access.csv`: the whole trail for auditors, newest first.
pub async fn access_csv(State(state): State<WebState>, ctx: Ctx) -> AppResult<Response> {
    let rows = app::access_trail(&state.app, &ctx.caller)
        .await?
        .into_iter()
        .map(|r| {
            vec![
                r.at.to_string(),
                r.organisation,
                r.user,
                r.kind.as_str().to_owned(),
                r.release.map(|x| x.to_string()).unwrap_or_default(),
                r.advisory.unwrap_or_default(),
                r.alert.map(|x| x.to_string()).unwrap_or_default(),
                r.detail,
            ]
        });
    Ok(csv_download(
        "partner-access.csv",
        &[
            "at",
            "organisation",
            "user",
            "kind",
            "release",
            "advisory",
            "alert",
            "detail",
        ],
        rows,
    ))
}
