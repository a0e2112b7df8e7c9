//! Distribution: subscribers, audience lists, editions, webhooks, and the events that reach
//! them (publications, revisions, release summaries, early warnings, digests).

mod triggers;

pub use triggers::{enqueue_due_digests, publication_jobs};
