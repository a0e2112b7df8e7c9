//! The unit of work's side effects: what a write brings with it and commits in the same
//! transaction as its state change.
//!
//! Every write method of the store takes an [`Effects`] as its last argument (and
//! [`AuditStore::commit`](crate::AuditStore::commit) writes one on its own), so that a change,
//! the audit entries that record it, the outbox jobs that announce it and the in-app notices
//! it raises are committed together or not at all. The application layer builds one per use
//! case from the caller and its clock.
//!
//! `effects_impl!` writes them: expanded inside `impl_store!` for each backend before the
//! per-area implementations, it gives them the transaction type `Tx`, `apply_effects` (the one
//! place effects are written) and `commit` (the `AuditStore`).

use jiff::Timestamp;
use keikai_domain::audit::{AuditActor, Change};

use crate::{NewJob, NewNotification};

/// Audit entries, outbox jobs and notices, with who caused them and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Effects {
    /// Who the audit entries name.
    pub actor: AuditActor,
    /// When the change happens: the time of its audit entries, notices and stored rows.
    pub at: Timestamp,
    /// Appended to the hash chain in this order.
    pub audit: Vec<Change>,
    /// Inserted into the outbox; a job whose key exists already is skipped.
    pub jobs: Vec<NewJob>,
    pub notices: Vec<NewNotification>,
}

impl Effects {
    /// Nothing yet: a change by `actor` at `at`, taken to the microsecond as the databases
    /// keep it, so that a row the caller describes in an audit entry (an organisation's
    /// `created_at`) reads back as described.
    pub fn new(actor: AuditActor, at: Timestamp) -> Self {
        Self {
            actor,
            // Truncated like every stored timestamp (`codec::Ts`).
            at: Timestamp::from_microsecond(at.as_microsecond()).unwrap_or(at),
            audit: Vec::new(),
            jobs: Vec::new(),
            notices: Vec::new(),
        }
    }

    /// A change Keikai makes itself (scheduled work, start-up).
    pub fn system(at: Timestamp) -> Self {
        Self::new(AuditActor::System, at)
    }

    #[must_use]
    pub fn with_audit(mut self, change: Change) -> Self {
        self.audit.push(change);
        self
    }

    #[must_use]
    pub fn with_changes(mut self, changes: impl IntoIterator<Item = Change>) -> Self {
        self.audit.extend(changes);
        self
    }

    #[must_use]
    pub fn with_jobs(mut self, jobs: impl IntoIterator<Item = NewJob>) -> Self {
        self.jobs.extend(jobs);
        self
    }

    #[must_use]
    pub fn with_notices(mut self, notices: impl IntoIterator<Item = NewNotification>) -> Self {
        self.notices.extend(notices);
        self
    }

    /// Whether there is nothing to write beside the change itself.
    pub fn is_empty(&self) -> bool {
        self.audit.is_empty() && self.jobs.is_empty() && self.notices.is_empty()
    }
}

