//! The `PartnerStore` implementation, expanded inside `impl_store!`; it writes through the
//! effects' helpers (`Tx`, `begin`, `finish`).

macro_rules! partner_store_impl {
    ($store:ident) => {
        use keikai_domain::partner::{Agreement, Alert, PartnerEdition, Question};
        use $crate::{AccessRecord, AlertAck, PackageDelivery, PartnerContact, PartnerStore};

        /// The insert of one access-trail line.
        fn access_query(r: &AccessRecord) -> sqlx::query::Query<'_, Db, Args> {
            sqlx::query(sql::INSERT_ACCESS)
                .bind(r.id)
                .bind(Ts::from(r.at))
                .bind(r.user_id.as_uuid())
                .bind(r.org_id.as_uuid())
                .bind(r.kind.as_str())
                .bind(r.release_id.map(|x| x.as_uuid()))
                .bind(r.advisory_id.map(|x| x.as_uuid()))
                .bind(r.alert_id)
                .bind(&r.detail)
        }

        #[async_trait]
        impl PartnerStore for $store {
            async fn save_agreement(
                &self,
                agreement: &Agreement,
                fx: &Effects,
            ) -> Result<Agreement> {
                let mut saved = agreement.clone();
                saved.revision = agreement.revision + 1;
                let query = sqlx::query(sql::UPSERT_AGREEMENT)
                    .bind(agreement.org_id.as_uuid())
                    .bind(&agreement.tier)
                    .bind(Ts::from(agreement.expires_at))
                    .bind(saved.revision)
                    .bind(to_json("an agreement", serde_json::to_string(&saved))?)
                    .bind(Ts::from(fx.at))
                    .bind(replaceable_revision(agreement.revision));
                update_with_or(
                    query,
                    self.writer(),
                    fx,
                    missing("the organisation"),
                    || changed_meanwhile("the agreement"),
                )
                .await?;
                Ok(saved)
            }

            async fn agreement(&self, org: OrgId) -> Result<Option<Agreement>> {
                optional_by(sql::GET_AGREEMENT, org.as_uuid(), self.reader()).await
            }

            async fn list_agreements(&self) -> Result<Vec<Agreement>> {
                all_of(sql::LIST_AGREEMENTS, self.reader()).await
            }

            async fn save_partner_edition(
                &self,
                edition: &PartnerEdition,
                fx: &Effects,
            ) -> Result<PartnerEdition> {
                let mut saved = edition.clone();
                saved.revision = edition.revision + 1;
                let query = sqlx::query(sql::UPSERT_PARTNER_EDITION)
                    .bind(edition.advisory_id.as_uuid())
                    .bind(saved.revision)
                    .bind(to_json("a partner edition", serde_json::to_string(&saved))?)
                    .bind(Ts::from(fx.at))
                    .bind(replaceable_revision(edition.revision));
                update_with_or(query, self.writer(), fx, missing("the advisory"), || {
                    changed_meanwhile("the partner edition")
                })
                .await?;
                Ok(saved)
            }

            async fn partner_edition(
                &self,
                advisory: AdvisoryId,
            ) -> Result<Option<PartnerEdition>> {
                optional_by(sql::GET_PARTNER_EDITION, advisory.as_uuid(), self.reader()).await
            }

            async fn create_question(&self, question: &Question, fx: &Effects) -> Result<Question> {
                let mut saved = question.clone();
                saved.revision = 1;
                let query = sqlx::query(sql::INSERT_QUESTION)
                    .bind(question.id)
                    .bind(question.release_id.as_uuid())
                    .bind(question.advisory_id.as_uuid())
                    .bind(question.org_id.as_uuid())
                    .bind(saved.revision)
                    .bind(to_json("a question", serde_json::to_string(&saved))?)
                    .bind(Ts::from(question.asked_at));
                let missing = missing("the release, advisory or organisation");
                execute_with_or(query, self.writer(), fx, missing).await?;
                Ok(saved)
            }

            async fn save_question(&self, question: &Question, fx: &Effects) -> Result<Question> {
                let mut saved = question.clone();
                saved.revision = question.revision + 1;
                let query = sqlx::query(sql::UPDATE_QUESTION)
                    .bind(question.id)
                    .bind(question.revision)
                    .bind(saved.revision)
                    .bind(to_json("a question", serde_json::to_string(&saved))?);
                update_with_or(query, self.writer(), fx, db, || {
                    StoreError::Conflict(
                        "the question was answered meanwhile; reload and try again".to_owned(),
                    )
                })
                .await?;
                Ok(saved)
            }

            async fn get_question(&self, id: uuid::Uuid) -> Result<Question> {
                one_by(sql::GET_QUESTION, id, self.reader()).await
            }

            async fn list_questions(&self, release: Option<ReleaseId>) -> Result<Vec<Question>> {
                all_by(
                    sql::LIST_QUESTIONS,
                    release.map(|r| r.as_uuid()),
                    self.reader(),
                )
                .await
            }

            async fn create_alert(&self, alert: &Alert, fx: &Effects) -> Result<Alert> {
                let mut saved = alert.clone();
                saved.revision = 1;
                let query = sqlx::query(sql::INSERT_ALERT)
                    .bind(alert.id)
                    .bind(to_json("an alert", serde_json::to_string(&saved))?)
                    .bind(Ts::from(alert.sent_at));
                execute_with(query, self.writer(), fx).await?;
                Ok(saved)
            }

            async fn get_alert(&self, id: uuid::Uuid) -> Result<Alert> {
                one_by(sql::GET_ALERT, id, self.reader()).await
            }

            async fn list_alerts(&self) -> Result<Vec<Alert>> {
                all_of(sql::LIST_ALERTS, self.reader()).await
            }

            async fn acknowledge_alert(
                &self,
                ack: &AlertAck,
                access: &AccessRecord,
                fx: &Effects,
            ) -> Result<bool> {
                let mut tx = begin(self.writer()).await?;
                let done = sqlx::query(sql::INSERT_ALERT_ACK)
                    .bind(ack.alert_id)
                    .bind(ack.user_id.as_uuid())
                    .bind(ack.org_id.as_uuid())
                    .bind(Ts::from(ack.at))
                    .execute(&mut *tx)
                    .await
                    .map_err(missing("the alert, user or organisation"))?;
                access_query(access)
                    .execute(&mut *tx)
                    .await
                    .map_err(missing("the user or organisation"))?;
                finish(tx, fx).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn alert_acks(&self, alert: uuid::Uuid) -> Result<Vec<AlertAck>> {
                all_by(sql::LIST_ALERT_ACKS, alert, self.reader()).await
            }

            async fn log_access(&self, r: &AccessRecord, fx: &Effects) -> Result<()> {
                execute_with_or(
                    access_query(r),
                    self.writer(),
                    fx,
                    missing("the user or organisation"),
                )
                .await?;
                Ok(())
            }

            async fn list_access(
                &self,
                org: Option<OrgId>,
                limit: i64,
            ) -> Result<Vec<AccessRecord>> {
                all(
                    sqlx::query_as::<_, codec::AccessRow>(sql::LIST_ACCESS)
                        .bind(org.map(|o| o.as_uuid()))
                        .bind(limit.clamp(1, 100_000)),
                    self.reader(),
                )
                .await
            }

            async fn record_package_delivery(
                &self,
                d: &PackageDelivery,
                fx: &Effects,
            ) -> Result<bool> {
                let query = sqlx::query(sql::INSERT_PACKAGE_DELIVERY)
                    .bind(d.release_id.as_uuid())
                    .bind(&d.tier)
                    .bind(Ts::from(d.delivered_at))
                    .bind(d.recipients);
                execute_if_changed(query, self.writer(), fx, missing("the release")).await
            }

            async fn package_deliveries(&self, release: ReleaseId) -> Result<Vec<PackageDelivery>> {
                all_by(
                    sql::LIST_PACKAGE_DELIVERIES,
                    release.as_uuid(),
                    self.reader(),
                )
                .await
            }

            async fn releases_to_deliver(&self, since: Timestamp) -> Result<Vec<Release>> {
                all_by(sql::RELEASES_TO_DELIVER, Ts::from(since), self.reader()).await
            }

            async fn partner_contacts(&self) -> Result<Vec<PartnerContact>> {
                all_by(
                    sql::PARTNER_CONTACTS,
                    Role::PartnerContact.as_str(),
                    self.reader(),
                )
                .await
            }
        }
    };
}

pub(crate) use partner_store_impl;
