//! Early warnings: the PSIRT's own words ahead of an advisory (an exploited bug, a
//! workaround to apply now), sent to the lists that take early warnings and whose filters
//! they pass.

use keikai_domain::advisory::{Localized, Tlp};
use keikai_domain::audit::Change;
use keikai_domain::edition::EventView;
use keikai_domain::subscription::Trigger;
use keikai_domain::{Action, Branch, BranchId};

use crate::outbox::FanoutRequest;
use crate::{App, Caller, Error, Result};

/// An early warning as the PSIRT writes it. A Japanese title or body left blank is the
/// English one.
#[derive(Debug, Clone, Default)]
pub struct EarlyWarning {
    pub title: Localized<String>,
    pub body: Localized<String>,
    /// TLP:CLEAR when not given.
    pub tlp: Option<Tlp>,
    pub exploited: bool,
    pub max_score: Option<f64>,
    /// Branches of the product tree it concerns (a product line concerns all beneath it).
    pub products: Vec<BranchId>,
}

/// Queues an early warning; returns its event's key. The audit entry recording the
/// warning and the fan-out job that sends it commit together.
pub async fn early_warning(app: &App, who: &Caller, cmd: EarlyWarning) -> Result<String> {
    who.require(Action::ManageDistribution)?;
    let fx = app.effects(who);
    let branches = app.store().list_branches().await?;
    let affected = leaves(&branches, &cmd.products)?;
    let or_english = |ja: String, en: &String| {
        if ja.trim().is_empty() { en.clone() } else { ja }
    };
    let title = Localized {
        ja: or_english(cmd.title.ja, &cmd.title.en),
        en: cmd.title.en,
    };
    let body = Localized {
        ja: or_english(cmd.body.ja, &cmd.body.en),
        en: cmd.body.en,
    };
    let mut view = EventView::early_warning(
        title,
        body,
        cmd.tlp.unwrap_or(Tlp::Clear),
        cmd.exploited,
        cmd.max_score,
        affected,
        fx.at,
    )?;
    // Each warning is its own event, even two in the same instant.
    view.key = format!("early-warning:{}", uuid::Uuid::now_v7());
    let request = FanoutRequest::new(Trigger::EarlyWarning, view);
    let key = request.key().to_owned();
    let change = Change::new(
        "distribution.early_warning.sent",
        format!("event/{key}"),
        serde_json::Value::Null,
        &request.view,
    );
    let job = request.to_job(fx.at)?;
    app.store()
        .commit(&fx.with_audit(change).with_jobs([job]))
        .await?;
    Ok(key)
}

/// The leaves of the product tree under `products`: filters match leaves, and a warning
/// about a product line concerns everything beneath it.
fn leaves(branches: &[Branch], products: &[BranchId]) -> Result<Vec<BranchId>> {
    let mut out = Vec::new();
    for &id in products {
        if !branches.iter().any(|b| b.id == id) {
            return Err(Error::invalid(
                "products",
                format!("products: no branch has the id {id}"),
            ));
        }
        let mut stack = vec![id];
        while let Some(b) = stack.pop() {
            let kids: Vec<BranchId> = branches
                .iter()
                .filter(|c| c.parent_id == Some(b))
                .map(|c| c.id)
                .collect();
            if kids.is_empty() {
                out.push(b);
            }
            stack.extend(kids);
        }
    }
    Ok(out)
}
