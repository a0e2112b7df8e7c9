//! Rules for files that reporters attach: how large, how many, what they really are, how
//! they may be served back, and under which name.
//!
//! The type a client declares is never trusted: [`sniff`] looks at the bytes, and
//! [`served_as`] decides from that alone. Anything that could run in a browser (HTML, SVG,
//! XML, or an image with markup inside it) is served as an opaque download.

use std::fmt;

use thiserror::Error;

use crate::DomainError;

const MIB: u64 = 1024 * 1024;

/// How many bytes [`sniff`] reads: enough for every signature and for a fair look at text.
pub const SNIFF_WINDOW: usize = 8 * 1024;

/// Limits on what one report may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentPolicy {
    pub max_bytes: u64,
    pub max_per_report: usize,
}

impl Default for AttachmentPolicy {
    fn default() -> Self {
        Self {
            max_bytes: 20 * MIB,
            max_per_report: 10,
        }
    }
}

impl AttachmentPolicy {
    /// Whether a report that already holds `existing` attachments may take one more.
    pub fn check_count(&self, existing: usize) -> Result<(), AttachmentError> {
        if existing >= self.max_per_report {
            return Err(AttachmentError::TooMany {
                limit: self.max_per_report,
            });
        }
        Ok(())
    }
}

/// What the bytes of a file are, whatever its name or declared type says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SniffedType {
    Png,
    Jpeg,
    Gif,
    WebP,
    Pdf,
    /// Also `.docx`, `.xlsx`, `.jar`, `.apk`: all are ZIP containers.
    Zip,
    Gzip,
    SevenZip,
    /// UTF-8 without NUL bytes and without markup.
    Text,
    /// HTML, SVG, XML or script, or an image that carries markup (a polyglot): anything a
    /// browser might run.
    ActiveContent,
    /// None of the above.
    Binary,
}

impl SniffedType {
    /// The media type the bytes actually have (not necessarily the one they are served as).
    pub const fn media_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::WebP => "image/webp",
            Self::Pdf => "application/pdf",
            Self::Zip => "application/zip",
            Self::Gzip => "application/gzip",
            Self::SevenZip => "application/x-7z-compressed",
            Self::Text => "text/plain; charset=utf-8",
            Self::ActiveContent | Self::Binary => "application/octet-stream",
        }
    }

    /// Raster images that browsers show without running anything.
    pub const fn is_image(self) -> bool {
        matches!(self, Self::Png | Self::Jpeg | Self::Gif | Self::WebP)
    }
}

impl fmt::Display for SniffedType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Png => "PNG image",
            Self::Jpeg => "JPEG image",
            Self::Gif => "GIF image",
            Self::WebP => "WebP image",
            Self::Pdf => "PDF document",
            Self::Zip => "ZIP archive",
            Self::Gzip => "gzip archive",
            Self::SevenZip => "7z archive",
            Self::Text => "text",
            Self::ActiveContent => "active content (HTML, SVG, XML or script)",
            Self::Binary => "binary data",
        })
    }
}

/// Looks at the first [`SNIFF_WINDOW`] bytes.
pub fn sniff(bytes: &[u8]) -> SniffedType {
    let head = &bytes[..bytes.len().min(SNIFF_WINDOW)];
    let magic: Option<SniffedType> = if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(SniffedType::Png)
    } else if head.starts_with(b"\xff\xd8\xff") {
        Some(SniffedType::Jpeg)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some(SniffedType::Gif)
    } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        Some(SniffedType::WebP)
    } else if head.starts_with(b"%PDF-") {
        Some(SniffedType::Pdf)
    } else if head.starts_with(b"PK\x03\x04")
        || head.starts_with(b"PK\x05\x06")
        || head.starts_with(b"PK\x07\x08")
    {
        Some(SniffedType::Zip)
    } else if head.starts_with(b"\x1f\x8b\x08") {
        Some(SniffedType::Gzip)
    } else if head.starts_with(b"7z\xbc\xaf\x27\x1c") {
        Some(SniffedType::SevenZip)
    } else {
        None
    };
    match magic {
        // An image is served inline, so one that also reads as markup is not an image to us.
        Some(t) if t.is_image() && has_markup(head) => SniffedType::ActiveContent,
        Some(t) => t,
        None if is_text(head, bytes.len() > head.len()) => {
            if looks_like_markup(head) {
                SniffedType::ActiveContent
            } else {
                SniffedType::Text
            }
        }
        // Markup need not be UTF-8 (a Latin-1 HTML page): a leading `<` still counts.
        None if starts_with_angle(head) || has_markup(head) => SniffedType::ActiveContent,
        None => SniffedType::Binary,
    }
}

