//! What announces an event: the publication of a release (its fan-outs commit with it) and
//! the digests the schedule queues when their period has ended.

use jiff::{SignedDuration, Timestamp, ToSpan};
use keikai_domain::Action;
use keikai_domain::advisory::Advisory;
use keikai_domain::advisory::publication::ProductNames;
use keikai_domain::edition::{AdvisoryItem, DigestPeriod, EventView};
use keikai_domain::release::Release;
use keikai_domain::subscription::Trigger;
use keikai_store::NewJob;

use crate::outbox::FanoutRequest;
use crate::{App, Caller, Error, Result};

/// The fan-outs announcing a release's publication: one per advisory version (publication
/// or revision) and one release summary. They commit with the publication.
pub fn publication_jobs(
    app: &App,
    release: &Release,
    published: &[&Advisory],
    products: &ProductNames,
    now: Timestamp,
) -> Result<Vec<NewJob>> {
    let base = &app.config().publishing.publisher.base_url;
    let mut jobs = Vec::new();
    let mut items = Vec::new();
    for a in published {
        let Some(version) = a.latest_version() else {
            continue;
        };
        let view = EventView::publication(a, version, products, base);
        let trigger = if version.number > 1 {
            Trigger::Revision
        } else {
            Trigger::Publication
        };
        jobs.push(FanoutRequest::new(trigger, view).to_job(now)?);
        items.push(AdvisoryItem::new(a, version, products, base));
    }
    if !items.is_empty() {
        let view = EventView::release_summary(release, items);
        jobs.push(FanoutRequest::new(Trigger::ReleaseSummary, view).to_job(now)?);
    }
    Ok(jobs)
}

/// Enqueues the digests whose period has ended: yesterday's daily digest and last week's
/// (Monday to Monday, UTC) weekly one, each once whatever the number of instances (the job
/// key is the period). A period without publications sends nothing.
pub async fn enqueue_due_digests(app: &App, who: &Caller) -> Result<u64> {
    who.require(Action::ManageDistribution)?;
    let now = app.now();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let day_end = today
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|e| Error::internal(e.to_string()))?
        .timestamp();
    let day_start = day_end - SignedDuration::from_hours(24);
    let monday = today
        .checked_sub((i64::from(today.weekday().to_monday_zero_offset())).days())
        .map_err(|e| Error::internal(e.to_string()))?;
    let week_end = monday
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|e| Error::internal(e.to_string()))?
        .timestamp();
    let week_start = week_end - SignedDuration::from_hours(24 * 7);
    let mut jobs = Vec::new();
    for (period, trigger, from, to) in [
        (
            DigestPeriod::Daily,
            Trigger::DailyDigest,
            day_start,
            day_end,
        ),
        (
            DigestPeriod::Weekly,
            Trigger::WeeklyDigest,
            week_start,
            week_end,
        ),
    ] {
        let view = EventView::digest(period, from, to, Vec::new());
        if app
            .store()
            .get_job_by_key(&FanoutRequest::job_key(&view.key))
            .await
            .is_ok()
        {
            continue;
        }
        let items = published_between(app, from, to).await?;
        if items.is_empty() {
            continue;
        }
        let view = EventView::digest(period, from, to, items);
        jobs.push(FanoutRequest::new(trigger, view).to_job(now)?);
    }
    if jobs.is_empty() {
        return Ok(0);
    }
    Ok(app
        .store()
        .commit(&app.effects(who).with_jobs(jobs))
        .await?)
}

/// Advisory versions published in `[from, to)`, oldest first.
async fn published_between(app: &App, from: Timestamp, to: Timestamp) -> Result<Vec<AdvisoryItem>> {
    let advisories = app
        .store()
        .list_advisories(&keikai_store::AdvisoryFilter {
            limit: 5000,
            ..keikai_store::AdvisoryFilter::default()
        })
        .await?;
    let products = ProductNames::from_branches(&app.store().list_branches().await?);
    let base = &app.config().publishing.publisher.base_url;
    let mut items: Vec<AdvisoryItem> = Vec::new();
    for a in &advisories {
        for v in &a.versions {
            if v.at >= from && v.at < to {
                items.push(AdvisoryItem::new(a, v, &products, base));
            }
        }
    }
    items.sort_by_key(|i| i.published_at);
    Ok(items)
}
