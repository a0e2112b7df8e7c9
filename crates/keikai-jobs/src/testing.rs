//! Test support: an SMTP server inside the test process, and a reader for what it received.
//!
//! [`SmtpSink`] listens on 127.0.0.1 (a free port), speaks enough SMTP for lettre (EHLO,
//! HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and records every message it accepts. It can be
//! told to reject recipients (550), to answer the next MAIL commands with 451, to answer
//! slowly (every reply, or one command's), and to stop (later connections are refused). Helpers panic on failure: they only
//! run in tests.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::mail::{Address, SmtpConfig, SmtpSecurity};

/// A message the sink accepted: the envelope and the data as sent (dot-unstuffed, CRLF line
/// ends, without the final `.` line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
}

#[derive(Default)]
struct State {
    received: Vec<ReceivedMail>,
    /// Lower-case addresses answered with 550 at RCPT.
    rejected: HashSet<String>,
    /// How many more MAIL commands get 451.
    tempfail: u32,
    /// Waited before every reply.
    delay: Duration,
    /// Waited before the replies to one command (upper-case verb).
    command_delays: Vec<(String, Duration)>,
    /// Commands seen, in order, across connections (verbs only).
    commands: Vec<String>,
}

/// An SMTP server for tests; see the module documentation.
pub struct SmtpSink {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    server: Option<JoinHandle<()>>,
}