/// Valid UTF-8 without NUL; a character cut off by the window's end is forgiven.
fn is_text(head: &[u8], truncated: bool) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => truncated && e.error_len().is_none(),
    }
}

/// Skips a UTF-8 byte-order mark and white space, then asks whether markup begins.
fn starts_with_angle(head: &[u8]) -> bool {
    let rest = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    rest.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'<')
}

/// Tags that make a browser build a document or run a script, anywhere in the window.
fn has_markup(head: &[u8]) -> bool {
    [&b"<script"[..], b"<svg", b"<html"]
        .iter()
        .any(|tag| head.windows(tag.len()).any(|w| w.eq_ignore_ascii_case(tag)))
}

fn looks_like_markup(head: &[u8]) -> bool {
    starts_with_angle(head) || has_markup(head)
}

/// How a stored attachment goes back to a browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeAs {
    pub content_type: &'static str,
    /// `Content-Disposition: inline`; otherwise `attachment` (a download).
    pub inline: bool,
}

/// Only raster images are shown inline; everything else is a download, and whatever might
/// run is sent as opaque bytes. PDFs are downloads too: viewers run their scripts.
pub const fn served_as(t: &SniffedType) -> ServeAs {
    ServeAs {
        content_type: t.media_type(),
        inline: t.is_image(),
    }
}

/// A file name from a client, made safe to store and to send back in a header.
///
/// Path components (`/` and `\`), control and bidirectional-formatting characters and quotes
/// are removed, leading dots and surrounding spaces trimmed, and the name cut to
/// [`AttachmentName::MAX_CHARS`] characters keeping its extension.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttachmentName(String);

crate::text::checked_text!(AttachmentName);

impl AttachmentName {
    pub const MAX_CHARS: usize = 200;
    /// The name given when nothing usable is left.
    pub const FALLBACK: &str = "attachment";

    /// Refuses a name with nothing usable in it.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let clean = clean_name(raw);
        if clean.is_empty() {
            return Err(DomainError::invalid(
                "file_name",
                format!(
                    "\"{}\" has no usable characters once path and control characters are removed",
                    raw.escape_debug()
                ),
            ));
        }
        Ok(Self(clean))
    }

    /// Never fails: a name with nothing usable becomes [`AttachmentName::FALLBACK`].
    pub fn sanitise(raw: &str) -> Self {
        Self::parse(raw).unwrap_or_else(|_| Self(Self::FALLBACK.to_owned()))
    }

    /// A `Content-Disposition` value (RFC 6266): `filename` holds an ASCII stand-in for old
    /// clients, and `filename*` (RFC 8187, UTF-8, percent-encoded) the real name when the
    /// two differ.
    pub fn content_disposition(&self, inline: bool) -> String {
        let kind = if inline { "inline" } else { "attachment" };
        let ascii = self.ascii_fallback();
        if ascii == self.0 {
            format!("{kind}; filename=\"{ascii}\"")
        } else {
            format!(
                "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{}",
                percent_encode(&self.0)
            )
        }
    }

    /// Non-ASCII and `%` become `_` (some clients decode `%XX` in `filename`); a stem left
    /// with no letters or digits becomes `attachment`, keeping an ASCII extension.
    fn ascii_fallback(&self) -> String {
        let mapped: String = self
            .0
            .chars()
            .map(|c| if c.is_ascii() && c != '%' { c } else { '_' })
            .collect();
        let (stem, ext) = split_extension(&mapped);
        if stem.chars().any(|c| c.is_ascii_alphanumeric()) {
            mapped
        } else {
            format!("{}{ext}", Self::FALLBACK)
        }
    }
}

/// Characters that change how text is displayed without being seen: they can make
/// `evil<U+202E>txt.exe` look like `evilexe.txt`.
const fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_invisible_format(*c) && !matches!(c, '"' | '\''))
        .collect();
    // Leading dots make hidden files (and `..`); trailing dots and spaces Windows drops.
    let trimmed = kept
        .trim()
        .trim_start_matches('.')
        .trim_end_matches(['.', ' '])
        .trim();
    truncate_keeping_extension(trimmed, AttachmentName::MAX_CHARS)
}

/// `("report", ".pdf")`; an extension is short and not the whole name.
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 && name[i..].chars().count() <= 16 => name.split_at(i),
        _ => (name, ""),
    }
}

fn truncate_keeping_extension(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_owned();
    }
    let (stem, ext) = split_extension(name);
    let keep = max.saturating_sub(ext.chars().count());
    let mut out: String = stem.chars().take(keep).collect();
    out.push_str(ext);
    out
}

