//! Line diffs between two versions of an advisory's content, field by field, for reviewers.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use super::Content;

/// One line of a field's diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "op", content = "line", rename_all = "snake_case")]
pub enum LineChange {
    Same(String),
    Added(String),
    Removed(String),
}

/// The changed lines of one field; unchanged fields are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldDiff {
    pub field: String,
    pub lines: Vec<LineChange>,
}

/// Compares two contents field by field (see [`Content::outline`]). Fields are matched by
/// name and occurrence, so an added FAQ entry shows as an added field.
pub fn diff(before: &Content, after: &Content) -> Vec<FieldDiff> {
    let a = before.outline();
    let b = after.outline();
    let mut out = Vec::new();
    let mut keys: Vec<(String, usize)> = Vec::new();
    let keyed = |list: &[(String, String)]| {
        let mut seen = std::collections::HashMap::<String, usize>::new();
        list.iter()
            .map(|(k, v)| {
                let n = seen.entry(k.clone()).or_default();
                *n += 1;
                ((k.clone(), *n), v.clone())
            })
            .collect::<Vec<_>>()
    };
    let ka = keyed(&a);
    let kb = keyed(&b);
    for (k, _) in ka.iter().chain(kb.iter()) {
        if !keys.contains(k) {
            keys.push(k.clone());
        }
    }
    for key in keys {
        let old = ka.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str());
        let new = kb.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str());
        if old == new {
            continue;
        }
        // Every line ends in a newline, so that a line added after the last one does not show
        // the last one as removed and added again.
        let terminated = |s: Option<&str>| match s.unwrap_or("") {
            "" => String::new(),
            t => format!("{t}\n"),
        };
        let (old, new) = (terminated(old), terminated(new));
        let lines = TextDiff::from_lines(&old, &new)
            .iter_all_changes()
            .map(|c| {
                let line = c.value().trim_end_matches('\n').to_owned();
                match c.tag() {
                    ChangeTag::Equal => LineChange::Same(line),
                    ChangeTag::Insert => LineChange::Added(line),
                    ChangeTag::Delete => LineChange::Removed(line),
                }
            })
            .collect();
        out.push(FieldDiff {
            field: key.0,
            lines,
        });
    }
    out
}
