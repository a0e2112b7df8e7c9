//! A case follows its advisory. Publishing a release writes one follow-up job per case whose
//! advisory went out ([`follow_up_jobs`], in the publication's transaction); the job worker
//! runs [`follow_publication`] as Keikai itself, which in one transaction moves the case to
//! published (its fix clock stops), records the version, tells the reporter in the case's
//! conversation with the advisory's link (which acknowledges the report if nothing had yet),
//! and queues a mail to the reporter when they left an address, encrypted to their key when
//! they gave one. A repeated job finds the version recorded and does nothing.

use jiff::Timestamp;
use keikai_domain::advisory::Advisory;
use keikai_domain::case::{Case, CaseIndex, Visibility, message_body};
use keikai_domain::{Action, Locale};
use keikai_store::{NewJob, NewMessage, StoreError};

use super::messages::message_change;
use super::{CONFLICT_MESSAGE, save_error};
use crate::i18n::t_with;
use crate::outbox::{Address, Links, Message, PublicationFollowUp};
use crate::{App, Caller, Error, Result};

/// The follow-up jobs of advisories that have just been published: one for each advisory
/// made from a case.
pub(crate) fn follow_up_jobs(published: &[&Advisory], now: Timestamp) -> Result<Vec<NewJob>> {
    published
        .iter()
        .filter_map(|a| {
            let case = a.case_id?;
            let version = a.latest_version()?.number;
            Some(
                PublicationFollowUp {
                    case,
                    tracking_id: a.tracking_id.clone(),
                    version,
                }
                .to_job(now),
            )
        })
        .collect()
}

/// Brings the case up to date with the published advisory version (see the module).
pub async fn follow_publication(
    app: &App,
    who: &Caller,
    follow_up: &PublicationFollowUp,
) -> Result<()> {
    who.require(Action::FollowPublication)?;
    let links = Links::new(app.config().publishing.base_url());
    // A case saved by someone else meanwhile is read again and the whole write retried.
    for _ in 0..3 {
        let mut case = app.store().get_case(follow_up.case).await?;
        let mut fx = app.effects(who);
        let Some(change) =
            case.advisory_published(&follow_up.tracking_id, follow_up.version, fx.at)
        else {
            return Ok(());
        };
        fx.audit.push(change);
        let lang = case.report.language;
        let text = notice(lang, &links, follow_up);
        let message = NewMessage {
            case_id: case.id,
            visibility: Visibility::Reporter,
            author: None,
            from_reporter: false,
            body: message_body(&text)?,
            attachments: Vec::new(),
        };
        fx.audit.push(message_change(&case, &message));
        if let Some(ack) = case.acknowledge(fx.at) {
            fx.audit.push(ack);
        }
        if let Some(job) = reporter_mail(&case, &links, follow_up, &text, fx.at)? {
            fx.jobs.push(job);
        }
        let index = CaseIndex::of(&case, &app.config().severity_scale);
        match app
            .store()
            .add_message(&message, Some((&case, &index)), &fx)
            .await
        {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(save_error(e)),
        }
    }
    Err(Error::conflict(CONFLICT_MESSAGE))
}

/// What the reporter is told, in the language they asked to be answered in.
fn notice(lang: Locale, links: &Links, f: &PublicationFollowUp) -> String {
    let url = format!("{}/advisories/{}", links.base_url, f.tracking_id);
    let version = f.version.to_string();
    let key = if f.version > 1 {
        "case-follow-revised"
    } else {
        "case-follow-published"
    };
    t_with(
        lang,
        key,
        &[
            ("advisory", &f.tracking_id),
            ("version", &version),
            ("url", &url),
        ],
    )
}

/// The mail to the reporter, when they left an address: the notice, encrypted to their key
/// when they gave one. One per case and advisory version (its job key and Message-ID).
fn reporter_mail(
    case: &Case,
    links: &Links,
    f: &PublicationFollowUp,
    text: &str,
    now: Timestamp,
) -> Result<Option<NewJob>> {
    let Some(email) = case.report.reporter_email.clone() else {
        return Ok(None);
    };
    let to = match &case.report.reporter_name {
        Some(name) if !name.trim().is_empty() => Address::named(name.trim(), email),
        _ => Address::new(email),
    };
    let lang = case.report.language;
    let subject = t_with(
        lang,
        "case-follow-mail-subject",
        &[("advisory", &f.tracking_id), ("title", &case.title)],
    );
    let body = format!(
        "{text}\n\n{}\n",
        crate::i18n::t(lang, "case-follow-mail-footer")
    );
    let local = format!("case-follow.{}.{}.{}", case.id, f.tracking_id, f.version);
    let mut message = Message::new(to, subject, body, links.message_id_for(&local));
    message.encrypt_to = case
        .report
        .reporter_key
        .as_ref()
        .map(|k| k.as_str().to_owned());
    message
        .to_job(format!("mail:{}", f.job_key()), now)
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_links_the_advisory_in_the_reporters_language() {
        let links = Links::new("https://psirt.example.com/");
        let mut f = PublicationFollowUp {
            case: keikai_domain::CaseId::new(),
            tracking_id: "EX-2026-0001".to_owned(),
            version: 1,
        };
        let en = notice(Locale::En, &links, &f);
        assert!(
            en.contains("https://psirt.example.com/advisories/EX-2026-0001"),
            "{en}"
        );
        assert!(en.contains("published"), "{en}");
        let ja = notice(Locale::Ja, &links, &f);
        assert!(ja.contains("公開しました"), "{ja}");
        assert!(ja.contains("EX-2026-0001"), "{ja}");
        f.version = 2;
        let revised = notice(Locale::En, &links, &f);
        assert!(revised.contains("version 2"), "{revised}");
    }
}