/// RFC 8187 `value-chars`: `attr-char` stays, everything else is `%XX` of its UTF-8 bytes.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        let attr_char = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        if attr_char {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An attachment that passed [`check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub name: AttachmentName,
    pub size: u64,
    pub sniffed: SniffedType,
    pub serve: ServeAs,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AttachmentError {
    #[error("attachment \"{name}\" is {}; the limit is {}", size_up(*size), size_limit(*limit))]
    TooLarge {
        name: AttachmentName,
        size: u64,
        limit: u64,
    },
    #[error("attachment \"{name}\" is empty")]
    Empty { name: AttachmentName },
    #[error("a report may carry at most {limit} attachments")]
    TooMany { limit: usize },
}

/// Applies the policy to one file: its name made safe, its size within the limit, its type
/// taken from its bytes.
pub fn check(
    policy: &AttachmentPolicy,
    name: &str,
    bytes: &[u8],
) -> Result<Checked, AttachmentError> {
    let name = AttachmentName::sanitise(name);
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if size == 0 {
        return Err(AttachmentError::Empty { name });
    }
    if size > policy.max_bytes {
        return Err(AttachmentError::TooLarge {
            name,
            size,
            limit: policy.max_bytes,
        });
    }
    let sniffed = sniff(bytes);
    Ok(Checked {
        name,
        size,
        sniffed,
        serve: served_as(&sniffed),
    })
}

/// A size rounded up to a tenth, so that a file over the limit never reads as equal to it.
fn size_up(bytes: u64) -> String {
    let (unit, name) = unit_of(bytes);
    if unit == 1 {
        return format!("{bytes} bytes");
    }
    let tenths = bytes.saturating_mul(10).div_ceil(unit);
    format!("{}.{} {name}", tenths / 10, tenths % 10)
}

/// A limit: whole units without a decimal (`20 MiB`), otherwise like [`size_up`].
fn size_limit(bytes: u64) -> String {
    let (unit, name) = unit_of(bytes);
    if unit > 1 && bytes.is_multiple_of(unit) {
        format!("{} {name}", bytes / unit)
    } else {
        size_up(bytes)
    }
}

