//! Editions: what a list's members receive — the sections of an event, a supplement in each
//! language, whether an acknowledgement is asked for, and the templates (the built-in ones
//! unless the PSIRT writes its own). An edition is saved only when its templates compile and
//! render the sample events, and can be previewed as a recipient would receive it.

use keikai_domain::advisory::PublishedVersion;
use keikai_domain::advisory::publication::ProductNames;
use keikai_domain::audit::Change;
use keikai_domain::edition::{Edition, EventView, RecipientView, Rendered, render};
use keikai_domain::{Action, Locale};
use keikai_store::{AdvisoryFilter, EditionRecord};

use super::{decode_edition, links};
use crate::{App, Caller, Error, Result, advisories};

/// The built-in edition's name: lists get it unless they name another.
const DEFAULT: &str = "default";

/// An edition with its revision, for optimistic saving.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEdition {
    pub edition: Edition,
    /// 0 for one not saved yet (the built-in default).
    pub revision: i64,
}

impl StoredEdition {
    /// The built-in default, as it is before anyone saves it.
    fn built_in() -> Result<Self> {
        Ok(Self {
            edition: Edition::new(DEFAULT, "Default")?,
            revision: 0,
        })
    }

    /// An edition as stored; one that cannot be read is a broken installation.
    fn read(record: EditionRecord) -> Result<Self> {
        let revision = record.revision;
        let edition = decode_edition(record).map_err(Error::Internal)?;
        Ok(Self { edition, revision })
    }
}

/// Every saved edition, and the built-in default when none is saved under its name.
pub async fn editions(app: &App, who: &Caller) -> Result<Vec<StoredEdition>> {
    who.require(Action::ViewDistribution)?;
    let mut out = Vec::new();
    for record in app.store().list_editions().await? {
        out.push(StoredEdition::read(record)?);
    }
    if !out.iter().any(|e| e.edition.name == DEFAULT) {
        out.insert(0, StoredEdition::built_in()?);
    }
    Ok(out)
}

/// The edition saved under `name`; the built-in templates for the default one not saved yet.
pub async fn edition(app: &App, who: &Caller, name: &str) -> Result<StoredEdition> {
    who.require(Action::ViewDistribution)?;
    match app.store().get_edition(name).await? {
        Some(record) => StoredEdition::read(record),
        None if name == DEFAULT => StoredEdition::built_in(),
        None => Err(Error::NotFound),
    }
}

/// Saves an edition under `name`, read at `revision` (0 when new), after checking that its
/// templates compile and render; a stale revision is a conflict.
pub async fn save_edition(
    app: &App,
    who: &Caller,
    name: &str,
    edition: Edition,
    revision: i64,
) -> Result<StoredEdition> {
    who.require(Action::ManageDistribution)?;
    let mut e = edition;
    e.name = name.to_owned();
    // The constructor validates the name.
    Edition::new(&e.name, &e.title)?;
    e.check()?;
    let before = app.store().get_edition(name).await?;
    let change = Change::new(
        "distribution.edition.saved",
        format!("edition/{name}"),
        before.as_ref().map(|r| &r.data),
        &e,
    );
    let data = serde_json::to_value(&e)
        .map_err(|err| Error::internal(format!("cannot encode the edition: {err}")))?;
    let revision = app
        .store()
        .save_edition(name, &data, revision, &app.effects(who).with_audit(change))
        .await?;
    Ok(StoredEdition {
        edition: e,
        revision,
    })
}

/// A new edition: its name and title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEdition {
    pub name: String,
    pub title: String,
}

/// A new edition with every section and the built-in templates, to be edited further; a
/// name in use is refused.
pub async fn create_edition(app: &App, who: &Caller, cmd: NewEdition) -> Result<StoredEdition> {
    who.require(Action::ManageDistribution)?;
    let edition = Edition::new(cmd.name.trim(), &cmd.title)?;
    if app.store().get_edition(&edition.name).await?.is_some() {
        return Err(Error::invalid(
            "name",
            format!("name: an edition named \"{}\" exists already", edition.name),
        ));
    }
    let name = edition.name.clone();
    save_edition(app, who, &name, edition, 0).await
}

/// What the editor of an edition shows beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditionUses {
    /// The names of the lists that receive it.
    pub lists: Vec<String>,
    /// Tracking ids of recent advisories to preview it with (for those who may see them).
    pub advisories: Vec<String>,
}

/// How many advisories the editor offers to preview with.
const PREVIEW_ADVISORIES: u32 = 200;

/// The lists that use the edition `name` (saved or not yet) and advisories to preview it
/// with.
pub async fn edition_uses(app: &App, who: &Caller, name: &str) -> Result<EditionUses> {
    who.require(Action::ViewDistribution)?;
    let lists = app
        .store()
        .list_lists()
        .await?
        .into_iter()
        .filter(|l| l.edition == name)
        .map(|l| l.name)
        .collect();
    let advisories = if who.allows(Action::ViewAdvisories) {
        let filter = AdvisoryFilter {
            limit: PREVIEW_ADVISORIES,
            ..AdvisoryFilter::default()
        };
        let all = app.store().list_advisories(&filter).await?;
        all.into_iter().map(|a| a.tracking_id).collect()
    } else {
        Vec::new()
    };
    Ok(EditionUses { lists, advisories })
}

/// What to preview an edition with.
#[derive(Debug, Clone, Default)]
pub struct Preview {
    /// An advisory by id or tracking id: its next version as it would go out (a preview
    /// before publication is the point). A sample event when absent.
    pub advisory: Option<String>,
    /// English when absent.
    pub locale: Option<Locale>,
    /// The edition as edited, not as stored, to preview unsaved changes.
    pub edition: Option<Edition>,
}

/// Renders the edition `name` (or the one given) as a recipient would receive it, without
/// sending anything.
pub async fn preview(app: &App, who: &Caller, name: &str, cmd: Preview) -> Result<Rendered> {
    who.require(Action::ViewDistribution)?;
    let e = match cmd.edition {
        Some(e) => e,
        None => edition(app, who, name).await?.edition,
    };
    let advisory = cmd
        .advisory
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let view = match advisory {
        Some(key) => {
            let a = advisories::load(app, who, key).await?;
            let products = ProductNames::from_branches(&app.store().list_branches().await?);
            let version = PublishedVersion {
                number: a.latest_version().map_or(1, |v| v.number + 1),
                at: app.now(),
                summary: "Preview".to_owned(),
                release: a.release.unwrap_or_default(),
                content: a.content.clone(),
            };
            EventView::publication(
                &a,
                &version,
                &products,
                &app.config().publishing.publisher.base_url,
            )
        }
        None => EventView::sample(),
    };
    let links = links(app);
    let recipient = RecipientView {
        name: "山田 太郎 / Taro Yamada".to_owned(),
        time_zone: "Asia/Tokyo".to_owned(),
        unsubscribe_url: links.unsubscribe_url("PREVIEW"),
        ack_url: e.ack_requested.then(|| links.ack_url("PREVIEW")),
        preferences_url: None,
    };
    Ok(render(
        &e,
        &view,
        &recipient,
        cmd.locale.unwrap_or(Locale::En),
    )?)
}
