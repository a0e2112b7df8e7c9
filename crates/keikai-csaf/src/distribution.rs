//! The files of a CSAF 2.0 provider (section 7, "Distributing CSAF documents"), as pure
//! functions: document file names (5.1), year folders (7.1.11), `index.txt` (7.1.12),
//! `changes.csv` (7.1.13), `provider-metadata.json` (7.1.7), ROLIE feeds (7.1.15) and the ROLIE
//! service document (7.1.16). No I/O: the caller stores the returned text or JSON.
//!
//! Requirement numbers are those of CSAF 2.0 OS section 7.1 ("Requirement N" is section 7.1.N).
//!
//! Keikai writes `.sha256`, `.sha512` and `.asc` beside every published document (integrity and
//! signatures, 7.1.18 and 7.1.19, what a trusted provider needs), so ROLIE entries link all three.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::{Map, Value, json};

use crate::model::Publisher;

/// `format.schema` of a ROLIE entry and `$id` of the CSAF 2.0 schema.
pub const CSAF_SCHEMA_URL: &str =
    "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json";

/// The ROLIE category scheme every CSAF feed carries with the term `csaf` (7.1.15).
pub const ROLIE_INFORMATION_TYPE_SCHEME: &str = "urn:ietf:params:rolie:category:information-type";

/// The category scheme the spec's service document example uses for a feed's TLP label (7.1.16).
pub const TLP_CATEGORY_SCHEME: &str = "https://www.first.org/tlp/";

/// The file name of a CSAF document (section 5.1): the tracking id in lower case, every run of
/// characters other than `a-z`, `0-9`, `+` and `-` replaced by one `_`, then `.json`.
///
/// A run becomes a single `_`: the OASIS file name tests (`csaf_2.0/test/filenames`) reject
/// `oasis____csaf_tc-...` for the id `OASIS: #/CSAF_TC-...`.
pub fn file_name(tracking_id: &str) -> String {
    let mut out = String::with_capacity(tracking_id.len() + 5);
    let mut in_run = false;
    for c in tracking_id.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '+' || c == '-' {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    out.push_str(".json");
    out
}

/// One published CSAF document, as the distribution files need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedEntry {
    /// `/document/tracking/id`.
    pub tracking_id: String,
    /// `/document/title`.
    pub title: String,
    /// `/document/tracking/initial_release_date`.
    pub initial_release_date: Timestamp,
    /// `/document/tracking/current_release_date`.
    pub current_release_date: Timestamp,
    /// `/document/distribution/tlp/label` (`WHITE`, `GREEN`, `AMBER`, `RED`), or `UNLABELED`.
    pub tlp: String,
    /// A short plain-text summary for the ROLIE entry.
    pub summary: Option<String>,
}

/// The path of a document inside its distribution directory: `<YYYY>/<file name>`.
///
/// CSAF 2.0 7.1.11 (requirement 11, "One folder per year"): the folder is "the year given in the
/// value of `/document/tracking/initial_release_date`". The year is taken in UTC, which is the
/// year written in the document as long as the document states its dates in UTC (`Z`), as
/// Keikai's documents do.
pub fn relative_path(entry: &PublishedEntry) -> String {
    let year = entry.initial_release_date.to_zoned(TimeZone::UTC).year();
    format!("{year:04}/{}", file_name(&entry.tracking_id))
}

/// `index.txt` (7.1.12): the relative path of every document, one per line, each line ending in
/// `\n`. Each path is listed once, newest year first (descending path order, as the spec's
/// example).
pub fn index_txt(entries: &[PublishedEntry]) -> String {
    let mut paths: Vec<String> = entries.iter().map(relative_path).collect();
    paths.sort_unstable_by(|a, b| b.cmp(a));
    paths.dedup();
    let mut out = String::new();
    for path in paths {
        out.push_str(&path);
        out.push('\n');
    }
    out
}

