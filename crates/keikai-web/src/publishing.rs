//! Publishing: when a release's time comes, every approved advisory scheduled for it becomes
//! its next version, and the version's files are written once: the CSAF document with its
//! `.sha256`, `.sha512` and OpenPGP `.asc`, the HTML bulletin in each language, and a CVE JSON 5
//! record per CVE.
//!
//! Exactly once, also with several instances: the files are made first, outside any
//! transaction; the store then moves the release from planned to published, saves the
//! advisories and writes the files in one transaction that only the first instance to read
//! the release can commit (the others get a conflict and drop what they made).

use std::sync::Arc;

use askama::Template;
use jiff::Timestamp;
use keikai_domain::advisory::publication::{self, ProductNames, PublicationError, PublisherInfo};
use keikai_domain::advisory::{Advisory, AdvisoryState, PublishedVersion, ReviewState};
use keikai_domain::audit::AuditActor;
use keikai_domain::case::{ProductStatusKind, RemediationCategory};
use keikai_domain::{Locale, ReleaseId};
use keikai_openpgp::ProviderKey;
use keikai_store::{AdvisoryFilter, Effects, NewArtifact, StoreError};
use serde::Serialize;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use keikai_domain::Action;

use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult, ErrorBody};
use crate::http::i18n::t;
use crate::http::state::AppState;

pub use keikai_app::publishing::{KEY_SETTING, provider_key as app_provider_key};

/// The signing key (see [`keikai_app::publishing::provider_key`]).
pub async fn provider_key(state: &AppState) -> AppResult<Arc<ProviderKey>> {
    Ok(app_provider_key(&state.app).await?)
}

