//! The audit log: an append-only chain of entries, each holding the hash of the one before,
//! so that changing or removing an entry breaks every hash after it.
//!
//! The hash covers the entry's text exactly as stored (the `before` and `after` JSON are
//! kept as text, not re-encoded), so verification does not depend on how a database
//! normalises JSON.

use jiff::{Timestamp, Unit};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::UserId;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditActor {
    User(UserId),
    /// The reporter of a case, through the tracking link.
    Reporter,
    /// Keikai itself (scheduled work, intake without an account).
    System,
    /// An operator at the command line (`keikai admin …`), who holds the database itself.
    Cli,
}

impl AuditActor {
    pub fn as_string(self) -> String {
        match self {
            Self::User(id) => format!("user:{id}"),
            Self::Reporter => "reporter".to_owned(),
            Self::System => "system".to_owned(),
            Self::Cli => "cli".to_owned(),
        }
    }
}

/// One change, as a domain operation describes it: what was done to what, with the state
/// before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub action: &'static str,
    pub subject: String,
    pub before: Value,
    pub after: Value,
}

impl Change {
    pub fn new(
        action: &'static str,
        subject: impl Into<String>,
        before: impl Serialize,
        after: impl Serialize,
    ) -> Self {
        Self {
            action,
            subject: subject.into(),
            before: serde_json::to_value(before).unwrap_or(Value::Null),
            after: serde_json::to_value(after).unwrap_or(Value::Null),
        }
    }
}

/// An entry of the chain, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    #[schema(value_type = String)]
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub subject: String,
    /// JSON text.
    pub before: String,
    /// JSON text.
    pub after: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// The entry that follows `prev` (`None` for the first entry of the log).
    pub fn next(
        prev: Option<(i64, &str)>,
        at: Timestamp,
        actor: AuditActor,
        change: &Change,
    ) -> Self {
        let (seq, prev_hash) = prev.map_or((1, GENESIS), |(s, h)| (s + 1, h));
        let mut entry = Self {
            seq,
            // Databases keep microseconds; hashing more would not survive the round trip.
            at: at.round(Unit::Microsecond).unwrap_or(at),
            actor: actor.as_string(),
            action: change.action.to_owned(),
            subject: change.subject.clone(),
            before: change.before.to_string(),
            after: change.after.to_string(),
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        entry
    }

    /// SHA-256 over every field but the hash, each length-prefixed so that no two entries
    /// encode alike.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        let at = self.at.to_string();
        let seq = self.seq.to_string();
        for part in [
            seq.as_str(),
            at.as_str(),
            &self.actor,
            &self.action,
            &self.subject,
            &self.before,
            &self.after,
            &self.prev_hash,
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// Where a chain stops holding together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {seq}: its contents do not match its hash (the entry was changed)")]
    Altered { seq: i64 },
    #[error(
        "entry {seq}: expected sequence number {expected} (entries {expected}..{seq} are missing)"
    )]
    Gap { seq: i64, expected: i64 },
    #[error(
        "entry {seq}: it does not follow from the entry before it (an entry was removed or replaced)"
    )]
    Unlinked { seq: i64 },
    #[error(
        "the log ends at entry {last} but its recorded head is entry {head_seq}: entries at the end were removed"
    )]
    Truncated { last: i64, head_seq: i64 },
    #[error("the log's recorded head hash does not match its last entry")]
    HeadMismatch,
}

/// Checks entries in sequence order, continuing a verification that stopped at `prev`.
#[derive(Debug, Default)]
pub struct ChainVerifier {
    prev: Option<(i64, String)>,
    count: u64,
}

