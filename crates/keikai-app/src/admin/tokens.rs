//! API tokens: a person makes tokens for their scripts, each with scopes (read, write) that
//! narrow what their roles allow. The secret is shown once; only its SHA-256 is kept.

use jiff::Timestamp;
use keikai_domain::audit::Change;
use keikai_domain::token::parse_token_name;
use keikai_domain::{Action, ApiToken, Scope, TokenId, TokenSecret};
use keikai_store::NewToken;

use crate::secret::{random_secret, sha256_hex};
use crate::{App, Caller, Error, Result};

fn subject(id: TokenId) -> String {
    format!("token/{id}")
}

/// The caller's own tokens, newest first.
pub async fn list(app: &App, who: &Caller) -> Result<Vec<ApiToken>> {
    let p = who.require_user(Action::ListOwnTokens)?;
    Ok(app.store().list_tokens(p.user_id).await?)
}

/// A token to make for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueToken {
    pub name: String,
    pub scopes: Vec<Scope>,
    /// No expiry when `None`.
    pub expires_at: Option<Timestamp>,
}

/// A new token with its secret, which is kept nowhere else.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: ApiToken,
    pub secret: String,
}

/// Makes a token for the caller. A token cannot make tokens (a leaked one must not outlive
/// its revocation).
pub async fn issue(app: &App, who: &Caller, cmd: IssueToken) -> Result<Issued> {
    let p = who.require_user(Action::CreateToken)?;
    if cmd.scopes.is_empty() {
        return Err(Error::invalid(
            "scopes",
            "scopes: name at least one scope (read, write)",
        ));
    }
    let fx = app.effects(who);
    if let Some(t) = cmd.expires_at
        && t <= fx.at
    {
        return Err(Error::invalid(
            "expires_at",
            format!("expires_at: {t} is in the past"),
        ));
    }
    let secret = format!("{}{}", TokenSecret::PREFIX, random_secret());
    let new = NewToken {
        id: TokenId::new(),
        user_id: p.user_id,
        name: parse_token_name(&cmd.name)?,
        scopes: cmd.scopes,
        secret_hash: sha256_hex(&secret),
        expires_at: cmd.expires_at,
    };
    // The entry describes the token; it holds no secret.
    let change = Change::new("token.issued", subject(new.id), (), new.created(fx.at));
    let token = app
        .store()
        .create_token(&new, &fx.with_audit(change))
        .await?;
    Ok(Issued { token, secret })
}

/// Revokes a token: the caller's own, or anyone's for an administrator.
pub async fn revoke(app: &App, who: &Caller, id: TokenId) -> Result<()> {
    // Signed in first, so that an anonymous caller cannot tell which token ids exist.
    who.require(Action::ListOwnTokens)?;
    let token = app.store().get_token(id).await?;
    who.require(Action::RevokeToken {
        owner: token.user_id,
    })?;
    let change = Change::new("token.revoked", subject(id), &token, ());
    let fx = app.effects(who).with_audit(change);
    Ok(app.store().revoke_token(id, &fx).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_fit_the_token_shape() {
        let secret = format!("{}{}", TokenSecret::PREFIX, random_secret());
        assert!(TokenSecret::parse(&secret).is_ok(), "{secret}");
    }
}
