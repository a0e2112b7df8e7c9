//! The section 7 distribution files against the corpus: the OASIS provider metadata schema, the
//! auxiliary ROLIE feed schema, the OASIS file name tests, the spec's service document example and
//! CISA's real provider tree.
//!
//! Test names start with `distribution_`, so `cargo test -p keikai-csaf distribution` runs them.
//!
//! No registry package ships the CSAF 2.0 provider schema as a file (csaf-rs 0.6.1 and
//! @secvisogram/csaf-validator-lib 2.0.10 do not; PyPI `csaf` has only the 2.1 one), so the
//! library cannot embed it; these tests read it from the corpus instead.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use common::{cisa_documents, csaf_corpus, read_json};
use jiff::Timestamp;
use jsonschema::{Retrieve, Uri, Validator};
use keikai_csaf::distribution::{
    Distribution, OpenPgpKeyRef, ProviderMetadataInput, PublishedEntry, Role, RolieCollection,
    RolieFeedRef, RolieWorkspace, file_name, provider_metadata, relative_path, rolie_feed,
    rolie_service_document,
};
use keikai_csaf::model::Publisher;
use keikai_csaf::model::enums::PublisherCategory;
use serde_json::{Value, json};

fn ts(text: &str) -> Timestamp {
    text.parse().expect("a valid timestamp in the test")
}

/// Serves `$ref`s from the corpus schemas; refuses every other URL.
struct CorpusSchemas(HashMap<String, Value>);

impl Retrieve for CorpusSchemas {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        self.0
            .get(uri.as_str())
            .cloned()
            .ok_or_else(|| format!("{uri} is not in the corpus").into())
    }
}

fn compile(csaf: &Path, schema: &str) -> Validator {
    let schemas = csaf.join("schemas");
    let mut known = HashMap::new();
    known.insert(
        "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json".to_owned(),
        read_json(&schemas.join("csaf_json_schema.json")),
    );
    for (url, file) in [
        (
            "https://www.first.org/cvss/cvss-v2.0.json",
            "cvss-v2.0.json",
        ),
        (
            "https://www.first.org/cvss/cvss-v3.0.json",
            "cvss-v3.0.json",
        ),
        (
            "https://www.first.org/cvss/cvss-v3.1.json",
            "cvss-v3.1.json",
        ),
        (
            "https://www.first.org/cvss/cvss-v3.1.json?20211103",
            "cvss-v3.1.json",
        ),
    ] {
        known.insert(url.to_owned(), read_json(&schemas.join("cvss").join(file)));
    }
    jsonschema::options()
        .with_retriever(CorpusSchemas(known))
        .should_validate_formats(true)
        .build(&read_json(&schemas.join(schema)))
        .unwrap_or_else(|e| panic!("{schema} does not compile: {e}"))
}

