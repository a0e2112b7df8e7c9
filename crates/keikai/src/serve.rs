//! `keikai serve`: open and migrate the database, create the first administrator, listen.

use std::net::SocketAddr;
use std::sync::Arc;

use keikai_app::admin::users::{self, Bootstrap};
use keikai_app::outbox::{
    DELIVERY_JOB_KIND, FANOUT_JOB_KIND, FOLLOW_UP_JOB_KIND, WEBHOOK_JOB_KIND,
};
use keikai_app::{App, Caller};
use keikai_domain::{Email, OrgName, Password, SystemClock};
use keikai_jobs::cases::FollowUpHandler;
use keikai_jobs::distribution::{
    DeliveryHandler, DistributionWebhookHandler, DistributionWebhookHooks, FanoutHandler,
};
use keikai_jobs::webhook::{WebhookHandler, WebhookPolicy};
use keikai_jobs::{MAIL_JOB_KIND, MailHandler, Mailer, SmtpMailer, Worker, WorkerConfig};
use keikai_store::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::UserError;
use crate::admin::app_error;
use crate::config::{Config, redact_url};

/// Connects without writing anything; every failure is the user's to fix (exit status 2).
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    keikai_store::connect(&config.database_url)
        .await
        .map_err(|e| {
            UserError(format!(
                "database {}: {e}",
                redact_url(&config.database_url)
            ))
            .into()
        })
}