/// The longest command or data line the sink reads (RFC 5321 allows 1000 octets).
const MAX_LINE: u64 = 64 * 1024;

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("the SMTP sink cannot listen: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the SMTP sink has no address: {e}"));
        let state = Arc::new(Mutex::new(State::default()));
        let server = tokio::spawn(serve(listener, state.clone()));
        Self {
            addr,
            state,
            server: Some(server),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A configuration for this sink: plain SMTP, no credentials, a 10-second timeout.
    pub fn smtp_config(&self, from: Address) -> SmtpConfig {
        SmtpConfig {
            port: self.addr.port(),
            timeout: Duration::from_secs(10),
            ..SmtpConfig::new(self.addr.ip().to_string(), SmtpSecurity::None, from)
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Answers `RCPT TO:<address>` with 550 from now on.
    pub fn reject_recipient(&self, address: &str) {
        self.state().rejected.insert(address.to_lowercase());
    }

    /// Answers the next `n` MAIL commands with 451 (a relay that is busy for a while).
    pub fn fail_next(&self, n: u32) {
        self.state().tempfail = n;
    }

    /// Waits this long before every reply, the greeting included.
    pub fn set_delay(&self, delay: Duration) {
        self.state().delay = delay;
    }

    /// Waits this long before answering `verb` (`MAIL`, `DATA`, …): a relay that stalls in
    /// the middle of a transaction. `Duration::ZERO` removes the delay.
    pub fn delay_command(&self, verb: &str, delay: Duration) {
        let verb = verb.to_ascii_uppercase();
        let mut s = self.state();
        s.command_delays.retain(|(v, _)| *v != verb);
        if !delay.is_zero() {
            s.command_delays.push((verb, delay));
        }
    }

    /// Every message accepted so far, oldest first.
    /// How many messages were received (cheaper than `received` for a large count).
    pub fn received_count(&self) -> usize {
        self.state().received.len()
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        self.state().received.clone()
    }

    /// The command verbs received so far (`EHLO`, `MAIL`, …), across connections.
    pub fn commands(&self) -> Vec<String> {
        self.state().commands.clone()
    }

    /// Stops listening and closes every connection; connecting afterwards is refused.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            // Awaiting the aborted task returns once it is dropped, with the listener and
            // the connection tasks (a JoinSet aborts its tasks when dropped).
            let _ = server.await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn serve(listener: TcpListener, state: Arc<Mutex<State>>) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // Replies are small writes: without this, Nagle's algorithm holds each
                    // one until the client's delayed ACK, some 40 ms a command.
                    let _ = stream.set_nodelay(true);
                    sessions.spawn(session(stream, state.clone()));
                }
                Err(e) => eprintln!("SMTP sink: accept failed: {e}"),
            },
            // Reap finished sessions so the set does not grow.
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

/// One connection. I/O errors end it quietly: the client went away.
async fn session(stream: TcpStream, state: Arc<Mutex<State>>) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();
    if reply(&mut write, &state, "220 keikai-sink ESMTP ready")
        .await
        .is_err()
    {
        return;
    }
    loop {
        let Some(line) = read_line(&mut read).await else {
            return;
        };
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let stall = {
            let mut s = lock(&state);
            s.commands.push(verb.clone());
            s.command_delays
                .iter()
                .find(|(v, _)| *v == verb)
                .map(|(_, d)| *d)
        };
        if let Some(stall) = stall {
            tokio::time::sleep(stall).await;
        }
        let answer = match verb.as_str() {
            "EHLO" => "250-keikai-sink\r\n250-8BITMIME\r\n250 HELP".to_owned(),
            "HELO" => "250 keikai-sink".to_owned(),
            "MAIL" => match path_arg(line, "FROM:") {
                None => "501 5.5.4 Syntax: MAIL FROM:<address>".to_owned(),
                Some(from) => {
                    let mut s = lock(&state);
                    if s.tempfail > 0 {
                        s.tempfail -= 1;
                        "451 4.3.0 Temporary failure, try again later".to_owned()
                    } else {
                        mail_from = Some(from);
                        rcpt_to.clear();
                        "250 2.1.0 OK".to_owned()
                    }
                }
            },
            "RCPT" => match (&mail_from, path_arg(line, "TO:")) {
                (None, _) => "503 5.5.1 MAIL first".to_owned(),
                (_, None) => "501 5.5.4 Syntax: RCPT TO:<address>".to_owned(),
                (Some(_), Some(to)) => {
                    if lock(&state).rejected.contains(&to.to_lowercase()) {
                        format!("550 5.1.1 <{to}>: Recipient address rejected: no such user")
                    } else {
                        rcpt_to.push(to);
                        "250 2.1.5 OK".to_owned()
                    }
                }
            },
            "DATA" => {
                let Some(from) = mail_from.clone().filter(|_| !rcpt_to.is_empty()) else {
                    if reply(&mut write, &state, "503 5.5.1 RCPT first")
                        .await
                        .is_err()
                    {
                        return;
                    }
                    continue;
                };
                if reply(&mut write, &state, "354 End data with <CR><LF>.<CR><LF>")
                    .await
                    .is_err()
                {
                    return;
                }
                let Some(data) = read_data(&mut read).await else {
                    return;
                };
                let mut s = lock(&state);
                s.received.push(ReceivedMail {
                    mail_from: from,
                    rcpt_to: std::mem::take(&mut rcpt_to),
                    data,
                });
                mail_from = None;
                format!("250 2.0.0 OK: queued as {}", s.received.len())
            }
            "RSET" => {
                mail_from = None;
                rcpt_to.clear();
                "250 2.0.0 OK".to_owned()
            }
            "NOOP" => "250 2.0.0 OK".to_owned(),
            "QUIT" => {
                let _ = reply(&mut write, &state, "221 2.0.0 Bye").await;
                return;
            }
            _ => "502 5.5.2 Command not recognised".to_owned(),
        };
        if reply(&mut write, &state, &answer).await.is_err() {
            return;
        }
    }
}

async fn reply(
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    state: &Mutex<State>,
    text: &str,
) -> std::io::Result<()> {
    let delay = lock(state).delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    // One write a reply, as a real server sends it.
    let mut line = Vec::with_capacity(text.len() + 2);
    line.extend_from_slice(text.as_bytes());
    line.extend_from_slice(b"\r\n");
    write.write_all(&line).await?;
    write.flush().await
}

/// A line with its line end; `None` at the end of the stream or on an error.
async fn read_line(read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Option<Vec<u8>> {
    let mut line = Vec::new();
    match read.take(MAX_LINE).read_until(b'\n', &mut line).await {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line),
    }
}

/// The data after DATA, up to the line holding only `.`, with the leading dot that the
/// client added to lines starting with one removed (RFC 5321 section 4.5.2).
async fn read_data(read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    loop {
        let line = read_line(read).await?;
        if line == b".\r\n" || line == b".\n" {
            return Some(data);
        }
        match line.strip_prefix(b".") {
            Some(rest) => data.extend_from_slice(rest),
            None => data.extend_from_slice(&line),
        }
    }
}