const fn unit_of(bytes: u64) -> (u64, &'static str) {
    if bytes >= MIB {
        (MIB, "MiB")
    } else if bytes >= 1024 {
        (1024, "KiB")
    } else {
        (1, "bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(prefix: &[u8], rest: &[u8]) -> Vec<u8> {
        [prefix, rest].concat()
    }

    #[test]
    fn sniffs_the_types_researchers_send() {
        let cases: [(&str, Vec<u8>, SniffedType); 13] = [
            (
                "png",
                with(b"\x89PNG\r\n\x1a\n", b"\0\0\0\rIHDR"),
                SniffedType::Png,
            ),
            (
                "jpeg",
                with(b"\xff\xd8\xff\xe0", b"\0\x10JFIF\0"),
                SniffedType::Jpeg,
            ),
            ("gif87a", with(b"GIF87a", b"\x01\0\x01\0"), SniffedType::Gif),
            ("gif89a", with(b"GIF89a", b"\x01\0\x01\0"), SniffedType::Gif),
            (
                "webp",
                with(b"RIFF\x24\0\0\0WEBPVP8 ", b"\0\0"),
                SniffedType::WebP,
            ),
            (
                "pdf",
                with(b"%PDF-1.7\n", b"%\xe2\xe3\xcf\xd3\n"),
                SniffedType::Pdf,
            ),
            (
                "docx",
                with(b"PK\x03\x04\x14\0\x06\0", b"[Content_Types].xml"),
                SniffedType::Zip,
            ),
            (
                "empty zip",
                b"PK\x05\x06\0\0\0\0".to_vec(),
                SniffedType::Zip,
            ),
            (
                "gzip",
                with(b"\x1f\x8b\x08\0", b"\0\0\0\0\0\x03"),
                SniffedType::Gzip,
            ),
            (
                "7z",
                with(b"7z\xbc\xaf\x27\x1c\0\x04", b"\0"),
                SniffedType::SevenZip,
            ),
            (
                "log",
                b"2026-01-01 GET /login 200\n".to_vec(),
                SniffedType::Text,
            ),
            (
                "japanese",
                "再現手順:\n1. ログイン\n".as_bytes().to_vec(),
                SniffedType::Text,
            ),
            ("nul", b"abc\0def".to_vec(), SniffedType::Binary),
        ];
        for (what, bytes, want) in cases {
            assert_eq!(sniff(&bytes), want, "{what}");
        }
        assert_eq!(sniff(b"caf\xe9 au lait"), SniffedType::Binary, "Latin-1");
        assert_eq!(sniff(b"\x89PN"), SniffedType::Binary, "cut-off signature");
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), SniffedType::Binary, "WAV");
        assert_eq!(sniff(b"\xef\xbb\xbfplain"), SniffedType::Text, "UTF-8 BOM");
    }

    #[test]
    fn a_character_cut_by_the_window_is_still_text() {
        let text = "あ".repeat(3000);
        assert!(text.len() > SNIFF_WINDOW && !SNIFF_WINDOW.is_multiple_of(3));
        assert_eq!(sniff(text.as_bytes()), SniffedType::Text);
        // But a file that simply ends in half a character is not.
        let bytes = text.as_bytes();
        assert_eq!(sniff(&bytes[..100]), SniffedType::Binary);
    }

    #[test]
    fn markup_is_active_content() {
        for markup in [
            "<!DOCTYPE html><html><body>hi</body></html>",
            "  \n\t<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            "\u{feff}<?xml version=\"1.0\"?><a/>",
            "<p>no html tag, but it starts like markup</p>",
            "notes first, then <SCRIPT>alert(1)</SCRIPT>",
            "see the attached picture <Svg onload=alert(1)>",
            "text <html",
        ] {
            assert_eq!(
                sniff(markup.as_bytes()),
                SniffedType::ActiveContent,
                "{markup}"
            );
        }
        assert_eq!(
            sniff(b"<html>caf\xe9</html>"),
            SniffedType::ActiveContent,
            "Latin-1"
        );
        assert_eq!(sniff(b"a < b and c > d"), SniffedType::Text);
    }

    #[test]
    fn images_carrying_markup_are_polyglots() {
        let gif = with(b"GIF89a/*\x01\0\x01\0", b"*/=1;<script>alert(1)</script>");
        assert_eq!(sniff(&gif), SniffedType::ActiveContent);
        let png = with(
            b"\x89PNG\r\n\x1a\n",
            b"\0\0\0\x20tEXtc\0<svg onload=alert(1)>",
        );
        assert_eq!(sniff(&png), SniffedType::ActiveContent);
        // XMP metadata is XML, but not a document a browser would build from an image.
        let jpeg = with(
            b"\xff\xd8\xff\xe1",
            b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">",
        );
        assert_eq!(sniff(&jpeg), SniffedType::Jpeg);
        // A PDF is never shown inline, so markup inside it does not change how it is served.
        let pdf = with(b"%PDF-1.4\n", b"<html><script>alert(1)</script>");
        assert_eq!(sniff(&pdf), SniffedType::Pdf);
    }

    #[test]
    fn only_raster_images_are_inline() {
        for t in [
            SniffedType::Png,
            SniffedType::Jpeg,
            SniffedType::Gif,
            SniffedType::WebP,
        ] {
            let s = served_as(&t);
            assert!(s.inline, "{t}");
            assert!(s.content_type.starts_with("image/"), "{t}");
        }
        assert_eq!(
            served_as(&SniffedType::Pdf),
            ServeAs {
                content_type: "application/pdf",
                inline: false
            }
        );
        assert_eq!(
            served_as(&SniffedType::Text),
            ServeAs {
                content_type: "text/plain; charset=utf-8",
                inline: false
            }
        );
        for t in [SniffedType::ActiveContent, SniffedType::Binary] {
            assert_eq!(
                served_as(&t),
                ServeAs {
                    content_type: "application/octet-stream",
                    inline: false
                }
            );
        }
        for t in [SniffedType::Zip, SniffedType::Gzip, SniffedType::SevenZip] {
            assert!(!served_as(&t).inline, "{t}");
        }
    }

    #[test]
    fn names_lose_paths_controls_and_quotes() {
        let cases = [
            ("../../etc/passwd", "passwd"),
            ("C:\\x\\y.txt", "y.txt"),
            ("/var/tmp/", "attachment"),
            ("報告書.pdf", "報告書.pdf"),
            ("poc\r\nSet-Cookie: a=b.txt", "pocSet-Cookie: a=b.txt"),
            ("say \"hi\".txt", "say hi.txt"),
            ("it's.log", "its.log"),
            ("..", "attachment"),
            ("", "attachment"),
            ("  \t ", "attachment"),
            (".htaccess", "htaccess"),
            ("evil\u{202e}txt.exe", "eviltxt.exe"),
            ("trailing. . ", "trailing"),
            ("  spaced name.png  ", "spaced name.png"),
        ];
        for (raw, want) in cases {
            assert_eq!(AttachmentName::sanitise(raw).as_str(), want, "{raw:?}");
        }
        assert_eq!(
            AttachmentName::parse("../").unwrap_err().field(),
            "file_name"
        );
        assert_eq!(AttachmentName::parse("a/b.txt").unwrap().as_str(), "b.txt");
    }

    #[test]
    fn long_names_keep_their_extension() {
        let long = format!("{}.pdf", "a".repeat(300));
        let n = AttachmentName::sanitise(&long);
        assert_eq!(n.as_str().chars().count(), AttachmentName::MAX_CHARS);
        assert!(n.as_str().ends_with("a.pdf"));
        let japanese = format!("{}.txt", "報".repeat(250));
        let n = AttachmentName::sanitise(&japanese);
        assert_eq!(n.as_str().chars().count(), AttachmentName::MAX_CHARS);
        assert!(n.as_str().ends_with(".txt"));
    }

    #[test]
    fn content_disposition_has_an_ascii_fallback() {
        assert_eq!(
            AttachmentName::sanitise("report.pdf").content_disposition(false),
            "attachment; filename=\"report.pdf\""
        );
        assert_eq!(
            AttachmentName::sanitise("報告書.pdf").content_disposition(false),
            "attachment; filename=\"attachment.pdf\"; \
             filename*=UTF-8''%E5%A0%B1%E5%91%8A%E6%9B%B8.pdf"
        );
        assert_eq!(
            AttachmentName::sanitise("screenshot 画面.png").content_disposition(true),
            "inline; filename=\"screenshot __.png\"; \
             filename*=UTF-8''screenshot%20%E7%94%BB%E9%9D%A2.png"
        );
        assert_eq!(
            AttachmentName::sanitise("100%.txt").content_disposition(false),
            "attachment; filename=\"100_.txt\"; filename*=UTF-8''100%25.txt"
        );
        // Whatever the client sent, the header value holds one line of visible ASCII.
        for raw in ["a\r\nb", "\"\";x=\"y", "e\u{301}\u{0}", "../\\\u{7f}"] {
            let v = AttachmentName::sanitise(raw).content_disposition(false);
            assert!(v.bytes().all(|b| (0x20..0x7f).contains(&b)), "{raw:?}: {v}");
            assert_eq!(v.matches('"').count(), 2, "{raw:?}: {v}");
        }
    }

    #[test]
    fn check_names_the_limit() {
        let policy = AttachmentPolicy::default();
        let e = check(&policy, "x.bin", &vec![0u8; 25 * 1024 * 1024]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "attachment \"x.bin\" is 25.0 MiB; the limit is 20 MiB"
        );
        let e = check(&policy, "x.bin", &vec![0u8; 20 * 1024 * 1024 + 1]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "attachment \"x.bin\" is 20.1 MiB; the limit is 20 MiB",
            "rounded up, never equal to the limit"
        );
        let ok = check(&policy, "../x.bin", &vec![b'a'; 20 * 1024 * 1024]).unwrap();
        assert_eq!(ok.size, 20 * 1024 * 1024);
        assert_eq!(ok.name.as_str(), "x.bin");
        assert_eq!(ok.sniffed, SniffedType::Text);
        let small = AttachmentPolicy {
            max_bytes: 1024,
            max_per_report: 2,
        };
        let e = check(&small, "log.txt", &[b'a'; 1500]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "attachment \"log.txt\" is 1.5 KiB; the limit is 1 KiB"
        );
        let e = check(&small, "\r\n", &[]).unwrap_err();
        assert_eq!(e.to_string(), "attachment \"attachment\" is empty");
        let png = check(&small, "shot.png", b"\x89PNG\r\n\x1a\n\0\0").unwrap();
        assert!(png.serve.inline && png.sniffed == SniffedType::Png);
    }

    #[test]
    fn reports_hold_a_limited_number_of_attachments() {
        let policy = AttachmentPolicy::default();
        assert!(policy.check_count(9).is_ok());
        let e = policy.check_count(10).unwrap_err();
        assert_eq!(e.to_string(), "a report may carry at most 10 attachments");
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(size_up(999), "999 bytes");
        assert_eq!(size_up(1024), "1.0 KiB");
        assert_eq!(size_up(1025), "1.1 KiB");
        assert_eq!(size_limit(20 * MIB), "20 MiB");
        assert_eq!(size_limit(1536), "1.5 KiB");
        assert_eq!(size_limit(100), "100 bytes");
    }
}
