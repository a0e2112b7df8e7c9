//! Password sign-in with a throttle that holds across instances (failures are counted in the
//! database, per account and per client address).

use std::net::IpAddr;

use keikai_domain::{Email, User};
use keikai_store::StoreError;
use tokio::sync::OnceCell;

use crate::http::auth::{hash_password, random_secret, verify_password};
use crate::http::error::AppError;
use crate::http::state::AppState;

pub(crate) enum LoginError {
    Invalid,
    Throttled,
    Store(AppError),
}

impl From<StoreError> for LoginError {
    fn from(e: StoreError) -> Self {
        Self::Store(e.into())
    }
}

/// A hash to verify against when the account does not exist, so that the answer takes as long
/// as for a real account and does not reveal which addresses have one.
static DUMMY_HASH: OnceCell<String> = OnceCell::const_new();

async fn dummy_hash() -> String {
    DUMMY_HASH
        .get_or_init(|| async {
            let pw = keikai_domain::Password::parse(&random_secret()).ok();
            match pw {
                Some(pw) => hash_password(&pw).await.unwrap_or_default(),
                None => String::new(),
            }
        })
        .await
        .clone()
}

pub(crate) async fn attempt(
    state: &AppState,
    email: &str,
    password: &str,
    ip: Option<IpAddr>,
) -> Result<User, LoginError> {
    let now = state.clock.now();
    let cfg = &state.config;
    let since = now.checked_sub(cfg.login_window).unwrap_or(now);
    let account_key = format!("account:{}", email.trim().to_lowercase());
    let ip_key = ip.map(|ip| format!("ip:{ip}"));
    if state.store.attempts_since(&account_key, since).await? >= cfg.login_max_failures_per_account
    {
        return Err(LoginError::Throttled);
    }
    if let Some(k) = &ip_key
        && state.store.attempts_since(k, since).await? >= cfg.login_max_failures_per_ip
    {
        return Err(LoginError::Throttled);
    }
    let creds = match Email::parse(email) {
        Ok(e) => match state.store.credentials_by_email(&e).await {
            Ok(c) => Some(c),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        Err(_) => None,
    };
    let hash = match &creds {
        Some(c) => c.password_hash.clone(),
        None => dummy_hash().await,
    };
    let ok = verify_password(hash, password.to_owned()).await;
    match creds {
        Some(c) if ok && c.user.disabled_at.is_none() => {
            state.store.clear_attempts(&account_key).await?;
            Ok(c.user)
        }
        _ => {
            state.store.record_attempt(&account_key, now).await?;
            if let Some(k) = &ip_key {
                state.store.record_attempt(k, now).await?;
            }
            tracing::info!(account = %account_key, "failed sign-in");
            Err(LoginError::Invalid)
        }
    }
}
