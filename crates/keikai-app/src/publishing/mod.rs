//! Publishing: when a release's time comes, every approved advisory scheduled for it becomes
//! its next version, and the version's files are written once.

mod signing_key;

pub use signing_key::{KEY_SETTING, provider_key};