/// The writing of effects, expanded inside `impl_store!` (which provides `Db`, `db`, `db_or`,
/// `no_user`, `Ts` and the rest) before the per-area implementations, which use `Tx`,
/// `apply_effects` and, to begin and end a write, `begin` and `finish`.
macro_rules! effects_impl {
    ($store:ident) => {
        use keikai_domain::audit::{AuditActor, AuditEntry, Change};
        use keikai_domain::{DomainError, JobId};
        use $crate::{AuditStore, Effects, NewJob, NewNotification};

        type Tx = sqlx::Transaction<'static, Db>;

        /// More jobs than this are inserted with multi-row statements (a fan-out's).
        const BULK_JOBS: usize = 32;

        async fn begin(pool: &Pool) -> Result<Tx> {
            pool.begin().await.map_err(db)
        }

        /// Writes `fx` and commits: the end of every write. Returns how many jobs were new.
        async fn finish(mut tx: Tx, fx: &Effects) -> Result<u64> {
            let jobs = apply_effects(&mut tx, fx).await?;
            tx.commit().await.map_err(db)?;
            Ok(jobs)
        }

        /// Writes a change's effects inside its transaction: the audit entries in order,
        /// then the jobs, then the notices last (they reference users by foreign key, so a
        /// notice for a user that does not exist fails the whole transaction after all else
        /// is written). Returns how many jobs were new.
        async fn apply_effects(tx: &mut Tx, fx: &Effects) -> Result<u64> {
            for change in &fx.audit {
                append_audit_in(tx, fx.actor, change, fx.at).await?;
            }
            let jobs = if fx.jobs.len() > BULK_JOBS {
                insert_jobs_bulk(tx, &fx.jobs, fx.at).await?
            } else {
                insert_jobs(tx, &fx.jobs, fx.at).await?
            };
            insert_notifications(tx, &fx.notices, fx.at).await?;
            Ok(jobs)
        }

        /// Appends one entry to the chain. The head row of the chain is locked first
        /// (`UPDATE … RETURNING`), which on PostgreSQL makes instances that share the
        /// database append one at a time, and on SQLite is free (one writer).
        async fn append_audit_in(
            tx: &mut Tx,
            actor: AuditActor,
            change: &Change,
            at: Timestamp,
        ) -> Result<AuditEntry> {
            let (seq, hash): (i64, String) = sqlx::query_as(sql::LOCK_AUDIT_HEAD)
                .fetch_one(&mut **tx)
                .await
                .map_err(db)?;
            let prev = (seq > 0).then_some((seq, hash.as_str()));
            let entry = AuditEntry::next(prev, at, actor, change);
            sqlx::query(sql::INSERT_AUDIT)
                .bind(entry.seq)
                .bind(Ts::from(entry.at))
                .bind(entry.actor.as_str())
                .bind(entry.action.as_str())
                .bind(entry.subject.as_str())
                .bind(entry.before.as_str())
                .bind(entry.after.as_str())
                .bind(entry.prev_hash.as_str())
                .bind(entry.hash.as_str())
                .execute(&mut **tx)
                .await
                .map_err(db)?;
            sqlx::query(sql::SET_AUDIT_HEAD)
                .bind(entry.seq)
                .bind(entry.hash.as_str())
                .execute(&mut **tx)
                .await
                .map_err(db)?;
            Ok(entry)
        }

        fn check_job(job: &NewJob) -> Result<()> {
            if job.kind.trim().is_empty() {
                return Err(DomainError::invalid("job.kind", "must not be empty").into());
            }
            if job.key.trim().is_empty() {
                return Err(DomainError::invalid(
                    "job.key",
                    format!("a job of kind \"{}\" needs an idempotency key", job.kind),
                )
                .into());
            }
            Ok(())
        }

        fn job_payload(job: &NewJob) -> Result<String> {
            serde_json::to_string(&job.payload).map_err(|e| {
                StoreError::Other(format!("cannot encode the payload of job {}: {e}", job.key))
            })
        }

        /// Inserts jobs one statement each, skipping keys that exist; returns how many were
        /// new.
        async fn insert_jobs(tx: &mut Tx, jobs: &[NewJob], now: Timestamp) -> Result<u64> {
            let mut inserted = 0;
            for job in jobs {
                check_job(job)?;
                inserted += sqlx::query(sql::INSERT_JOB)
                    .bind(JobId::new().as_uuid())
                    .bind(job.kind.as_str())
                    .bind(job.key.as_str())
                    .bind(job_payload(job)?)
                    .bind(Ts::from(job.run_at))
                    .bind(Ts::from(now))
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?
                    .rows_affected();
            }
            Ok(inserted)
        }

        /// `insert_jobs` for many jobs at once (a fan-out): multi-row INSERTs, keys that
        /// exist skipped.
        async fn insert_jobs_bulk(tx: &mut Tx, jobs: &[NewJob], now: Timestamp) -> Result<u64> {
            // 9 binds a row.
            const CHUNK: usize = 1000;
            for job in jobs {
                check_job(job)?;
            }
            let mut inserted = 0;
            for chunk in jobs.chunks(CHUNK) {
                let payloads = chunk.iter().map(job_payload).collect::<Result<Vec<_>>>()?;
                let mut qb = sqlx::QueryBuilder::<Db>::new(sql::INSERT_JOBS_BULK);
                qb.push_values(chunk.iter().zip(payloads), |mut b, (job, payload)| {
                    b.push_bind(JobId::new().as_uuid())
                        .push_bind(job.kind.clone())
                        .push_bind(job.key.clone())
                        .push_bind(payload)
                        .push_bind("queued")
                        .push_bind(0_i64)
                        .push_bind(Ts::from(job.run_at))
                        .push_bind(Ts::from(now))
                        .push_bind(Ts::from(now));
                });
                qb.push(" ON CONFLICT (key) DO NOTHING");
                inserted += qb
                    .build()
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?
                    .rows_affected();
            }
            Ok(inserted)
        }

        async fn insert_notifications(
            tx: &mut Tx,
            notices: &[NewNotification],
            at: Timestamp,
        ) -> Result<()> {
            for n in notices {
                sqlx::query(sql::INSERT_NOTIFICATION)
                    .bind(uuid::Uuid::now_v7())
                    .bind(n.user_id.as_uuid())
                    .bind(n.case_id.map(|c| c.as_uuid()))
                    .bind(n.kind.as_str())
                    .bind(n.text.as_str())
                    .bind(Ts::from(at))
                    .execute(&mut **tx)
                    .await
                    .map_err(|e| db_or(e, None, no_user(n.user_id)))?;
            }
            Ok(())
        }

        #[async_trait]
        impl AuditStore for $store {
            async fn commit(&self, fx: &Effects) -> Result<u64> {
                finish(begin(self.writer()).await?, fx).await
            }

            async fn audit_for(&self, subject: &str) -> Result<Vec<AuditEntry>> {
                all_by(sql::AUDIT_FOR, subject, self.reader()).await
            }

            async fn audit_page(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>> {
                let q = sqlx::query_as::<_, codec::AuditRow>(sql::AUDIT_PAGE)
                    .bind(after)
                    .bind(i64::from(limit));
                all(q, self.reader()).await
            }

            async fn audit_head(&self) -> Result<Option<(i64, String)>> {
                let (seq, hash): (i64, String) = sqlx::query_as(sql::AUDIT_HEAD)
                    .fetch_one(self.reader())
                    .await
                    .map_err(db)?;
                Ok((seq > 0).then_some((seq, hash)))
            }
        }
    };
}

pub(crate) use effects_impl;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_up_in_order() {
        let at = Timestamp::UNIX_EPOCH;
        let fx = Effects::system(at)
            .with_audit(Change::new("a.one", "x/1", (), ()))
            .with_changes([Change::new("a.two", "x/1", (), ())]);
        assert_eq!(fx.actor, AuditActor::System);
        assert_eq!(
            fx.audit.iter().map(|c| c.action).collect::<Vec<_>>(),
            ["a.one", "a.two"]
        );
        assert!(!fx.is_empty());
        assert!(Effects::system(at).is_empty());
    }
}
