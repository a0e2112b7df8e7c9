//! Atom 1.0 feeds (RFC 4287) for the public site, written by hand: the format is small and a
//! writer only needs correct escaping.
//!
//! Text is escaped for XML (`&`, `<`, `>`, `"`, `'`); characters XML 1.0 forbids even escaped
//! (most C0 controls, U+FFFE, U+FFFF) become U+FFFD so that one bad title cannot break the whole
//! feed for every reader. Timestamps are RFC 3339 in UTC (`Z`).

use std::fmt::Write as _;

use jiff::Timestamp;

/// An Atom feed (`atom:feed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    /// A permanent IRI, e.g. `tag:example.com,2024:advisories` or `urn:uuid:...`.
    pub id: String,
    pub title: String,
    pub updated: Timestamp,
    /// The feed's own URL (`link rel="self"`, RFC 4287 4.2.7.2 recommends it).
    pub self_url: String,
    /// The HTML page the feed mirrors (`link rel="alternate"`).
    pub alternate_url: Option<String>,
    /// `xml:lang` of the feed, e.g. `ja` or `en`.
    pub lang: Option<String>,
    /// The feed-level author, so entries need none (RFC 4287 4.1.1).
    pub author_name: String,
    /// Written in the given order.
    pub entries: Vec<Entry>,
}

/// An Atom entry (`atom:entry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// A permanent IRI (`tag:` or `urn:`); readers use it to tell new entries from seen ones.
    pub id: String,
    pub title: String,
    pub updated: Timestamp,
    pub published: Option<Timestamp>,
    /// The entry's HTML page (`link rel="alternate"`, required as entries have no content).
    pub link: String,
    /// Plain text; left out when empty.
    pub summary: String,
    /// `category term="..."`, e.g. a severity or a product name.
    pub categories: Vec<String>,
}

