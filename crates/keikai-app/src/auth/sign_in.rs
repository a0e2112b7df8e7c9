//! Signing in with a password, behind a throttle that holds across instances: failures are
//! counted in the database, per account and per client address.

use std::net::IpAddr;

use keikai_domain::{Email, User};
use keikai_store::{Session, StoreError};

use super::password::{dummy_hash, verify_password};
use super::start_session;
use crate::config::SignInLimits;
use crate::{App, Error, Result};

/// A sign-in attempt as the form sent it.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// As typed: an address that does not parse is a failed attempt like any other.
    pub email: String,
    pub password: String,
    /// Where it came from, for the limit per address.
    pub client: Option<IpAddr>,
}

/// A successful sign-in: the person and their new session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub session: Session,
    /// The session cookie's value. It exists only here (the store keeps its hash): send it to
    /// the browser and forget it.
    pub cookie: String,
}

impl SignInLimits {
    /// Whether the failures counted within the window refuse another attempt (`ip_failures`
    /// is `None` when the client's address is unknown).
    pub fn refuses(&self, account_failures: u64, ip_failures: Option<u64>) -> bool {
        account_failures >= self.per_account || ip_failures.is_some_and(|n| n >= self.per_ip)
    }
}

/// The rate limiter's key for failures against one account, whatever case or spaces the
/// address was typed with.
fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

/// The rate limiter's key for failures from one client address.
fn ip_key(ip: IpAddr) -> String {
    format!("ip:{ip}")
}

