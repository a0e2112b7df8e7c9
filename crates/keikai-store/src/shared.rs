//! The trait implementations, written once and expanded for each backend.
//!
//! The statements (`sql.rs`), row types and error mapping (`codec.rs`) are the same for both
//! backends; only the pool type differs, and sqlx's executor traits make code generic over
//! the database costly to spell out. A macro gives each backend concrete types instead.
//!
//! The invoking module defines `MIGRATOR` (its embedded migrations) and
//! `MIGRATIONS_TABLE_EXISTS` (a query giving 1 when `_sqlx_migrations` exists, else 0),
//! `CLAIM_LOCK` (the row-locking clause that claiming jobs appends to its SELECT), and its
//! store type provides:
//! - `fn reader(&self) -> &Pool<DB>` and `fn writer(&self) -> &Pool<DB>`;
//! - `async fn begin_bootstrap(&self) -> Result<Transaction<'static, DB>>`: a transaction in
//!   which no other instance can bootstrap at the same time;
//! - `async fn close_pools(&self)`.
//!
//! Every write is one transaction that ends in `finish`, which writes its `Effects`
//! (`effects_impl!`, expanded first) and commits. A write that holds the transaction must read
//! through it, never through `reader()`: an in-memory SQLite database has one connection.

macro_rules! impl_store {
    (
        store: $store:ident,
        db: $db:ty,
        backend: $backend:ident $(,)?
    ) => {
        mod store_impl {
            use super::$store;
            use async_trait::async_trait;
            use jiff::Timestamp;
            use keikai_domain::{
                ApiToken, Branch, BranchCategory, BranchId, BranchName, DisplayName, Email, Locale,
                Membership, OrgId, OrgKind, Organisation, Role, TokenId, User, UserId,
            };
            use $crate::codec::{self, DbError, Ts, ts_opt};
            use $crate::schema::{self, Applied};
            use $crate::sql;
            use $crate::{
                Backend, Credentials, NewBranch, NewOrganisation, NewToken, NewUser, OrgStore,
                ProductStore, RateLimiter, Result, Session, SessionStore, Store, StoreError,
                TokenStore, UserStore,
            };

            type Db = $db;
            type Args = <Db as sqlx::Database>::Arguments;
            type Pool = sqlx::Pool<Db>;

            fn db(e: sqlx::Error) -> StoreError {
                codec::db_error(Backend::$backend, e)
            }

            /// Says what a UNIQUE or FOREIGN KEY violation means for this statement; other
            /// errors (and violations without a message here) map as usual.
            fn db_or(
                e: sqlx::Error,
                unique: Option<String>,
                foreign_key: Option<String>,
            ) -> StoreError {
                match codec::classify(Backend::$backend, e) {
                    DbError::Unique(m) => StoreError::Conflict(unique.unwrap_or(m)),
                    DbError::ForeignKey(m) => StoreError::Reference(foreign_key.unwrap_or(m)),
                    other => other.into(),
                }
            }

            fn no_user(id: UserId) -> Option<String> {
                Some(format!("user {id} does not exist"))
            }

            fn sibling_taken(name: &BranchName) -> Option<String> {
                Some(format!("a sibling branch is already named \"{name}\""))
            }

            /// A row type read by sqlx that converts into the domain type `T`.
            trait RowOf<T>:
                Send
                + Unpin
                + for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row>
                + TryInto<T, Error = StoreError>
            {
            }

            impl<R, T> RowOf<T> for R where
                R: Send
                    + Unpin
                    + for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row>
                    + TryInto<T, Error = StoreError>
            {
            }

            /// A value bound as a statement's key.
            trait Key<'q>: sqlx::Encode<'q, Db> + sqlx::Type<Db> + Send + 'q {}

            impl<'q, K> Key<'q> for K where K: sqlx::Encode<'q, Db> + sqlx::Type<Db> + Send + 'q {}

            /// One row, as its domain type; `NotFound` when there is none.
            async fn one<'e, R, T>(
                query: sqlx::query::QueryAs<'e, Db, R, Args>,
                ex: impl sqlx::Executor<'e, Database = Db>,
            ) -> Result<T>
            where
                R: RowOf<T>,
            {
                query.fetch_one(ex).await.map_err(db)?.try_into()
            }

            /// Every row, as domain types.
            async fn all<'e, R, T>(
                query: sqlx::query::QueryAs<'e, Db, R, Args>,
                ex: impl sqlx::Executor<'e, Database = Db>,
            ) -> Result<Vec<T>>
            where
                R: RowOf<T>,
            {
                let rows = query.fetch_all(ex).await.map_err(db)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            /// Ends a list query built up to its filters with `order` and a page of `limit` rows
            /// from `offset`, and runs it.
            async fn page<R: RowOf<T>, T>(
                mut qb: sqlx::QueryBuilder<Db>,
                order: &str,
                limit: u32,
                offset: u32,
                pool: &Pool,
            ) -> Result<Vec<T>> {
                qb.push(order)
                    .push(" LIMIT ")
                    .push_bind(i64::from(limit))
                    .push(" OFFSET ")
                    .push_bind(i64::from(offset));
                all(qb.build_query_as::<R>(), pool).await
            }

            async fn count<'e>(
                query: sqlx::query::QueryAs<'e, Db, (i64,), Args>,
                ex: impl sqlx::Executor<'e, Database = Db>,
            ) -> Result<u64> {
                let (n,) = query.fetch_one(ex).await.map_err(db)?;
                Ok(codec::count(n))
            }

            /// Runs a statement, giving the number of rows it changed.
            async fn execute(query: sqlx::query::Query<'_, Db, Args>, pool: &Pool) -> Result<u64> {
                Ok(query.execute(pool).await.map_err(db)?.rows_affected())
            }

            /// Runs a statement with a single key, giving the number of rows it changed.
            async fn execute_by<'q>(
                sql: &'static str,
                key: impl Key<'q>,
                pool: &Pool,
            ) -> Result<u64> {
                execute(sqlx::query(sql).bind(key), pool).await
            }

            /// Runs an UPDATE or DELETE by key; `NotFound` when it changed nothing.
            async fn update(query: sqlx::query::Query<'_, Db, Args>, pool: &Pool) -> Result<()> {
                match execute(query, pool).await? {
                    0 => Err(StoreError::NotFound),
                    _ => Ok(()),
                }
            }

            /// Runs a statement with `fx` in one transaction, giving the number of rows it
            /// changed.
            async fn execute_with(
                query: sqlx::query::Query<'_, Db, Args>,
                pool: &Pool,
                fx: &Effects,
            ) -> Result<u64> {
                execute_with_or(query, pool, fx, db).await
            }

            /// `execute_with`, with `on_error` saying what the statement's database errors
            /// mean.
            async fn execute_with_or(
                query: sqlx::query::Query<'_, Db, Args>,
                pool: &Pool,
                fx: &Effects,
                on_error: impl FnOnce(sqlx::Error) -> StoreError,
            ) -> Result<u64> {
                let mut tx = begin(pool).await?;
                let n = query
                    .execute(&mut *tx)
                    .await
                    .map_err(on_error)?
                    .rows_affected();
                finish(tx, fx).await?;
                Ok(n)
            }

            /// Runs an UPDATE or DELETE by key with `fx` in one transaction; `NotFound` (and
            /// nothing written) when it changed nothing.
            async fn update_with(
                query: sqlx::query::Query<'_, Db, Args>,
                pool: &Pool,
                fx: &Effects,
            ) -> Result<()> {
                update_with_or(query, pool, fx, db, || StoreError::NotFound).await
            }

            /// `update_with`, with `on_error` saying what the statement's database errors
            /// mean and `unchanged` the error (nothing written) when it changed nothing: an
            /// optimistic write finding the row saved meanwhile.
            async fn update_with_or(
                query: sqlx::query::Query<'_, Db, Args>,
                pool: &Pool,
                fx: &Effects,
                on_error: impl FnOnce(sqlx::Error) -> StoreError,
                unchanged: impl FnOnce() -> StoreError,
            ) -> Result<()> {
                match execute_if_changed(query, pool, fx, on_error).await? {
                    true => Ok(()),
                    false => Err(unchanged()),
                }
            }

            /// Runs a statement with `fx` in one transaction if it changes a row, and says
            /// whether it did; when it changes nothing, nothing is written.
            async fn execute_if_changed(
                query: sqlx::query::Query<'_, Db, Args>,
                pool: &Pool,
                fx: &Effects,
                on_error: impl FnOnce(sqlx::Error) -> StoreError,
            ) -> Result<bool> {
                let mut tx = begin(pool).await?;
                let n = query.execute(&mut *tx).await.map_err(on_error)?;
                if n.rows_affected() == 0 {
                    return Ok(false);
                }
                finish(tx, fx).await?;
                Ok(true)
            }

            /// Maps a statement's FOREIGN KEY violation to `Reference("{what} does not exist")`.
            fn missing(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
                move |e| db_or(e, None, Some(format!("{what} does not exist")))
            }

            /// `Conflict`: someone saved `what` after it was read.
            fn changed_meanwhile(what: &str) -> StoreError {
                StoreError::Conflict(format!(
                    "{what} was changed meanwhile; reload and try again"
                ))
            }

            /// An aggregate's JSON, or why it cannot be written.
            fn to_json(what: &str, encoded: serde_json::Result<String>) -> Result<String> {
                encoded.map_err(|e| StoreError::Other(format!("cannot encode {what}: {e}")))
            }

            /// The revision an upsert expects to replace: a new row (revision 0) must not
            /// overwrite an existing one, which no stored revision (-1) ensures.
            fn replaceable_revision(revision: i64) -> i64 {
                if revision == 0 { -1 } else { revision }
            }

            /// One row by a single key, as its domain type; `NotFound` when there is none.
            async fn one_by<'q, T: codec::Stored>(
                sql: &'static str,
                key: impl Key<'q>,
                pool: &Pool,
            ) -> Result<T>
            where
                T::Row: RowOf<T>,
            {
                one(sqlx::query_as::<_, T::Row>(sql).bind(key), pool).await
            }

            /// Every row of a query without parameters, as domain types.
            async fn all_of<'e, T: codec::Stored>(
                sql: &'static str,
                ex: impl sqlx::Executor<'e, Database = Db>,
            ) -> Result<Vec<T>>
            where
                T::Row: RowOf<T>,
            {
                all(sqlx::query_as::<_, T::Row>(sql), ex).await
            }

            /// Every row for a single key, as domain types.
            async fn all_by<'q, T: codec::Stored>(
                sql: &'static str,
                key: impl Key<'q>,
                pool: &Pool,
            ) -> Result<Vec<T>>
            where
                T::Row: RowOf<T>,
            {
                all(sqlx::query_as::<_, T::Row>(sql).bind(key), pool).await
            }

            /// The row by a single key, as its domain type, if there is one.
            async fn optional_by<'q, T: codec::Stored>(
                sql: &'static str,
                key: impl Key<'q>,
                pool: &Pool,
            ) -> Result<Option<T>>
            where
                T::Row: RowOf<T>,
            {
                let row: Option<T::Row> = sqlx::query_as(sql)
                    .bind(key)
                    .fetch_optional(pool)
                    .await
                    .map_err(db)?;
                row.map(TryInto::try_into).transpose()
            }

            /// What an optimistic save of `what` says when someone saved it after it was read.
            fn stale(what: std::fmt::Arguments<'_>) -> String {
                format!(
                    "{what} was changed by someone else since it was read; reload it and try again"
                )
            }

            /// Why an optimistic UPDATE of row `id` changed nothing: `NotFound` when there is
            /// no such row (`exists` counts it), else `Conflict(stale)`: someone saved it after
            /// it was read.
            async fn not_updated(
                tx: &mut Tx,
                exists: &'static str,
                id: uuid::Uuid,
                stale: String,
            ) -> StoreError {
                match sqlx::query_as::<_, (i64,)>(exists)
                    .bind(id)
                    .fetch_one(&mut **tx)
                    .await
                {
                    Err(e) => db(e),
                    Ok((0,)) => StoreError::NotFound,
                    Ok(_) => StoreError::Conflict(stale),
                }
            }

            /// A single text column by key, `None` when there is no such row.
            async fn text<'q, 'e>(
                sql: &'static str,
                key: impl Key<'q>,
                ex: impl sqlx::Executor<'e, Database = Db>,
            ) -> Result<Option<String>>
            where
                'q: 'e,
            {
                let row: Option<(String,)> = sqlx::query_as(sql)
                    .bind(key)
                    .fetch_optional(ex)
                    .await
                    .map_err(db)?;
                Ok(row.map(|(t,)| t))
            }

            async fn insert_org<'e>(
                ex: impl sqlx::Executor<'e, Database = Db>,
                org: &NewOrganisation,
                now: Timestamp,
            ) -> Result<Organisation> {
                let row: codec::OrgRow = sqlx::query_as(sql::INSERT_ORG)
                    .bind(org.id.as_uuid())
                    .bind(org.name.as_str())
                    .bind(org.kind.as_str())
                    .bind(Ts::from(now))
                    .fetch_one(ex)
                    .await
                    .map_err(db)?;
                row.try_into()
            }

            async fn insert_user<'e>(
                ex: impl sqlx::Executor<'e, Database = Db>,
                user: &NewUser,
                now: Timestamp,
            ) -> Result<User> {
                let row: codec::UserRow = sqlx::query_as(sql::INSERT_USER)
                    .bind(user.id.as_uuid())
                    .bind(user.email.as_str())
                    .bind(user.display_name.as_str())
                    .bind(user.password_hash.as_str())
                    .bind(user.locale.map(Locale::as_str))
                    .bind(Ts::from(now))
                    .fetch_one(ex)
                    .await
                    .map_err(|e| {
                        let taken =
                            format!("the e-mail address \"{}\" is already in use", user.email);
                        db_or(e, Some(taken), None)
                    })?;
                row.try_into()
            }

            async fn insert_membership<'e>(
                ex: impl sqlx::Executor<'e, Database = Db>,
                user: UserId,
                org: OrgId,
                role: Role,
            ) -> Result<()> {
                sqlx::query(sql::INSERT_MEMBERSHIP)
                    .bind(user.as_uuid())
                    .bind(org.as_uuid())
                    .bind(role.as_str())
                    .execute(ex)
                    .await
                    .map_err(|e| db_or(e, None, no_user(user)))?;
                Ok(())
            }

            /// Adds a membership inside `tx` after checking that the role fits the
            /// organisation's kind.
            async fn add_membership_in(
                tx: &mut Tx,
                user: UserId,
                org: OrgId,
                role: Role,
            ) -> Result<()> {
                let Some(kind) = text(sql::ORG_KIND, org.as_uuid(), &mut **tx).await? else {
                    return Err(StoreError::Reference(format!(
                        "organisation {org} does not exist"
                    )));
                };
                role.check_allowed_in(codec::parse_enum::<OrgKind>("organisations.kind", &kind)?)?;
                insert_membership(&mut **tx, user, org, role).await
            }

            $crate::effects::effects_impl!($store);
            $crate::cases::case_store_impl!($store);
            $crate::advisories::advisory_store_impl!($store);
            $crate::partners::partner_store_impl!($store);
            $crate::jobs::job_store_impl!($store);
            $crate::distribution::distribution_store_impl!($store);

            #[async_trait]
            impl OrgStore for $store {
                async fn create_org(
                    &self,
                    org: &NewOrganisation,
                    fx: &Effects,
                ) -> Result<Organisation> {
                    let mut tx = begin(self.writer()).await?;
                    let org = insert_org(&mut *tx, org, fx.at).await?;
                    finish(tx, fx).await?;
                    Ok(org)
                }

                async fn get_org(&self, id: OrgId) -> Result<Organisation> {
                    one_by(sql::GET_ORG, id.as_uuid(), self.reader()).await
                }

                async fn list_orgs(&self) -> Result<Vec<Organisation>> {
                    all_of(sql::LIST_ORGS, self.reader()).await
                }
            }

            #[async_trait]
            impl UserStore for $store {
                async fn create_user(
                    &self,
                    user: &NewUser,
                    memberships: &[Membership],
                    fx: &Effects,
                ) -> Result<User> {
                    let mut tx = begin(self.writer()).await?;
                    let user = insert_user(&mut *tx, user, fx.at).await?;
                    for m in memberships {
                        add_membership_in(&mut tx, user.id, m.org_id, m.role).await?;
                    }
                    finish(tx, fx).await?;
                    Ok(user)
                }

                async fn get_user(&self, id: UserId) -> Result<User> {
                    one_by(sql::GET_USER, id.as_uuid(), self.reader()).await
                }

                async fn credentials_by_email(&self, email: &Email) -> Result<Credentials> {
                    one_by(sql::CREDENTIALS_BY_EMAIL, email.as_str(), self.reader()).await
                }

                async fn list_users(&self) -> Result<Vec<User>> {
                    all_of(sql::LIST_USERS, self.reader()).await
                }

                async fn count_users(&self) -> Result<u64> {
                    count(sqlx::query_as(sql::COUNT_USERS), self.reader()).await
                }

                async fn set_password_hash(
                    &self,
                    id: UserId,
                    password_hash: &str,
                    fx: &Effects,
                ) -> Result<()> {
                    let query = sqlx::query(sql::SET_PASSWORD_HASH)
                        .bind(id.as_uuid())
                        .bind(password_hash);
                    update_with(query, self.writer(), fx).await
                }

                async fn set_locale(
                    &self,
                    id: UserId,
                    locale: Option<Locale>,
                    fx: &Effects,
                ) -> Result<()> {
                    let query = sqlx::query(sql::SET_LOCALE)
                        .bind(id.as_uuid())
                        .bind(locale.map(Locale::as_str));
                    update_with(query, self.writer(), fx).await
                }

                async fn set_display_name(
                    &self,
                    id: UserId,
                    name: &DisplayName,
                    fx: &Effects,
                ) -> Result<()> {
                    let query = sqlx::query(sql::SET_DISPLAY_NAME)
                        .bind(id.as_uuid())
                        .bind(name.as_str());
                    update_with(query, self.writer(), fx).await
                }

                async fn set_disabled(
                    &self,
                    id: UserId,
                    disabled_at: Option<Timestamp>,
                    fx: &Effects,
                ) -> Result<()> {
                    let query = sqlx::query(sql::SET_DISABLED)
                        .bind(id.as_uuid())
                        .bind(ts_opt(disabled_at));
                    update_with(query, self.writer(), fx).await
                }

                async fn add_membership(
                    &self,
                    user: UserId,
                    org: OrgId,
                    role: Role,
                    fx: &Effects,
                ) -> Result<()> {
                    let mut tx = begin(self.writer()).await?;
                    add_membership_in(&mut tx, user, org, role).await?;
                    finish(tx, fx).await.map(drop)
                }

                /// Removing a membership that does not exist is a no-op, like adding one twice.
                async fn remove_membership(
                    &self,
                    user: UserId,
                    org: OrgId,
                    role: Role,
                    fx: &Effects,
                ) -> Result<()> {
                    let query = sqlx::query(sql::DELETE_MEMBERSHIP)
                        .bind(user.as_uuid())
                        .bind(org.as_uuid())
                        .bind(role.as_str());
                    execute_with(query, self.writer(), fx).await.map(drop)
                }

                async fn memberships(&self, user: UserId) -> Result<Vec<Membership>> {
                    all_by(sql::LIST_MEMBERSHIPS, user.as_uuid(), self.reader()).await
                }

                async fn internal_users_with_roles(&self, roles: &[Role]) -> Result<Vec<User>> {
                    let mut users: Vec<User> = Vec::new();
                    for role in roles {
                        let query =
                            sqlx::query_as::<_, codec::UserRow>(sql::INTERNAL_USERS_WITH_ROLE);
                        for u in all::<_, User>(query.bind(role.as_str()), self.reader()).await? {
                            if !users.iter().any(|o| o.id == u.id) {
                                users.push(u);
                            }
                        }
                    }
                    users.sort_by(|a, b| a.email.as_str().cmp(b.email.as_str()));
                    Ok(users)
                }

                async fn bootstrap_admin(
                    &self,
                    org: &NewOrganisation,
                    user: &NewUser,
                    fx: &Effects,
                ) -> Result<Option<User>> {
                    Role::Admin.check_allowed_in(org.kind)?;
                    let mut tx = self.begin_bootstrap().await?;
                    let (n,): (i64,) = sqlx::query_as(sql::COUNT_USERS)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db)?;
                    if n > 0 {
                        tx.rollback().await.map_err(db)?;
                        return Ok(None);
                    }
                    let org = insert_org(&mut *tx, org, fx.at).await?;
                    let user = insert_user(&mut *tx, user, fx.at).await?;
                    insert_membership(&mut *tx, user.id, org.id, Role::Admin).await?;
                    finish(tx, fx).await?;
                    Ok(Some(user))
                }
            }

            #[async_trait]
            impl SessionStore for $store {
                async fn create_session(&self, session: &Session) -> Result<()> {
                    sqlx::query(sql::INSERT_SESSION)
                        .bind(session.id_hash.as_str())
                        .bind(session.user_id.as_uuid())
                        .bind(session.csrf_token.as_str())
                        .bind(Ts::from(session.created_at))
                        .bind(Ts::from(session.expires_at))
                        .execute(self.writer())
                        .await
                        .map_err(|e| {
                            let taken = "a session with this id already exists".to_owned();
                            db_or(e, Some(taken), no_user(session.user_id))
                        })?;
                    Ok(())
                }

                async fn active_session(&self, id_hash: &str, now: Timestamp) -> Result<Session> {
                    let query = sqlx::query_as::<_, codec::SessionRow>(sql::ACTIVE_SESSION);
                    one(query.bind(id_hash).bind(Ts::from(now)), self.reader()).await
                }

                async fn extend_session(&self, id_hash: &str, expires_at: Timestamp) -> Result<()> {
                    let query = sqlx::query(sql::EXTEND_SESSION)
                        .bind(id_hash)
                        .bind(Ts::from(expires_at));
                    update(query, self.writer()).await
                }

                /// Deleting a session that is already gone is not an error: signing out twice
                /// (two tabs, a retried request) must succeed.
                async fn delete_session(&self, id_hash: &str) -> Result<()> {
                    execute_by(sql::DELETE_SESSION, id_hash, self.writer())
                        .await
                        .map(drop)
                }

                async fn delete_user_sessions(&self, user: UserId) -> Result<u64> {
                    execute_by(sql::DELETE_USER_SESSIONS, user.as_uuid(), self.writer()).await
                }

                async fn delete_other_sessions(
                    &self,
                    user: UserId,
                    keep_id_hash: &str,
                ) -> Result<u64> {
                    let query = sqlx::query(sql::DELETE_OTHER_SESSIONS)
                        .bind(user.as_uuid())
                        .bind(keep_id_hash);
                    execute(query, self.writer()).await
                }

                async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64> {
                    execute_by(sql::DELETE_EXPIRED_SESSIONS, Ts::from(now), self.writer()).await
                }
            }

            #[async_trait]
            impl TokenStore for $store {
                async fn create_token(&self, token: &NewToken, fx: &Effects) -> Result<ApiToken> {
                    let mut tx = begin(self.writer()).await?;
                    let row: codec::TokenRow = sqlx::query_as(sql::INSERT_TOKEN)
                        .bind(token.id.as_uuid())
                        .bind(token.user_id.as_uuid())
                        .bind(token.name.as_str())
                        .bind(codec::scopes_to_text(&token.scopes))
                        .bind(token.secret_hash.as_str())
                        .bind(Ts::from(fx.at))
                        .bind(ts_opt(token.expires_at))
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(|e| {
                            let taken = "a token with this secret already exists".to_owned();
                            db_or(e, Some(taken), no_user(token.user_id))
                        })?;
                    finish(tx, fx).await?;
                    row.try_into()
                }

                async fn token_by_hash(&self, secret_hash: &str) -> Result<ApiToken> {
                    one_by(sql::TOKEN_BY_HASH, secret_hash, self.reader()).await
                }

                async fn list_tokens(&self, user: UserId) -> Result<Vec<ApiToken>> {
                    all_by(sql::LIST_TOKENS, user.as_uuid(), self.reader()).await
                }

                async fn get_token(&self, id: TokenId) -> Result<ApiToken> {
                    one_by(sql::GET_TOKEN, id.as_uuid(), self.reader()).await
                }

                async fn revoke_token(&self, id: TokenId, fx: &Effects) -> Result<()> {
                    let query = sqlx::query(sql::REVOKE_TOKEN)
                        .bind(id.as_uuid())
                        .bind(Ts::from(fx.at));
                    update_with(query, self.writer(), fx).await
                }

                async fn touch_token(&self, id: TokenId, now: Timestamp) -> Result<()> {
                    let query = sqlx::query(sql::TOUCH_TOKEN)
                        .bind(id.as_uuid())
                        .bind(Ts::from(now));
                    update(query, self.writer()).await
                }
            }

            #[async_trait]
            impl ProductStore for $store {
                async fn create_branch(&self, branch: &NewBranch, fx: &Effects) -> Result<Branch> {
                    let mut tx = begin(self.writer()).await?;
                    let parent_category = match branch.parent_id {
                        None => None,
                        Some(parent) => {
                            let Some(category) =
                                text(sql::BRANCH_CATEGORY, parent.as_uuid(), &mut *tx).await?
                            else {
                                return Err(StoreError::Reference(format!(
                                    "parent branch {parent} does not exist"
                                )));
                            };
                            Some(codec::parse_enum::<BranchCategory>(
                                "branches.category",
                                &category,
                            )?)
                        }
                    };
                    branch.category.check_parent(parent_category)?;
                    let row: codec::BranchRow = sqlx::query_as(sql::INSERT_BRANCH)
                        .bind(branch.id.as_uuid())
                        .bind(branch.parent_id.map(|p| p.as_uuid()))
                        .bind(branch.category.as_str())
                        .bind(branch.name.as_str())
                        .bind(Ts::from(fx.at))
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(|e| {
                            // The foreign key trips when the parent was deleted since the check.
                            let gone = "the parent branch no longer exists".to_owned();
                            db_or(e, sibling_taken(&branch.name), Some(gone))
                        })?;
                    finish(tx, fx).await?;
                    row.try_into()
                }

                async fn get_branch(&self, id: BranchId) -> Result<Branch> {
                    one_by(sql::GET_BRANCH, id.as_uuid(), self.reader()).await
                }

                async fn list_branches(&self) -> Result<Vec<Branch>> {
                    all_of(sql::LIST_BRANCHES, self.reader()).await
                }

                async fn rename_branch(
                    &self,
                    id: BranchId,
                    name: &BranchName,
                    fx: &Effects,
                ) -> Result<Branch> {
                    let mut tx = begin(self.writer()).await?;
                    let row: codec::BranchRow = sqlx::query_as(sql::RENAME_BRANCH)
                        .bind(id.as_uuid())
                        .bind(name.as_str())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(|e| db_or(e, sibling_taken(name), None))?;
                    finish(tx, fx).await?;
                    row.try_into()
                }

                async fn delete_branch(&self, id: BranchId, fx: &Effects) -> Result<()> {
                    let mut tx = begin(self.writer()).await?;
                    let branch: Branch = sqlx::query_as::<_, codec::BranchRow>(sql::GET_BRANCH)
                        .bind(id.as_uuid())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db)?
                        .try_into()?;
                    let has_children = || {
                        StoreError::Conflict(format!(
                            "the branch \"{}\" still has child branches; delete them first",
                            branch.name
                        ))
                    };
                    if count(
                        sqlx::query_as(sql::COUNT_CHILDREN).bind(id.as_uuid()),
                        &mut *tx,
                    )
                    .await?
                        > 0
                    {
                        return Err(has_children());
                    }
                    match sqlx::query(sql::DELETE_BRANCH)
                        .bind(id.as_uuid())
                        .execute(&mut *tx)
                        .await
                    {
                        Ok(done) if done.rows_affected() == 0 => return Err(StoreError::NotFound),
                        Ok(_) => {}
                        // A child added since the count trips the foreign key instead.
                        Err(e) => {
                            return Err(match codec::classify(Backend::$backend, e) {
                                DbError::ForeignKey(_) => has_children(),
                                other => other.into(),
                            });
                        }
                    }
                    finish(tx, fx).await.map(drop)
                }
            }

            #[async_trait]
            impl RateLimiter for $store {
                async fn record_attempt(&self, key: &str, at: Timestamp) -> Result<()> {
                    let query = sqlx::query(sql::INSERT_RATE_LIMIT_ATTEMPT)
                        .bind(key)
                        .bind(Ts::from(at));
                    execute(query, self.writer()).await.map(drop)
                }

                async fn attempts_since(&self, key: &str, since: Timestamp) -> Result<u64> {
                    let query = sqlx::query_as(sql::COUNT_RATE_LIMIT_ATTEMPTS)
                        .bind(key)
                        .bind(Ts::from(since));
                    count(query, self.reader()).await
                }

                async fn clear_attempts(&self, key: &str) -> Result<()> {
                    execute_by(sql::CLEAR_RATE_LIMIT_ATTEMPTS, key, self.writer())
                        .await
                        .map(drop)
                }

                async fn prune_attempts(&self, before: Timestamp) -> Result<u64> {
                    execute_by(
                        sql::PRUNE_RATE_LIMIT_ATTEMPTS,
                        Ts::from(before),
                        self.writer(),
                    )
                    .await
                }
            }

            impl $store {
                /// The rows of the migrations table, or `None` when it does not exist yet.
                async fn applied_migrations(&self) -> Result<Option<Vec<Applied>>> {
                    if count(
                        sqlx::query_as(super::MIGRATIONS_TABLE_EXISTS),
                        self.writer(),
                    )
                    .await?
                        == 0
                    {
                        return Ok(None);
                    }
                    let rows = sqlx::query_as(sql::APPLIED_MIGRATIONS)
                        .fetch_all(self.writer())
                        .await
                        .map_err(db)?;
                    Ok(Some(rows))
                }
            }

            #[async_trait]
            impl Store for $store {
                fn backend(&self) -> Backend {
                    Backend::$backend
                }

                async fn migrate(&self) -> Result<()> {
                    if let Some(applied) = self.applied_migrations().await? {
                        schema::refuse_newer(&super::MIGRATOR, &applied)?;
                    }
                    super::MIGRATOR
                        .run(self.writer())
                        .await
                        .map_err(|e| schema::migrate_error(e, db))
                }

                async fn check_schema(&self) -> Result<()> {
                    let applied = self.applied_migrations().await?;
                    schema::check(&super::MIGRATOR, applied.as_deref())
                }

                async fn ping(&self) -> Result<()> {
                    sqlx::query(sql::PING)
                        .execute(self.reader())
                        .await
                        .map_err(db)?;
                    Ok(())
                }

                async fn close(&self) {
                    self.close_pools().await;
                }
            }
        }
    };
}

pub(crate) use impl_store;