/// `changes.csv` (7.1.13): `"<path>","<current_release_date>"` per entry, no header, the latest
/// `current_release_date` first (ties by path), dates in RFC 3339 UTC with `Z`, both fields
/// quoted as in the spec's example. Every entry gives a line, so a caller may list several
/// releases of one document.
pub fn changes_csv(entries: &[PublishedEntry]) -> String {
    let mut rows: Vec<(Timestamp, String)> = entries
        .iter()
        .map(|e| (e.current_release_date, relative_path(e)))
        .collect();
    rows.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut out = String::new();
    for (date, path) in rows {
        // Paths hold only [a-z0-9+_-./] and dates no quotes; doubling quotes keeps CSV valid
        // should that ever change.
        out.push_str(&format!(
            "\"{}\",\"{}\"\n",
            path.replace('"', "\"\""),
            rfc3339(date)
        ));
    }
    out
}

/// The `role` of a `provider-metadata.json` (7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `csaf_publisher` (7.2.1).
    Publisher,
    /// `csaf_provider` (7.2.2).
    Provider,
    /// `csaf_trusted_provider` (7.2.3): a provider that also signs and hashes every document.
    TrustedProvider,
}

impl Role {
    /// The JSON value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Publisher => "csaf_publisher",
            Self::Provider => "csaf_provider",
            Self::TrustedProvider => "csaf_trusted_provider",
        }
    }
}

/// One ROLIE feed as `provider-metadata.json` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolieFeedRef {
    /// E.g. "All TLP:WHITE advisories of Example Company."
    pub summary: Option<String>,
    /// `UNLABELED`, `WHITE`, `GREEN`, `AMBER` or `RED`.
    pub tlp_label: String,
    /// The feed's URL (ends in `.json`).
    pub url: String,
}

/// One distribution mechanism of `provider-metadata.json`: a directory (7.1.11-7.1.14) and/or
/// ROLIE (7.1.15-7.1.17).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Distribution {
    /// The base URL of the directory distribution.
    pub directory_url: Option<String>,
    /// The ROLIE feeds; none means no `rolie` object.
    pub rolie_feeds: Vec<RolieFeedRef>,
    /// URLs of ROLIE service documents (7.1.16), listed only with feeds.
    pub rolie_services: Vec<String>,
}

/// A public OpenPGP key the documents are signed with (7.1.20).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPgpKeyRef {
    /// The key's fingerprint in hex; spaces are removed when written.
    pub fingerprint: Option<String>,
    /// Where the key can be retrieved.
    pub url: String,
}

/// What `provider-metadata.json` (7.1.7) says.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderMetadataInput {
    /// The URL of this `provider-metadata.json` itself, e.g.
    /// `https://example.com/.well-known/csaf/provider-metadata.json` (7.1.9).
    pub canonical_url: String,
    pub publisher: Publisher,
    pub last_updated: Timestamp,
    pub role: Role,
    /// Distributions with neither a directory nor a feed are left out (the schema wants at least
    /// one property per distribution); no distributions leaves out `distributions`.
    pub distributions: Vec<Distribution>,
    pub public_openpgp_keys: Vec<OpenPgpKeyRef>,
    /// `list_on_CSAF_aggregators`.
    pub list_on_csaf_aggregators: bool,
    /// `mirror_on_CSAF_aggregators`.
    pub mirror_on_csaf_aggregators: bool,
}