/// The address in `MAIL FROM:<a> …` / `RCPT TO:<a> …` (parameters after it ignored).
fn path_arg(line: &str, keyword: &str) -> Option<String> {
    let rest = line.get(5..)?.trim_start();
    if !rest.get(..keyword.len())?.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = rest[keyword.len()..].trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    Some(inner[..end].to_owned())
}

// ------------------------------------------------------------------- reading messages

/// A MIME entity: its headers (unfolded, in order) and its raw body.
#[derive(Debug, Clone)]
struct Entity {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn parse_entity(raw: &[u8]) -> Entity {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = match text.find("\r\n\r\n") {
        Some(i) => (&text[..i], &text[i + 4..]),
        None => match text.find("\n\n") {
            Some(i) => (&text[..i], &text[i + 2..]),
            None => (&text[..], ""),
        },
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            // A folded continuation: unfolding removes the line break only.
            if let Some((_, v)) = headers.last_mut() {
                v.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    Entity {
        headers,
        body: body.as_bytes().to_vec(),
    }
}

impl Entity {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `text/plain` from `text/plain; charset=utf-8`; `text/plain` when absent.
    fn mime_type(&self) -> String {
        self.header("Content-Type")
            .and_then(|v| v.split(';').next())
            .map_or_else(
                || "text/plain".to_owned(),
                |t| t.trim().to_ascii_lowercase(),
            )
    }

    fn param(&self, header: &str, param: &str) -> Option<String> {
        self.header(header)?.split(';').skip(1).find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case(param)
                .then(|| v.trim().trim_matches('"').to_owned())
        })
    }

    /// The body with its Content-Transfer-Encoding undone.
    fn decoded_body(&self) -> Vec<u8> {
        let encoding = self
            .header("Content-Transfer-Encoding")
            .unwrap_or("7bit")
            .to_ascii_lowercase();
        match encoding.as_str() {
            "base64" => {
                let compact: Vec<u8> = self
                    .body
                    .iter()
                    .copied()
                    .filter(|b| !b.is_ascii_whitespace())
                    .collect();
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .unwrap_or_else(|e| panic!("a base64 body does not decode: {e}"))
            }
            "quoted-printable" => decode_quoted_printable(&self.body),
            _ => self.body.clone(),
        }
    }

    /// The first part of type `mime` (this entity, or one nested in a multipart).
    fn find(&self, mime: &str) -> Option<Self> {
        let own = self.mime_type();
        if own == mime {
            return Some(self.clone());
        }
        if !own.starts_with("multipart/") {
            return None;
        }
        let boundary = self.param("Content-Type", "boundary")?;
        let body = String::from_utf8_lossy(&self.body).into_owned();
        let delimiter = format!("--{boundary}");
        body.split(delimiter.as_str())
            .skip(1)
            .take_while(|part| !part.starts_with("--"))
            // The line break before a delimiter belongs to the delimiter (RFC 2046 5.1.1).
            .map(|part| part.strip_suffix("\r\n").unwrap_or(part))
            .map(|part| parse_entity(part.trim_start_matches(['\r', '\n']).as_bytes()))
            .find_map(|part| part.find(mime))
    }
}

impl ReceivedMail {
    /// The top-level headers, unfolded, in order.
    pub fn headers(&self) -> Vec<(String, String)> {
        parse_entity(&self.data).headers
    }

    /// A top-level header's value as sent (unfolded, encoded-words left alone).
    pub fn header(&self, name: &str) -> Option<String> {
        parse_entity(&self.data).header(name).map(str::to_owned)
    }

    /// A top-level header's value with RFC 2047 encoded-words decoded (UTF-8 only).
    pub fn decoded_header(&self, name: &str) -> Option<String> {
        self.header(name).map(|v| decode_words(&v))
    }

    /// The `text/plain` part, decoded, with CRLF turned into LF.
    pub fn text_body(&self) -> Option<String> {
        self.body_of("text/plain")
    }

    /// The `text/html` part, decoded, with CRLF turned into LF.
    pub fn html_body(&self) -> Option<String> {
        self.body_of("text/html")
    }

