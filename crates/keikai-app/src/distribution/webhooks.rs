//! Webhook endpoints: a list's events POSTed as signed JSON to a URL of its owner's. The
//! shared secret is shown once, when the endpoint is made; an endpoint that keeps failing is
//! disabled until the PSIRT enables it again.

use keikai_domain::audit::Change;
use keikai_domain::subscription::WebhookEndpoint;
use keikai_domain::{Action, ListId};
use keikai_store::StoreError;

use crate::outbox::link_token;
use crate::{App, Caller, Error, Result};

/// `w` as it may be shown after it was made: without its secret.
fn without_secret(mut w: WebhookEndpoint) -> WebhookEndpoint {
    w.secret.clear();
    w
}

/// Every endpoint, without its secret.
pub async fn webhooks(app: &App, who: &Caller) -> Result<Vec<WebhookEndpoint>> {
    who.require(Action::ViewDistribution)?;
    let all = app.store().list_webhooks().await?;
    Ok(all.into_iter().map(without_secret).collect())
}

/// An endpoint to register.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    /// The list whose events it receives.
    pub list: ListId,
    pub name: String,
    pub url: String,
    /// At least 16 characters; generated when absent.
    pub secret: Option<String>,
}

/// Registers an endpoint on a list; returns it with its secret, which is shown this once.
pub async fn create_webhook(app: &App, who: &Caller, cmd: NewWebhook) -> Result<WebhookEndpoint> {
    who.require(Action::ManageDistribution)?;
    let list = match app.store().get_list(cmd.list).await {
        Ok(list) => list,
        Err(StoreError::NotFound) => {
            return Err(Error::invalid(
                "list",
                format!("list: there is no list {}", cmd.list),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let secret = cmd
        .secret
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(link_token);
    let fx = app.effects(who);
    let w = WebhookEndpoint::new(list.id, &cmd.name, &cmd.url, secret, fx.at)?;
    let change = Change::new(
        "distribution.webhook.created",
        format!("webhook/{}", w.id),
        serde_json::Value::Null,
        without_secret(w.clone()),
    );
    app.store().save_webhook(&w, &fx.with_audit(change)).await?;
    Ok(w)
}

/// Enables a disabled endpoint again (after its owner fixed it), with its failures reset;
/// returns it without its secret.
pub async fn enable_webhook(app: &App, who: &Caller, id: uuid::Uuid) -> Result<WebhookEndpoint> {
    who.require(Action::ManageDistribution)?;
    let before = app.store().get_webhook(id).await?;
    let mut w = before.clone();
    w.enabled = true;
    w.consecutive_failures = 0;
    w.disabled_reason = None;
    let shown = without_secret(w.clone());
    let change = Change::new(
        "distribution.webhook.enabled",
        format!("webhook/{id}"),
        &before.disabled_reason,
        &shown,
    );
    app.store()
        .save_webhook(&w, &app.effects(who).with_audit(change))
        .await?;
    Ok(shown)
}