/// `provider-metadata.json` (7.1.7, schema `provider_json_schema.json`), `metadata_version`
/// "2.0", keys in alphabetical order as in the spec's example.
pub fn provider_metadata(input: &ProviderMetadataInput) -> Value {
    let mut doc = Map::new();
    doc.insert("canonical_url".into(), json!(input.canonical_url));
    let distributions: Vec<Value> = input
        .distributions
        .iter()
        .filter_map(distribution_json)
        .collect();
    if !distributions.is_empty() {
        doc.insert("distributions".into(), Value::Array(distributions));
    }
    doc.insert("last_updated".into(), json!(rfc3339(input.last_updated)));
    doc.insert(
        "list_on_CSAF_aggregators".into(),
        json!(input.list_on_csaf_aggregators),
    );
    doc.insert("metadata_version".into(), json!("2.0"));
    doc.insert(
        "mirror_on_CSAF_aggregators".into(),
        json!(input.mirror_on_csaf_aggregators),
    );
    if !input.public_openpgp_keys.is_empty() {
        let keys: Vec<Value> = input
            .public_openpgp_keys
            .iter()
            .map(|key| {
                let mut k = Map::new();
                if let Some(fingerprint) = &key.fingerprint {
                    let compact: String =
                        fingerprint.chars().filter(|c| !c.is_whitespace()).collect();
                    k.insert("fingerprint".into(), json!(compact));
                }
                k.insert("url".into(), json!(key.url));
                Value::Object(k)
            })
            .collect();
        doc.insert("public_openpgp_keys".into(), Value::Array(keys));
    }
    // A struct of strings and a JSON map: serializing cannot fail.
    let publisher = serde_json::to_value(&input.publisher).expect("a Publisher serializes");
    doc.insert("publisher".into(), publisher);
    doc.insert("role".into(), json!(input.role.as_str()));
    Value::Object(doc)
}

fn distribution_json(d: &Distribution) -> Option<Value> {
    let mut out = Map::new();
    if let Some(url) = &d.directory_url {
        out.insert("directory_url".into(), json!(url));
    }
    if !d.rolie_feeds.is_empty() {
        let feeds: Vec<Value> = d
            .rolie_feeds
            .iter()
            .map(|f| {
                let mut feed = Map::new();
                if let Some(summary) = &f.summary {
                    feed.insert("summary".into(), json!(summary));
                }
                feed.insert("tlp_label".into(), json!(f.tlp_label));
                feed.insert("url".into(), json!(f.url));
                Value::Object(feed)
            })
            .collect();
        let mut rolie = Map::new();
        rolie.insert("feeds".into(), Value::Array(feeds));
        if !d.rolie_services.is_empty() {
            rolie.insert("services".into(), json!(d.rolie_services));
        }
        out.insert("rolie".into(), Value::Object(rolie));
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// A ROLIE feed (7.1.15, RFC 8322 JSON) for the documents labeled `tlp_label`.
///
/// `entries` pairs each document with the base URL of the distribution directory it lies in
/// (the entry's URL is that base, `/`, then [`relative_path`]). Only entries whose `tlp` equals
/// `tlp_label` (ignoring case) are listed, since all documents of one TLP level belong in one
/// feed and only there; so every published entry can be passed to each feed. A tracking id is
/// listed once, with its latest `current_release_date`. Entries are sorted newest first.
/// `feed_id` should match `[a-zA-Z0-9+\-_.]+` (e.g. `example-csaf-feed-tlp-white`).
pub fn rolie_feed(
    feed_id: &str,
    title: &str,
    self_url: &str,
    tlp_label: &str,
    updated: Timestamp,
    entries: &[(PublishedEntry, String)],
) -> Value {
    let mut chosen: Vec<&(PublishedEntry, String)> = entries
        .iter()
        .filter(|(e, _)| e.tlp.eq_ignore_ascii_case(tlp_label))
        .collect();
    // Newest first; for a repeated tracking id the newest release comes first and is kept.
    chosen.sort_by(|(a, _), (b, _)| {
        b.current_release_date
            .cmp(&a.current_release_date)
            .then_with(|| a.tracking_id.cmp(&b.tracking_id))
    });
    let mut seen = std::collections::HashSet::new();
    chosen.retain(|(e, _)| seen.insert(e.tracking_id.as_str()));

    let entry_json: Vec<Value> = chosen
        .iter()
        .map(|(e, base)| rolie_entry(e, base))
        .collect();
    json!({
        "feed": {
            "id": feed_id,
            "title": title,
            "link": [{"rel": "self", "href": self_url}],
            "category": [{"scheme": ROLIE_INFORMATION_TYPE_SCHEME, "term": "csaf"}],
            "updated": rfc3339(updated),
            "entry": entry_json,
        }
    })
}

fn rolie_entry(e: &PublishedEntry, base: &str) -> Value {
    let url = format!("{}/{}", base.trim_end_matches('/'), relative_path(e));
    let mut entry = Map::new();
    entry.insert("id".into(), json!(e.tracking_id));
    entry.insert("title".into(), json!(e.title));
    entry.insert(
        "link".into(),
        json!([
            {"rel": "self", "href": url},
            {"rel": "hash", "href": format!("{url}.sha256")},
            {"rel": "hash", "href": format!("{url}.sha512")},
            {"rel": "signature", "href": format!("{url}.asc")},
        ]),
    );
    entry.insert("published".into(), json!(rfc3339(e.initial_release_date)));
    entry.insert("updated".into(), json!(rfc3339(e.current_release_date)));
    // The auxiliary ROLIE schema wants a non-empty summary text when there is one.
    if let Some(summary) = e.summary.as_deref().filter(|s| !s.trim().is_empty()) {
        entry.insert("summary".into(), json!({ "content": summary }));
    }
    entry.insert(
        "content".into(),
        json!({"type": "application/json", "src": url}),
    );
    entry.insert(
        "format".into(),
        json!({"schema": CSAF_SCHEMA_URL, "version": "2.0"}),
    );
    Value::Object(entry)
}

/// A feed as the ROLIE service document lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolieCollection {
    /// The feed's title, e.g. "Example CSAF feed (TLP:WHITE)".
    pub title: String,
    /// The feed's URL.
    pub href: String,
    /// Adds the category (`https://www.first.org/tlp/`, label) as the spec's example does.
    pub tlp_label: Option<String>,
}

/// A group of feeds in the service document, e.g. "Public CSAF feed".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolieWorkspace {
    pub title: String,
    pub collections: Vec<RolieCollection>,
}