/// The feed as an XML document (UTF-8, ending in a newline).
pub fn write(feed: &Feed) -> String {
    let mut out = String::with_capacity(1024 + feed.entries.len() * 512);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\"");
    if let Some(lang) = &feed.lang {
        let _ = write!(out, " xml:lang=\"{}\"", escape(lang));
    }
    out.push_str(">\n");
    element(&mut out, 1, "id", &feed.id);
    text_element(&mut out, 1, "title", &feed.title);
    element(&mut out, 1, "updated", &feed.updated.to_string());
    let _ = writeln!(
        out,
        "  <author>\n    <name>{}</name>\n  </author>",
        escape(&feed.author_name)
    );
    link(&mut out, 1, "self", "application/atom+xml", &feed.self_url);
    if let Some(url) = &feed.alternate_url {
        link(&mut out, 1, "alternate", "text/html", url);
    }
    for entry in &feed.entries {
        out.push_str("  <entry>\n");
        element(&mut out, 2, "id", &entry.id);
        text_element(&mut out, 2, "title", &entry.title);
        element(&mut out, 2, "updated", &entry.updated.to_string());
        if let Some(published) = entry.published {
            element(&mut out, 2, "published", &published.to_string());
        }
        link(&mut out, 2, "alternate", "text/html", &entry.link);
        if !entry.summary.is_empty() {
            text_element(&mut out, 2, "summary", &entry.summary);
        }
        for term in &entry.categories {
            let _ = writeln!(out, "    <category term=\"{}\"/>", escape(term));
        }
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn element(out: &mut String, level: usize, name: &str, value: &str) {
    indent(out, level);
    let _ = writeln!(out, "<{name}>{}</{name}>", escape(value));
}

/// A text construct (RFC 4287 3.1) stated as plain text, so readers never render it as HTML.
fn text_element(out: &mut String, level: usize, name: &str, value: &str) {
    indent(out, level);
    let _ = writeln!(out, "<{name} type=\"text\">{}</{name}>", escape(value));
}

fn link(out: &mut String, level: usize, rel: &str, media_type: &str, href: &str) {
    indent(out, level);
    let _ = writeln!(
        out,
        "<link rel=\"{rel}\" type=\"{media_type}\" href=\"{}\"/>",
        escape(href)
    );
}

/// Escapes text for XML content and double- or single-quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 `Char`: tab, newline and carriage return are the only C0 controls allowed.
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("a valid timestamp in the test")
    }

    fn feed() -> Feed {
        Feed {
            id: "tag:psirt.example.com,2024:advisories".to_owned(),
            title: "Example PSIRT".to_owned(),
            updated: ts("2024-05-01T09:00:00+09:00"),
            self_url: "https://psirt.example.com/feed.atom".to_owned(),
            alternate_url: Some("https://psirt.example.com/".to_owned()),
            lang: Some("ja".to_owned()),
            author_name: "Example PSIRT".to_owned(),
            entries: vec![Entry {
                id: "tag:psirt.example.com,2024:ESA-2024-001".to_owned(),
                title: "ESA-2024-001".to_owned(),
                updated: ts("2024-05-01T00:00:00Z"),
                published: Some(ts("2024-04-30T00:00:00Z")),
                link: "https://psirt.example.com/advisories/ESA-2024-001?lang=ja&v=2".to_owned(),
                summary: "Fixed.".to_owned(),
                categories: vec!["High".to_owned()],
            }],
        }
    }

    #[test]
    fn writes_the_exact_document() {
        let expected = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"ja\">\n\
\x20 <id>tag:psirt.example.com,2024:advisories</id>\n\
\x20 <title type=\"text\">Example PSIRT</title>\n\
\x20 <updated>2024-05-01T00:00:00Z</updated>\n\
\x20 <author>\n\
\x20   <name>Example PSIRT</name>\n\
\x20 </author>\n\
\x20 <link rel=\"self\" type=\"application/atom+xml\" href=\"https://psirt.example.com/feed.atom\"/>\n\
\x20 <link rel=\"alternate\" type=\"text/html\" href=\"https://psirt.example.com/\"/>\n\
\x20 <entry>\n\
\x20   <id>tag:psirt.example.com,2024:ESA-2024-001</id>\n\
\x20   <title type=\"text\">ESA-2024-001</title>\n\
\x20   <updated>2024-05-01T00:00:00Z</updated>\n\
\x20   <published>2024-04-30T00:00:00Z</published>\n\
\x20   <link rel=\"alternate\" type=\"text/html\" href=\"https://psirt.example.com/advisories/ESA-2024-001?lang=ja&amp;v=2\"/>\n\
\x20   <summary type=\"text\">Fixed.</summary>\n\
\x20   <category term=\"High\"/>\n\
\x20 </entry>\n\
</feed>\n";
        assert_eq!(write(&feed()), expected);
    }

    #[test]
    fn escapes_markup_in_text_and_attributes() {
        let mut f = feed();
        f.title = "<script>&\"'".to_owned();
        f.entries[0].categories = vec!["a\"b<c>'d&".to_owned()];
        let xml = write(&f);
        assert!(xml.contains("<title type=\"text\">&lt;script&gt;&amp;&quot;&apos;</title>"));
        assert!(xml.contains("<category term=\"a&quot;b&lt;c&gt;&apos;d&amp;\"/>"));
        assert!(!xml.contains("<script>"));
    }

    #[test]
    fn keeps_japanese_as_utf8_and_drops_forbidden_controls() {
        let mut f = feed();
        f.entries[0].title = "リモートでコードが実行される脆弱性".to_owned();
        f.entries[0].summary = "bell\u{7} tab\t ok\u{FFFF}".to_owned();
        let xml = write(&f);
        assert!(xml.contains("<title type=\"text\">リモートでコードが実行される脆弱性</title>"));
        assert!(xml.contains("<summary type=\"text\">bell\u{FFFD} tab\t ok\u{FFFD}</summary>"));
        assert!(!xml.contains("&#"));
    }

    #[test]
    fn optional_parts_are_left_out() {
        let mut f = feed();
        f.alternate_url = None;
        f.lang = None;
        f.entries[0].published = None;
        f.entries[0].summary = String::new();
        f.entries[0].categories.clear();
        let xml = write(&f);
        assert!(xml.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"));
        for absent in [
            "rel=\"alternate\" type=\"text/html\" href=\"https://psirt.example.com/\"",
            "<published>",
            "<summary",
            "<category",
        ] {
            assert!(!xml.contains(absent), "{absent} in {xml}");
        }
    }

    #[test]
    fn required_elements_are_present() {
        let mut f = feed();
        f.entries.push(Entry {
            id: "urn:uuid:00000000-0000-4000-8000-000000000001".to_owned(),
            title: "second".to_owned(),
            updated: ts("2024-04-01T00:00:00Z"),
            published: None,
            link: "https://psirt.example.com/2".to_owned(),
            summary: String::new(),
            categories: vec![],
        });
        let xml = write(&f);
        let (head, _) = xml.split_once("<entry>").expect("entries are written");
        for needed in [
            "<id>",
            "<title",
            "<updated>",
            "<author>",
            "<name>",
            "rel=\"self\"",
        ] {
            assert!(head.contains(needed), "feed lacks {needed}");
        }
        let entries: Vec<&str> = xml.split("<entry>").skip(1).collect();
        assert_eq!(entries.len(), 2);
        for entry in entries {
            for needed in ["<id>", "<title", "<updated>", "<link rel=\"alternate\""] {
                assert!(entry.contains(needed), "entry lacks {needed}: {entry}");
            }
        }
    }
}
