//! The programme's mail: who receives it (the working partner contacts of an organisation)
//! and what it says, in the recipient's language. Notices name what is in the portal but
//! carry none of the technical content, which stays there, where every download is recorded.

use std::collections::HashMap;

use jiff::Timestamp;
use keikai_domain::partner::Alert;
use keikai_domain::release::{Release, ReleaseSchedule};
use keikai_domain::{Locale, OrgId, Organisation, User};
use keikai_store::NewJob;

use super::PackageItem;
use crate::outbox::{Address, Links, Message};
use crate::{App, Result};

/// The partner contacts of every organisation whose accounts work, read in one query.
pub(super) struct Contacts(HashMap<OrgId, Vec<User>>);

impl Contacts {
    pub async fn load(app: &App) -> Result<Self> {
        let mut by_org: HashMap<OrgId, Vec<User>> = HashMap::new();
        for c in app.store().partner_contacts().await? {
            by_org.entry(c.org_id).or_default().push(c.user);
        }
        Ok(Self(by_org))
    }

    pub fn of(&self, org: OrgId) -> &[User] {
        self.0.get(&org).map_or(&[], Vec::as_slice)
    }
}

fn address(user: &User) -> Address {
    Address::named(user.display_name.to_string(), user.email.clone())
}

/// The notice that `tier`'s package of `release` is in the portal, for the contacts of `org`;
/// `items` are the advisories in its scope.
pub(super) struct PackageNotice<'a> {
    pub release: &'a Release,
    pub tier: &'a str,
    pub org: &'a Organisation,
    pub items: &'a [&'a PackageItem],
}

impl PackageNotice<'_> {
    /// The mail job of the notice to one contact.
    pub fn to_job(
        &self,
        links: &Links,
        schedule: &ReleaseSchedule,
        user: &User,
        now: Timestamp,
    ) -> Result<NewJob> {
        let Self {
            release,
            tier,
            org,
            items,
        } = self;
        let lang = user.locale.unwrap_or(Locale::En);
        let embargo = schedule.display(release.scheduled_at());
        let link = format!("{}/partner/releases/{}", links.base_url, release.id());
        let mut list = String::new();
        for i in *items {
            let text = i.version.content.text.get(lang);
            let title = if text.title.is_empty() {
                &i.version.content.text.en.title
            } else {
                &text.title
            };
            list.push_str(&format!("- {}: {title}\n", i.advisory.tracking_id));
        }
        let (subject, body) = match lang {
            Locale::Ja => (
                format!("[TLP:AMBER] 事前セキュリティ情報: {}", release.title()),
                format!(
                    "TLP:AMBER — パートナー契約に基づき {org} にのみ提供する情報です。\n\
                     {embargo} まで公開禁止（エンバーゴ）です。\n\n\
                     「{title}」の事前提供パッケージをパートナーポータルで公開しました:\n{link}\n\n\
                     対象のアドバイザリ:\n{list}\n\
                     技術的詳細、検知のためのガイダンス、CSAF 文書はポータルにあり、ダウンロードは記録されます。\n",
                    org = org.name,
                    title = release.title(),
                ),
            ),
            Locale::En => (
                format!(
                    "[TLP:AMBER] Pre-release security information: {}",
                    release.title()
                ),
                format!(
                    "TLP:AMBER - for {org} only, under the partner agreement.\n\
                     Embargoed until {embargo}.\n\n\
                     The pre-release package of \"{title}\" is in the partner portal:\n{link}\n\n\
                     Advisories:\n{list}\n\
                     Technical details, detection guidance and the CSAF documents are in the \
                     portal, where every download is recorded.\n",
                    org = org.name,
                    title = release.title(),
                ),
            ),
        };
        let message_id = links.message_id_for(&format!(
            "partner-package.{}.{tier}.{}",
            release.id(),
            user.id
        ));
        Message::new(address(user), subject, body, message_id).to_job(
            format!("partner-package:{}:{tier}:{}", release.id(), user.id),
            now,
        )
    }
}

/// The mail of an alert to one contact of a recipient organisation.
pub(super) fn alert_mail(links: &Links, user: &User, alert: &Alert) -> Result<NewJob> {
    let link = format!("{}/partner#alerts", links.base_url);
    let marking = alert.tlp.label();
    let (subject, tail) = match user.locale.unwrap_or(Locale::En) {
        Locale::Ja => (
            format!("[緊急][{marking}] {}", alert.title),
            format!("ポータルで受領を確認してください: {link}"),
        ),
        Locale::En => (
            format!("[URGENT][{marking}] {}", alert.title),
            format!("Please acknowledge it in the portal: {link}"),
        ),
    };
    let message_id = links.message_id_for(&format!("partner-alert.{}.{}", alert.id, user.id));
    Message::new(
        address(user),
        subject,
        format!("{marking}\n\n{}\n\n{tail}\n", alert.body),
        message_id,
    )
    .to_job(
        format!("partner-alert:{}:{}", alert.id, user.id),
        alert.sent_at,
    )
}

#[cfg(test)]
mod tests {
    use keikai_domain::partner::AlertGroups;
    use keikai_domain::{DisplayName, Email, UserId};

    use super::*;
    use crate::outbox::MAIL_JOB_KIND;

    fn contact(locale: Option<Locale>) -> User {
        User {
            id: UserId::new(),
            email: Email::parse("contact@cert.example").unwrap(),
            display_name: DisplayName::parse("Aiko Contact").unwrap(),
            locale,
            created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            disabled_at: None,
        }
    }

    #[test]
    fn an_alert_is_mailed_in_the_contacts_language_with_a_stable_identity() {
        let links = Links::new("https://psirt.example.com/");
        let alert = Alert {
            id: uuid::Uuid::now_v7(),
            title: "Worm outbreak".into(),
            body: "Block port 445.".into(),
            tlp: keikai_domain::advisory::Tlp::Amber,
            groups: AlertGroups::default(),
            recipients: vec![OrgId::new()],
            sent_by: UserId::new(),
            sent_at: "2026-03-01T00:00:00Z".parse().unwrap(),
            revision: 1,
        };
        for (locale, subject) in [
            (None, "[URGENT][TLP:AMBER] Worm outbreak"),
            (Some(Locale::Ja), "[緊急][TLP:AMBER] Worm outbreak"),
        ] {
            let user = contact(locale);
            let job = alert_mail(&links, &user, &alert).unwrap();
            assert_eq!(job.kind, MAIL_JOB_KIND);
            assert_eq!(job.key, format!("partner-alert:{}:{}", alert.id, user.id));
            assert_eq!(job.run_at, alert.sent_at);
            let m: Message = serde_json::from_value(job.payload).unwrap();
            assert_eq!(m.subject, subject);
            assert!(
                m.text.starts_with("TLP:AMBER\n\nBlock port 445."),
                "{}",
                m.text
            );
            assert!(m.text.contains("https://psirt.example.com/partner#alerts"));
            assert_eq!(
                m.message_id,
                format!("<partner-alert.{}.{}@psirt.example.com>", alert.id, user.id)
            );
            assert_eq!(m.to, vec![address(&user)]);
        }
    }
}
