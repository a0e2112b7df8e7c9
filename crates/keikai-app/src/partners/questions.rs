//! Questions and answers: a partner asks about an advisory of a package it sees; the PSIRT
//! answers the asker only, or everyone who receives the package (without naming the asker).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use keikai_domain::audit::Change;
use keikai_domain::partner::{Audience, Question};
use keikai_domain::{Action, AdvisoryId, OrgId, ReleaseId};
use keikai_store::StoreError;
use serde_json::json;

use super::access::{TrackingIds, org_names};
use super::{package_item, seat, visible_release};
use crate::{App, Caller, Result};

/// A question as one partner organisation sees it (see [`Question::as_seen_by`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenQuestion {
    pub question: Question,
    /// Whether this organisation asked it.
    pub ours: bool,
}

impl SeenQuestion {
    /// What `org` sees of `q`, if anything.
    pub(super) fn of(q: &Question, org: OrgId) -> Option<Self> {
        let question = q.as_seen_by(org)?;
        Some(Self {
            ours: question.org_id == org,
            question,
        })
    }
}

/// A partner's question about one advisory of a package.
#[derive(Debug, Clone)]
pub struct Ask {
    pub release: ReleaseId,
    pub advisory: AdvisoryId,
    pub text: String,
}

/// Asks a question about an advisory of a package the caller's organisation sees.
pub async fn ask(app: &App, who: &Caller, cmd: Ask) -> Result<SeenQuestion> {
    let seat = seat(app, who).await?;
    who.require(Action::RespondAsPartner)?;
    let r = visible_release(app, &seat, cmd.release).await?;
    let branches = app.store().list_branches().await?;
    let item = package_item(app, &seat, &r, cmd.advisory, &branches).await?;
    let fx = app.effects(who);
    let q = Question::ask(
        r.id(),
        item.advisory.id,
        seat.org.id,
        seat.user,
        &cmd.text,
        fx.at,
    )?;
    let change = Change::new(
        "partner.question.asked",
        format!("partner-question/{}", q.id),
        serde_json::Value::Null,
        json!({ "release": r.id(), "advisory": item.advisory.tracking_id, "org": seat.org.id }),
    );
    let q = app
        .store()
        .create_question(&q, &fx.with_audit(change))
        .await?;
    Ok(SeenQuestion {
        question: q,
        ours: true,
    })
}

/// Every question of every organisation, oldest first (the PSIRT's list).
pub async fn questions(app: &App, who: &Caller) -> Result<Vec<Question>> {
    who.require(Action::ViewPartners)?;
    Ok(app.store().list_questions(None).await?)
}

/// The PSIRT's answer to a question.
#[derive(Debug, Clone)]
pub struct AnswerQuestion {
    pub question: uuid::Uuid,
    pub text: String,
    pub audience: Audience,
}

/// Answers a partner's question, to the asker only or to everyone who receives the package.
pub async fn answer(app: &App, who: &Caller, cmd: AnswerQuestion) -> Result<Question> {
    let by = who.require_user(Action::ManagePartners)?.user_id;
    let mut q = app.store().get_question(cmd.question).await?;
    let fx = app.effects(who);
    q.answer(by, &cmd.text, cmd.audience, fx.at)?;
    let change = Change::new(
        "partner.question.answered",
        format!("partner-question/{}", q.id),
        serde_json::Value::Null,
        json!({ "audience": cmd.audience }),
    );
    Ok(app
        .store()
        .save_question(&q, &fx.with_audit(change))
        .await?)
}

/// A question with the names the PSIRT needs to answer it.
#[derive(Debug, Clone)]
pub struct QuestionEntry {
    pub question: Question,
    /// The release's title.
    pub release: String,
    pub tracking_id: String,
    /// The asking organisation's name.
    pub organisation: String,
}

/// Every question, newest first, with names.
pub(super) async fn question_entries(app: &App) -> Result<Vec<QuestionEntry>> {
    let store = app.store();
    let mut questions = store.list_questions(None).await?;
    questions.sort_by_key(|q| std::cmp::Reverse(q.asked_at));
    let orgs = org_names(app).await?;
    let mut releases = HashMap::new();
    let mut tracking = TrackingIds::default();
    let mut out = Vec::with_capacity(questions.len());
    for q in questions {
        if let Entry::Vacant(e) = releases.entry(q.release_id) {
            e.insert(match store.get_release(q.release_id).await {
                Ok(r) => r.title().to_owned(),
                Err(StoreError::NotFound) => q.release_id.to_string(),
                Err(e) => return Err(e.into()),
            });
        }
        out.push(QuestionEntry {
            release: releases.get(&q.release_id).cloned().unwrap_or_default(),
            tracking_id: tracking.of(app, q.advisory_id).await?,
            organisation: orgs.get(&q.org_id).cloned().unwrap_or_default(),
            question: q,
        });
    }
    Ok(out)
}
