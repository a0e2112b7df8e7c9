//! `keikai admin …`: account chores for the operator, without the web interface.

use std::io::BufRead;

use clap::Subcommand;
use keikai_domain::audit::Change;
use keikai_domain::{DisplayName, Email, Membership, OrgKind, Password, Role, UserId};
use keikai_store::{Effects, NewUser, StoreError};
use rand::Rng;

use crate::UserError;
use crate::config::Config;
use crate::serve::open_store;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create a user with one role in an organisation and print their initial password.
    CreateUser {
        #[arg(long)]
        email: String,
        /// admin, psirt-analyst, product-engineer, partner-contact, customer-contact or reporter.
        #[arg(long)]
        role: String,
        /// Display name [default: the part of the e-mail address before @].
        #[arg(long)]
        name: Option<String>,
        /// Organisation name or id [default: our own organisation].
        #[arg(long)]
        org: Option<String>,
        /// Read the password from the first line of standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password for a user and sign them out everywhere.
    ResetPassword {
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// 20 characters from an alphabet without look-alikes (no 0/O, 1/l/I).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

fn password_from(stdin: bool) -> anyhow::Result<(Password, bool)> {
    if stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let pw = Password::parse(line.trim_end_matches(['\r', '\n']))
            .map_err(|e| UserError(e.to_string()))?;
        Ok((pw, false))
    } else {
        Ok((
            Password::parse(&generate_password()).map_err(|e| UserError(e.to_string()))?,
            true,
        ))
    }
}

pub async fn run(config: &Config, cmd: AdminCommand) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    store
        .check_schema()
        .await
        .map_err(|e| UserError(e.to_string()))?;
    match cmd {
        AdminCommand::CreateUser {
            email,
            role,
            name,
            org,
            password_stdin,
        } => {
            let email = Email::parse(&email).map_err(|e| UserError(e.to_string()))?;
            let role: Role = role
                .parse()
                .map_err(|e: keikai_domain::DomainError| UserError(e.to_string()))?;
            let orgs = store.list_orgs().await?;
            let org = match &org {
                Some(o) => orgs
                    .iter()
                    .find(|x| x.name.as_str() == o || x.id.to_string() == *o),
                None => orgs.iter().find(|x| x.kind == OrgKind::Own),
            }
            .ok_or_else(|| {
                UserError(format!(
                    "no organisation {}",
                    org.as_deref().unwrap_or("of kind own")
                ))
            })?;
            role.check_allowed_in(org.kind)
                .map_err(|e| UserError(e.to_string()))?;
            let name = name.unwrap_or_else(|| {
                email
                    .as_str()
                    .split('@')
                    .next()
                    .unwrap_or("user")
                    .to_owned()
            });
            let (password, generated) = password_from(password_stdin)?;
            let new = NewUser {
                id: UserId::new(),
                display_name: DisplayName::parse(&name).map_err(|e| UserError(e.to_string()))?,
                email,
                password_hash: keikai_web::http::auth::hash_password(&password)
                    .await
                    .map_err(|e| anyhow::anyhow!(e.message))?,
                locale: None,
            };
            // The user, their membership and the entries recording them commit together.
            let subject = format!("user/{}", new.id);
            let m = Membership {
                org_id: org.id,
                role,
            };
            let fx = Effects::system(jiff::Timestamp::now());
            let created = Change::new("user.created", subject.clone(), (), new.created(fx.at));
            let fx = fx.with_audit(created).with_audit(Change::new(
                "user.membership_added",
                subject,
                (),
                m,
            ));
            let user = store
                .create_user(&new, &[m], &fx)
                .await
                .map_err(|e| match e {
                    StoreError::Conflict(m) => UserError(m).into(),
                    other => anyhow::Error::from(other),
                })?;
            println!("Created {} ({role} in {})", user.email, org.name);
            if generated {
                println!("Initial password: {}", password.expose());
            }
        }
        AdminCommand::ResetPassword {
            email,
            password_stdin,
        } => {
            let email = Email::parse(&email).map_err(|e| UserError(e.to_string()))?;
            let creds = store
                .credentials_by_email(&email)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => UserError(format!("no user {email}")).into(),
                    other => anyhow::Error::from(other),
                })?;
            let (password, generated) = password_from(password_stdin)?;
            let hash = keikai_web::http::auth::hash_password(&password)
                .await
                .map_err(|e| anyhow::anyhow!(e.message))?;
            // The record says that the password changed, never what to.
            let change = Change::new(
                "user.password_reset",
                format!("user/{}", creds.user.id),
                (),
                serde_json::json!({ "by": "keikai admin reset-password" }),
            );
            let fx = Effects::system(jiff::Timestamp::now()).with_audit(change);
            store.set_password_hash(creds.user.id, &hash, &fx).await?;
            let n = store.delete_user_sessions(creds.user.id).await?;
            println!("Password of {email} reset; {n} session(s) ended");
            if generated {
                println!("New password: {}", password.expose());
            }
        }
    }
    store.close().await;
    Ok(())
}
