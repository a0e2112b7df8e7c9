//! `keikai admin …`: account chores for the operator, without the web interface. Each is a
//! use case of [`keikai_app::admin`], asked as the operator ([`Caller::cli`]).

use std::io::BufRead;

use clap::Subcommand;
use keikai_app::Caller;
use keikai_app::admin::organisations;
use keikai_app::admin::users::{self, NewAccount};
use keikai_domain::{DisplayName, Email, Membership, Password, Role};
use rand::Rng;

use crate::UserError;
use crate::config::Config;
use crate::serve::{application, open_store};

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
        let pw = Password::parse(line.trim_end_matches(['\r', '\n'])).map_err(user_error)?;
        Ok((pw, false))
    } else {
        Ok((
            Password::parse(&generate_password()).map_err(user_error)?,
            true,
        ))
    }
}

/// A use case's refusal as the command line reports it: one line for the operator to act
/// on, unless it is a bug.
pub fn app_error(e: keikai_app::Error) -> anyhow::Error {
    match e {
        keikai_app::Error::Internal(_) => anyhow::anyhow!(e),
        other => UserError(other.to_string()).into(),
    }
}

fn user_error(e: impl std::fmt::Display) -> UserError {
    UserError(e.to_string())
}

pub async fn run(config: &Config, cmd: AdminCommand) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    store.check_schema().await.map_err(user_error)?;
    let app = application(config, store.clone());
    let who = Caller::cli();
    match cmd {
        AdminCommand::CreateUser {
            email,
            role,
            name,
            org,
            password_stdin,
        } => {
            let email = Email::parse(&email).map_err(user_error)?;
            let role: Role = role.parse().map_err(user_error)?;
            let org = organisations::find(&app, &who, org.as_deref())
                .await
                .map_err(app_error)?;
            let name = name.unwrap_or_else(|| {
                email
                    .as_str()
                    .split('@')
                    .next()
                    .unwrap_or("user")
                    .to_owned()
            });
            let (password, generated) = password_from(password_stdin)?;
            let cmd = NewAccount {
                email,
                display_name: DisplayName::parse(&name).map_err(user_error)?,
                password: password.clone(),
                locale: None,
                memberships: vec![Membership {
                    org_id: org.id,
                    role,
                }],
            };
            let created = users::create(&app, &who, cmd).await.map_err(app_error)?;
            println!("Created {} ({role} in {})", created.user.email, org.name);
            if generated {
                println!("Initial password: {}", password.expose());
            }
        }
        AdminCommand::ResetPassword {
            email,
            password_stdin,
        } => {
            let email = Email::parse(&email).map_err(user_error)?;
            let (password, generated) = password_from(password_stdin)?;
            let (_, ended) = users::reset_password(&app, &who, &email, &password)
                .await
                .map_err(app_error)?;
            println!("Password of {email} reset; {ended} session(s) ended");
            if generated {
                println!("New password: {}", password.expose());
            }
        }
    }
    store.close().await;
    Ok(())
}
