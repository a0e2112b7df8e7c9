//! Reading untrusted bytes into JSON, with errors a person can act on.
//!
//! Limits: the caller chooses a maximum size ([`parse_json_limited`]); nesting is limited to
//! [`MAX_DEPTH`] levels by serde_json's recursion limit, so hostile input such as a million `[`
//! fails with [`ParseError::TooDeep`] instead of overflowing the stack.

use serde_json::Value;
use serde_json::error::Category;

/// The deepest nesting of arrays and objects accepted: serde_json's fixed recursion limit of 128
/// refuses the 128th level.
/// Real CSAF documents stay far below it: the CISA documents nest at most 14 levels, the OASIS
/// examples and test files at most 21.
pub const MAX_DEPTH: usize = 127;

/// Why bytes could not be read as JSON. Lines are 1-based; columns are those of serde_json
/// (1-based, counting bytes; 0 when the error is at the start of a line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("input is {len} bytes, more than the limit of {max} bytes")]
    TooLarge { len: usize, max: usize },
    #[error("input is empty, expected a JSON document")]
    Empty,
    #[error("input is not valid UTF-8: invalid byte sequence at byte offset {offset}")]
    NotUtf8 { offset: usize },
    #[error(
        "JSON is nested more than {limit} levels deep at line {line}, column {column} (arrays and objects inside each other)"
    )]
    TooDeep {
        limit: usize,
        line: usize,
        column: usize,
    },
    #[error("JSON ends unexpectedly at line {line}, column {column}: the input looks truncated")]
    Truncated { line: usize, column: usize },
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Invalid {
        line: usize,
        column: usize,
        message: String,
    },
}

/// Parses JSON text. A leading UTF-8 byte order mark is skipped (RFC 8259 section 8.1 allows
/// parsers to ignore it); anything else that is not UTF-8 JSON is an error.
pub fn parse_json(bytes: &[u8]) -> Result<Value, ParseError> {
    let (bom, bytes) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (3, rest),
        None => (0, bytes),
    };
    // Check UTF-8 first so the error names the byte offset in the caller's input (serde_json
    // would only say "invalid unicode code point" with a line and column).
    let text = std::str::from_utf8(bytes).map_err(|e| ParseError::NotUtf8 {
        offset: bom + e.valid_up_to(),
    })?;
    if text.trim_ascii().is_empty() {
        return Err(ParseError::Empty);
    }
    serde_json::from_str(text).map_err(convert)
}

/// [`parse_json`] after checking that the input is at most `max_len` bytes, so a caller can
/// refuse oversized uploads before spending time on them.
pub fn parse_json_limited(bytes: &[u8], max_len: usize) -> Result<Value, ParseError> {
    if bytes.len() > max_len {
        return Err(ParseError::TooLarge {
            len: bytes.len(),
            max: max_len,
        });
    }
    parse_json(bytes)
}

fn convert(error: serde_json::Error) -> ParseError {
    let (line, column) = (error.line(), error.column());
    let text = error.to_string();
    // serde_json appends " at line L column C"; we report the position in our own words.
    let message = text
        .rfind(" at line ")
        .map_or(text.as_str(), |at| &text[..at])
        .to_owned();
    match error.classify() {
        Category::Eof => ParseError::Truncated { line, column },
        _ if message == "recursion limit exceeded" => ParseError::TooDeep {
            limit: MAX_DEPTH,
            line,
            column,
        },
        _ => ParseError::Invalid {
            line,
            column,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_document() {
        let value = parse_json(br#"{"document": {"title": "x", "score": 7.5}}"#).expect("valid");
        assert_eq!(value["document"]["score"], serde_json::json!(7.5));
    }

    #[test]
    fn skips_a_byte_order_mark() {
        assert_eq!(
            parse_json(b"\xEF\xBB\xBF[1]").expect("valid"),
            serde_json::json!([1])
        );
    }

    #[test]
    fn not_utf8_names_the_byte_offset() {
        let err = parse_json(b"{\"title\": \"caf\xE9\"}").expect_err("latin-1 is not UTF-8");
        assert_eq!(err, ParseError::NotUtf8 { offset: 14 });
        assert!(err.to_string().contains("byte offset 14"), "{err}");
    }

    #[test]
    fn not_utf8_offset_counts_the_byte_order_mark() {
        let err = parse_json(b"\xEF\xBB\xBF\"\xFF\"").expect_err("invalid byte");
        assert_eq!(err, ParseError::NotUtf8 { offset: 4 });
    }

    #[test]
    fn truncated_input_says_so_with_the_position() {
        let err = parse_json(b"{\n  \"document\": {\n    \"title\": \"x\"").expect_err("truncated");
        assert_eq!(
            err,
            ParseError::Truncated {
                line: 3,
                column: 16
            }
        );
        assert!(err.to_string().contains("truncated"), "{err}");
    }

    #[test]
    fn invalid_json_gives_line_column_and_reason() {
        let err = parse_json(b"{\n  \"a\": 1,\n  \"b\": tru}\n").expect_err("invalid");
        let ParseError::Invalid {
            line,
            column,
            message,
        } = &err
        else {
            panic!("expected Invalid, got {err:?}");
        };
        assert_eq!((*line, *column), (3, 11));
        assert_eq!(message, "expected ident");
        assert_eq!(
            err.to_string(),
            "invalid JSON at line 3, column 11: expected ident"
        );
        assert!(matches!(
            parse_json(b"[1] [2]"),
            Err(ParseError::Invalid { .. })
        ));
        assert!(matches!(
            parse_json(b"{\"a\": 1,}"),
            Err(ParseError::Invalid { .. })
        ));
    }

    #[test]
    fn empty_input_is_its_own_error() {
        assert_eq!(parse_json(b""), Err(ParseError::Empty));
        assert_eq!(parse_json(b" \n\t"), Err(ParseError::Empty));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let at_limit = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_json(at_limit.as_bytes()).is_ok());
        let one_more = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(matches!(
            parse_json(one_more.as_bytes()),
            Err(ParseError::TooDeep {
                limit: MAX_DEPTH,
                ..
            })
        ));
        // A million levels of objects: must be a clean error, not a crash.
        let hostile = "{\"a\":".repeat(1_000_000);
        let err = parse_json(hostile.as_bytes()).expect_err("too deep");
        assert!(
            matches!(
                err,
                ParseError::TooDeep {
                    limit: MAX_DEPTH,
                    line: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("more than 127 levels"), "{err}");
    }

    #[test]
    fn size_limit_is_checked_before_parsing() {
        let input = b"{\"title\": \"0123456789\"}";
        assert!(parse_json_limited(input, input.len()).is_ok());
        let err = parse_json_limited(input, 10).expect_err("too large");
        assert_eq!(
            err,
            ParseError::TooLarge {
                len: input.len(),
                max: 10
            }
        );
        assert_eq!(
            err.to_string(),
            "input is 23 bytes, more than the limit of 10 bytes"
        );
        // The limit wins even over malformed input.
        assert!(matches!(
            parse_json_limited(b"\xFF\xFF", 1),
            Err(ParseError::TooLarge { .. })
        ));
    }
}
