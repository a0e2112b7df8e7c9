//! The `CaseStore` implementation, expanded inside `impl_store!` for each backend so that it
//! shares that module's helpers (`db`, `one`, `all`, `Db`, …) and the effects' (`Tx`,
//! `begin`, `finish`).
//!
//! Every write is one transaction that also writes its effects (audit entries, jobs,
//! notices).

macro_rules! case_store_impl {
    ($store:ident) => {
        use keikai_domain::case::{AttachmentMeta, Case, CaseIndex, CaseMessage, Visibility};
        use keikai_domain::{AttachmentId, CaseId, CaseScope, MessageId};
        use sha2::Digest;
        use $crate::{CaseFilter, CaseStore, CaseSummary, NewMessage, Notification};

        async fn write_case_products(tx: &mut Tx, case: CaseId, index: &CaseIndex) -> Result<()> {
            sqlx::query(sql::DELETE_CASE_PRODUCTS)
                .bind(case.as_uuid())
                .execute(&mut **tx)
                .await
                .map_err(db)?;
            for b in &index.branch_ids {
                sqlx::query(sql::INSERT_CASE_PRODUCT)
                    .bind(case.as_uuid())
                    .bind(b.as_uuid())
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?;
            }
            Ok(())
        }

        fn case_json(case: &Case) -> Result<String> {
            serde_json::to_string(case)
                .map_err(|e| StoreError::Other(format!("cannot encode case {}: {e}", case.number)))
        }

        fn case_reference(e: sqlx::Error, case: &Case) -> StoreError {
            let team = case.assignment.as_ref().map(|a| a.team);
            db_or(
                e,
                Some(format!("case {} already exists", case.number)),
                Some(format!(
                    "the case refers to a user or team that does not exist (owner {:?}, team {:?})",
                    case.owner.map(|u| u.to_string()),
                    team.map(|t| t.to_string())
                )),
            )
        }

        /// `%term%` with LIKE's wildcards escaped, for `LIKE … ESCAPE '\'`.
        fn like_pattern(term: &str) -> String {
            let mut p = String::with_capacity(term.len() + 2);
            p.push('%');
            for c in term.chars() {
                if matches!(c, '%' | '_' | '\\') {
                    p.push('\\');
                }
                p.push(c);
            }
            p.push('%');
            p
        }

        fn push_filters(qb: &mut sqlx::QueryBuilder<Db>, f: &CaseFilter) {
            match &f.scope {
                CaseScope::All => {}
                CaseScope::Teams(teams) => {
                    qb.push(" AND team_id IN (");
                    let mut list = qb.separated(", ");
                    for t in teams {
                        list.push_bind(t.as_uuid());
                    }
                    list.push_unseparated(")");
                }
                CaseScope::Reporter(u) => {
                    qb.push(" AND reporter_user_id = ").push_bind(u.as_uuid());
                }
            }
            if let Some(s) = f.state {
                qb.push(" AND state = ").push_bind(s.as_str());
            }
            if f.open_only {
                qb.push(" AND state NOT IN ('closed', 'rejected', 'duplicate')");
            }
            if let Some(k) = f.kind {
                qb.push(" AND kind = ").push_bind(k.as_str());
            }
            if let Some(b) = f.branch {
                qb.push(" AND id IN (SELECT case_id FROM case_products WHERE branch_id = ")
                    .push_bind(b.as_uuid())
                    .push(")");
            }
            if let Some(s) = &f.severity {
                qb.push(" AND severity = ").push_bind(s.clone());
            }
            if let Some(o) = f.owner {
                qb.push(" AND owner_id = ").push_bind(o.as_uuid());
            }
            if let Some(t) = f.team {
                qb.push(" AND team_id = ").push_bind(t.as_uuid());
            }
            if let Some(d) = f.deadline_before {
                qb.push(" AND next_deadline < ").push_bind(Ts::from(d));
            }
            if let Some(e) = f.emergency {
                qb.push(" AND emergency = ").push_bind(e);
            }
            if let Some(text) = &f.text {
                let folded = keikai_domain::case::normalize_search(text);
                for term in folded.split_whitespace().take(10) {
                    qb.push(" AND search_text LIKE ")
                        .push_bind(like_pattern(term))
                        .push(" ESCAPE '\\'");
                }
            }
        }

        /// Inserts a message and its attachments inside `tx`.
        async fn insert_message_in(
            tx: &mut Tx,
            message: &NewMessage,
            now: Timestamp,
        ) -> Result<CaseMessage> {
            let id = MessageId::new();
            sqlx::query(sql::INSERT_MESSAGE)
                .bind(id.as_uuid())
                .bind(message.case_id.as_uuid())
                .bind(message.visibility.as_str())
                .bind(message.author.map(|u| u.as_uuid()))
                .bind(message.from_reporter)
                .bind(message.body.as_str())
                .bind(Ts::from(now))
                .execute(&mut **tx)
                .await
                .map_err(|e| {
                    db_or(
                        e,
                        None,
                        Some(format!("case {} does not exist", message.case_id)),
                    )
                })?;
            let mut attachments = Vec::with_capacity(message.attachments.len());
            for a in &message.attachments {
                let meta = AttachmentMeta {
                    id: AttachmentId::new(),
                    case_id: message.case_id,
                    message_id: Some(id),
                    visibility: message.visibility,
                    file_name: a.file_name.clone(),
                    content_type: a.content_type.clone(),
                    size: i64::try_from(a.bytes.len()).unwrap_or(i64::MAX),
                    sha256: hex::encode(sha2::Sha256::digest(&a.bytes)),
                    created_at: Ts::from(now).get(),
                };
                sqlx::query(sql::INSERT_ATTACHMENT)
                    .bind(meta.id.as_uuid())
                    .bind(meta.case_id.as_uuid())
                    .bind(id.as_uuid())
                    .bind(meta.visibility.as_str())
                    .bind(meta.file_name.as_str())
                    .bind(meta.content_type.as_str())
                    .bind(meta.size)
                    .bind(meta.sha256.as_str())
                    .bind(a.bytes.as_slice())
                    .bind(Ts::from(now))
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?;
                attachments.push(meta);
            }
            Ok(CaseMessage {
                id,
                case_id: message.case_id,
                visibility: message.visibility,
                author: message.author,
                from_reporter: message.from_reporter,
                body: message.body.clone(),
                created_at: Ts::from(now).get(),
                attachments,
            })
        }

        /// Binds the case columns that lists filter and sort by, from `state` to `team_id`, in
        /// the order both INSERT_CASE and UPDATE_CASE list them.
        fn bind_case_columns<'q>(
            query: sqlx::query::Query<'q, Db, Args>,
            case: &'q Case,
            index: &'q CaseIndex,
        ) -> sqlx::query::Query<'q, Db, Args> {
            query
                .bind(case.state.as_str())
                .bind(case.title.as_str())
                .bind(index.severity.as_deref())
                .bind(index.severity_rank)
                .bind(case.emergency.is_some())
                .bind(case.owner.map(|u| u.as_uuid()))
                .bind(case.assignment.as_ref().map(|a| a.team.as_uuid()))
        }

        /// Saves a case inside `tx` if its stored revision is still `case.revision`;
        /// returns it with its new revision.
        async fn update_case_in(tx: &mut Tx, case: &Case, index: &CaseIndex) -> Result<Case> {
            let mut saved = case.clone();
            saved.revision = case.revision + 1;
            let query = sqlx::query(sql::UPDATE_CASE)
                .bind(case.id.as_uuid())
                .bind(case.revision);
            let updated = bind_case_columns(query, case, index)
                .bind(ts_opt(index.next_deadline))
                .bind(index.search_text.as_str())
                .bind(saved.revision)
                .bind(case_json(&saved)?)
                .bind(Ts::from(case.updated_at))
                .execute(&mut **tx)
                .await
                .map_err(|e| case_reference(e, case))?
                .rows_affected();
            if updated == 0 {
                let stale = stale(format_args!("case {}", case.number));
                return Err(not_updated(tx, sql::CASE_EXISTS, case.id.as_uuid(), stale).await);
            }
            write_case_products(tx, case.id, index).await?;
            Ok(saved)
        }

        #[async_trait]
        impl CaseStore for $store {
            async fn create_case(
                &self,
                case: &Case,
                index: &CaseIndex,
                tracking_hash: Option<&str>,
                messages: &[NewMessage],
                fx: &Effects,
            ) -> Result<Case> {
                let mut tx = begin(self.writer()).await?;
                let (number,): (i64,) = sqlx::query_as(sql::NEXT_CASE_NUMBER)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
                let mut case = case.clone();
                case.number = number;
                case.revision = 1;
                let query = sqlx::query(sql::INSERT_CASE)
                    .bind(case.id.as_uuid())
                    .bind(number)
                    .bind(case.report.kind.as_str());
                bind_case_columns(query, &case, index)
                    .bind(case.report.reporter_user.map(|u| u.as_uuid()))
                    .bind(tracking_hash)
                    .bind(ts_opt(index.next_deadline))
                    .bind(index.search_text.as_str())
                    .bind(case.revision)
                    .bind(case_json(&case)?)
                    .bind(Ts::from(case.created_at))
                    .bind(Ts::from(case.updated_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| case_reference(e, &case))?;
                write_case_products(&mut tx, case.id, index).await?;
                for message in messages {
                    insert_message_in(&mut tx, message, fx.at).await?;
                }
                finish(tx, fx).await?;
                Ok(case)
            }

            async fn get_case(&self, id: CaseId) -> Result<Case> {
                one_by(sql::GET_CASE, id.as_uuid(), self.reader()).await
            }

            async fn case_by_number(&self, number: i64) -> Result<Case> {
                one_by(sql::CASE_BY_NUMBER, number, self.reader()).await
            }

            async fn case_by_tracking_hash(&self, tracking_hash: &str) -> Result<Case> {
                one_by(sql::CASE_BY_TRACKING_HASH, tracking_hash, self.reader()).await
            }

            async fn save_case(
                &self,
                case: &Case,
                index: &CaseIndex,
                fx: &Effects,
            ) -> Result<Case> {
                let mut tx = begin(self.writer()).await?;
                let saved = update_case_in(&mut tx, case, index).await?;
                finish(tx, fx).await?;
                Ok(saved)
            }

            async fn list_cases(&self, filter: &CaseFilter) -> Result<Vec<CaseSummary>> {
                let mut qb = sqlx::QueryBuilder::<Db>::new(sql::LIST_CASES);
                push_filters(&mut qb, filter);
                let order =
                    " ORDER BY emergency DESC, next_deadline IS NULL, next_deadline, number DESC";
                let limit = filter.limit.clamp(1, 1000);
                page::<codec::CaseSummaryRow, _>(qb, order, limit, filter.offset, self.reader())
                    .await
            }

            async fn count_cases(&self, filter: &CaseFilter) -> Result<u64> {
                let mut qb = sqlx::QueryBuilder::<Db>::new(sql::COUNT_CASES);
                push_filters(&mut qb, filter);
                let (n,): (i64,) = qb
                    .build_query_as()
                    .fetch_one(self.reader())
                    .await
                    .map_err(db)?;
                Ok(codec::count(n))
            }

            async fn add_message(
                &self,
                message: &NewMessage,
                case: Option<(&Case, &CaseIndex)>,
                fx: &Effects,
            ) -> Result<CaseMessage> {
                let mut tx = begin(self.writer()).await?;
                if let Some((case, index)) = case {
                    update_case_in(&mut tx, case, index).await?;
                }
                let saved = insert_message_in(&mut tx, message, fx.at).await?;
                finish(tx, fx).await?;
                Ok(saved)
            }

            async fn list_messages(
                &self,
                case: CaseId,
                visibility: Option<Visibility>,
            ) -> Result<Vec<CaseMessage>> {
                let side = visibility.map(Visibility::as_str);
                let mut messages: Vec<CaseMessage> = all(
                    sqlx::query_as::<_, codec::MessageRow>(sql::LIST_MESSAGES)
                        .bind(case.as_uuid())
                        .bind(side),
                    self.reader(),
                )
                .await?;
                let files: Vec<AttachmentMeta> = all(
                    sqlx::query_as::<_, codec::AttachmentRow>(sql::LIST_CASE_ATTACHMENTS)
                        .bind(case.as_uuid())
                        .bind(side),
                    self.reader(),
                )
                .await?;
                for f in files {
                    if let Some(m) = messages.iter_mut().find(|m| Some(m.id) == f.message_id) {
                        m.attachments.push(f);
                    }
                }
                Ok(messages)
            }

            async fn get_attachment(&self, id: AttachmentId) -> Result<(AttachmentMeta, Vec<u8>)> {
                one_by(sql::GET_ATTACHMENT, id.as_uuid(), self.reader()).await
            }

            async fn notifications(
                &self,
                user: UserId,
                unread_only: bool,
            ) -> Result<Vec<Notification>> {
                let q = sqlx::query_as::<_, codec::NotificationRow>(sql::LIST_NOTIFICATIONS)
                    .bind(user.as_uuid())
                    .bind(i64::from(unread_only));
                all(q, self.reader()).await
            }

            async fn mark_notifications_read(&self, user: UserId, now: Timestamp) -> Result<u64> {
                execute(
                    sqlx::query(sql::MARK_NOTIFICATIONS_READ)
                        .bind(user.as_uuid())
                        .bind(Ts::from(now)),
                    self.writer(),
                )
                .await
            }
        }
    };
}

pub(crate) use case_store_impl;
