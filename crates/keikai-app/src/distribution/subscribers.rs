//! Subscribers as the PSIRT manages them: added one by one or imported from CSV (active at
//! once: the PSIRT vouches for their consent, unlike the public form's double opt-in), and
//! changed (settings, state, lists).

use keikai_domain::audit::Change;
use keikai_domain::subscription::{
    AudienceList, Filter, Subscriber, SubscriberChanges, SubscriberInput, SubscriberKind,
    SubscriptionState, import,
};
use keikai_domain::{Action, ListId, SubscriberId};
use keikai_store::{NewSubscription, SubscriberRecord};

use super::{check_openpgp_key, openpgp_key_problem};
use crate::outbox::link_token;
use crate::{App, Caller, Error, Result};

/// The most subscribers one request lists.
const MAX_LIMIT: u32 = 1000;

/// Subscribers by address, of one list or all: at most 1,000 from `offset`.
pub async fn subscribers(
    app: &App,
    who: &Caller,
    list: Option<ListId>,
    limit: u32,
    offset: u32,
) -> Result<Vec<SubscriberRecord>> {
    who.require(Action::ViewDistribution)?;
    Ok(app
        .store()
        .list_subscribers(list, limit.min(MAX_LIMIT), offset)
        .await?)
}

/// How many subscribers a page shows.
pub const PAGE_SIZE: u32 = 50;

/// One page of subscribers, of one list or all, with the lists to name them by.
pub struct SubscriberPage {
    /// Every list, by priority.
    pub lists: Vec<AudienceList>,
    /// The list shown, if one was chosen.
    pub list: Option<ListId>,
    /// How many subscribers the list (or all lists) has.
    pub total: u64,
    /// From 1, at most `pages`.
    pub number: u32,
    pub pages: u32,
    pub rows: Vec<SubscriberRecord>,
}

/// Page `number` (from 1; past the end is the last) of the subscribers of `list`, or of all.
pub async fn subscriber_page(
    app: &App,
    who: &Caller,
    list: Option<ListId>,
    number: u32,
) -> Result<SubscriberPage> {
    who.require(Action::ViewDistribution)?;
    let store = app.store();
    let lists = store.list_lists().await?;
    if let Some(id) = list
        && !lists.iter().any(|l| l.id == id)
    {
        return Err(Error::invalid(
            "list",
            format!("list: no list has the id {id}"),
        ));
    }
    let total = store.count_subscribers(list).await?;
    let pages = u32::try_from(total.div_ceil(u64::from(PAGE_SIZE)))
        .unwrap_or(u32::MAX)
        .max(1);
    let number = number.clamp(1, pages);
    let rows = store
        .list_subscribers(list, PAGE_SIZE, (number - 1) * PAGE_SIZE)
        .await?;
    Ok(SubscriberPage {
        lists,
        list,
        total,
        number,
        pages,
        rows,
    })
}

/// The lists `ids` name, for a subscriber of `kind`: each must exist, and internal lists
/// take internal subscribers only.
async fn known_lists(app: &App, ids: &[ListId], kind: SubscriberKind) -> Result<Vec<ListId>> {
    let all = app.store().list_lists().await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let list = all.iter().find(|l| l.id == *id).ok_or_else(|| {
            Error::invalid("lists", format!("lists: no list has the id \"{id}\""))
        })?;
        if list.internal_only && kind != SubscriberKind::Internal {
            return Err(Error::invalid(
                "lists",
                format!("lists: {}", internal_only(list)),
            ));
        }
        out.push(list.id);
    }
    Ok(out)
}

/// Why a subscriber who is not internal cannot be on `list`.
fn internal_only(list: &AudienceList) -> String {
    format!("\"{}\" is for internal subscribers only", list.name)
}

/// A subscriber the PSIRT adds.
#[derive(Debug, Clone)]
pub struct AddSubscriber {
    pub input: SubscriberInput,
    pub lists: Vec<ListId>,
    /// Their own narrowing of what their lists send; none by default.
    pub filter: Option<Filter>,
}

/// Adds a subscriber on the PSIRT's authority: active at once (the PSIRT has their consent,
/// e.g. a colleague or a customer's contract).
pub async fn add_subscriber(
    app: &App,
    who: &Caller,
    cmd: AddSubscriber,
) -> Result<SubscriberRecord> {
    who.require(Action::ManageDistribution)?;
    let fx = app.effects(who);
    let mut s = Subscriber::subscribe(cmd.input, fx.at)?;
    check_openpgp_key(s.openpgp_key.as_deref())?;
    s.state = SubscriptionState::Active;
    if let Some(f) = cmd.filter {
        s.filter = f.check()?;
    }
    let lists = known_lists(app, &cmd.lists, s.kind).await?;
    let row = NewSubscription {
        subscriber: s,
        token: link_token(),
        lists,
    };
    let change = Change::new(
        "distribution.subscriber.added",
        format!("subscriber/{}", row.subscriber.id),
        serde_json::Value::Null,
        &row.subscriber,
    );
    let at = fx.at;
    app.store()
        .import_subscribers(std::slice::from_ref(&row), &fx.with_audit(change))
        .await?;
    Ok(SubscriberRecord {
        subscriber: row.subscriber,
        token: row.token,
        lists: row.lists,
        updated_at: at,
    })
}

