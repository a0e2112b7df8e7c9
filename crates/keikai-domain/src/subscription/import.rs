//! Importing subscribers from a CSV file. Each row is checked as a sign-up would be; a row
//! that fails is reported with its line and reason and the others are kept, so one typo does
//! not stop an import of a thousand people. Only the file's shape (its header, its size) fails
//! the whole import.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use jiff::Timestamp;

use super::{Subscriber, SubscriberInput, SubscriberKind};
use crate::{DomainError, Email, Locale};

/// A row that passed: what to subscribe and the names of the lists to put them on.
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// The file's line the row starts on (the header is line 1).
    pub line: u64,
    pub input: SubscriberInput,
    pub lists: Vec<String>,
}

/// A row that did not, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    pub line: u64,
    /// The email cell as written (it may be what is wrong).
    pub email: String,
    pub field: String,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct ImportPlan {
    pub rows: Vec<ImportRow>,
    pub rejected: Vec<RejectedRow>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Email,
    Name,
    Kind,
    Locale,
    TimeZone,
    Lists,
    OpenpgpKey,
}

/// Header names (compared in lower case, with spaces and hyphens read as `_`).
const COLUMNS: [(&str, Column); 8] = [
    ("email", Column::Email),
    ("name", Column::Name),
    ("kind", Column::Kind),
    ("language", Column::Locale),
    ("locale", Column::Locale),
    ("time_zone", Column::TimeZone),
    ("lists", Column::Lists),
    ("openpgp_key", Column::OpenpgpKey),
];

const EXPECTED: &str =
    "email (required), name, kind, language or locale, time_zone, lists, openpgp_key";

/// Where each column is in the file.
#[derive(Debug, Default)]
struct Layout {
    at: [Option<usize>; 7],
    /// Header cells up to the last one with a name: trailing empty ones are ignored.
    width: usize,
}

impl Layout {
    fn parse(header: &csv::StringRecord) -> Result<Self, DomainError> {
        let mut layout = Self {
            width: header
                .iter()
                .enumerate()
                .filter(|(_, h)| !h.trim().is_empty())
                .last()
                .map_or(0, |(i, _)| i + 1),
            ..Self::default()
        };
        let mut names: [Option<String>; 7] = Default::default();
        let mut unknown = Vec::new();
        for (i, raw) in header.iter().take(layout.width).enumerate() {
            let name = raw.trim().to_lowercase().replace([' ', '-'], "_");
            let Some((_, column)) = COLUMNS.iter().find(|(n, _)| *n == name) else {
                unknown.push(format!("\"{}\"", raw.trim()));
                continue;
            };
            let slot = *column as usize;
            if let Some(first) = &names[slot] {
                return Err(DomainError::invalid(
                    "columns",
                    format!("\"{}\" and \"{first}\" are the same column", raw.trim()),
                ));
            }
            names[slot] = Some(raw.trim().to_owned());
            layout.at[slot] = Some(i);
        }
        if !unknown.is_empty() {
            return Err(DomainError::invalid(
                "columns",
                format!(
                    "unknown column{} {} (the columns are {EXPECTED})",
                    if unknown.len() > 1 { "s" } else { "" },
                    unknown.join(", ")
                ),
            ));
        }
        if layout.at[Column::Email as usize].is_none() {
            return Err(DomainError::invalid(
                "columns",
                format!("the header has no email column (the columns are {EXPECTED})"),
            ));
        }
        Ok(layout)
    }

    fn cell<'r>(&self, record: &'r csv::StringRecord, column: Column) -> &'r str {
        self.at[column as usize]
            .and_then(|i| record.get(i))
            .map_or("", str::trim)
    }
}

/// The line a record starts on. The csv crate's own line count drifts with CRLF and blank
/// lines; its byte offset points just past the previous record's terminator.
fn line_of(text: &str, record: &csv::StringRecord) -> u64 {
    let Some(pos) = record.position() else {
        return 0;
    };
    let mut start = usize::try_from(pos.byte())
        .unwrap_or(usize::MAX)
        .min(text.len());
    let bytes = text.as_bytes();
    while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
        start += 1;
    }
    let breaks = bytes[..start].iter().filter(|b| **b == b'\n').count();
    breaks as u64 + 1
}

fn message(e: DomainError) -> (String, String) {
    let DomainError::Invalid { field, message } = e;
    (field.to_owned(), message)
}

