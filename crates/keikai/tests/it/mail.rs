//! `keikai serve` runs the job worker: a mail job written to the database is sent through
//! the `[smtp]` relay (here the in-process `SmtpSink`) and marked done.

use std::time::{Duration, Instant};

use keikai_domain::Email;
use keikai_jobs::testing::SmtpSink;
use keikai_jobs::{Address, Message};
use keikai_store::Effects;
use keikai_store::JobState;
use keikai_store::testing::TestDatabase;

use crate::process::{Server, keikai};

#[test]
fn serve_sends_queued_mail_through_the_relay() {
    // Multi-threaded, so the sink keeps answering while this thread waits on the server.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(TestDatabase::create());
    let sink = rt.block_on(SmtpSink::start());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("k.toml"),
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n\
             from = \"警戒 PSIRT <psirt@keikai.test>\"\n",
            sink.addr().port()
        ),
    )
    .unwrap();
    let mut cmd = keikai(dir.path());
    cmd.args(["--config", "k.toml"])
        .env("KEIKAI_DATABASE_URL", &db.url)
        .env("KEIKAI_ADMIN_PASSWORD", "a long admin password");
    let server = Server::start(cmd);

    let store = rt.block_on(db.store());
    let message = Message::new(
        Address::new(Email::parse("partner@example.com").unwrap()),
        "【事前通知】警戒ルーターの脆弱性",
        "公開前のお知らせです。",
        "<serve-test@keikai.test>",
    );
    let job = message
        .to_job("serve-test", jiff::Timestamp::now())
        .unwrap();
    rt.block_on(store.commit(&Effects::system(jiff::Timestamp::now()).with_jobs([job])))
        .unwrap();

    // The worker polls about once a second.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let job = rt.block_on(store.get_job_by_key("serve-test")).unwrap();
        if job.state == JobState::Done {
            break;
        }
        assert!(Instant::now() < deadline, "the job was not sent: {job:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].rcpt_to, ["partner@example.com"]);
    assert_eq!(
        received[0].decoded_header("Subject").as_deref(),
        Some("【事前通知】警戒ルーターの脆弱性")
    );
    assert_eq!(
        received[0].decoded_header("From").as_deref(),
        Some("警戒 PSIRT <psirt@keikai.test>")
    );
    drop(server);
    rt.block_on(store.close());
}