/// The ROLIE service document (7.1.16, RFC 8322 JSON): `service.workspace[].collection[]`
/// listing the feeds, each with the `csaf` information-type category.
pub fn rolie_service_document(workspaces: &[RolieWorkspace]) -> Value {
    let workspace: Vec<Value> = workspaces
        .iter()
        .map(|w| {
            let collection: Vec<Value> = w
                .collections
                .iter()
                .map(|c| {
                    let mut category =
                        vec![json!({"scheme": ROLIE_INFORMATION_TYPE_SCHEME, "term": "csaf"})];
                    if let Some(tlp) = &c.tlp_label {
                        category.push(json!({"scheme": TLP_CATEGORY_SCHEME, "term": tlp}));
                    }
                    json!({
                        "title": c.title,
                        "href": c.href,
                        "categories": {"category": category},
                    })
                })
                .collect();
            json!({"title": w.title, "collection": collection})
        })
        .collect();
    json!({"service": {"workspace": workspace}})
}

/// RFC 3339 in UTC with `Z`; fractional seconds only when there are any.
fn rfc3339(t: Timestamp) -> String {
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::enums::PublisherCategory;

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("a valid timestamp in the test")
    }

    fn entry(id: &str, initial: &str, current: &str) -> PublishedEntry {
        PublishedEntry {
            tracking_id: id.to_owned(),
            title: format!("Title of {id}"),
            initial_release_date: ts(initial),
            current_release_date: ts(current),
            tlp: "WHITE".to_owned(),
            summary: None,
        }
    }

    #[test]
    fn file_name_edge_cases() {
        assert_eq!(file_name("ABC:2024/01"), "abc_2024_01.json");
        assert_eq!(
            file_name("Example Company - 2019-YH3234"),
            "example_company_-_2019-yh3234.json"
        );
        // A run of forbidden characters becomes one underscore (OASIS filename test 5-1-03/13).
        assert_eq!(
            file_name("OASIS: #/CSAF_TC-CSAF_2.0-2021-5-1-13"),
            "oasis_csaf_tc-csaf_2_0-2021-5-1-13.json"
        );
        assert_eq!(file_name("a+b"), "a+b.json");
        assert_eq!(file_name("  lead"), "_lead.json");
        assert_eq!(file_name("trail.."), "trail_.json");
        assert_eq!(file_name("日本-2024"), "_-2024.json");
        assert_eq!(file_name(""), ".json");
    }

    #[test]
    fn relative_path_uses_the_initial_release_year() {
        let e = entry(
            "ESA-2024-001",
            "2023-12-31T23:00:00Z",
            "2024-02-01T00:00:00Z",
        );
        assert_eq!(relative_path(&e), "2023/esa-2024-001.json");
        // An offset is an instant: 2024-01-01T08:00+09:00 is still 2023 in UTC.
        let e = entry(
            "X-1",
            "2024-01-01T08:00:00+09:00",
            "2024-01-01T08:00:00+09:00",
        );
        assert_eq!(relative_path(&e), "2023/x-1.json");
    }

    /// The spec's examples for 7.1.12 and 7.1.13, reproduced.
    #[test]
    fn index_and_changes_match_the_spec_examples() {
        let entries = [
            entry(
                "Example Company - 2020-YH4711",
                "2020-06-01T00:00:00Z",
                "2020-07-01T10:09:07Z",
            ),
            entry(
                "Example Company - 2018-YH2312",
                "2018-05-01T00:00:00Z",
                "2020-07-01T10:09:01Z",
            ),
            entry(
                "Example Company - 2019-YH3234",
                "2019-04-17T15:08:41Z",
                "2019-04-17T15:08:41Z",
            ),
            entry(
                "Example Company - 2018-YH2312",
                "2018-05-01T00:00:00Z",
                "2019-03-01T06:01:00Z",
            ),
        ];
        assert_eq!(
            index_txt(&entries),
            "2020/example_company_-_2020-yh4711.json\n\
             2019/example_company_-_2019-yh3234.json\n\
             2018/example_company_-_2018-yh2312.json\n"
        );
        assert_eq!(
            changes_csv(&entries),
            "\"2020/example_company_-_2020-yh4711.json\",\"2020-07-01T10:09:07Z\"\n\
             \"2018/example_company_-_2018-yh2312.json\",\"2020-07-01T10:09:01Z\"\n\
             \"2019/example_company_-_2019-yh3234.json\",\"2019-04-17T15:08:41Z\"\n\
             \"2018/example_company_-_2018-yh2312.json\",\"2019-03-01T06:01:00Z\"\n"
        );
        assert_eq!(index_txt(&[]), "");
        assert_eq!(changes_csv(&[]), "");
    }

    #[test]
    fn changes_csv_writes_utc_and_breaks_ties_by_path() {
        let entries = [
            entry("B", "2024-01-01T00:00:00Z", "2024-03-01T12:00:00+02:00"),
            entry("A", "2024-01-01T00:00:00Z", "2024-03-01T10:00:00Z"),
            entry("C", "2024-01-01T00:00:00Z", "2024-03-01T10:00:00.5Z"),
        ];
        assert_eq!(
            changes_csv(&entries),
            "\"2024/c.json\",\"2024-03-01T10:00:00.5Z\"\n\
             \"2024/a.json\",\"2024-03-01T10:00:00Z\"\n\
             \"2024/b.json\",\"2024-03-01T10:00:00Z\"\n"
        );
    }

    fn publisher() -> Publisher {
        Publisher::new(
            PublisherCategory::Vendor,
            "Example Company ProductCERT",
            "https://psirt.example.com",
        )
    }

    /// The spec's example 1 of 7.1.7, reproduced exactly.
    #[test]
    fn provider_metadata_matches_the_spec_example() {
        let input = ProviderMetadataInput {
            canonical_url: "https://www.example.com/.well-known/csaf/provider-metadata.json"
                .to_owned(),
            publisher: publisher(),
            last_updated: ts("2021-07-12T20:20:56.169Z"),
            role: Role::TrustedProvider,
            distributions: vec![Distribution {
                directory_url: None,
                rolie_feeds: vec![RolieFeedRef {
                    summary: Some("All TLP:WHITE advisories of Example Company.".to_owned()),
                    tlp_label: "WHITE".to_owned(),
                    url: "https://www.example.com/.well-known/csaf/feed-tlp-white.json".to_owned(),
                }],
                rolie_services: vec![],
            }],
            public_openpgp_keys: vec![OpenPgpKeyRef {
                fingerprint: Some("8F5F 2679 07B2 C455 9DB3  60DB 2294 BA7D 2B22 98B1".to_owned()),
                url: "https://keys.example.net/vks/v1/by-fingerprint/8F5F267907B2C4559DB360DB2294BA7D2B2298B1".to_owned(),
            }],
            list_on_csaf_aggregators: true,
            mirror_on_csaf_aggregators: true,
        };
        let expected = json!({
          "canonical_url": "https://www.example.com/.well-known/csaf/provider-metadata.json",
          "distributions": [{"rolie": {"feeds": [{
              "summary": "All TLP:WHITE advisories of Example Company.",
              "tlp_label": "WHITE",
              "url": "https://www.example.com/.well-known/csaf/feed-tlp-white.json"
          }]}}],
          "last_updated": "2021-07-12T20:20:56.169Z",
          "list_on_CSAF_aggregators": true,
          "metadata_version": "2.0",
          "mirror_on_CSAF_aggregators": true,
          "public_openpgp_keys": [{
              "fingerprint": "8F5F267907B2C4559DB360DB2294BA7D2B2298B1",
              "url": "https://keys.example.net/vks/v1/by-fingerprint/8F5F267907B2C4559DB360DB2294BA7D2B2298B1"
          }],
          "publisher": {
              "category": "vendor",
              "name": "Example Company ProductCERT",
              "namespace": "https://psirt.example.com"
          },
          "role": "csaf_trusted_provider"
        });
        assert_eq!(provider_metadata(&input), expected);
    }

    #[test]
    fn provider_metadata_leaves_out_empty_parts() {
        let input = ProviderMetadataInput {
            canonical_url: "https://example.com/.well-known/csaf/provider-metadata.json".to_owned(),
            publisher: publisher(),
            last_updated: ts("2024-01-01T00:00:00Z"),
            role: Role::Publisher,
            distributions: vec![
                Distribution::default(),
                Distribution {
                    directory_url: Some("https://example.com/.well-known/csaf/white/".to_owned()),
                    rolie_feeds: vec![],
                    // Without feeds there is no rolie object to hold services.
                    rolie_services: vec!["https://example.com/service.json".to_owned()],
                },
            ],
            public_openpgp_keys: vec![],
            list_on_csaf_aggregators: true,
            mirror_on_csaf_aggregators: false,
        };
        let doc = provider_metadata(&input);
        assert_eq!(
            doc["distributions"],
            json!([{"directory_url": "https://example.com/.well-known/csaf/white/"}])
        );
        assert!(doc.get("public_openpgp_keys").is_none());
        assert_eq!(doc["role"], "csaf_publisher");
        assert_eq!(doc["mirror_on_CSAF_aggregators"], false);

        let none = ProviderMetadataInput {
            distributions: vec![Distribution::default()],
            ..input
        };
        assert!(provider_metadata(&none).get("distributions").is_none());
        assert_eq!(Role::Provider.as_str(), "csaf_provider");
    }

    #[test]
    fn rolie_feed_lists_one_tlp_newest_first_with_sidecar_links() {
        let base = "https://psirt.example.com/.well-known/csaf/white/".to_owned();
        let mut old = entry(
            "ESA-2023-009",
            "2023-05-01T00:00:00Z",
            "2023-05-02T00:00:00Z",
        );
        old.summary = Some("Old fix".to_owned());
        let new_v1 = entry(
            "ESA-2024-001",
            "2024-01-01T11:00:00Z",
            "2024-01-01T12:00:00Z",
        );
        let mut new_v2 = new_v1.clone();
        new_v2.current_release_date = ts("2024-02-01T09:30:00Z");
        new_v2.summary = Some("   ".to_owned());
        let mut amber = entry(
            "ESA-2024-002",
            "2024-01-03T00:00:00Z",
            "2024-01-03T00:00:00Z",
        );
        amber.tlp = "AMBER".to_owned();
        let entries = vec![
            (old, base.clone()),
            (new_v1, base.clone()),
            (amber, base.clone()),
            (new_v2, base),
        ];
        let feed = rolie_feed(
            "example-csaf-feed-tlp-white",
            "Example CSAF feed (TLP:WHITE)",
            "https://psirt.example.com/.well-known/csaf/feed-tlp-white.json",
            "white",
            ts("2024-02-01T10:00:00Z"),
            &entries,
        );
        let dir = "https://psirt.example.com/.well-known/csaf/white";
        let expected = json!({"feed": {
            "id": "example-csaf-feed-tlp-white",
            "title": "Example CSAF feed (TLP:WHITE)",
            "link": [{"rel": "self", "href": "https://psirt.example.com/.well-known/csaf/feed-tlp-white.json"}],
            "category": [{"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}],
            "updated": "2024-02-01T10:00:00Z",
            "entry": [
                {
                    "id": "ESA-2024-001",
                    "title": "Title of ESA-2024-001",
                    "link": [
                        {"rel": "self", "href": format!("{dir}/2024/esa-2024-001.json")},
                        {"rel": "hash", "href": format!("{dir}/2024/esa-2024-001.json.sha256")},
                        {"rel": "hash", "href": format!("{dir}/2024/esa-2024-001.json.sha512")},
                        {"rel": "signature", "href": format!("{dir}/2024/esa-2024-001.json.asc")}
                    ],
                    "published": "2024-01-01T11:00:00Z",
                    "updated": "2024-02-01T09:30:00Z",
                    "content": {"type": "application/json", "src": format!("{dir}/2024/esa-2024-001.json")},
                    "format": {"schema": "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json", "version": "2.0"}
                },
                {
                    "id": "ESA-2023-009",
                    "title": "Title of ESA-2023-009",
                    "link": [
                        {"rel": "self", "href": format!("{dir}/2023/esa-2023-009.json")},
                        {"rel": "hash", "href": format!("{dir}/2023/esa-2023-009.json.sha256")},
                        {"rel": "hash", "href": format!("{dir}/2023/esa-2023-009.json.sha512")},
                        {"rel": "signature", "href": format!("{dir}/2023/esa-2023-009.json.asc")}
                    ],
                    "published": "2023-05-01T00:00:00Z",
                    "updated": "2023-05-02T00:00:00Z",
                    "summary": {"content": "Old fix"},
                    "content": {"type": "application/json", "src": format!("{dir}/2023/esa-2023-009.json")},
                    "format": {"schema": "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json", "version": "2.0"}
                }
            ]
        }});
        assert_eq!(feed, expected);
    }

    #[test]
    fn rolie_feed_without_entries_has_an_empty_list() {
        let feed = rolie_feed(
            "f",
            "F",
            "https://example.com/f.json",
            "GREEN",
            ts("2024-01-01T00:00:00Z"),
            &[],
        );
        assert_eq!(feed["feed"]["entry"], json!([]));
    }
}