fn parse_kind(s: &str) -> Result<SubscriberKind, DomainError> {
    if s.is_empty() {
        Ok(SubscriberKind::External)
    } else {
        s.to_lowercase().parse()
    }
}

/// `en`, `ja`, or a tag such as `ja-JP`; empty means the default.
fn parse_locale(s: &str, field: &'static str) -> Result<Option<Locale>, DomainError> {
    if s.is_empty() {
        return Ok(None);
    }
    let primary = s.split(['-', '_']).next().unwrap_or(s).to_lowercase();
    primary.parse().map(Some).map_err(|_| {
        DomainError::invalid(
            field,
            format!("\"{s}\" is not a supported language (en or ja)"),
        )
    })
}

/// The lists named in a cell (`;` or `|` between names), as the known lists spell them. A
/// name matches exactly, or else in any case if only one list has it.
fn parse_lists(s: &str, known: &[String]) -> Result<Vec<String>, DomainError> {
    let mut out: Vec<String> = Vec::new();
    for name in s.split([';', '|']).map(str::trim).filter(|n| !n.is_empty()) {
        let found = known.iter().find(|k| k.as_str() == name).or_else(|| {
            let mut folded = known
                .iter()
                .filter(|k| k.to_lowercase() == name.to_lowercase());
            match (folded.next(), folded.next()) {
                (Some(k), None) => Some(k),
                _ => None,
            }
        });
        match found {
            Some(k) if !out.contains(k) => out.push(k.clone()),
            Some(_) => {}
            None => {
                return Err(DomainError::invalid(
                    "lists",
                    format!("there is no list named \"{name}\""),
                ));
            }
        }
    }
    Ok(out)
}

