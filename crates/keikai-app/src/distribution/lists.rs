//! Audience lists: who receives which events (triggers and a filter), in which edition, and
//! in which order a subscriber on several lists is served (priority).

use std::collections::BTreeSet;

use keikai_domain::audit::Change;
use keikai_domain::subscription::{AudienceList, Filter, Trigger, default_triggers};
use keikai_domain::{Action, ListId};

use crate::{App, Caller, Error, Result};

/// Every list, by priority.
pub async fn lists(app: &App, who: &Caller) -> Result<Vec<AudienceList>> {
    who.require(Action::ViewDistribution)?;
    Ok(app.store().list_lists().await?)
}

/// A list as the PSIRT describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct SaveList {
    /// 1 to 100 characters.
    pub name: String,
    pub description: String,
    /// 1 is the highest.
    pub priority: u32,
    /// The edition its members receive.
    pub edition: String,
    pub internal_only: bool,
    pub public: bool,
    /// Everything up to TLP:CLEAR when not given.
    pub filter: Option<Filter>,
    /// The events it receives; [`default_triggers`] when not given.
    pub triggers: Option<BTreeSet<Trigger>>,
}

impl SaveList {
    /// The list under `id`, if the description is a valid one.
    fn list(self, id: ListId) -> Result<AudienceList> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid(
                "name",
                format!("name: \"{name}\" must be 1 to 100 characters"),
            ));
        }
        if self.priority == 0 {
            return Err(Error::invalid(
                "priority",
                "priority: must be 1 (the highest) or more, not 0",
            ));
        }
        let triggers = self.triggers.unwrap_or_else(default_triggers);
        if triggers.is_empty() {
            return Err(Error::invalid(
                "triggers",
                "triggers: a list needs at least one trigger",
            ));
        }
        Ok(AudienceList {
            id,
            name: name.to_owned(),
            priority: self.priority,
            edition: self.edition.trim().to_owned(),
            internal_only: self.internal_only,
            filter: self.filter.unwrap_or_default().check()?,
            triggers,
            public: self.public,
            description: self.description.trim().to_owned(),
        })
    }
}

/// Creates a list (`id` `None`) or replaces one; another list's name is a conflict.
pub async fn save_list(
    app: &App,
    who: &Caller,
    id: Option<ListId>,
    cmd: SaveList,
) -> Result<AudienceList> {
    who.require(Action::ManageDistribution)?;
    let before = match id {
        Some(id) => Some(app.store().get_list(id).await?),
        None => None,
    };
    let list = cmd.list(id.unwrap_or_default())?;
    let action = if before.is_some() {
        "distribution.list.changed"
    } else {
        "distribution.list.created"
    };
    let change = Change::new(action, format!("list/{}", list.id), &before, &list);
    app.store()
        .save_list(&list, &app.effects(who).with_audit(change))
        .await?;
    Ok(list)
}

/// Deletes a list; its members stay subscribed (to their other lists).
pub async fn delete_list(app: &App, who: &Caller, id: ListId) -> Result<()> {
    who.require(Action::ManageDistribution)?;
    let before = app.store().get_list(id).await?;
    let change = Change::new(
        "distribution.list.deleted",
        format!("list/{id}"),
        &before,
        serde_json::Value::Null,
    );
    app.store()
        .delete_list(id, &app.effects(who).with_audit(change))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd() -> SaveList {
        SaveList {
            name: " Customers ".to_owned(),
            description: String::new(),
            priority: 2,
            edition: "default".to_owned(),
            internal_only: false,
            public: true,
            filter: None,
            triggers: None,
        }
    }

    #[test]
    fn a_list_takes_the_default_triggers_and_a_trimmed_name() {
        let list = cmd().list(ListId::new()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(list.name, "Customers");
        assert_eq!(list.triggers, default_triggers());
    }

    #[test]
    fn list_mistakes_name_their_field() {
        let named = |c: SaveList| {
            c.list(ListId::new())
                .err()
                .and_then(|e| e.field().map(str::to_owned))
        };
        let blank = SaveList {
            name: " ".to_owned(),
            ..cmd()
        };
        assert_eq!(named(blank).as_deref(), Some("name"));
        let zero = SaveList {
            priority: 0,
            ..cmd()
        };
        assert_eq!(named(zero).as_deref(), Some("priority"));
        let silent = SaveList {
            triggers: Some(BTreeSet::new()),
            ..cmd()
        };
        assert_eq!(named(silent).as_deref(), Some("triggers"));
    }
}