/// The application on the real clock, for the command line's use cases.
pub fn application(config: &Config, store: Arc<dyn Store>) -> App {
    App::new(store, config.app(), Arc::new(SystemClock))
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    // Listen before anything is written: a start that cannot listen must stop before it
    // changes anything (the first start's administrator and one-time password would
    // otherwise be made and printed, then lost with the exit).
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| UserError(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener.local_addr()?;
    store
        .migrate()
        .await
        .map_err(|e| UserError(e.to_string()))?;
    let state = keikai_web::WebState::new(application(&config, store.clone()), config.web());
    bootstrap(&config, &state.app).await?;

    keikai_web::http::ops::init_metrics();
    // Make (or load) the signing key before the first publication or message needs it, so
    // that a broken key is reported at start.
    let provider_key = keikai_app::publishing::provider_key(&state.app)
        .await
        .map_err(|e| anyhow::anyhow!("OpenPGP provider key: {e}"))?;
    let (stop_jobs, jobs_stop) = watch::channel(false);
    let mut background = vec![
        tokio::spawn(keikai_jobs::schedule::run_ticker(
            state.app.clone(),
            jobs_stop.clone(),
        )),
        start_schedule(&config, store.clone(), state.app.clone(), jobs_stop.clone()),
    ];
    background.extend(start_jobs(
        &config,
        store.clone(),
        state.app.clone(),
        provider_key,
        jobs_stop,
    )?);
    let app = keikai_web::router(state);
    // Printed on standard output so that scripts (and tests using port 0) can read it.
    println!("Keikai is listening on http://{addr}");
    tracing::info!(%addr, database = %redact_url(&config.database_url), "listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    // The worker finishes the jobs in hand (each bounded by the handler timeout); what it
    // has not claimed stays queued for the next start or another instance.
    let _ = stop_jobs.send(true);
    for task in background {
        let _ = task.await;
    }
    store.close().await;
    Ok(())
}

/// Starts the schedule's worker: it runs the slots this instance claims
/// ([`keikai_app::schedule`]). A worker of its own, so that a long publication does not hold
/// up the mail.
fn start_schedule(
    config: &Config,
    store: Arc<dyn Store>,
    app: App,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let worker_config = WorkerConfig {
        batch_size: 2,
        handler_timeout: job_timeout(config),
        ..WorkerConfig::default()
    };
    let worker = keikai_jobs::schedule::register(
        Worker::new(store, app.clock().clone(), worker_config),
        &app,
    );
    tokio::spawn(async move { worker.run(stop).await })
}

fn job_timeout(config: &Config) -> std::time::Duration {
    std::time::Duration::from_secs(u64::from(
        config.distribution.job_timeout_seconds.unwrap_or(120),
    ))
}

/// Starts the job worker: distribution fan-outs, webhooks and the cases' follow-ups of a
/// publication always run; mail (partner notices, subscriptions, distribution, reporters)
/// only with an `[smtp]` relay, else it waits in the table. Every message is signed with the provider's OpenPGP key. The worker claims jobs
/// from `store`; the distribution handlers do their work through `app`.
fn start_jobs(
    config: &Config,
    store: Arc<dyn Store>,
    app: App,
    provider_key: Arc<keikai_openpgp::ProviderKey>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Option<JoinHandle<()>>> {
    let clock = app.clock().clone();
    let d = &config.distribution;
    let worker_config = WorkerConfig {
        batch_size: d.worker_batch.unwrap_or(32),
        handler_timeout: job_timeout(config),
        ..WorkerConfig::default()
    };
    let max_attempts = worker_config.retry.max_attempts;
    let mut worker = Worker::new(store.clone(), clock, worker_config)
        .with_handler(FANOUT_JOB_KIND, Arc::new(FanoutHandler::new(app.clone())))
        .with_handler(
            FOLLOW_UP_JOB_KIND,
            Arc::new(FollowUpHandler::new(app.clone())),
        );
    let policy = WebhookPolicy {
        allow_private_targets: d.webhook_allow_private_targets,
        timeout: std::time::Duration::from_secs(u64::from(d.webhook_timeout_seconds.unwrap_or(10))),
        disable_after: d.webhook_disable_after.unwrap_or(10),
    };
    let hooks = Arc::new(DistributionWebhookHooks::new(
        app.clone(),
        policy.disable_after,
    ));
    let webhooks = WebhookHandler::new(policy, hooks)
        .map_err(|e| UserError(format!("[distribution]: {e}")))?;
    worker = worker.with_handler(
        WEBHOOK_JOB_KIND,
        Arc::new(DistributionWebhookHandler::new(
            webhooks,
            app.clone(),
            max_attempts,
        )),
    );
    match &config.smtp_settings {
        Some(smtp) => {
            let mailer = SmtpMailer::new(smtp.clone())
                .map_err(|e| UserError(format!("[smtp]: {e}")))?
                .with_signer(provider_key);
            tracing::info!(
                relay = %format!("{}:{}", smtp.host, smtp.port),
                security = smtp.security.as_str(),
                "sending e-mail through the SMTP relay"
            );
            let mailer: Arc<dyn Mailer> = Arc::new(mailer);
            worker = worker
                .with_handler(MAIL_JOB_KIND, Arc::new(MailHandler::new(mailer.clone())))
                .with_handler(
                    DELIVERY_JOB_KIND,
                    Arc::new(DeliveryHandler::new(app, mailer, max_attempts)),
                );
        }
        None => {
            tokio::spawn(warn_unsent_mail(store));
        }
    }
    Ok(Some(tokio::spawn(async move { worker.run(stop).await })))
}

/// Without `[smtp]`, says once (when the first one is waiting) that mail jobs stay queued.
async fn warn_unsent_mail(store: Arc<dyn Store>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        match store.count_jobs_by_state(Some(MAIL_JOB_KIND)).await {
            Ok(counts) if counts.queued > 0 => {
                tracing::warn!(
                    queued = counts.queued,
                    "e-mail is waiting to be sent, but no [smtp] relay is configured; \
                     mail jobs stay queued until one is"
                );
                return;
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "cannot count the mail jobs"),
        }
    }
}

/// On the first start, creates our organisation and an administrator, and prints the
/// password once. With several instances starting together, exactly one does it.
async fn bootstrap(config: &Config, app: &App) -> anyhow::Result<()> {
    let (password, generated) = match std::env::var("KEIKAI_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (crate::admin::generate_password(), true),
    };
    let password =
        Password::parse(&password).map_err(|e| UserError(format!("KEIKAI_ADMIN_PASSWORD {e}")))?;
    let cmd = Bootstrap {
        organisation: OrgName::parse(&config.organisation_name)
            .map_err(|e| UserError(format!("organisation_name {e}")))?,
        email: Email::parse(&config.admin_email).map_err(|e| UserError(e.to_string()))?,
        password: password.clone(),
    };
    if let Some(admin) = users::bootstrap(app, &Caller::system(), cmd)
        .await
        .map_err(app_error)?
    {
        println!("Created the administrator {}", admin.email);
        if generated {
            println!(
                "One-time password (shown only now; change it after signing in): {}",
                password.expose()
            );
        } else {
            println!("Password: as given in KEIKAI_ADMIN_PASSWORD");
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
