//! The `JobStore` implementation (the outbox as the worker sees it), expanded inside
//! `impl_store!`. Jobs are written as effects (`apply_effects` in `effects.rs`).
//!
//! Claiming is one statement on both backends: a CTE picks the due jobs and the UPDATE takes
//! them. On PostgreSQL the CTE locks its rows `FOR UPDATE SKIP LOCKED` (the invoking module's
//! `CLAIM_LOCK`), so concurrent claimers pass over each other's rows instead of waiting, and
//! a row another claimer took meanwhile fails the re-check of the WHERE clause. SQLite has
//! one writer connection, so the statement runs alone.

macro_rules! job_store_impl {
    ($store:ident) => {
        use jiff::SignedDuration;
        use $crate::{Job, JobCounts, JobFilter, JobState, JobStore};

        /// The most jobs one claim or list returns.
        const MAX_JOBS: u32 = 1000;

        /// Why a complete or fail changed nothing: no such job, or not held by `worker`.
        async fn not_held(store: &$store, id: JobId, worker: &str) -> StoreError {
            match store.get_job(id).await {
                Ok(job) => StoreError::Conflict(format!(
                    "job {} ({}) is {} and held by {}, not by {worker}; its lease ran out and \
                     another worker took it over",
                    job.key,
                    job.kind,
                    job.state,
                    job.locked_by.as_deref().unwrap_or("no one"),
                )),
                Err(e) => e,
            }
        }

        /// `substr(kind, 1, n) = prefix` needs the prefix's length in characters.
        fn prefix_len(prefix: Option<&str>) -> Option<i32> {
            prefix.map(|p| i32::try_from(p.chars().count()).unwrap_or(i32::MAX))
        }

        #[async_trait]
        impl JobStore for $store {
            async fn claim_jobs(
                &self,
                worker: &str,
                kinds: &[&str],
                now: Timestamp,
                lease: SignedDuration,
                limit: u32,
            ) -> Result<Vec<Job>> {
                if kinds.is_empty() || limit == 0 {
                    return Ok(Vec::new());
                }
                if lease <= SignedDuration::ZERO {
                    return Err(DomainError::invalid("lease", "must be positive").into());
                }
                let until = now.checked_add(lease).map_err(|e| {
                    StoreError::Other(format!("a lease of {lease:#} from {now} is too long: {e}"))
                })?;
                let mut qb = sqlx::QueryBuilder::<Db>::new(sql::CLAIM_JOBS_DUE);
                qb.push_bind(Ts::from(now))
                    .push(sql::CLAIM_JOBS_LEASE)
                    .push_bind(Ts::from(now))
                    .push(sql::CLAIM_JOBS_KINDS);
                let mut list = qb.separated(", ");
                for kind in kinds {
                    list.push_bind(*kind);
                }
                qb.push(sql::CLAIM_JOBS_ORDER)
                    .push_bind(i64::from(limit.min(MAX_JOBS)))
                    .push(super::CLAIM_LOCK)
                    .push(sql::CLAIM_JOBS_SET)
                    .push_bind(worker)
                    .push(", locked_until = ")
                    .push_bind(Ts::from(until))
                    .push(", updated_at = ")
                    .push_bind(Ts::from(now))
                    .push(sql::CLAIM_JOBS_RETURNING);
                let mut jobs: Vec<Job> =
                    all(qb.build_query_as::<codec::JobRow>(), self.writer()).await?;
                // RETURNING gives no order.
                jobs.sort_by(|a, b| (a.run_at, a.id).cmp(&(b.run_at, b.id)));
                Ok(jobs)
            }

            async fn complete_job(&self, id: JobId, worker: &str, now: Timestamp) -> Result<()> {
                let query = sqlx::query(sql::COMPLETE_JOB)
                    .bind(id.as_uuid())
                    .bind(worker)
                    .bind(Ts::from(now));
                match execute(query, self.writer()).await? {
                    0 => Err(not_held(self, id, worker).await),
                    _ => Ok(()),
                }
            }

            async fn complete_jobs(
                &self,
                ids: &[JobId],
                worker: &str,
                now: Timestamp,
            ) -> Result<u64> {
                let mut done = 0;
                for chunk in ids.chunks(MAX_JOBS as usize) {
                    let mut qb = sqlx::QueryBuilder::<Db>::new(sql::COMPLETE_JOBS);
                    qb.push_bind(Ts::from(now))
                        .push(sql::COMPLETE_JOBS_UPDATED)
                        .push_bind(Ts::from(now))
                        .push(sql::COMPLETE_JOBS_WORKER)
                        .push_bind(worker)
                        .push(sql::COMPLETE_JOBS_IDS);
                    let mut list = qb.separated(", ");
                    for id in chunk {
                        list.push_bind(id.as_uuid());
                    }
                    qb.push(")");
                    done += qb
                        .build()
                        .execute(self.writer())
                        .await
                        .map_err(db)?
                        .rows_affected();
                }
                Ok(done)
            }

            async fn fail_job(
                &self,
                id: JobId,
                worker: &str,
                error: &str,
                retry_at: Option<Timestamp>,
                now: Timestamp,
            ) -> Result<()> {
                let query = match retry_at {
                    Some(at) => sqlx::query(sql::RETRY_JOB)
                        .bind(id.as_uuid())
                        .bind(worker)
                        .bind(error)
                        .bind(Ts::from(at))
                        .bind(Ts::from(now)),
                    None => sqlx::query(sql::BURY_JOB)
                        .bind(id.as_uuid())
                        .bind(worker)
                        .bind(error)
                        .bind(Ts::from(now)),
                };
                match execute(query, self.writer()).await? {
                    0 => Err(not_held(self, id, worker).await),
                    _ => Ok(()),
                }
            }

            async fn get_job(&self, id: JobId) -> Result<Job> {
                one_by(sql::GET_JOB, id.as_uuid(), self.writer()).await
            }

            async fn get_job_by_key(&self, key: &str) -> Result<Job> {
                one_by(sql::GET_JOB_BY_KEY, key, self.reader()).await
            }

            async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>> {
                let prefix = filter.kind_prefix.as_deref();
                all(
                    sqlx::query_as::<_, codec::JobRow>(sql::LIST_JOBS)
                        .bind(prefix)
                        .bind(prefix_len(prefix))
                        .bind(filter.state.map(JobState::as_str))
                        .bind(i64::from(filter.limit.clamp(1, MAX_JOBS))),
                    self.reader(),
                )
                .await
            }

            async fn count_jobs_by_state(&self, kind_prefix: Option<&str>) -> Result<JobCounts> {
                let rows: Vec<(String, i64)> = sqlx::query_as(sql::COUNT_JOBS_BY_STATE)
                    .bind(kind_prefix)
                    .bind(prefix_len(kind_prefix))
                    .fetch_all(self.reader())
                    .await
                    .map_err(db)?;
                let mut counts = JobCounts::default();
                for (state, n) in rows {
                    let n = codec::count(n);
                    match codec::parse_enum::<JobState>("jobs.state", &state)? {
                        JobState::Queued => counts.queued = n,
                        JobState::Running => counts.running = n,
                        JobState::Done => counts.done = n,
                        JobState::Dead => counts.dead = n,
                    }
                }
                Ok(counts)
            }

            async fn prune_jobs(&self, kind_prefix: &str, before: Timestamp) -> Result<u64> {
                execute(
                    sqlx::query(sql::PRUNE_JOBS)
                        .bind(kind_prefix)
                        .bind(prefix_len(Some(kind_prefix)))
                        .bind(Ts::from(before)),
                    self.writer(),
                )
                .await
            }
        }
    };
}

pub(crate) use job_store_impl;
