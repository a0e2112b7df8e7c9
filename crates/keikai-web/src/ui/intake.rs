//! Intake's pages: the public report form and the reporter's portal behind an unguessable
//! tracking link.
//!
//! Anyone may report without an account. The tracking link's secret is shown once; the store
//! keeps only its SHA-256, so a copy of the database opens nobody's portal. Whoever holds the
//! link sees the reporter's side of the case (status, the report, the conversation) and
//! nothing else: internal notes are never selected.
//!
//! The use cases are [`keikai_app::cases::intake`]; this is the form and the portal.

use askama::Template;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use jiff::Timestamp;
use keikai_app::cases::{Upload, intake};
use keikai_domain::attachment::{AttachmentError, AttachmentName, AttachmentPolicy};
use keikai_domain::case::{Case, CaseKind, CaseState, Credit, ReportInput, Visibility};
use keikai_domain::{BranchId, Locale, ProductTree};

use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::parse_id;
use crate::http::forms::{attachment_response, form_csrf, no_store, with_cookie};
use crate::http::i18n;
use crate::http::state::{ClientAddr, WebState};
use crate::ui::layout::{Page, Visit, after_submit, render};

// ---------------------------------------------------------------- reading forms

/// A form as sent, URL-encoded or `multipart/form-data` (with files in `attachments`).
#[derive(Debug, Default)]
pub struct FormData {
    fields: Vec<(String, String)>,
    uploads: Vec<Upload>,
    /// Files refused while reading, because they were over the size limit: the form is
    /// still shown again with everything else that was typed.
    too_large: Vec<AttachmentError>,
}

impl FormData {
    /// The first value of a field, or "" when it was not sent.
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name).to_owned()).filter(|v| !v.trim().is_empty())
    }

    /// A checkbox: sent (with any value but "false" or "0") means ticked.
    pub fn flag(&self, name: &str) -> bool {
        self.fields
            .iter()
            .any(|(k, v)| k == name && !matches!(v.as_str(), "" | "false" | "0" | "off"))
    }

    fn had_files(&self) -> bool {
        !self.uploads.is_empty() || !self.too_large.is_empty()
    }
}

fn content_type(req: &Request) -> &str {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

impl FromRequest<WebState> for FormData {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, Self::Rejection> {
        let ct = content_type(&req);
        if ct.starts_with("application/x-www-form-urlencoded") {
            // The central CSRF check has read the body already, within its own limit.
            let bytes =
                axum::body::to_bytes(req.into_body(), crate::http::auth::MAX_MULTIPART_BYTES)
                    .await
                    .map_err(|_| AppError::bad_request("the form is too large"))?;
            let fields = form_urlencoded::parse(&bytes).into_owned().collect();
            return Ok(Self {
                fields,
                ..Self::default()
            });
        }
        if !ct.starts_with("multipart/form-data") {
            return Err(AppError::bad_request(
                "send the form as multipart/form-data or application/x-www-form-urlencoded",
            ));
        }
        let unreadable = |e: axum::extract::multipart::MultipartError| {
            AppError::invalid(
                "attachments",
                format!(
                    "attachments: the form could not be read ({}); the whole form with its files may be at most {} MiB",
                    e.body_text(),
                    crate::http::auth::MAX_MULTIPART_BYTES >> 20
                ),
            )
        };
        let mut parts = Multipart::from_request(req, state)
            .await
            .map_err(|e| AppError::bad_request(e.body_text()))?;
        let limit = AttachmentPolicy::default().max_bytes;
        let mut form = Self::default();
        while let Some(mut field) = parts.next_field().await.map_err(unreadable)? {
            let name = field.name().unwrap_or_default().to_owned();
            let Some(file_name) = field.file_name().map(str::to_owned) else {
                let text = field.text().await.map_err(unreadable)?;
                form.fields.push((name, text));
                continue;
            };
            if name != "attachments" {
                continue;
            }
            // Past the limit the bytes are counted, not kept, so that the message can say how
            // large the file was.
            let mut bytes = Vec::new();
            let mut size: u64 = 0;
            while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                size = size.saturating_add(chunk.len() as u64);
                if size <= limit {
                    bytes.extend_from_slice(&chunk);
                }
            }
            // A file input left empty still sends a part, without a name or bytes.
            if file_name.is_empty() && size == 0 {
                continue;
            }
            if size > limit {
                form.too_large.push(AttachmentError::TooLarge {
                    name: AttachmentName::sanitise(&file_name),
                    size,
                    limit,
                });
            } else {
                form.uploads.push(Upload { file_name, bytes });
            }
        }
        Ok(form)
    }
}