impl ChainVerifier {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, e: &AuditEntry) -> Result<(), ChainBreak> {
        let (expected, prev_hash) = match &self.prev {
            None => (1, GENESIS),
            Some((s, h)) => (s + 1, h.as_str()),
        };
        if e.seq != expected {
            return Err(ChainBreak::Gap {
                seq: e.seq,
                expected,
            });
        }
        if e.compute_hash() != e.hash {
            return Err(ChainBreak::Altered { seq: e.seq });
        }
        if e.prev_hash != prev_hash {
            return Err(ChainBreak::Unlinked { seq: e.seq });
        }
        self.prev = Some((e.seq, e.hash.clone()));
        self.count += 1;
        Ok(())
    }

    /// Compares the end of the chain with the head recorded beside it.
    pub fn finish(self, head: Option<(i64, &str)>) -> Result<u64, ChainBreak> {
        let last = self.prev.as_ref().map_or(0, |(s, _)| *s);
        match head {
            None if last == 0 => Ok(self.count),
            None => Err(ChainBreak::HeadMismatch),
            Some((head_seq, _)) if head_seq > last => Err(ChainBreak::Truncated { last, head_seq }),
            Some((head_seq, hash))
                if head_seq == last && self.prev.as_ref().is_some_and(|(_, h)| h == hash) =>
            {
                Ok(self.count)
            }
            Some(_) => Err(ChainBreak::HeadMismatch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(n: usize) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let change = Change::new(
                "case.note",
                format!("case/{i}"),
                json!(null),
                json!({"i": i}),
            );
            let prev = out.last().map(|e| (e.seq, e.hash.as_str()));
            out.push(AuditEntry::next(
                prev,
                Timestamp::UNIX_EPOCH,
                AuditActor::System,
                &change,
            ));
        }
        out
    }

    fn verify(entries: &[AuditEntry], head: Option<(i64, &str)>) -> Result<u64, ChainBreak> {
        let mut v = ChainVerifier::new();
        for e in entries {
            v.push(e)?;
        }
        v.finish(head)
    }

    fn head(entries: &[AuditEntry]) -> Option<(i64, &str)> {
        entries.last().map(|e| (e.seq, e.hash.as_str()))
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, head(&c)), Ok(5));
        assert_eq!(verify(&[], None), Ok(0));
    }

    #[test]
    fn a_changed_entry_is_found() {
        let mut c = chain(5);
        let h = head(&c).map(|(s, h)| (s, h.to_owned()));
        c[2].after = r#"{"i":99}"#.into();
        let h = h.as_ref().map(|(s, h)| (*s, h.as_str()));
        assert_eq!(verify(&c, h), Err(ChainBreak::Altered { seq: 3 }));
    }

    #[test]
    fn a_rehashed_entry_breaks_the_link_after_it() {
        let mut c = chain(5);
        let h = head(&c).map(|(s, h)| (s, h.to_owned()));
        c[2].after = r#"{"i":99}"#.into();
        c[2].hash = c[2].compute_hash();
        let h = h.as_ref().map(|(s, h)| (*s, h.as_str()));
        assert_eq!(verify(&c, h), Err(ChainBreak::Unlinked { seq: 4 }));
    }

    #[test]
    fn a_removed_entry_is_found() {
        let mut c = chain(5);
        let h = head(&c).map(|(s, h)| (s, h.to_owned()));
        c.remove(1);
        let h = h.as_ref().map(|(s, h)| (*s, h.as_str()));
        assert_eq!(
            verify(&c, h),
            Err(ChainBreak::Gap {
                seq: 3,
                expected: 2
            })
        );
    }

    #[test]
    fn a_removed_tail_is_found_through_the_head() {
        let mut c = chain(5);
        let h = head(&c).map(|(s, h)| (s, h.to_owned()));
        c.pop();
        let h = h.as_ref().map(|(s, h)| (*s, h.as_str()));
        assert_eq!(
            verify(&c, h),
            Err(ChainBreak::Truncated {
                last: 4,
                head_seq: 5
            })
        );
    }

    #[test]
    fn fields_cannot_be_shifted_between_each_other() {
        let a = Change::new("ab", "c", json!(1), json!(2));
        let b = Change::new("a", "bc", json!(1), json!(2));
        let t = Timestamp::UNIX_EPOCH;
        assert_ne!(
            AuditEntry::next(None, t, AuditActor::System, &a).hash,
            AuditEntry::next(None, t, AuditActor::System, &b).hash
        );
    }
}
