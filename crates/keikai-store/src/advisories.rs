//! The `AdvisoryStore` implementation, expanded inside `impl_store!` next to the case store,
//! whose helper `like_pattern` it shares; it writes through the effects' helpers (`Tx`,
//! `begin`, `finish`).

macro_rules! advisory_store_impl {
    ($store:ident) => {
        use keikai_domain::advisory::Advisory;
        use keikai_domain::release::Release;
        use keikai_domain::{AdvisoryId, ReleaseId};
        use $crate::{AdvisoryFilter, AdvisoryStore, ArtifactMeta, NewArtifact};

        fn advisory_json(a: &Advisory) -> Result<String> {
            serde_json::to_string(a).map_err(|e| {
                StoreError::Other(format!("cannot encode advisory {}: {e}", a.tracking_id))
            })
        }

        fn release_json(r: &Release) -> Result<String> {
            serde_json::to_string(r)
                .map_err(|e| StoreError::Other(format!("cannot encode release {}: {e}", r.id())))
        }

        /// Binds an advisory's columns from `state` on, in the order both INSERT_ADVISORY and
        /// UPDATE_ADVISORY list them (`created_at` only for the INSERT): the aggregate's JSON
        /// and the projections that lists and search read.
        fn bind_advisory<'q>(
            query: sqlx::query::Query<'q, Db, Args>,
            a: &Advisory,
            created_at: Option<Timestamp>,
        ) -> Result<sqlx::query::Query<'q, Db, Args>> {
            let latest = a.latest_version();
            // Public search sees the published text only, never a later draft.
            let public_search_text = latest
                .map(|v| {
                    let mut s = a.tracking_id.clone();
                    for (_, t) in v.content.outline() {
                        s.push('\n');
                        s.push_str(&t);
                    }
                    keikai_domain::case::normalize_search(&s)
                })
                .unwrap_or_default();
            let query = query
                .bind(a.state.as_str())
                .bind(a.release.map(|r| r.as_uuid()))
                .bind(latest.map(|v| v.content.tlp.as_str()))
                .bind(a.versions.len() as i64)
                .bind(a.search_text())
                .bind(public_search_text)
                .bind(a.revision)
                .bind(advisory_json(a)?);
            let query = match created_at {
                Some(t) => query.bind(Ts::from(t)),
                None => query,
            };
            Ok(query
                .bind(Ts::from(a.updated_at))
                .bind(ts_opt(a.versions.first().map(|v| v.at)))
                .bind(ts_opt(latest.map(|v| v.at))))
        }

        /// Saves an advisory inside `tx`, optimistically.
        async fn update_advisory_in(tx: &mut Tx, a: &Advisory) -> Result<Advisory> {
            let mut saved = a.clone();
            saved.revision = a.revision + 1;
            let query = sqlx::query(sql::UPDATE_ADVISORY)
                .bind(a.id.as_uuid())
                .bind(a.revision);
            let updated = bind_advisory(query, &saved, None)?
                .execute(&mut **tx)
                .await
                .map_err(missing("the advisory's release"))?
                .rows_affected();
            if updated == 0 {
                let stale = stale(format_args!("advisory {}", a.tracking_id));
                return Err(not_updated(tx, sql::ADVISORY_EXISTS, a.id.as_uuid(), stale).await);
            }
            Ok(saved)
        }

        async fn update_release_in(tx: &mut Tx, r: &Release) -> Result<Release> {
            let mut saved = r.clone();
            saved.revision = r.revision + 1;
            let updated = sqlx::query(sql::UPDATE_RELEASE)
                .bind(r.id().as_uuid())
                .bind(r.revision)
                .bind(r.state().as_str())
                .bind(Ts::from(r.scheduled_at()))
                .bind(r.title())
                .bind(saved.revision)
                .bind(release_json(&saved)?)
                .execute(&mut **tx)
                .await
                .map_err(db)?
                .rows_affected();
            if updated == 0 {
                let stale = format!(
                    "release \"{}\" was changed by someone else since it was read",
                    r.title()
                );
                return Err(not_updated(tx, sql::RELEASE_EXISTS, r.id().as_uuid(), stale).await);
            }
            Ok(saved)
        }

        #[async_trait]
        impl AdvisoryStore for $store {
            async fn next_advisory_seq(&self, year: i16) -> Result<i64> {
                let (n,): (i64,) = sqlx::query_as(sql::NEXT_ADVISORY_SEQ)
                    .bind(format!("advisory_seq_{year:04}"))
                    .fetch_one(self.writer())
                    .await
                    .map_err(db)?;
                Ok(n)
            }

            async fn create_advisory(&self, advisory: &Advisory, fx: &Effects) -> Result<Advisory> {
                let mut a = advisory.clone();
                a.revision = 1;
                let query = sqlx::query(sql::INSERT_ADVISORY)
                    .bind(a.id.as_uuid())
                    .bind(a.tracking_id.as_str())
                    .bind(a.case_id.map(|c| c.as_uuid()));
                let query = bind_advisory(query, &a, Some(a.created_at))?;
                execute_with_or(query, self.writer(), fx, |e| {
                    db_or(
                        e,
                        Some(format!("advisory {} already exists", a.tracking_id)),
                        Some("the advisory's case or release does not exist".to_owned()),
                    )
                })
                .await?;
                Ok(a)
            }

            async fn get_advisory(&self, id: AdvisoryId) -> Result<Advisory> {
                one_by(sql::GET_ADVISORY, id.as_uuid(), self.reader()).await
            }

            async fn advisory_by_tracking_id(&self, tracking_id: &str) -> Result<Advisory> {
                one_by(sql::ADVISORY_BY_TRACKING_ID, tracking_id, self.reader()).await
            }

            async fn save_advisory(&self, advisory: &Advisory, fx: &Effects) -> Result<Advisory> {
                let mut tx = begin(self.writer()).await?;
                let saved = update_advisory_in(&mut tx, advisory).await?;
                finish(tx, fx).await?;
                Ok(saved)
            }

            async fn list_advisories(&self, f: &AdvisoryFilter) -> Result<Vec<Advisory>> {
                let mut qb = sqlx::QueryBuilder::<Db>::new(sql::LIST_ADVISORIES);
                if let Some(s) = f.state {
                    qb.push(" AND state = ").push_bind(s.as_str());
                }
                if let Some(r) = f.release {
                    qb.push(" AND release_id = ").push_bind(r.as_uuid());
                }
                if let Some(c) = f.case {
                    qb.push(" AND case_id = ").push_bind(c.as_uuid());
                }
                if f.public_only {
                    qb.push(" AND version > 0 AND published_tlp = 'clear'");
                }
                if let Some(text) = &f.text {
                    let column = if f.public_only {
                        " AND public_search_text LIKE "
                    } else {
                        " AND search_text LIKE "
                    };
                    let folded = keikai_domain::case::normalize_search(text);
                    for term in folded.split_whitespace().take(10) {
                        qb.push(column)
                            .push_bind(like_pattern(term))
                            .push(" ESCAPE '\\'");
                    }
                }
                let order = if f.public_only {
                    " ORDER BY current_release_date DESC, tracking_id DESC"
                } else {
                    " ORDER BY updated_at DESC, tracking_id DESC"
                };
                let limit = f.limit.clamp(1, 5000);
                page::<codec::JsonRow, _>(qb, order, limit, f.offset, self.reader()).await
            }

            async fn create_release(&self, release: &Release, fx: &Effects) -> Result<Release> {
                let mut r = release.clone();
                r.revision = 1;
                let kind = match r.kind() {
                    keikai_domain::release::ReleaseKind::Monthly => "monthly",
                    keikai_domain::release::ReleaseKind::OutOfBand => "out_of_band",
                };
                let query = sqlx::query(sql::INSERT_RELEASE)
                    .bind(r.id().as_uuid())
                    .bind(kind)
                    .bind(r.state().as_str())
                    .bind(Ts::from(r.scheduled_at()))
                    .bind(r.title())
                    .bind(r.revision)
                    .bind(release_json(&r)?)
                    .bind(Ts::from(fx.at));
                execute_with(query, self.writer(), fx).await?;
                Ok(r)
            }

            async fn get_release(&self, id: ReleaseId) -> Result<Release> {
                one_by(sql::GET_RELEASE, id.as_uuid(), self.reader()).await
            }

            async fn list_releases(&self, include_published: bool) -> Result<Vec<Release>> {
                all_by(
                    sql::LIST_RELEASES,
                    i64::from(include_published),
                    self.reader(),
                )
                .await
            }

            async fn save_release(&self, release: &Release, fx: &Effects) -> Result<Release> {
                let mut tx = begin(self.writer()).await?;
                let saved = update_release_in(&mut tx, release).await?;
                finish(tx, fx).await?;
                Ok(saved)
            }

            async fn due_releases(&self, now: Timestamp) -> Result<Vec<Release>> {
                all_by(sql::DUE_RELEASES, Ts::from(now), self.reader()).await
            }

            async fn publish_release(
                &self,
                release: &Release,
                advisories: &[(Advisory, Vec<NewArtifact>)],
                fx: &Effects,
            ) -> Result<()> {
                let Some(at) = release.published_at() else {
                    return Err(StoreError::Other(
                        "publish_release needs a release marked published".to_owned(),
                    ));
                };
                let mut tx = begin(self.writer()).await?;
                // First, so that a second instance publishing the same release waits here on
                // PostgreSQL and then finds the revision moved on.
                update_release_in(&mut tx, release).await?;
                for (a, files) in advisories {
                    update_advisory_in(&mut tx, a).await?;
                    let version = a.versions.len() as i64;
                    for f in files {
                        sqlx::query(sql::INSERT_ARTIFACT)
                            .bind(a.id.as_uuid())
                            .bind(version)
                            .bind(f.name.as_str())
                            .bind(f.content_type.as_str())
                            .bind(hex::encode(sha2::Sha256::digest(&f.bytes)))
                            .bind(f.bytes.as_slice())
                            .bind(Ts::from(at))
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| {
                                db_or(
                                    e,
                                    Some(format!(
                                        "{} version {version} already has a file {}",
                                        a.tracking_id, f.name
                                    )),
                                    None,
                                )
                            })?;
                    }
                }
                finish(tx, fx).await?;
                Ok(())
            }

            async fn artifact(
                &self,
                advisory: AdvisoryId,
                version: u32,
                name: &str,
            ) -> Result<(ArtifactMeta, Vec<u8>)> {
                let query = sqlx::query_as::<_, codec::ArtifactBytesRow>(sql::GET_ARTIFACT)
                    .bind(advisory.as_uuid())
                    .bind(i64::from(version))
                    .bind(name);
                one(query, self.reader()).await
            }

            async fn public_artifact(
                &self,
                tracking_id: &str,
                version: Option<u32>,
                name: &str,
            ) -> Result<(ArtifactMeta, Vec<u8>)> {
                let query = sqlx::query_as::<_, codec::ArtifactBytesRow>(sql::PUBLIC_ARTIFACT)
                    .bind(tracking_id)
                    .bind(version.map(i64::from))
                    .bind(name);
                one(query, self.reader()).await
            }

            async fn public_latest_artifact_by_name(
                &self,
                name: &str,
            ) -> Result<(ArtifactMeta, Vec<u8>)> {
                one_by(sql::PUBLIC_LATEST_ARTIFACT_BY_NAME, name, self.reader()).await
            }

            async fn list_artifacts(
                &self,
                advisory: Option<AdvisoryId>,
            ) -> Result<Vec<ArtifactMeta>> {
                all_by(
                    sql::LIST_ARTIFACTS,
                    advisory.map(|a| a.as_uuid()),
                    self.reader(),
                )
                .await
            }

            async fn setting(&self, name: &str) -> Result<Option<String>> {
                text(sql::GET_SETTING, name, self.reader()).await
            }

            async fn put_setting_if_absent(
                &self,
                name: &str,
                value: &str,
                fx: &Effects,
            ) -> Result<String> {
                let mut tx = begin(self.writer()).await?;
                let inserted = sqlx::query(sql::INSERT_SETTING_IF_ABSENT)
                    .bind(name)
                    .bind(value)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?
                    .rows_affected();
                if inserted == 1 {
                    finish(tx, fx).await?;
                } else {
                    // Another writer was first: nothing of this one is kept.
                    drop(tx);
                }
                text(sql::GET_SETTING, name, self.writer())
                    .await?
                    .ok_or(StoreError::NotFound)
            }
        }
    };
}

pub(crate) use advisory_store_impl;