// ---------------------------------------------------------------- the form

/// What was typed, to fill the form in again.
pub struct FormValues(FormData);

impl FormValues {
    pub fn v(&self, name: &str) -> &str {
        self.0.get(name)
    }

    pub fn on(&self, name: &str) -> bool {
        self.0.flag(name)
    }

    pub fn is(&self, name: &str, value: &str) -> bool {
        self.0.get(name) == value
    }
}

struct BranchOption {
    id: String,
    path: String,
}

#[derive(Template)]
#[template(path = "report_form.html")]
struct ReportFormTemplate {
    page: Page,
    form: FormValues,
    /// `None` when the visitor may not see the catalogue.
    branches: Option<Vec<BranchOption>>,
    /// The language preselected for answers.
    language: String,
    files_again: bool,
}

async fn branch_options(state: &WebState, ctx: &Ctx) -> AppResult<Option<Vec<BranchOption>>> {
    let Some(branches) = intake::catalogue(&state.app, &ctx.caller).await? else {
        return Ok(None);
    };
    let tree = ProductTree::from_branches(&branches);
    let mut out = Vec::new();
    tree.walk(&mut |node, _, path| {
        out.push(BranchOption {
            id: node.branch_id.to_string(),
            path: path.join(" / "),
        });
    });
    Ok(Some(out))
}

async fn form_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    form: FormData,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let (csrf, cookie) = form_csrf(ctx, headers, state.config.secure_cookies);
    let mut page = ctx.page("report-title");
    page.csrf = csrf;
    page.error = error;
    let language = match form.get("language") {
        "" => ctx.lang.as_str().to_owned(),
        l => l.to_owned(),
    };
    let files_again = page.error.is_some() && form.had_files();
    let tpl = ReportFormTemplate {
        page,
        branches: branch_options(state, ctx).await?,
        language,
        files_again,
        form: FormValues(form),
    };
    Ok(with_cookie(render(status, &tpl), cookie))
}