/// Changes to a subscriber: their settings and state, and their lists when given.
#[derive(Debug, Clone)]
pub struct PatchSubscriber {
    pub id: SubscriberId,
    pub changes: SubscriberChanges,
    /// The lists they are on from now; `None` keeps them.
    pub lists: Option<Vec<ListId>>,
}

/// Changes a subscriber; the change and its audit entry commit together.
pub async fn patch_subscriber(
    app: &App,
    who: &Caller,
    cmd: PatchSubscriber,
) -> Result<SubscriberRecord> {
    who.require(Action::ManageDistribution)?;
    let before = app.store().get_subscriber(cmd.id).await?.subscriber;
    let mut s = before.clone();
    s.update(cmd.changes)?;
    check_openpgp_key(s.openpgp_key.as_deref())?;
    let lists = match &cmd.lists {
        Some(ids) => Some(known_lists(app, ids, s.kind).await?),
        None => None,
    };
    let change = Change::new(
        "distribution.subscriber.changed",
        format!("subscriber/{}", cmd.id),
        &before,
        &s,
    );
    app.store()
        .save_subscriber(&s, lists.as_deref(), &app.effects(who).with_audit(change))
        .await?;
    Ok(app.store().get_subscriber(cmd.id).await?)
}

/// The most rows one import takes.
pub const MAX_IMPORT_ROWS: usize = 50_000;

/// What an import did (or, in a dry run, would do), row by row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Rows that were valid (and, unless a dry run, imported).
    pub accepted: u64,
    pub created: u64,
    /// Addresses that existed and were added to the rows' lists.
    pub updated: u64,
    /// By line.
    pub rejected: Vec<import::RejectedRow>,
}

/// Imports subscribers from CSV. Imported subscribers are active: the administrator
/// vouches for their consent. Valid rows go in even when others are rejected; the report
/// names each rejected row and why. A dry run checks and reports without importing.
pub async fn import_csv(
    app: &App,
    who: &Caller,
    text: &str,
    dry_run: bool,
) -> Result<ImportReport> {
    who.require(Action::ManageDistribution)?;
    let lists = app.store().list_lists().await?;
    let names: Vec<String> = lists.iter().map(|l| l.name.clone()).collect();
    let plan = import::parse_csv(text, &names, MAX_IMPORT_ROWS)?;
    let fx = app.effects(who);
    let mut rejected = plan.rejected;
    let mut rows = Vec::new();
    for row in plan.rows {
        let (line, email) = (row.line, row.input.email.clone());
        match accept_row(row, &lists, fx.at) {
            Ok(r) => rows.push(r),
            Err((field, reason)) => rejected.push(import::RejectedRow {
                line,
                email,
                field: field.to_owned(),
                reason,
            }),
        }
    }
    rejected.sort_by_key(|r| r.line);
    let accepted = rows.len() as u64;
    let counts = if dry_run || rows.is_empty() {
        keikai_store::ImportCounts::default()
    } else {
        let change = Change::new(
            "distribution.subscribers.imported",
            "subscribers",
            serde_json::Value::Null,
            serde_json::json!({ "rows": accepted, "rejected": rejected.len() }),
        );
        app.store()
            .import_subscribers(&rows, &fx.with_audit(change))
            .await?
    };
    Ok(ImportReport {
        dry_run,
        accepted,
        created: counts.created,
        updated: counts.updated,
        rejected,
    })
}

/// An imported row as it goes in (active: the administrator vouches for the address), or
/// the field that is wrong and why.
fn accept_row(
    row: import::ImportRow,
    lists: &[AudienceList],
    now: jiff::Timestamp,
) -> std::result::Result<NewSubscription, (&'static str, String)> {
    let mut s = Subscriber::subscribe(row.input, now).map_err(|e| ("row", e.to_string()))?;
    if let Some(why) = openpgp_key_problem(s.openpgp_key.as_deref()) {
        return Err(("openpgp_key", why));
    }
    let mut ids = Vec::new();
    for name in &row.lists {
        if let Some(l) = lists.iter().find(|l| &l.name == name) {
            if l.internal_only && s.kind != SubscriberKind::Internal {
                return Err(("lists", internal_only(l)));
            }
            ids.push(l.id);
        }
    }
    s.state = SubscriptionState::Active;
    Ok(NewSubscription {
        subscriber: s,
        token: link_token(),
        lists: ids,
    })
}