/// Checks the password and starts a session. Anyone may try: the throttle guards sign-in,
/// not the policy. A wrong password, an unknown address and a disabled account all answer
/// the same [`Error::Unauthenticated`], after the same work, so that the answer does not
/// reveal which addresses have an account; too many recent failures answer
/// [`Error::RateLimited`] without looking at the password.
pub async fn sign_in(app: &App, cmd: SignIn) -> Result<SignedIn> {
    let store = app.store();
    let now = app.now();
    let limits = app.config().auth.sign_in;
    let since = now.checked_sub(limits.window).unwrap_or(now);
    let account = account_key(&cmd.email);
    let ip = cmd.client.map(ip_key);
    let account_failures = store.attempts_since(&account, since).await?;
    let ip_failures = match &ip {
        Some(k) => Some(store.attempts_since(k, since).await?),
        None => None,
    };
    if limits.refuses(account_failures, ip_failures) {
        return Err(Error::RateLimited(
            "too many failed sign-ins; wait a few minutes and try again".to_owned(),
        ));
    }
    let creds = match Email::parse(&cmd.email) {
        Ok(e) => match store.credentials_by_email(&e).await {
            Ok(c) => Some(c),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        Err(_) => None,
    };
    let hash = match &creds {
        Some(c) => c.password_hash.clone(),
        None => dummy_hash().await?,
    };
    let ok = verify_password(hash, cmd.password).await;
    match creds {
        Some(c) if ok && c.user.disabled_at.is_none() => {
            store.clear_attempts(&account).await?;
            let (session, cookie) = start_session(app, c.user.id).await?;
            Ok(SignedIn {
                user: c.user,
                session,
                cookie,
            })
        }
        _ => {
            store.record_attempt(&account, now).await?;
            if let Some(k) = &ip {
                store.record_attempt(k, now).await?;
            }
            tracing::info!(account = %account, "failed sign-in");
            Err(Error::Unauthenticated)
        }
    }
}

#[cfg(test)]
mod tests {
    use keikai_domain::Password;

    use super::*;
    use crate::Caller;
    use crate::admin::testing::{PASSWORD, TestApp};
    use crate::admin::users::reset_password;
    use crate::auth::session;

    #[test]
    fn the_throttle_counts_per_account_and_per_address() {
        let limits = SignInLimits::default();
        assert!(!limits.refuses(0, None));
        assert!(!limits.refuses(limits.per_account - 1, Some(limits.per_ip - 1)));
        assert!(limits.refuses(limits.per_account, None));
        assert!(limits.refuses(limits.per_account, Some(0)));
        assert!(limits.refuses(0, Some(limits.per_ip)));
        // An unknown address is not counted, so it cannot be refused for its address.
        assert!(!limits.refuses(limits.per_account - 1, None));
    }

    #[test]
    fn keys_name_the_account_however_it_was_typed() {
        assert_eq!(
            account_key(" Aiko@Example.COM "),
            "account:aiko@example.com"
        );
        assert_eq!(
            ip_key("192.0.2.7".parse().unwrap()),
            "ip:192.0.2.7",
            "the matrix test reads this key"
        );
    }

    fn attempt(password: &str) -> SignIn {
        SignIn {
            email: " Admin@Example.com ".to_owned(),
            password: password.to_owned(),
            client: Some("192.0.2.7".parse().unwrap()),
        }
    }

    #[tokio::test]
    async fn failures_hold_the_account_back_for_a_while() {
        let t = TestApp::new().await;
        let limits = t.app.config().auth.sign_in;
        let signed_in = sign_in(&t.app, attempt(PASSWORD)).await.unwrap();
        assert_eq!(signed_in.user.id, t.admin.id);
        let found = session(&t.app, &signed_in.cookie).await.unwrap().unwrap();
        assert_eq!(found.caller().user_id(), Some(t.admin.id));
        assert_eq!(
            session(&t.app, "made up").await.unwrap().map(|a| a.user.id),
            None
        );

        for _ in 0..limits.per_account {
            let e = sign_in(&t.app, attempt("not the password")).await;
            assert_eq!(e.unwrap_err(), Error::Unauthenticated);
        }
        let e = sign_in(&t.app, attempt(PASSWORD)).await.unwrap_err();
        assert!(matches!(e, Error::RateLimited(_)), "{e:?}");
        t.clock
            .advance(limits.window + jiff::SignedDuration::from_secs(1));
        assert!(sign_in(&t.app, attempt(PASSWORD)).await.is_ok());
    }

    #[tokio::test]
    async fn a_password_reset_ends_every_session() {
        let t = TestApp::new().await;
        let signed_in = sign_in(&t.app, attempt(PASSWORD)).await.unwrap();
        let new = Password::parse("another long password").unwrap();
        let (user, ended) = reset_password(&t.app, &Caller::cli(), &t.admin.email, &new)
            .await
            .unwrap();
        assert_eq!((user.id, ended), (t.admin.id, 1));
        assert!(session(&t.app, &signed_in.cookie).await.unwrap().is_none());
        let old = sign_in(&t.app, attempt(PASSWORD)).await;
        assert_eq!(old.unwrap_err(), Error::Unauthenticated);
        assert!(sign_in(&t.app, attempt(new.expose())).await.is_ok());
    }

    #[tokio::test]
    async fn changing_ones_password_needs_the_current_one_and_ends_the_other_sessions() {
        use crate::admin::account::{ChangePassword, change_password};
        let t = TestApp::new().await;
        let here = sign_in(&t.app, attempt(PASSWORD)).await.unwrap();
        let elsewhere = sign_in(&t.app, attempt(PASSWORD)).await.unwrap();
        let me = session(&t.app, &here.cookie).await.unwrap().unwrap();
        let who = me.caller();
        let new = "a new and longer passphrase";
        let cmd = |current: &str, new: &str, confirm: &str| ChangePassword {
            current: current.to_owned(),
            new: new.to_owned(),
            confirm: confirm.to_owned(),
        };
        for (bad, field) in [
            (cmd("not it", new, new), "current_password"),
            (cmd(PASSWORD, "short", "short"), "new_password"),
            (
                cmd(PASSWORD, new, "a new and longer passphrasE"),
                "confirm_password",
            ),
            (cmd(PASSWORD, PASSWORD, PASSWORD), "new_password"),
        ] {
            let e = change_password(&t.app, &who, bad, me.session.as_ref())
                .await
                .unwrap_err();
            assert!(
                matches!(&e, Error::Invalid { field: f, .. } if *f == field),
                "{field}: {e:?}"
            );
        }
        let ended = change_password(&t.app, &who, cmd(PASSWORD, new, new), me.session.as_ref())
            .await
            .unwrap();
        assert_eq!(ended, 1, "the other session ends");
        assert!(session(&t.app, &here.cookie).await.unwrap().is_some());
        assert!(session(&t.app, &elsewhere.cookie).await.unwrap().is_none());
        assert_eq!(
            sign_in(&t.app, attempt(PASSWORD)).await.unwrap_err(),
            Error::Unauthenticated
        );
        assert!(sign_in(&t.app, attempt(new)).await.is_ok());
        let audit = t
            .app
            .store()
            .audit_for(&format!("user/{}", t.admin.id))
            .await
            .unwrap();
        assert!(audit.iter().any(|e| e.action == "user.password_changed"));
        assert!(
            audit.iter().all(|e| !e.after.contains(new)),
            "no password in the trail"
        );
    }
}