pub async fn form(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> AppResult<Response> {
    form_page(
        &state,
        &ctx,
        &headers,
        FormData::default(),
        None,
        StatusCode::OK,
    )
    .await
}

fn input_of(f: &FormData) -> AppResult<ReportInput> {
    let branch_id = match f.get("branch_id").trim() {
        "" => None,
        s => Some(s.parse::<BranchId>().map_err(|_| {
            AppError::invalid(
                "branch_id",
                format!("branch_id: \"{s}\" is not a catalogue entry"),
            )
        })?),
    };
    Ok(ReportInput {
        kind: f.opt("kind"),
        title: f.get("title").to_owned(),
        product: f.get("product").to_owned(),
        branch_id,
        version: f.get("version").to_owned(),
        description: f.get("description").to_owned(),
        impact: f.get("impact").to_owned(),
        steps: f.get("steps").to_owned(),
        cve: f.opt("cve"),
        publicly_known: f.flag("publicly_known"),
        exploited: f.flag("exploited"),
        disclosure_plans: f.get("disclosure_plans").to_owned(),
        planned_disclosure: f.opt("planned_disclosure"),
        credit: f.opt("credit"),
        credit_name: f.opt("credit_name"),
        credit_organisation: f.opt("credit_organisation"),
        reporter_name: f.opt("reporter_name"),
        reporter_email: f.opt("reporter_email"),
        reporter_organisation: f.opt("reporter_organisation"),
        pgp_key: f.opt("pgp_key"),
        language: f.opt("language"),
    })
}

#[derive(Template)]
#[template(path = "report_done.html")]
struct ReportDoneTemplate {
    page: Page,
    secret: String,
    url: String,
}

/// `POST /report`: the done page with the tracking link (shown this once), or the form again
/// with what was wrong and what was typed.
pub async fn submit_form(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    client: ClientAddr,
    mut form: FormData,
) -> AppResult<Response> {
    let result = match input_of(&form) {
        Ok(input) => {
            let cmd = intake::SubmitReport {
                input,
                uploads: std::mem::take(&mut form.uploads),
                too_large: form.too_large.clone(),
                client: client.0,
            };
            intake::submit(&state.app, &ctx.caller, cmd)
                .await
                .map_err(AppError::from)
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(done) => {
            let tpl = ReportDoneTemplate {
                page: ctx.page("report-done-title"),
                url: done.tracking_url(&state.app),
                secret: done.secret,
            };
            Ok(no_store(render(StatusCode::OK, &tpl)))
        }
        Err(e) if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN => {
            let msg = field_message(ctx.lang, &e);
            form_page(&state, &ctx, &headers, form, Some(msg), e.status).await
        }
        Err(e) => Err(e),
    }
}

/// The message with the field's label in the reader's language in front of it.
fn field_message(lang: Locale, e: &AppError) -> String {
    match &e.field {
        Some(f) => {
            let key = format!("report-field-{f}");
            let label = i18n::t(lang, &key);
            if label == key {
                e.message.clone()
            } else {
                format!("{label} — {}", e.message)
            }
        }
        None => e.message.clone(),
    }
}

// ---------------------------------------------------------------- the portal

struct AttachmentLink {
    id: String,
    name: String,
    size: String,
}

struct MessageView {
    from_reporter: bool,
    who: String,
    at: String,
    body: String,
    attachments: Vec<AttachmentLink>,
}

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalTemplate {
    page: Page,
    secret: String,
    title: String,
    state: &'static str,
    state_label: String,
    duplicate: bool,
    /// The advisories published for the report: (tracking id, version label).
    advisories: Vec<(String, String)>,
    facts: Vec<(String, String)>,
    messages: Vec<MessageView>,
    draft: String,
    credit: &'static str,
    credit_name: String,
    credit_organisation: String,
}

fn when(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn size_label(bytes: i64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// The report as the reporter sent it, field by field (empty fields left out).
fn facts(ctx: &Ctx, case: &Case) -> Vec<(String, String)> {
    let r = &case.report;
    let yes_no = |b: bool| ctx.t(if b { "report-yes" } else { "report-no" });
    let kind = match r.kind {
        CaseKind::Report => "report-kind-report",
        CaseKind::Question => "report-kind-question",
    };
    let mut out = vec![
        ("report-field-kind", ctx.t(kind)),
        ("portal-submitted", when(case.created_at)),
        ("report-field-product", r.product.clone()),
        ("report-field-version", r.version.clone()),
        (
            "report-field-cve",
            r.cve.as_ref().map(ToString::to_string).unwrap_or_default(),
        ),
        ("report-field-description", r.description.clone()),
        ("report-field-impact", r.impact.clone()),
        ("report-field-steps", r.steps.clone()),
        ("report-field-publicly_known", yes_no(r.publicly_known)),
        ("report-field-exploited", yes_no(r.exploited)),
        ("report-field-disclosure_plans", r.disclosure_plans.clone()),
        (
            "report-field-planned_disclosure",
            r.planned_disclosure
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ),
        (
            "report-field-reporter_name",
            r.reporter_name.clone().unwrap_or_default(),
        ),
        (
            "report-field-reporter_email",
            r.reporter_email
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        ),
        (
            "report-field-reporter_organisation",
            r.reporter_organisation.clone().unwrap_or_default(),
        ),
        (
            "report-field-pgp_key",
            r.reporter_key
                .as_ref()
                .map(|k| k.as_str().to_owned())
                .unwrap_or_default(),
        ),
        (
            "report-field-language",
            ctx.t(&format!("report-language-{}", r.language.as_str())),
        ),
    ];
    out.retain(|(_, v)| !v.trim().is_empty());
    out.into_iter().map(|(k, v)| (ctx.t(k), v)).collect()
}

async fn portal_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    secret: &str,
    draft: String,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let case = intake::tracked(&state.app, secret).await?;
    let messages = intake::conversation(&state.app, &case)
        .await?
        .into_iter()
        .map(|m| MessageView {
            from_reporter: m.from_reporter,
            who: ctx.t(if m.from_reporter {
                "portal-you"
            } else {
                "portal-psirt"
            }),
            at: when(m.created_at),
            body: m.body,
            attachments: m
                .attachments
                .into_iter()
                .filter(|a| a.visibility == Visibility::Reporter)
                .map(|a| AttachmentLink {
                    id: a.id.to_string(),
                    name: a.file_name,
                    size: size_label(a.size),
                })
                .collect(),
        })
        .collect();
    let (csrf, cookie) = form_csrf(ctx, headers, state.config.secure_cookies);
    let mut page = ctx.page("portal-title");
    page.csrf = csrf;
    page.error = error;
    page.back = Some(format!("/track/{secret}"));
    let (credit, credit_name, credit_organisation) = match &case.report.credit {
        Credit::Named { name, organisation } => (
            "named",
            name.clone(),
            organisation.clone().unwrap_or_default(),
        ),
        Credit::Anonymous => ("anonymous", String::new(), String::new()),
        Credit::None => ("none", String::new(), String::new()),
    };
    let tpl = PortalTemplate {
        page,
        secret: secret.to_owned(),
        title: case.title.clone(),
        state: case.state.as_str(),
        state_label: ctx.t(&format!("portal-state-{}", case.state.as_str())),
        duplicate: case.state == CaseState::Duplicate,
        advisories: case
            .published_advisories()
            .into_iter()
            .map(|a| {
                let n = a.version.to_string();
                let version = ctx.t_with("portal-advisory-version", &[("version", &n)]);
                (a.tracking_id.clone(), version)
            })
            .collect(),
        facts: facts(ctx, &case),
        messages,
        draft,
        credit,
        credit_name,
        credit_organisation,
    };
    Ok(no_store(with_cookie(render(status, &tpl), cookie)))
}

/// `GET /track/{secret}`: the reporter's portal.
pub async fn portal(v: Visit) -> AppResult<Response> {
    let Visit {
        state,
        ctx,
        headers,
        token: secret,
    } = &v;
    portal_page(
        state,
        ctx,
        headers,
        secret,
        String::new(),
        None,
        StatusCode::OK,
    )
    .await
}

/// `POST /track/{secret}/messages`: the reporter writes to the PSIRT, with files if they like.
pub async fn reply(v: Visit, mut form: FormData) -> AppResult<Response> {
    let uploads = std::mem::take(&mut form.uploads);
    let (app, who) = (&v.state.app, &v.ctx.caller);
    let result = intake::reply(
        app,
        who,
        &v.token,
        form.get("body"),
        uploads,
        &form.too_large,
    )
    .await
    .map_err(AppError::from);
    let draft = form.get("body").to_owned();
    portal_after(&v, result, "conversation", draft).await
}

/// `POST /track/{secret}/credit`: how the reporter wants to be thanked in the advisory.
pub async fn set_credit(v: Visit, form: FormData) -> AppResult<Response> {
    let result = match Credit::new(
        form.get("credit").trim(),
        Some(form.get("credit_name")),
        Some(form.get("credit_organisation")),
    ) {
        Ok(credit) => intake::set_credit(&v.state.app, &v.ctx.caller, &v.token, credit)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e.into()),
    };
    portal_after(&v, result, "credit", String::new()).await
}

async fn portal_after<T>(
    v: &Visit,
    result: AppResult<T>,
    anchor: &str,
    draft: String,
) -> AppResult<Response> {
    // A read-only token's refusal is not a mistake in the form.
    let result = match result {
        Err(e) if e.status == StatusCode::FORBIDDEN => return Err(e),
        r => r,
    };
    let target = format!("/track/{}#{anchor}", v.token);
    after_submit(result, &target, |msg, status| {
        portal_page(
            &v.state,
            &v.ctx,
            &v.headers,
            &v.token,
            draft,
            Some(msg),
            status,
        )
    })
    .await
}

/// `GET /track/{secret}/attachments/{attachment}`: a file of the conversation, as a download
/// no browser will run.
pub async fn download(
    State(state): State<WebState>,
    Path((secret, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let (meta, bytes) = intake::attachment(&state.app, &secret, id).await?;
    Ok(attachment_response(&meta, bytes))
}

// ---------------------------------------------------------------- routes

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData {
            fields: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..FormData::default()
        }
    }

    #[test]
    fn checkboxes_and_blank_fields() {
        let f = form(&[
            ("title", "t"),
            ("exploited", "1"),
            ("publicly_known", "0"),
            ("cve", "  "),
            ("branch_id", ""),
        ]);
        let input = input_of(&f).unwrap();
        assert!(input.exploited);
        assert!(!input.publicly_known);
        assert_eq!(input.cve, None);
        assert_eq!(input.branch_id, None);
        assert_eq!(input.title, "t");
    }

    #[test]
    fn a_malformed_catalogue_entry_is_named() {
        let e = input_of(&form(&[("branch_id", "not-an-id")])).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("branch_id"));
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(size_label(12), "12 B");
        assert_eq!(size_label(2048), "2.0 KiB");
        assert_eq!(size_label(3 << 20), "3.0 MiB");
    }
}
