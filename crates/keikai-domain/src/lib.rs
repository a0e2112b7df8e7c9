//! Keikai's entities, the rules that govern them and the authorization policy.
//!
//! Nothing here does I/O: the domain decides, the store remembers, the web layer translates.

pub mod advisory;
pub mod attachment;
pub mod audit;
pub mod case;
pub mod clock;
pub mod edition;
pub mod error;
pub mod ids;
pub mod names;
pub mod org;
pub mod partner;
pub mod policy;
pub mod product;
pub mod release;
pub mod security_txt;
pub mod subscription;
#[cfg(test)]
mod testing;
mod text;
pub mod token;
pub mod user;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::DomainError;
pub use ids::{
    AdvisoryId, AttachmentId, BranchId, CaseId, JobId, ListId, MessageId, OrgId, ReleaseId,
    SubscriberId, TaskId, TokenId, UserId, VulnerabilityId,
};
pub use org::{OrgKind, OrgName, Organisation};
pub use policy::{Action, Actor, CaseScope, Decision, Principal, authorize};
pub use product::{Branch, BranchCategory, BranchName, ProductTree};
pub use security_txt::{SecurityTxt, SecurityTxtInput, SecurityTxtSettings};
pub use token::{ApiToken, Scope, TokenSecret};
pub use user::{DisplayName, Email, Locale, Membership, Password, Role, User};
