//! The `PartnerStore` implementation, expanded inside `impl_store!`; it writes through the
//! effects' helpers (`Tx`, `begin`, `finish`).

macro_rules! partner_store_impl {
    ($store:ident) => {
        use keikai_domain::partner::{Agreement, Alert, PartnerEdition, Question};
        use $crate::{AccessRecord, AlertAck, PackageDelivery, PartnerContact, PartnerStore};

        fn partner_json(what: &str, encoded: serde_json::Result<String>) -> Result<String> {
            encoded.map_err(|e| StoreError::Other(format!("cannot encode {what}: {e}")))
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
                let mut tx = begin(self.writer()).await?;
                let done = sqlx::query(sql::UPSERT_AGREEMENT)
                    .bind(agreement.org_id.as_uuid())
                    .bind(&agreement.tier)
                    .bind(Ts::from(agreement.expires_at))
                    .bind(saved.revision)
                    .bind(partner_json("an agreement", serde_json::to_string(&saved))?)
                    .bind(Ts::from(fx.at))
                    // A new agreement (revision 0) must not overwrite an existing one.
                    .bind(if agreement.revision == 0 {
                        -1
                    } else {
                        agreement.revision
                    })
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| {
                        db_or(e, None, Some("the organisation does not exist".to_owned()))
                    })?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Conflict(
                        "the agreement was changed meanwhile; reload and try again".to_owned(),
                    ));
                }
                finish(tx, fx).await?;
                Ok(saved)
            }

            async fn agreement(&self, org: OrgId) -> Result<Option<Agreement>> {
                let row: Option<codec::JsonRow> = sqlx::query_as(sql::GET_AGREEMENT)
                    .bind(org.as_uuid())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db)?;
                row.map(Agreement::try_from).transpose()
            }

            async fn list_agreements(&self) -> Result<Vec<Agreement>> {
                all(
                    sqlx::query_as::<_, codec::JsonRow>(sql::LIST_AGREEMENTS),
                    self.reader(),
                )
                .await
            }

            async fn save_partner_edition(
                &self,
                edition: &PartnerEdition,
                fx: &Effects,
            ) -> Result<PartnerEdition> {
                let mut saved = edition.clone();
                saved.revision = edition.revision + 1;
                let mut tx = begin(self.writer()).await?;
                let done = sqlx::query(sql::UPSERT_PARTNER_EDITION)
                    .bind(edition.advisory_id.as_uuid())
                    .bind(saved.revision)
                    .bind(partner_json(
                        "a partner edition",
                        serde_json::to_string(&saved),
                    )?)
                    .bind(Ts::from(fx.at))
                    .bind(if edition.revision == 0 {
                        -1
                    } else {
                        edition.revision
                    })
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| db_or(e, None, Some("the advisory does not exist".to_owned())))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Conflict(
                        "the partner edition was changed meanwhile; reload and try again"
                            .to_owned(),
                    ));
                }
                finish(tx, fx).await?;
                Ok(saved)
            }

            async fn partner_edition(
                &self,
                advisory: AdvisoryId,
            ) -> Result<Option<PartnerEdition>> {
                let row: Option<codec::JsonRow> = sqlx::query_as(sql::GET_PARTNER_EDITION)
                    .bind(advisory.as_uuid())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db)?;
                row.map(PartnerEdition::try_from).transpose()
            }

            async fn create_question(&self, question: &Question, fx: &Effects) -> Result<Question> {
                let mut saved = question.clone();
                saved.revision = 1;
                let mut tx = begin(self.writer()).await?;
                sqlx::query(sql::INSERT_QUESTION)
                    .bind(question.id)
                    .bind(question.release_id.as_uuid())
                    .bind(question.advisory_id.as_uuid())
                    .bind(question.org_id.as_uuid())
                    .bind(saved.revision)
                    .bind(partner_json("a question", serde_json::to_string(&saved))?)
                    .bind(Ts::from(question.asked_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| {
                        db_or(
                            e,
                            None,
                            Some("the release, advisory or organisation does not exist".to_owned()),
                        )
                    })?;
                finish(tx, fx).await?;
                Ok(saved)
            }

            async fn save_question(&self, question: &Question, fx: &Effects) -> Result<Question> {
                let mut saved = question.clone();
                saved.revision = question.revision + 1;
                let mut tx = begin(self.writer()).await?;
                let done = sqlx::query(sql::UPDATE_QUESTION)
                    .bind(question.id)
                    .bind(question.revision)
                    .bind(saved.revision)
                    .bind(partner_json("a question", serde_json::to_string(&saved))?)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Conflict(
                        "the question was answered meanwhile; reload and try again".to_owned(),
                    ));
                }
                finish(tx, fx).await?;
                Ok(saved)
            }

            async fn get_question(&self, id: uuid::Uuid) -> Result<Question> {
                one(
                    sqlx::query_as::<_, codec::JsonRow>(sql::GET_QUESTION).bind(id),
                    self.reader(),
                )
                .await
            }

            async fn list_questions(&self, release: Option<ReleaseId>) -> Result<Vec<Question>> {
                all(
                    sqlx::query_as::<_, codec::JsonRow>(sql::LIST_QUESTIONS)
                        .bind(release.map(|r| r.as_uuid())),
                    self.reader(),
                )
                .await
            }

            async fn create_alert(&self, alert: &Alert, fx: &Effects) -> Result<Alert> {
                let mut saved = alert.clone();
                saved.revision = 1;
                let mut tx = begin(self.writer()).await?;
                sqlx::query(sql::INSERT_ALERT)
                    .bind(alert.id)
                    .bind(partner_json("an alert", serde_json::to_string(&saved))?)
                    .bind(Ts::from(alert.sent_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                finish(tx, fx).await?;
                Ok(saved)
            }

            async fn get_alert(&self, id: uuid::Uuid) -> Result<Alert> {
                one(
                    sqlx::query_as::<_, codec::JsonRow>(sql::GET_ALERT).bind(id),
                    self.reader(),
                )
                .await
            }

            async fn list_alerts(&self) -> Result<Vec<Alert>> {
                all(
                    sqlx::query_as::<_, codec::JsonRow>(sql::LIST_ALERTS),
                    self.reader(),
                )
                .await
            }

            async fn acknowledge_alert(&self, ack: &AlertAck) -> Result<bool> {
                let done = sqlx::query(sql::INSERT_ALERT_ACK)
                    .bind(ack.alert_id)
                    .bind(ack.user_id.as_uuid())
                    .bind(ack.org_id.as_uuid())
                    .bind(Ts::from(ack.at))
                    .execute(self.writer())
                    .await
                    .map_err(|e| {
                        db_or(
                            e,
                            None,
                            Some("the alert, user or organisation does not exist".to_owned()),
                        )
                    })?;
                Ok(done.rows_affected() == 1)
            }

            async fn alert_acks(&self, alert: uuid::Uuid) -> Result<Vec<AlertAck>> {
                all(
                    sqlx::query_as::<_, codec::AlertAckRow>(sql::LIST_ALERT_ACKS).bind(alert),
                    self.reader(),
                )
                .await
            }

            async fn log_access(&self, r: &AccessRecord) -> Result<()> {
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
                    .execute(self.writer())
                    .await
                    .map_err(|e| {
                        db_or(
                            e,
                            None,
                            Some("the user or organisation does not exist".to_owned()),
                        )
                    })?;
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
                let mut tx = begin(self.writer()).await?;
                let done = sqlx::query(sql::INSERT_PACKAGE_DELIVERY)
                    .bind(d.release_id.as_uuid())
                    .bind(&d.tier)
                    .bind(Ts::from(d.delivered_at))
                    .bind(d.recipients)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| db_or(e, None, Some("the release does not exist".to_owned())))?;
                if done.rows_affected() == 0 {
                    return Ok(false);
                }
                finish(tx, fx).await?;
                Ok(true)
            }

            async fn package_deliveries(&self, release: ReleaseId) -> Result<Vec<PackageDelivery>> {
                all(
                    sqlx::query_as::<_, codec::PackageDeliveryRow>(sql::LIST_PACKAGE_DELIVERIES)
                        .bind(release.as_uuid()),
                    self.reader(),
                )
                .await
            }

            async fn releases_to_deliver(&self, since: Timestamp) -> Result<Vec<Release>> {
                all(
                    sqlx::query_as::<_, codec::JsonRow>(sql::RELEASES_TO_DELIVER)
                        .bind(Ts::from(since)),
                    self.reader(),
                )
                .await
            }

            async fn partner_contacts(&self) -> Result<Vec<PartnerContact>> {
                all(
                    sqlx::query_as::<_, codec::PartnerContactRow>(sql::PARTNER_CONTACTS)
                        .bind(Role::PartnerContact.as_str()),
                    self.reader(),
                )
                .await
            }
        }
    };
}

pub(crate) use partner_store_impl;
