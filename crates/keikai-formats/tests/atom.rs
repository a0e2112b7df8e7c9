//! The Atom writer against a real feed reader: Python's `feedparser` must read our feed without
//! complaint (`bozo` 0) and see the same entries, titles, links and summaries.
//!
//! Skips with a message when `python3` or `feedparser` is missing, except in CI with
//! `KEIKAI_REQUIRE_FEEDPARSER` set (CI installs it with `pip install feedparser`).

use std::io::Write as _;
use std::process::Command;

use jiff::Timestamp;
use keikai_formats::atom::{Entry, Feed, write};
use serde_json::Value;

fn ts(text: &str) -> Timestamp {
    text.parse().expect("a valid timestamp in the test")
}

fn feedparser_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import feedparser"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        let required = std::env::var_os("CI").is_some()
            && std::env::var_os("KEIKAI_REQUIRE_FEEDPARSER").is_some();
        assert!(
            !required,
            "python3 with feedparser is required (CI and KEIKAI_REQUIRE_FEEDPARSER are set): pip install feedparser"
        );
        eprintln!("skipping: python3 -c 'import feedparser' failed (pip install feedparser)");
    }
    found
}

const READER: &str = r#"
import json, sys, feedparser
d = feedparser.parse(sys.argv[1])
print(json.dumps({
    "bozo": int(d.bozo),
    "bozo_exception": str(d.get("bozo_exception", "")),
    "version": d.version,
    "feed_title": d.feed.get("title"),
    "feed_id": d.feed.get("id"),
    "feed_lang": d.feed.get("language"),
    "author": d.feed.get("author"),
    "self": [l["href"] for l in d.feed.get("links", []) if l.get("rel") == "self"],
    "entries": [{
        "id": e.get("id"),
        "title": e.get("title"),
        "link": e.get("link"),
        "summary": e.get("summary"),
        "updated": e.get("updated"),
        "published": e.get("published"),
        "tags": [t["term"] for t in e.get("tags", [])],
    } for e in d.entries],
}, ensure_ascii=False))
"#;

fn sample() -> Feed {
    Feed {
        id: "tag:psirt.example.com,2024:advisories:ja".to_owned(),
        title: "例 PSIRT セキュリティアドバイザリ".to_owned(),
        updated: ts("2024-05-01T09:00:00Z"),
        self_url: "https://psirt.example.com/ja/feed.atom".to_owned(),
        alternate_url: Some("https://psirt.example.com/ja/".to_owned()),
        lang: Some("ja".to_owned()),
        author_name: "Example & Co. PSIRT".to_owned(),
        entries: vec![
            Entry {
                id: "tag:psirt.example.com,2024:ESA-2024-002".to_owned(),
                title: "<script>alert(\"x\")</script> & 'quotes' に関する脆弱性".to_owned(),
                updated: ts("2024-05-01T08:00:00Z"),
                published: Some(ts("2024-04-30T01:02:03Z")),
                link: "https://psirt.example.com/ja/advisories/ESA-2024-002?a=1&b=2".to_owned(),
                summary: "攻撃者が <b>任意のコード</b> を実行できる & more".to_owned(),
                categories: vec!["重要".to_owned(), "CVE-2024-0001".to_owned()],
            },
            Entry {
                id: "urn:uuid:6f1c1d56-6d7b-4c51-9f55-0b8a3f5e2c11".to_owned(),
                title: "Plain entry".to_owned(),
                updated: ts("2024-04-01T00:00:00Z"),
                published: None,
                link: "https://psirt.example.com/ja/advisories/ESA-2024-001".to_owned(),
                summary: String::new(),
                categories: vec![],
            },
        ],
    }
}

#[test]
fn atom_feed_is_read_by_feedparser() {
    if !feedparser_available() {
        return;
    }
    let feed = sample();
    let mut file = tempfile::Builder::new()
        .suffix(".atom")
        .tempfile()
        .expect("a temporary file");
    file.write_all(write(&feed).as_bytes())
        .expect("the feed is written");
    file.flush().expect("the feed is flushed");

    let output = Command::new("python3")
        .args(["-c", READER])
        .arg(file.path())
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "feedparser failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let parsed: Value = serde_json::from_slice(&output.stdout).expect("the reader prints JSON");

    assert_eq!(parsed["bozo"], 0, "{}", parsed["bozo_exception"]);
    assert_eq!(parsed["version"], "atom10");
    assert_eq!(parsed["feed_title"], feed.title.as_str());
    assert_eq!(parsed["feed_id"], feed.id.as_str());
    assert_eq!(parsed["feed_lang"], "ja");
    assert_eq!(parsed["author"], feed.author_name.as_str());
    assert_eq!(parsed["self"], serde_json::json!([feed.self_url]));

    let entries = parsed["entries"].as_array().expect("a list of entries");
    assert_eq!(entries.len(), feed.entries.len());
    for (got, want) in entries.iter().zip(&feed.entries) {
        assert_eq!(got["id"], want.id.as_str());
        assert_eq!(got["title"], want.title.as_str());
        assert_eq!(got["link"], want.link.as_str());
        assert_eq!(got["updated"], want.updated.to_string().as_str());
        match want.published {
            Some(p) => assert_eq!(got["published"], p.to_string().as_str()),
            None => assert!(got["published"].is_null()),
        }
        if want.summary.is_empty() {
            assert!(got["summary"].is_null(), "{got}");
        } else {
            assert_eq!(got["summary"], want.summary.as_str());
        }
        assert_eq!(got["tags"], serde_json::json!(want.categories));
    }
}