/// What a publication did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Outcome {
    pub published: Vec<Published>,
    /// Advisories planned for the release that were not published, with the reason.
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Published {
    pub tracking_id: String,
    pub version: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Skipped {
    pub tracking_id: String,
    pub reason: String,
}

/// The file names of one version.
pub fn csaf_file_name(tracking_id: &str) -> String {
    keikai_csaf::distribution::file_name(tracking_id)
}

pub fn html_file_name(lang: Locale) -> String {
    format!("{lang}.html")
}

/// Makes every file of one published version.
pub fn artifacts(
    advisory: &Advisory,
    version: &PublishedVersion,
    products: &ProductNames,
    publisher: &PublisherInfo,
    key: &ProviderKey,
) -> Result<Vec<NewArtifact>, PublicationError> {
    let mut out = Vec::new();
    let doc = publication::csaf_document(advisory, version, products, publisher)?;
    let json = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    let file = csaf_file_name(&advisory.tracking_id);
    let (sha256, sha512) = publication::digest_files(&file, &json);
    let asc = key
        .sign_detached(&json)
        .map_err(|e| PublicationError::Signature(e.to_string()))?;
    let cves = publication::cve_records(advisory, version, products, publisher)?;
    for lang in Locale::ALL {
        if version.content.text.get(lang).is_empty() {
            continue;
        }
        let html = render_bulletin(advisory, version, products, publisher, lang, &cves);
        out.push(NewArtifact {
            name: html_file_name(lang),
            content_type: "text/html; charset=utf-8".to_owned(),
            bytes: html.into_bytes(),
        });
    }
    out.push(NewArtifact {
        name: format!("{file}.sha256"),
        content_type: "text/plain; charset=utf-8".to_owned(),
        bytes: sha256.into_bytes(),
    });
    out.push(NewArtifact {
        name: format!("{file}.sha512"),
        content_type: "text/plain; charset=utf-8".to_owned(),
        bytes: sha512.into_bytes(),
    });
    out.push(NewArtifact {
        name: format!("{file}.asc"),
        content_type: "application/pgp-signature".to_owned(),
        bytes: asc.into_bytes(),
    });
    out.push(NewArtifact {
        name: file,
        content_type: "application/json".to_owned(),
        bytes: json,
    });
    for (cve, record) in cves {
        out.push(NewArtifact {
            name: format!("{cve}.json"),
            content_type: "application/json".to_owned(),
            bytes: serde_json::to_vec_pretty(&record).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Publishes a release now: every advisory scheduled for it and still approved gets its next
/// version. `Conflict` when it has gone out already (here or on another instance).
pub async fn publish_release(
    state: &AppState,
    id: ReleaseId,
    actor: AuditActor,
) -> AppResult<Outcome> {
    let mut release = state.store.get_release(id).await?;
    let now = state.clock.now();
    let planned = state
        .store
        .list_advisories(&AdvisoryFilter {
            release: Some(id),
            limit: 5000,
            ..AdvisoryFilter::default()
        })
        .await?;
    let products = ProductNames::from_branches(&state.store.list_branches().await?);
    let key = provider_key(state).await?;
    let publisher = &state.config.publishing.publisher;
    let mut changes = vec![
        release
            .mark_published(now)
            .map_err(|_| AppError::conflict("the release has gone out already"))?,
    ];
    let mut outcome = Outcome::default();
    let mut batch = Vec::new();
    for mut advisory in planned {
        let tracking_id = advisory.tracking_id.clone();
        if advisory.state != AdvisoryState::Scheduled
            || advisory.review_state() != ReviewState::Approved
        {
            outcome.skipped.push(Skipped {
                tracking_id,
                reason: "not approved in its current edit (changed after scheduling?)".to_owned(),
            });
            continue;
        }
        let change = match advisory.publish(id, now) {
            Ok(c) => c,
            Err(e) => {
                outcome.skipped.push(Skipped {
                    tracking_id,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let Some(version) = advisory.latest_version().cloned() else {
            continue;
        };
        match artifacts(&advisory, &version, &products, publisher, &key) {
            Ok(files) => {
                outcome.published.push(Published {
                    tracking_id,
                    version: version.number,
                });
                changes.push(change);
                batch.push((advisory, files));
            }
            Err(e) => {
                tracing::warn!(advisory = %tracking_id, error = %e, "advisory not published");
                outcome.skipped.push(Skipped {
                    tracking_id,
                    reason: e.to_string(),
                });
            }
        }
    }
    // The distribution of what goes out commits with it (the outbox); the fan-outs run
    // after this returns.
    let published: Vec<&Advisory> = batch.iter().map(|(a, _)| a).collect();
    let jobs = keikai_app::distribution::publication_jobs(
        &state.app, &release, &published, &products, now,
    )?;
    match state
        .store
        .publish_release(
            &release,
            &batch,
            &Effects::new(actor, now)
                .with_changes(changes)
                .with_jobs(jobs),
        )
        .await
    {
        Ok(()) => {
            tracing::info!(
                release = %id,
                published = outcome.published.len(),
                skipped = outcome.skipped.len(),
                "release published"
            );
            Ok(outcome)
        }
        Err(StoreError::Conflict(_)) => Err(AppError::conflict(
            "the release has gone out already (published by another instance or request)",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Publishes every release whose time has come; what the background loop calls.
pub async fn publish_due(state: &AppState) -> AppResult<Vec<(ReleaseId, Outcome)>> {
    let due = state.store.due_releases(state.clock.now()).await?;
    let mut done = Vec::new();
    for release in due {
        match publish_release(state, release.id(), AuditActor::System).await {
            Ok(outcome) => done.push((release.id(), outcome)),
            // Another instance was quicker: nothing to do.
            Err(e) if e.status == StatusCode::CONFLICT => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Delivers due partner packages, runs [`publish_due`] and queues the digests whose period
/// ended, every `poll_interval` until the process ends.
pub async fn run_scheduler(state: AppState) {
    let every = state
        .config
        .publishing
        .poll_interval
        .unsigned_abs()
        .max(std::time::Duration::from_millis(50));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // Partners' packages first: at a release's time its last tier is due as well.
        if let Err(e) =
            keikai_app::partners::deliver_due_packages(&state.app, &keikai_app::Caller::system())
                .await
        {
            tracing::error!(error = %e, "delivering partner packages failed");
        }
        if let Err(e) = publish_due(&state).await {
            tracing::error!(error = %e.message, "publishing due releases failed");
        }
        if let Err(e) =
            keikai_app::distribution::enqueue_due_digests(&state.app, &keikai_app::Caller::system())
                .await
        {
            tracing::error!(error = %e, "queueing digests failed");
        }
    }
}

// ------------------------------------------------------------------------------- routes

fn release_id(s: &str) -> AppResult<ReleaseId> {
    s.parse().map_err(|_| AppError::not_found())
}

/// `POST /releases/{id}/publish`: publishes a planned release now (e.g. out of band).
pub async fn publish_now_ui(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    ctx.require(Action::ManageReleases)?;
    let id = release_id(&id)?;
    publish_release(&state, id, ctx.audit_actor()).await?;
    Ok((
        StatusCode::SEE_OTHER,
        [(header::LOCATION, format!("/releases/{id}"))],
    )
        .into_response())
}

/// `POST /api/v1/releases/{id}/publish`: publishes a planned release now.
#[utoipa::path(post, path = "/api/v1/releases/{id}/publish", tag = "releases",
    params(("id" = String, Path)),
    responses((status = 200, body = Outcome), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn publish_now_api(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<Outcome>> {
    ctx.require(Action::ManageReleases)?;
    let id = release_id(&id)?;
    Ok(Json(publish_release(&state, id, ctx.audit_actor()).await?))
}

// ------------------------------------------------------------------------ the HTML bulletin

struct ScoreView {
    vector: String,
    score: String,
    severity: String,
    products: String,
}

struct StatusView {
    product: String,
    status: String,
}

struct RemediationView {
    category: String,
    details: String,
    fixed_version: Option<String>,
    kb: Option<String>,
    url: Option<String>,
    products: String,
}

struct VulnerabilityView {
    cve: Option<String>,
    cve_link: Option<String>,
    cwe: Option<String>,
    title: String,
    exploited: bool,
    publicly_disclosed: bool,
    scores: Vec<ScoreView>,
    statuses: Vec<StatusView>,
    remediations: Vec<RemediationView>,
}

#[derive(Template)]
#[template(path = "bulletin.html")]
struct BulletinTemplate<'a> {
    lang: Locale,
    other_lang: Option<Locale>,
    publisher: &'a str,
    tracking_id: &'a str,
    version: u32,
    title: &'a str,
    summary: &'a str,
    description: &'a str,
    impact: &'a str,
    faqs: &'a [keikai_domain::advisory::Faq],
    severity: Option<&'a str>,
    tlp: &'a str,
    initial_release: String,
    current_release: String,
    vulnerabilities: Vec<VulnerabilityView>,
    acknowledgments: Vec<String>,
    references: &'a [keikai_domain::advisory::Reference],
    revisions: Vec<(u32, String, String)>,
    csaf_file: String,
}

impl BulletinTemplate<'_> {
    fn t(&self, key: &str) -> String {
        t(self.lang, key)
    }
}

fn day(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn status_key(s: ProductStatusKind) -> &'static str {
    match s {
        ProductStatusKind::FirstAffected
        | ProductStatusKind::KnownAffected
        | ProductStatusKind::LastAffected => "bulletin-status-affected",
        ProductStatusKind::KnownNotAffected => "bulletin-status-not-affected",
        ProductStatusKind::UnderInvestigation => "bulletin-status-under-investigation",
        ProductStatusKind::FirstFixed
        | ProductStatusKind::Fixed
        | ProductStatusKind::Recommended => "bulletin-status-fixed",
    }
}

fn remediation_key(c: RemediationCategory) -> &'static str {
    match c {
        RemediationCategory::VendorFix => "bulletin-remediation-vendor-fix",
        RemediationCategory::Workaround => "bulletin-remediation-workaround",
        RemediationCategory::Mitigation => "bulletin-remediation-mitigation",
        RemediationCategory::NoneAvailable => "bulletin-remediation-none-available",
        RemediationCategory::NoFixPlanned => "bulletin-remediation-no-fix-planned",
    }
}

fn product_label(products: &ProductNames, id: keikai_domain::BranchId) -> String {
    products.get(id).map_or_else(
        |_| id.to_string(),
        |p| format!("{} {} {}", p.vendor, p.product, p.version),
    )
}

fn render_bulletin(
    advisory: &Advisory,
    version: &PublishedVersion,
    products: &ProductNames,
    publisher: &PublisherInfo,
    lang: Locale,
    cves: &[(String, serde_json::Value)],
) -> String {
    let content = &version.content;
    let text = content.text.get(lang);
    let other = Locale::ALL
        .into_iter()
        .find(|l| *l != lang && !content.text.get(*l).is_empty());
    let all_products = |ids: &[keikai_domain::BranchId]| -> String {
        if ids.is_empty() {
            t(lang, "bulletin-all-affected")
        } else {
            ids.iter()
                .map(|b| product_label(products, *b))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let vulnerabilities = content
        .vulnerabilities
        .iter()
        .map(|v| VulnerabilityView {
            cve: v.cve.as_ref().map(|c| c.as_str().to_owned()),
            cve_link: v.cve.as_ref().and_then(|c| {
                cves.iter()
                    .any(|(id, _)| id == c.as_str())
                    .then(|| format!("{}.json", c.as_str()))
            }),
            cwe: v.cwe.as_ref().map(|c| format!("{}: {}", c.id, c.name)),
            title: v.title.clone(),
            exploited: v.exploited,
            publicly_disclosed: v.publicly_disclosed,
            scores: v
                .scores
                .iter()
                .map(|s| {
                    let cvss = s.vector.cvss();
                    let report = cvss.report();
                    ScoreView {
                        vector: s.vector.as_str().to_owned(),
                        score: format!("{:.1}", s.vector.score()),
                        severity: report.severity.map(|s| s.to_string()).unwrap_or_default(),
                        products: all_products(&s.branch_ids),
                    }
                })
                .collect(),
            statuses: v
                .product_statuses
                .iter()
                .map(|s| StatusView {
                    product: product_label(products, s.branch_id),
                    status: t(lang, status_key(s.status)),
                })
                .collect(),
            remediations: v
                .remediations
                .iter()
                .map(|r| RemediationView {
                    category: t(lang, remediation_key(r.category)),
                    details: r.details.get(lang).clone(),
                    fixed_version: r.fixed_version.clone(),
                    kb: r.kb.clone(),
                    url: r.url.clone(),
                    products: all_products(&r.branch_ids),
                })
                .collect(),
        })
        .collect();
    let mut revisions: Vec<(u32, String, String)> = advisory
        .versions
        .iter()
        .filter(|v| v.number <= version.number)
        .map(|v| (v.number, day(v.at), v.summary.clone()))
        .collect();
    if !revisions.iter().any(|r| r.0 == version.number) {
        revisions.push((version.number, day(version.at), version.summary.clone()));
    }
    let initial = advisory
        .versions
        .first()
        .map_or(version.at, |v| v.at.min(version.at));
    let tpl = BulletinTemplate {
        lang,
        other_lang: other,
        publisher: &publisher.name,
        tracking_id: &advisory.tracking_id,
        version: version.number,
        title: &text.title,
        summary: &text.summary,
        description: &text.description,
        impact: &text.impact,
        faqs: &text.faqs,
        severity: content.severity.as_deref(),
        tlp: content.tlp.label(),
        initial_release: day(initial),
        current_release: day(version.at),
        vulnerabilities,
        acknowledgments: content
            .acknowledgments
            .iter()
            .map(|a| match (&a.organization, a.names.is_empty()) {
                (Some(o), false) => format!("{} ({o})", a.names.join(", ")),
                (Some(o), true) => o.clone(),
                (None, _) => a.names.join(", "),
            })
            .collect(),
        references: &content.references,
        revisions,
        csaf_file: csaf_file_name(&advisory.tracking_id),
    };
    tpl.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "bulletin template failed");
        String::new()
    })
}