    fn body_of(&self, mime: &str) -> Option<String> {
        let part = parse_entity(&self.data).find(mime)?;
        let text = String::from_utf8(part.decoded_body())
            .unwrap_or_else(|e| panic!("the {mime} part is not UTF-8: {e}"));
        Some(text.replace("\r\n", "\n"))
    }
}

/// Decodes `=?utf-8?B?…?=` and `=?utf-8?Q?…?=` words; white space between two encoded
/// words is dropped (RFC 2047 section 6.2).
pub fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut after_word = false;
    while !rest.is_empty() {
        let Some(start) = rest.find("=?") else {
            out.push_str(rest);
            break;
        };
        let (before, candidate) = rest.split_at(start);
        match decode_word(candidate) {
            Some((text, used)) => {
                if !(after_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                out.push_str(&text);
                rest = &candidate[used..];
                after_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = &candidate[2..];
                after_word = false;
            }
        }
    }
    out
}

/// One encoded word at the start of `s`: its text and its length.
fn decode_word(s: &str) -> Option<(String, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let payload = &inner[..end];
    if !charset.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    let bytes = match encoding {
        "B" | "b" => base64::engine::general_purpose::STANDARD
            .decode(payload)
            .ok()?,
        "Q" | "q" => decode_quoted_printable(payload.replace('_', " ").as_bytes()),
        _ => return None,
    };
    let used = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
    Some((String::from_utf8(bytes).ok()?, used))
}

/// Undoes quoted-printable: `=XX` escapes and `=` soft line breaks.
fn decode_quoted_printable(input: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'=' {
            match (input.get(i + 1), input.get(i + 2)) {
                (Some(b'\r'), Some(b'\n')) => i += 3,
                (Some(b'\n'), _) => i += 2,
                (Some(&a), Some(&b)) => match (hex(a), hex(b)) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 3;
                    }
                    _ => {
                        out.push(b'=');
                        i += 1;
                    }
                },
                _ => {
                    out.push(b'=');
                    i += 1;
                }
            }
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_words_decode() {
        assert_eq!(
            decode_words("=?utf-8?b?6K2m5oiS?= =?utf-8?b?44Gu44GK55+l44KJ44Gb?="),
            "警戒のお知らせ"
        );
        assert_eq!(
            decode_words("Re: =?UTF-8?Q?caf=C3=A9_au_lait?="),
            "Re: café au lait"
        );
        assert_eq!(decode_words("plain =? text"), "plain =? text");
    }

    #[test]
    fn quoted_printable_decodes() {
        assert_eq!(
            decode_quoted_printable(b"a=3Db=\r\nc =E8=AD=A6"),
            "a=bc 警".as_bytes()
        );
    }

    #[test]
    fn paths_parse() {
        assert_eq!(
            path_arg("MAIL FROM:<a@example.com> BODY=8BITMIME", "FROM:").as_deref(),
            Some("a@example.com")
        );
        assert_eq!(
            path_arg("rcpt to: <b@example.com>", "TO:").as_deref(),
            Some("b@example.com")
        );
        assert_eq!(path_arg("MAIL FROM:<>", "FROM:").as_deref(), Some(""));
        assert_eq!(path_arg("MAIL TO:<a@example.com>", "FROM:"), None);
    }

    #[test]
    fn multipart_bodies_are_found() {
        let raw = "Subject: x\r\nContent-Type: multipart/alternative;\r\n boundary=\"BB\"\r\n\r\n\
                   --BB\r\nContent-Type: text/plain; charset=utf-8\r\n\
                   Content-Transfer-Encoding: base64\r\n\r\n6K2m5oiS\r\n\
                   --BB\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>x</p>\r\n--BB--\r\n";
        let m = ReceivedMail {
            mail_from: String::new(),
            rcpt_to: Vec::new(),
            data: raw.as_bytes().to_vec(),
        };
        assert_eq!(m.text_body().as_deref(), Some("警戒"));
        assert_eq!(m.html_body().as_deref(), Some("<p>x</p>"));
        assert_eq!(m.header("subject").as_deref(), Some("x"));
    }
}
