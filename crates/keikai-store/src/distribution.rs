//! The `DistributionStore` implementation, expanded inside `impl_store!`; it writes through
//! the effects' helpers (`Tx`, `begin`, `finish`).

macro_rules! distribution_store_impl {
    ($store:ident) => {
        use keikai_domain::subscription::{AudienceList, Subscriber, WebhookEndpoint};
        use keikai_domain::{ListId, SubscriberId};
        use $crate::{
            Audience, DeliveryCounts, DeliveryRecord, DeliveryState, DistributionEvent,
            DistributionStore, EditionRecord, ImportCounts, NewDelivery, NewSubscription,
            SubscriberRecord,
        };

        /// Rows per multi-row INSERT: 13 binds each stays below SQLite's 32,766 and
        /// PostgreSQL's 65,535 parameters.
        const DELIVERY_CHUNK: usize = 1000;

        async fn lists_of(
            ex: &mut <Db as sqlx::Database>::Connection,
            id: uuid::Uuid,
        ) -> Result<Vec<ListId>> {
            let rows: Vec<(uuid::Uuid,)> = sqlx::query_as(sql::LISTS_OF_SUBSCRIBER)
                .bind(id)
                .fetch_all(&mut *ex)
                .await
                .map_err(db)?;
            Ok(rows.into_iter().map(|(l,)| ListId::from_uuid(l)).collect())
        }

        async fn one_subscriber(
            store: &$store,
            sql: &'static str,
            key: impl sqlx::Encode<'static, Db> + sqlx::Type<Db> + Send + 'static,
        ) -> Result<Option<SubscriberRecord>> {
            let mut conn = store.reader().acquire().await.map_err(db)?;
            let row: Option<codec::SubscriberRow> = sqlx::query_as(sql)
                .bind(key)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?;
            let Some(row) = row else {
                return Ok(None);
            };
            let id = row.id();
            let mut record = row.into_record()?;
            record.lists = lists_of(&mut conn, id).await?;
            Ok(Some(record))
        }

        fn subscribed_already(email: &Email) -> impl FnOnce(sqlx::Error) -> StoreError {
            move |e| db_or(e, Some(format!("{email} is subscribed already")), None)
        }

        /// A page of subscribers (on `list`, or all), or of their memberships: the
        /// statements share their parameters.
        fn subscriber_page<R>(
            sql: &'static str,
            list: Option<uuid::Uuid>,
            limit: i64,
            offset: i64,
        ) -> sqlx::query::QueryAs<'static, Db, R, Args>
        where
            R: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row>,
        {
            sqlx::query_as(sql).bind(list).bind(limit).bind(offset)
        }

        async fn insert_subscriber_in(
            tx: &mut Tx,
            s: &NewSubscription,
            now: Timestamp,
        ) -> Result<()> {
            let sub = &s.subscriber;
            sqlx::query(sql::INSERT_SUBSCRIBER)
                .bind(sub.id.as_uuid())
                .bind(sub.email.as_str())
                .bind(sub.state.as_str())
                .bind(s.token.as_str())
                .bind(to_json("a subscriber", serde_json::to_string(sub))?)
                .bind(Ts::from(now))
                .execute(&mut **tx)
                .await
                .map_err(subscribed_already(&sub.email))?;
            add_members_in(tx, sub.id, &s.lists).await
        }

        async fn add_members_in(tx: &mut Tx, id: SubscriberId, lists: &[ListId]) -> Result<()> {
            for list in lists {
                sqlx::query(sql::INSERT_MEMBER)
                    .bind(list.as_uuid())
                    .bind(id.as_uuid())
                    .execute(&mut **tx)
                    .await
                    .map_err(|e| db_or(e, None, Some(format!("list {list} does not exist"))))?;
            }
            Ok(())
        }

        async fn one_delivery(
            store: &$store,
            sql: &'static str,
            key: impl sqlx::Encode<'static, Db> + sqlx::Type<Db> + Send + 'static,
        ) -> Result<DeliveryRecord> {
            one_by(sql, key, store.reader()).await
        }

        #[async_trait]
        impl DistributionStore for $store {
            async fn create_subscriber(
                &self,
                subscription: &NewSubscription,
                fx: &Effects,
            ) -> Result<()> {
                let mut tx = begin(self.writer()).await?;
                insert_subscriber_in(&mut tx, subscription, fx.at).await?;
                finish(tx, fx).await.map(drop)
            }

            async fn import_subscribers(
                &self,
                rows: &[NewSubscription],
                fx: &Effects,
            ) -> Result<ImportCounts> {
                let mut counts = ImportCounts::default();
                let mut tx = begin(self.writer()).await?;
                for row in rows {
                    let existing: Option<(uuid::Uuid,)> =
                        sqlx::query_as("SELECT id FROM subscribers WHERE email = $1")
                            .bind(row.subscriber.email.as_str())
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(db)?;
                    match existing {
                        Some((id,)) => {
                            add_members_in(&mut tx, SubscriberId::from_uuid(id), &row.lists)
                                .await?;
                            counts.updated += 1;
                        }
                        None => {
                            insert_subscriber_in(&mut tx, row, fx.at).await?;
                            counts.created += 1;
                        }
                    }
                }
                finish(tx, fx).await?;
                Ok(counts)
            }

            async fn save_subscriber(
                &self,
                subscriber: &Subscriber,
                lists: Option<&[ListId]>,
                fx: &Effects,
            ) -> Result<()> {
                let mut tx = begin(self.writer()).await?;
                let done = sqlx::query(sql::UPDATE_SUBSCRIBER)
                    .bind(subscriber.id.as_uuid())
                    .bind(subscriber.email.as_str())
                    .bind(subscriber.state.as_str())
                    .bind(to_json("a subscriber", serde_json::to_string(subscriber))?)
                    .bind(Ts::from(fx.at))
                    .execute(&mut *tx)
                    .await
                    .map_err(subscribed_already(&subscriber.email))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                if let Some(lists) = lists {
                    sqlx::query(sql::DELETE_MEMBERS)
                        .bind(subscriber.id.as_uuid())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    add_members_in(&mut tx, subscriber.id, lists).await?;
                }
                finish(tx, fx).await.map(drop)
            }

            async fn get_subscriber(&self, id: SubscriberId) -> Result<SubscriberRecord> {
                one_subscriber(self, sql::GET_SUBSCRIBER, id.as_uuid())
                    .await?
                    .ok_or(StoreError::NotFound)
            }

            async fn subscriber_by_token(&self, token: &str) -> Result<SubscriberRecord> {
                one_subscriber(self, sql::SUBSCRIBER_BY_TOKEN, token.to_owned())
                    .await?
                    .ok_or(StoreError::NotFound)
            }

            async fn subscriber_by_email(&self, email: &Email) -> Result<Option<SubscriberRecord>> {
                one_subscriber(self, sql::SUBSCRIBER_BY_EMAIL, email.as_str().to_owned()).await
            }

            async fn list_subscribers(
                &self,
                list: Option<ListId>,
                limit: u32,
                offset: u32,
            ) -> Result<Vec<SubscriberRecord>> {
                let list = list.map(|l| l.as_uuid());
                let (limit, offset) = (i64::from(limit.min(10_000)), i64::from(offset));
                let mut tx = self.reader().begin().await.map_err(db)?;
                let rows: Vec<codec::SubscriberRow> =
                    subscriber_page(sql::LIST_SUBSCRIBERS, list, limit, offset)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(db)?;
                // One read for the page's memberships, not one per subscriber.
                let members: Vec<(uuid::Uuid, uuid::Uuid)> =
                    subscriber_page(sql::LIST_SUBSCRIBERS_MEMBERS, list, limit, offset)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(db)?;
                let mut lists: std::collections::HashMap<uuid::Uuid, Vec<ListId>> =
                    std::collections::HashMap::new();
                for (subscriber, on) in members {
                    lists
                        .entry(subscriber)
                        .or_default()
                        .push(ListId::from_uuid(on));
                }
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let id = row.id();
                    let mut record = row.into_record()?;
                    record.lists = lists.remove(&id).unwrap_or_default();
                    out.push(record);
                }
                Ok(out)
            }

            async fn count_subscribers(&self, list: Option<ListId>) -> Result<u64> {
                count(
                    sqlx::query_as(sql::COUNT_SUBSCRIBERS).bind(list.map(|l| l.as_uuid())),
                    self.reader(),
                )
                .await
            }

            async fn save_list(&self, list: &AudienceList, fx: &Effects) -> Result<()> {
                let query = sqlx::query(sql::UPSERT_LIST)
                    .bind(list.id.as_uuid())
                    .bind(list.name.as_str())
                    .bind(to_json("a list", serde_json::to_string(list))?)
                    .bind(Ts::from(fx.at));
                let taken = || format!("a list is already named \"{}\"", list.name);
                execute_with_or(query, self.writer(), fx, |e| db_or(e, Some(taken()), None))
                    .await
                    .map(drop)
            }

            async fn get_list(&self, id: ListId) -> Result<AudienceList> {
                one_by(sql::GET_LIST, id.as_uuid(), self.reader()).await
            }

            async fn list_lists(&self) -> Result<Vec<AudienceList>> {
                let mut lists: Vec<AudienceList> = all_of(sql::LIST_LISTS, self.reader()).await?;
                // Created order is kept among equal priorities: the older list wins.
                lists.sort_by_key(|l| l.priority);
                Ok(lists)
            }

            async fn delete_list(&self, id: ListId, fx: &Effects) -> Result<()> {
                let query = sqlx::query(sql::DELETE_LIST).bind(id.as_uuid());
                update_with(query, self.writer(), fx).await
            }

            async fn audience(&self) -> Result<Audience> {
                let mut tx = self.reader().begin().await.map_err(db)?;
                let mut lists: Vec<AudienceList> = all_of(sql::LIST_LISTS, &mut *tx).await?;
                lists.sort_by_key(|l| l.priority);
                let members: Vec<(uuid::Uuid, uuid::Uuid)> = sqlx::query_as(sql::ALL_MEMBERS)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db)?;
                let members: Vec<(ListId, SubscriberId)> = members
                    .into_iter()
                    .map(|(l, s)| (ListId::from_uuid(l), SubscriberId::from_uuid(s)))
                    .collect();
                let rows: Vec<codec::SubscriberRow> = sqlx::query_as(sql::ACTIVE_SUBSCRIBERS)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db)?;
                let mut subscribers = rows
                    .into_iter()
                    .map(codec::SubscriberRow::into_record)
                    .collect::<Result<Vec<SubscriberRecord>>>()?;
                let mut by_id: std::collections::HashMap<SubscriberId, usize> = subscribers
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.subscriber.id, i))
                    .collect();
                for (list, sub) in &members {
                    if let Some(i) = by_id.get_mut(sub) {
                        subscribers[*i].lists.push(*list);
                    }
                }
                let webhooks: Vec<WebhookEndpoint> =
                    all_of(sql::ENABLED_WEBHOOKS, &mut *tx).await?;
                Ok(Audience {
                    lists,
                    members,
                    subscribers,
                    webhooks,
                })
            }

            async fn save_edition(
                &self,
                name: &str,
                data: &serde_json::Value,
                expected_revision: i64,
                fx: &Effects,
            ) -> Result<i64> {
                let revision = expected_revision + 1;
                let query = sqlx::query(sql::UPSERT_EDITION)
                    .bind(name)
                    .bind(revision)
                    .bind(to_json("an edition", serde_json::to_string(data))?)
                    .bind(Ts::from(fx.at))
                    .bind(replaceable_revision(expected_revision));
                update_with_or(query, self.writer(), fx, db, || {
                    changed_meanwhile(&format!("the edition \"{name}\""))
                })
                .await?;
                Ok(revision)
            }

            async fn get_edition(&self, name: &str) -> Result<Option<EditionRecord>> {
                optional_by(sql::GET_EDITION, name, self.reader()).await
            }

            async fn list_editions(&self) -> Result<Vec<EditionRecord>> {
                all_of(sql::LIST_EDITIONS, self.reader()).await
            }

            async fn save_webhook(&self, endpoint: &WebhookEndpoint, fx: &Effects) -> Result<()> {
                let query = sqlx::query(sql::UPSERT_WEBHOOK)
                    .bind(endpoint.id)
                    .bind(endpoint.list_id.as_uuid())
                    .bind(to_json(
                        "a webhook endpoint",
                        serde_json::to_string(endpoint),
                    )?)
                    .bind(endpoint.enabled)
                    .bind(i64::from(endpoint.consecutive_failures))
                    .bind(endpoint.disabled_reason.as_deref())
                    .bind(Ts::from(endpoint.created_at))
                    .bind(Ts::from(fx.at));
                execute_with_or(query, self.writer(), fx, missing("the list"))
                    .await
                    .map(drop)
            }

            async fn get_webhook(&self, id: uuid::Uuid) -> Result<WebhookEndpoint> {
                one_by(sql::GET_WEBHOOK, id, self.reader()).await
            }

            async fn list_webhooks(&self) -> Result<Vec<WebhookEndpoint>> {
                all_of(sql::LIST_WEBHOOKS, self.reader()).await
            }

            async fn record_webhook_attempt(
                &self,
                id: uuid::Uuid,
                error: Option<&str>,
                disable_after: u32,
                now: Timestamp,
            ) -> Result<bool> {
                let query = match error {
                    None => sqlx::query_as(sql::WEBHOOK_SUCCEEDED)
                        .bind(id)
                        .bind(Ts::from(now)),
                    Some(error) => sqlx::query_as(sql::WEBHOOK_FAILED)
                        .bind(id)
                        .bind(Ts::from(now))
                        .bind(i64::from(disable_after.max(1)))
                        .bind(format!(
                            "disabled after {disable_after} failed attempts in a row; the \
                             last: {error}"
                        )),
                };
                let row: Option<(bool,)> = query.fetch_optional(self.writer()).await.map_err(db)?;
                let (enabled,) = row.ok_or(StoreError::NotFound)?;
                Ok(!enabled)
            }

            async fn record_fanout(
                &self,
                event: &DistributionEvent,
                deliveries: &[NewDelivery],
                fx: &Effects,
            ) -> Result<bool> {
                let now = event.created_at;
                let mut tx = begin(self.writer()).await?;
                let inserted = sqlx::query(sql::INSERT_EVENT)
                    .bind(event.id)
                    .bind(event.key.as_str())
                    .bind(event.kind.as_str())
                    .bind(event.title.as_str())
                    .bind(to_json("an event", serde_json::to_string(&event.data))?)
                    .bind(Ts::from(now))
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?
                    .rows_affected();
                if inserted == 0 {
                    // Recorded already (a repeated fan-out, or another instance).
                    return Ok(false);
                }
                for chunk in deliveries.chunks(DELIVERY_CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<Db>::new(sql::INSERT_DELIVERIES);
                    qb.push_values(chunk, |mut b, d| {
                        b.push_bind(d.id)
                            .push_bind(event.id)
                            .push_bind(d.channel.as_str())
                            .push_bind(d.recipient_id)
                            .push_bind(d.list_id.as_uuid())
                            .push_bind(d.address.clone())
                            .push_bind(d.locale.as_str())
                            .push_bind("queued")
                            .push_bind(0_i64)
                            .push_bind(d.message_id.clone())
                            .push_bind(d.ack_token.clone())
                            .push_bind(Ts::from(now))
                            .push_bind(Ts::from(now));
                    });
                    qb.build().execute(&mut *tx).await.map_err(|e| {
                        db_or(
                            e,
                            Some(format!(
                                "event {} has a recipient twice (the no-duplicates rule)",
                                event.key
                            )),
                            None,
                        )
                    })?;
                }
                finish(tx, fx).await?;
                Ok(true)
            }

            async fn get_event(&self, id: uuid::Uuid) -> Result<DistributionEvent> {
                one_by(sql::GET_EVENT, id, self.reader()).await
            }

            async fn event_by_key(&self, key: &str) -> Result<Option<DistributionEvent>> {
                optional_by(sql::EVENT_BY_KEY, key, self.reader()).await
            }

            async fn list_events(&self, limit: u32) -> Result<Vec<DistributionEvent>> {
                all_by(sql::LIST_EVENTS, i64::from(limit.min(1000)), self.reader()).await
            }

            async fn get_delivery(&self, id: uuid::Uuid) -> Result<DeliveryRecord> {
                one_delivery(self, sql::GET_DELIVERY, id).await
            }

            async fn delivery_by_message_id(&self, message_id: &str) -> Result<DeliveryRecord> {
                one_delivery(self, sql::DELIVERY_BY_MESSAGE_ID, message_id.to_owned()).await
            }

            async fn delivery_by_ack_token(&self, token: &str) -> Result<DeliveryRecord> {
                one_delivery(self, sql::DELIVERY_BY_ACK_TOKEN, token.to_owned()).await
            }

            async fn list_deliveries(
                &self,
                event: uuid::Uuid,
                state: Option<DeliveryState>,
                limit: u32,
            ) -> Result<Vec<DeliveryRecord>> {
                all(
                    sqlx::query_as::<_, codec::DeliveryRow>(sql::LIST_DELIVERIES)
                        .bind(event)
                        .bind(state.map(DeliveryState::as_str))
                        .bind(i64::from(limit.min(100_000))),
                    self.reader(),
                )
                .await
            }

            async fn delivery_counts(&self, event: uuid::Uuid) -> Result<DeliveryCounts> {
                let rows: Vec<(String, i64, i64)> = sqlx::query_as(sql::COUNT_DELIVERIES)
                    .bind(event)
                    .fetch_all(self.reader())
                    .await
                    .map_err(db)?;
                let mut c = DeliveryCounts::default();
                for (state, n, acked) in rows {
                    let n = codec::count(n);
                    c.acknowledged += codec::count(acked);
                    match state.as_str() {
                        "queued" => c.queued += n,
                        "sent" => c.sent += n,
                        "failed" => c.failed += n,
                        "bounced" => c.bounced += n,
                        _ => {}
                    }
                }
                Ok(c)
            }

            async fn mark_delivery(
                &self,
                id: uuid::Uuid,
                state: DeliveryState,
                error: Option<&str>,
                attempts: u32,
                now: Timestamp,
            ) -> Result<()> {
                // Zero rows: unknown, or sent already (which a repeated run must not undo).
                execute(
                    sqlx::query(sql::MARK_DELIVERY)
                        .bind(id)
                        .bind(state.as_str())
                        .bind(error)
                        .bind(i64::from(attempts))
                        .bind(Ts::from(now)),
                    self.writer(),
                )
                .await?;
                Ok(())
            }

            async fn acknowledge_delivery(
                &self,
                token: &str,
                now: Timestamp,
            ) -> Result<DeliveryRecord> {
                execute(
                    sqlx::query(sql::ACK_DELIVERY)
                        .bind(token)
                        .bind(Ts::from(now)),
                    self.writer(),
                )
                .await?;
                self.delivery_by_ack_token(token).await
            }
        }
    };
}

pub(crate) use distribution_store_impl;