fn errors(validator: &Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn keikai_metadata() -> ProviderMetadataInput {
    let mut publisher = Publisher::new(
        PublisherCategory::Vendor,
        "Example PSIRT",
        "https://psirt.example.com",
    );
    publisher.contact_details = Some("psirt@example.com".to_owned());
    ProviderMetadataInput {
        canonical_url: "https://example.com/.well-known/csaf/provider-metadata.json".to_owned(),
        publisher,
        last_updated: ts("2024-05-01T09:00:00.250Z"),
        role: Role::TrustedProvider,
        distributions: vec![Distribution {
            directory_url: Some("https://example.com/.well-known/csaf/white/".to_owned()),
            rolie_feeds: vec![
                RolieFeedRef {
                    summary: Some("All TLP:WHITE advisories of Example.".to_owned()),
                    tlp_label: "WHITE".to_owned(),
                    url: "https://example.com/.well-known/csaf/feed-tlp-white.json".to_owned(),
                },
                RolieFeedRef {
                    summary: None,
                    tlp_label: "AMBER".to_owned(),
                    url: "https://example.com/.well-known/csaf/amber/feed-tlp-amber.json"
                        .to_owned(),
                },
            ],
            rolie_services: vec!["https://example.com/.well-known/csaf/service.json".to_owned()],
        }],
        public_openpgp_keys: vec![OpenPgpKeyRef {
            fingerprint: Some("8F5F267907B2C4559DB360DB2294BA7D2B2298B1".to_owned()),
            url: "https://example.com/.well-known/csaf/openpgp/8F5F267907B2C4559DB360DB2294BA7D2B2298B1.asc".to_owned(),
        }],
        list_on_csaf_aggregators: true,
        mirror_on_csaf_aggregators: true,
    }
}

/// Runs without the corpus: the properties the provider schema requires are all there.
#[test]
fn distribution_provider_metadata_has_the_required_properties() {
    let doc = provider_metadata(&keikai_metadata());
    for key in [
        "canonical_url",
        "last_updated",
        "list_on_CSAF_aggregators",
        "mirror_on_CSAF_aggregators",
        "metadata_version",
        "publisher",
        "role",
    ] {
        assert!(doc.get(key).is_some(), "{key} missing in {doc}");
    }
    assert_eq!(doc["metadata_version"], "2.0");
    assert_eq!(doc["last_updated"], "2024-05-01T09:00:00.25Z");
    assert_eq!(doc["publisher"]["contact_details"], "psirt@example.com");
}

#[test]
fn distribution_provider_metadata_is_valid_against_the_oasis_schema() {
    let Some(csaf) = csaf_corpus("schemas/provider_json_schema.json") else {
        return;
    };
    let validator = compile(&csaf, "provider_json_schema.json");
    let doc = provider_metadata(&keikai_metadata());
    assert_eq!(errors(&validator, &doc), Vec::<String>::new(), "{doc:#}");

    // The schema (with the CSAF publisher definition resolved) does catch mistakes.
    let mut bad = keikai_metadata();
    bad.publisher.namespace = "not a uri".to_owned();
    bad.canonical_url = "https://example.com/csaf/metadata.json".to_owned();
    bad.distributions[0].rolie_feeds[0].tlp_label = "CLEAR".to_owned();
    let found = errors(&validator, &provider_metadata(&bad));
    for path in [
        "/publisher/namespace",
        "/canonical_url",
        "/distributions/0/rolie/feeds/0/tlp_label",
    ] {
        assert!(
            found.iter().any(|e| e.starts_with(&format!("{path}:"))),
            "no error at {path}: {found:?}"
        );
    }

    // The OASIS example stays valid, so the schema is the one the spec means.
    let example =
        read_json(&csaf.join("examples/provider-metadata/example-01-provider-metadata.json"));
    assert_eq!(errors(&validator, &example), Vec::<String>::new());
}

/// 5.1 against the OASIS file name tests: each valid file is named after its tracking id, no
/// invalid one is.
#[test]
fn distribution_file_names_match_the_oasis_filename_tests() {
    let Some(csaf) = csaf_corpus("tests/filenames") else {
        return;
    };
    let mut seen = 0;
    for (folder, should_match) in [("valid", true), ("invalid", false)] {
        let dir = csaf.join("tests/filenames").join(folder);
        for path in common::json_files(&dir) {
            let doc = read_json(&path);
            let id = doc["document"]["tracking"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{} has no tracking id", path.display()));
            let actual = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            assert_eq!(
                file_name(id) == actual,
                should_match,
                "{folder}/{actual}: file_name({id:?}) = {}",
                file_name(id)
            );
            seen += 1;
        }
    }
    assert_eq!(seen, 6);
}

fn entry_of(doc: &Value) -> PublishedEntry {
    let tracking = &doc["document"]["tracking"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    PublishedEntry {
        tracking_id: text(&tracking["id"]),
        title: text(&doc["document"]["title"]),
        initial_release_date: ts(tracking["initial_release_date"]
            .as_str()
            .unwrap_or_default()),
        current_release_date: ts(tracking["current_release_date"]
            .as_str()
            .unwrap_or_default()),
        tlp: doc["document"]["distribution"]["tlp"]["label"]
            .as_str()
            .unwrap_or("UNLABELED")
            .to_owned(),
        summary: None,
    }
}

/// CISA's provider tree: every path we derive for its 2,383 documents is one of the paths its
/// `index.txt` files list, and a feed built from them is valid against the auxiliary ROLIE
/// schema and lists the same ids as CISA's feeds.
#[test]
fn distribution_cisa_documents_land_where_cisa_put_them() {
    let Some(csaf) = csaf_corpus("cisa-rolie") else {
        return;
    };
    let mut listed = HashSet::new();
    let mut feed_ids = HashSet::new();
    for part in ["IT", "OT"] {
        let dir = csaf.join("cisa-rolie").join(part).join("white");
        let index = std::fs::read_to_string(dir.join("index.txt"))
            .unwrap_or_else(|e| panic!("cannot read {part} index.txt: {e}"));
        // CISA lists `csaf_files/<part>/white/<YYYY>/<file>`; the last two segments are ours.
        for line in index.lines().filter(|l| !l.is_empty()) {
            let mut segments = line.rsplit('/');
            let file = segments.next().unwrap_or_default();
            let year = segments.next().unwrap_or_default();
            listed.insert(format!("{year}/{file}"));
        }
        let feed = read_json(&dir.join(format!(
            "cisa-csaf-{}-feed-tlp-white.json",
            part.to_lowercase()
        )));
        for e in feed["feed"]["entry"].as_array().into_iter().flatten() {
            feed_ids.insert(e["id"].as_str().unwrap_or_default().to_owned());
        }
    }
    let docs = cisa_documents(&csaf);
    assert_eq!(docs.len(), 2383);
    let entries: Vec<(PublishedEntry, String)> = docs
        .iter()
        .map(|d| (entry_of(d), "https://example.com/csaf/white/".to_owned()))
        .collect();
    let missing: Vec<String> = entries
        .iter()
        .map(|(e, _)| relative_path(e))
        .filter(|p| !listed.contains(p))
        .collect();
    assert!(missing.is_empty(), "not in CISA's index.txt: {missing:?}");

    let feed = rolie_feed(
        "example-csaf-feed-tlp-white",
        "Example CSAF feed (TLP:WHITE)",
        "https://example.com/csaf/feed-tlp-white.json",
        "WHITE",
        ts("2024-10-24T19:23:12Z"),
        &entries,
    );
    let validator = compile(&csaf, "auxiliary/ROLIE_feed_json_schema.json");
    let found = errors(&validator, &feed);
    assert!(found.is_empty(), "{:?}", &found[..found.len().min(5)]);
    let ours: HashSet<String> = feed["feed"]["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(ours, feed_ids);
    // Newest first.
    let updated: Vec<Timestamp> = feed["feed"]["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| ts(e["updated"].as_str().unwrap_or_default()))
        .collect();
    assert!(updated.windows(2).all(|w| w[0] >= w[1]));
}

/// The spec's example 2 of 7.1.16 (`examples/ROLIE/example-02-service.json`), built from its
/// parts.
fn spec_service_document() -> Value {
    let collection = |title: &str, href: &str, tlp: Option<&str>| RolieCollection {
        title: title.to_owned(),
        href: href.to_owned(),
        tlp_label: tlp.map(str::to_owned),
    };
    rolie_service_document(&[
        RolieWorkspace {
            title: "Public CSAF feed".to_owned(),
            collections: vec![collection(
                "Example CSAF feed (TLP:WHITE)",
                "https://psirt.domain.tld/advisories/csaf/feed-tlp-white.json",
                None,
            )],
        },
        RolieWorkspace {
            title: "Private CSAF feeds".to_owned(),
            collections: vec![
                collection(
                    "Example CSAF feed (TLP:AMBER)",
                    "https://psirt.domain.tld/advisories/tlp-amber/csaf/feed-tlp-amber.json",
                    Some("AMBER"),
                ),
                collection(
                    "Example CSAF feed (TLP:RED)",
                    "https://psirt.domain.tld/advisories/tlp-red/csaf/feed-tlp-red.json",
                    Some("RED"),
                ),
            ],
        },
    ])
}

/// The spec's example, reproduced exactly (without the corpus).
#[test]
fn distribution_service_document_matches_the_spec_example() {
    let info = json!({"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"});
    let expected = json!({"service": {"workspace": [
        {"title": "Public CSAF feed", "collection": [{
            "title": "Example CSAF feed (TLP:WHITE)",
            "href": "https://psirt.domain.tld/advisories/csaf/feed-tlp-white.json",
            "categories": {"category": [info]}
        }]},
        {"title": "Private CSAF feeds", "collection": [
            {
                "title": "Example CSAF feed (TLP:AMBER)",
                "href": "https://psirt.domain.tld/advisories/tlp-amber/csaf/feed-tlp-amber.json",
                "categories": {"category": [info, {"scheme": "https://www.first.org/tlp/", "term": "AMBER"}]}
            },
            {
                "title": "Example CSAF feed (TLP:RED)",
                "href": "https://psirt.domain.tld/advisories/tlp-red/csaf/feed-tlp-red.json",
                "categories": {"category": [info, {"scheme": "https://www.first.org/tlp/", "term": "RED"}]}
            }
        ]}
    ]}});
    assert_eq!(spec_service_document(), expected);
}

#[test]
fn distribution_service_document_equals_the_oasis_example() {
    let Some(csaf) = csaf_corpus("examples/ROLIE/example-02-service.json") else {
        return;
    };
    assert_eq!(
        spec_service_document(),
        read_json(&csaf.join("examples/ROLIE/example-02-service.json"))
    );
}
