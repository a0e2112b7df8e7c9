//! What the public does without an account: subscribe through the form (double opt-in), and
//! use the links in its messages — confirm, unsubscribe, acknowledge.
//!
//! The secret in a link is the authority: whoever holds it may do what it says, and no other
//! check applies (a read-only API token is still refused, as everywhere). Opening a link
//! changes nothing; its page asks first, because mail scanners open links. The form never
//! tells whether an address is known, so that strangers cannot learn who is subscribed.

use keikai_domain::subscription::{
    AudienceList, Subscriber, SubscriberInput, SubscriberKind, SubscriptionState,
};
use keikai_domain::{ListId, Locale};
use keikai_store::{DeliveryRecord, NewJob, NewSubscription, StoreError, SubscriberRecord};

use super::{check_openpgp_key, links};
use crate::outbox::{Address, Message, link_token};
use crate::{App, Caller, Error, Result};

/// The lists the public may subscribe to: public ones that are not for internal
/// subscribers only.
pub async fn public_lists(app: &App) -> Result<Vec<AudienceList>> {
    let mut lists = app.store().list_lists().await?;
    lists.retain(|l| l.public && !l.internal_only);
    Ok(lists)
}

/// The answer to a choice of lists the form did not offer (or to a list id that is none).
pub fn not_offered() -> Error {
    Error::invalid("lists", "lists: choose among the lists offered")
}

/// A subscription as the public form sends it.
#[derive(Debug, Clone)]
pub struct Subscribe {
    /// Its kind is ignored: the public form makes external subscribers only.
    pub input: SubscriberInput,
    /// Among [`public_lists`]; at least one.
    pub lists: Vec<ListId>,
}

/// A public subscription: pending until the address confirms through the link mailed to
/// it. The answer never says whether the address is known: an active subscriber gets
/// nothing; an address that unsubscribed, or never confirmed, becomes pending on the lists
/// asked for and gets the confirmation link again — at most once an hour, so that the form
/// cannot flood someone's mailbox. The subscription and its confirmation mail are written
/// together.
pub async fn subscribe(app: &App, who: &Caller, cmd: Subscribe) -> Result<()> {
    who.refuse_read_only_token()?;
    let fx = app.effects(who);
    let mut input = cmd.input;
    input.kind = SubscriberKind::External;
    let s = Subscriber::subscribe(input, fx.at)?;
    check_openpgp_key(s.openpgp_key.as_deref())?;
    let offered = public_lists(app).await?;
    let mut ids = Vec::with_capacity(cmd.lists.len());
    for id in cmd.lists {
        if !offered.iter().any(|l| l.id == id) {
            return Err(not_offered());
        }
        ids.push(id);
    }
    if ids.is_empty() {
        return Err(Error::invalid("lists", "lists: choose at least one list"));
    }
    if let Some(existing) = app.store().subscriber_by_email(&s.email).await? {
        let mut known = existing.subscriber;
        if known.state == SubscriptionState::Active {
            return Ok(());
        }
        let was = known.state;
        known.state = SubscriptionState::Pending;
        let mail = confirmation_mail(app, &known, &existing.token, was, fx.at)?;
        app.store()
            .save_subscriber(&known, Some(&ids), &fx.with_jobs([mail]))
            .await?;
        return Ok(());
    }
    let token = link_token();
    let mail = confirmation_mail(app, &s, &token, SubscriptionState::Pending, fx.at)?;
    let row = NewSubscription {
        subscriber: s,
        token,
        lists: ids,
    };
    match app
        .store()
        .create_subscriber(&row, &fx.with_jobs([mail]))
        .await
    {
        // Two submissions at once: the other one went in.
        Err(StoreError::Conflict(_)) => Ok(()),
        other => Ok(other?),
    }
}

/// The mail asking `s` to confirm their subscription through the link holding `token`. The
/// hour and the state the request found (`was`; pending for a new address) are in its key:
/// requests within one hour send one mail, and a return after unsubscribing one more.
fn confirmation_mail(
    app: &App,
    s: &Subscriber,
    token: &str,
    was: SubscriptionState,
    now: jiff::Timestamp,
) -> Result<NewJob> {
    let links = links(app);
    let link = format!("{}/subscribe/confirm/{token}", links.base_url);
    let (subject, text) = match s.locale {
        Locale::Ja => (
            "購読の確認".to_owned(),
            format!(
                "セキュリティ情報の配信登録を受け付けました。\n\n次のリンクを開いて登録を確定してください。\n{link}\n\nお心当たりがない場合は、このメールを破棄してください。何も届きません。\n"
            ),
        ),
        Locale::En => (
            "Please confirm your subscription".to_owned(),
            format!(
                "We received a subscription to our security notifications for this address.\n\nOpen this link to confirm it:\n{link}\n\nIf you did not ask for this, ignore this message; nothing will be sent.\n"
            ),
        ),
    };
    let hour = now.as_second().div_euclid(3600);
    let was = was.as_str();
    let key = format!("subscribe-confirm:{}:{hour}:{was}", s.id);
    let local = format!("confirm.{}.{hour}.{was}", s.id.as_uuid().simple());
    let message = Message::new(
        Address::new(s.email.clone()),
        subject,
        text,
        links.message_id_for(&local),
    );
    message.to_job(key, now)
}

/// The subscriber whose links hold `token` (for the pages behind them, which only ask).
/// Every token takes the same path (one lookup), whether or not it exists.
pub async fn subscriber(app: &App, token: &str) -> Result<SubscriberRecord> {
    Ok(app.store().subscriber_by_token(token).await?)
}

/// Saves the holder of `token` in `state` (unless they are in it already); returns them.
async fn set_state(
    app: &App,
    who: &Caller,
    token: &str,
    change: impl FnOnce(SubscriptionState) -> Option<SubscriptionState>,
) -> Result<Subscriber> {
    who.refuse_read_only_token()?;
    let mut s = subscriber(app, token).await?.subscriber;
    if let Some(next) = change(s.state) {
        s.state = next;
        app.store()
            .save_subscriber(&s, None, &app.effects(who))
            .await?;
    }
    Ok(s)
}

/// Confirms a pending subscription (double opt-in done); an active or unsubscribed one
/// stays as it is.
pub async fn confirm(app: &App, who: &Caller, token: &str) -> Result<Subscriber> {
    set_state(app, who, token, |state| {
        (state == SubscriptionState::Pending).then_some(SubscriptionState::Active)
    })
    .await
}

/// Unsubscribes the holder of `token` from everything: the page's button, or a mail
/// client's one-click request (RFC 8058).
pub async fn unsubscribe(app: &App, who: &Caller, token: &str) -> Result<Subscriber> {
    set_state(app, who, token, |state| {
        (state != SubscriptionState::Unsubscribed).then_some(SubscriptionState::Unsubscribed)
    })
    .await
}

/// The delivery whose acknowledgement link holds `token` (for its page, which only asks).
pub async fn acknowledgement(app: &App, token: &str) -> Result<DeliveryRecord> {
    Ok(app.store().delivery_by_ack_token(token).await?)
}

/// Records the acknowledgement behind `token` (the first one counts).
pub async fn acknowledge(app: &App, who: &Caller, token: &str) -> Result<DeliveryRecord> {
    who.refuse_read_only_token()?;
    Ok(app.store().acknowledge_delivery(token, app.now()).await?)
}