/// Reads a subscriber file: a header row naming the columns (email is required; name, kind,
/// language or locale, time_zone, lists and openpgp_key are optional, in any order and case),
/// then one person per row. Blank lines are skipped; a UTF-8 byte-order mark and CRLF line
/// ends are accepted.
///
/// The whole file fails for an unknown or repeated column, a missing email column, or more
/// than `max_rows` rows. A row fails — and is reported in `rejected` with its line — for a bad
/// address, kind, language, time zone or OpenPGP key, a list not in `known_lists`, an address
/// already on an earlier row, or a filled cell beyond the header's columns (empty trailing
/// cells, as spreadsheets write them, are fine).
pub fn parse_csv(
    text: &str,
    known_lists: &[String],
    max_rows: usize,
) -> Result<ImportPlan, DomainError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let read_error = |e: csv::Error| {
        let at = e
            .position()
            .map(|p| format!(" near line {}", p.line()))
            .unwrap_or_default();
        DomainError::invalid("csv", format!("cannot read the file{at}: {e}"))
    };
    let header = loop {
        match records.next() {
            None => {
                return Err(DomainError::invalid(
                    "csv",
                    format!("the file is empty (expected a header row: {EXPECTED})"),
                ));
            }
            Some(r) => {
                let r = r.map_err(read_error)?;
                if r.iter().any(|c| !c.trim().is_empty()) {
                    break r;
                }
            }
        }
    };
    let layout = Layout::parse(&header)?;
    let locale_field: &'static str = layout.at[Column::Locale as usize]
        .and_then(|i| header.get(i))
        .filter(|h| h.trim().eq_ignore_ascii_case("locale"))
        .map_or("language", |_| "locale");

    let mut plan = ImportPlan {
        rows: Vec::new(),
        rejected: Vec::new(),
    };
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut count = 0usize;
    for record in records {
        let record = record.map_err(read_error)?;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        count += 1;
        if count > max_rows {
            return Err(DomainError::invalid(
                "rows",
                format!("the file has more than {max_rows} rows; split it into smaller files"),
            ));
        }
        let line = line_of(text, &record);
        let email_cell = layout.cell(&record, Column::Email);
        let mut reject = |field: &str, reason: String| {
            plan.rejected.push(RejectedRow {
                line,
                email: email_cell.to_owned(),
                field: field.to_owned(),
                reason,
            });
        };
        if record
            .iter()
            .skip(layout.width)
            .any(|c| !c.trim().is_empty())
        {
            reject(
                "columns",
                format!(
                    "has {} cells; the header has {} columns",
                    record.len(),
                    layout.width
                ),
            );
            continue;
        }
        let email = match Email::parse(email_cell) {
            Ok(e) => e,
            Err(e) => {
                let (field, reason) = message(e);
                reject(&field, reason);
                continue;
            }
        };
        match seen.entry(email.as_str().to_owned()) {
            Entry::Occupied(first) => {
                reject(
                    "email",
                    format!("{} is already on line {}", email.as_str(), first.get()),
                );
                continue;
            }
            Entry::Vacant(v) => {
                v.insert(line);
            }
        }
        let parsed = (|| {
            let kind = parse_kind(layout.cell(&record, Column::Kind))?;
            let locale = parse_locale(layout.cell(&record, Column::Locale), locale_field)?;
            let lists = parse_lists(layout.cell(&record, Column::Lists), known_lists)?;
            let optional = |c: Column| {
                Some(layout.cell(&record, c))
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            let input = SubscriberInput {
                email: email.as_str().to_owned(),
                name: layout.cell(&record, Column::Name).to_owned(),
                kind,
                locale,
                time_zone: optional(Column::TimeZone),
                openpgp_key: optional(Column::OpenpgpKey),
            };
            // The sign-up's own checks (name, time zone, key); the subscriber is not kept.
            Subscriber::subscribe(input.clone(), Timestamp::UNIX_EPOCH)?;
            Ok::<_, DomainError>((input, lists))
        })();
        match parsed {
            Ok((input, lists)) => plan.rows.push(ImportRow { line, input, lists }),
            Err(e) => {
                let (field, reason) = message(e);
                reject(&field, reason);
            }
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists() -> Vec<String> {
        ["customers", "engineers", "Partners JP"]
            .map(str::to_owned)
            .to_vec()
    }

    fn parse(text: &str) -> ImportPlan {
        parse_csv(text, &lists(), 100).unwrap_or_else(|e| panic!("{e}"))
    }

    const KEY: &str =
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ\n-----END PGP PUBLIC KEY BLOCK-----";

    #[test]
    fn a_messy_file_keeps_good_rows_and_reports_bad_ones_by_line() {
        let text = format!(
            "\u{feff}Email, Name ,LANGUAGE,Lists,Time Zone,kind,openpgp_key\r\n\
             alice@example.jp,山田 花子,ja,customers;engineers,Asia/Tokyo,internal,\r\n\
             \r\n\
             \"Bob@Example.COM\",\"Smith, Bob\",EN-us,customers | partners jp,,,\r\n\
             carol@example.com,Carol,en,,UTC,,\"{KEY}\"\r\n\
             not-an-address,Nobody,en,,,,\r\n\
             dave@example.com,Dave,fr,,,,\r\n\
             erin@example.com,Erin,en,,Mars/Olympus,,\r\n\
             frank@example.com,Frank,en,vip,,,\r\n\
             bob@example.com,Bob again,en,,,,\r\n\
             gina@example.com,Gina,en,,,boss,\r\n\
             hank@example.com,Hank,en,,,,,extra\r\n\
             ivy@example.com,鈴木 愛,ja,,Asia/Tokyo,,,,\r\n\
             ,,,,,,\r\n"
        );
        let plan = parse(&text);
        let good: Vec<(u64, &str)> = plan
            .rows
            .iter()
            .map(|r| (r.line, r.input.email.as_str()))
            .collect();
        assert_eq!(
            good,
            [
                (2, "alice@example.jp"),
                (4, "bob@example.com"),
                (5, "carol@example.com"),
                // The key's quoted lines count: Ivy is on the file's line 16.
                (16, "ivy@example.com"),
            ]
        );
        let alice = &plan.rows[0];
        assert_eq!(alice.input.name, "山田 花子");
        assert_eq!(alice.input.kind, SubscriberKind::Internal);
        assert_eq!(alice.input.locale, Some(Locale::Ja));
        assert_eq!(alice.input.time_zone.as_deref(), Some("Asia/Tokyo"));
        assert_eq!(alice.lists, ["customers", "engineers"]);
        let bob = &plan.rows[1];
        assert_eq!(bob.input.name, "Smith, Bob");
        assert_eq!(bob.input.locale, Some(Locale::En));
        assert_eq!(bob.input.kind, SubscriberKind::External);
        assert_eq!(bob.input.time_zone, None);
        // Spelled as the list is named.
        assert_eq!(bob.lists, ["customers", "Partners JP"]);
        assert_eq!(plan.rows[2].input.openpgp_key.as_deref(), Some(KEY));
        assert_eq!(plan.rows[3].input.name, "鈴木 愛");

        let rejected: Vec<(u64, &str, &str)> = plan
            .rejected
            .iter()
            .map(|r| (r.line, r.email.as_str(), r.field.as_str()))
            .collect();
        assert_eq!(
            rejected,
            [
                (9, "not-an-address", "email"),
                (10, "dave@example.com", "language"),
                (11, "erin@example.com", "time_zone"),
                (12, "frank@example.com", "lists"),
                (13, "bob@example.com", "email"),
                (14, "gina@example.com", "kind"),
                (15, "hank@example.com", "columns"),
            ]
        );
        let reason = |line| {
            plan.rejected
                .iter()
                .find(|r| r.line == line)
                .map(|r| r.reason.as_str())
                .unwrap_or_default()
        };
        assert!(reason(10).contains("\"fr\""), "{}", reason(10));
        assert!(reason(11).contains("Mars/Olympus"), "{}", reason(11));
        assert!(reason(12).contains("\"vip\""), "{}", reason(12));
        assert_eq!(reason(13), "bob@example.com is already on line 4");
        assert!(reason(14).contains("\"boss\""), "{}", reason(14));
        assert!(reason(15).contains("8 cells"), "{}", reason(15));
    }

    #[test]
    fn only_email_is_required_and_columns_come_in_any_order() {
        let plan = parse("lists,EMAIL\nengineers,a@example.com\n\n\n,b@example.com");
        assert_eq!(plan.rows.len(), 2);
        assert_eq!(plan.rows[0].lists, ["engineers"]);
        assert_eq!(plan.rows[1].line, 5);
        assert_eq!(plan.rows[1].input.kind, SubscriberKind::External);
        assert_eq!(plan.rows[1].input.locale, None);
        let plan = parse("email,locale\nc@example.com,de\n");
        assert_eq!(plan.rejected[0].field, "locale");
        assert_eq!(plan.rejected[0].line, 2);
    }

    #[test]
    fn the_shape_of_the_file_fails_it_whole() {
        let e = parse_csv("email,phone,Fax\n", &lists(), 10).unwrap_err();
        assert_eq!(e.field(), "columns");
        assert!(
            e.to_string().contains("\"phone\", \"Fax\""),
            "{}",
            e.to_string()
        );
        let e = parse_csv("name,lists\nA,customers\n", &lists(), 10).unwrap_err();
        assert!(e.to_string().contains("no email column"), "{e}");
        let e = parse_csv("email,language,locale\n", &lists(), 10).unwrap_err();
        assert!(e.to_string().contains("same column"), "{e}");
        let e = parse_csv("\u{feff}\r\n\r\n", &lists(), 10).unwrap_err();
        assert_eq!(e.field(), "csv");
        let rows = "email\na@example.com\nb@example.com\n\nc@example.com\n";
        assert_eq!(
            parse_csv(rows, &lists(), 3)
                .unwrap_or_else(|e| panic!("{e}"))
                .rows
                .len(),
            3
        );
        let e = parse_csv(rows, &lists(), 2).unwrap_err();
        assert_eq!(e.field(), "rows");
        assert!(e.to_string().contains("more than 2 rows"), "{e}");
    }

    #[test]
    fn a_row_rejected_for_another_reason_still_claims_its_address() {
        let plan = parse("email,kind\na@example.com,boss\nA@example.com,internal\n");
        assert!(plan.rows.is_empty());
        assert_eq!(plan.rejected[0].field, "kind");
        assert_eq!(
            plan.rejected[1].reason,
            "a@example.com is already on line 2"
        );
    }

    #[test]
    fn a_list_name_that_only_differs_in_case_between_two_lists_must_be_exact() {
        let known = ["Ops".to_owned(), "OPS".to_owned()];
        let plan = parse_csv(
            "email,lists\na@example.com,ops\nb@example.com,OPS\n",
            &known,
            10,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.rejected.len(), 1);
        assert_eq!(plan.rejected[0].line, 2);
        assert_eq!(plan.rows[0].lists, ["OPS"]);
    }
}
