//! The I/O the validator library leaves to its caller: fetching URLs (tests 6.3.6 and 6.3.7)
//! and spell-checking with hunspell (test 6.3.8). Both are opt-in (`--network`,
//! `--spell-check`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use keikai_csaf::{SpellChecker, UrlChecker};

/// HTTP(S) checks with a short timeout; each distinct URL is requested once per run.
pub(super) struct HttpUrlChecker {
    client: reqwest::blocking::Client,
    answers: Mutex<HashMap<String, Result<(), String>>>,
}

impl HttpUrlChecker {
    pub(super) fn new() -> Result<Self, String> {
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::limited(10))
            .user_agent(concat!(
                "keikai/",
                env!("CARGO_PKG_VERSION"),
                " (CSAF validator)"
            ))
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {}", error_chain(&e)))?;
        Ok(Self {
            client,
            answers: Mutex::new(HashMap::new()),
        })
    }

    fn fetch(&self, url: &str) -> Result<(), String> {
        let ok = |status: reqwest::StatusCode| status.is_success() || status.is_redirection();
        let head = self.client.head(url).send();
        if let Ok(response) = &head
            && ok(response.status())
        {
            return Ok(());
        }
        // Some servers refuse HEAD (405, 403, 501) but serve GET; the body is not read.
        match self.client.get(url).send() {
            Ok(response) if ok(response.status()) => Ok(()),
            Ok(response) => Err(format!("HTTP {}", response.status())),
            Err(e) => Err(error_chain(&e)),
        }
    }
}

impl UrlChecker for HttpUrlChecker {
    fn resolves(&self, url: &str) -> Result<(), String> {
        if let Some(answer) = lock(&self.answers).get(url) {
            return answer.clone();
        }
        // Not holding the lock during the request: other threads may check other URLs.
        let answer = self.fetch(url);
        lock(&self.answers).insert(url.to_owned(), answer.clone());
        answer
    }
}

/// The message of an error and of its causes ("error sending request: … : connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A mutex whose data stays usable after a panic elsewhere (the data are caches and pipes
/// that a panicking thread cannot leave half-written in a way that matters here).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Spell-checking with `hunspell` in its ispell pipe mode (`-a`): one process per language,
/// started on first use and kept for the run, since loading a dictionary costs far more than
/// checking a sentence.
pub(super) struct Hunspell {
    /// The dictionaries hunspell finds (`en_US`, `de_DE`, …).
    available: Vec<String>,
    /// Per language tag: the running process, or why there is none.
    spellers: Mutex<HashMap<String, Result<Speller, String>>>,
}

const INSTALL_HINT: &str = "install it with a dictionary (Debian: apt-get install hunspell \
                            hunspell-en-us) or leave out --spell-check";

impl Hunspell {
    /// Fails when hunspell is not installed or has no dictionary at all.
    pub(super) fn new() -> Result<Self, String> {
        let out = Command::new("hunspell")
            .arg("-D")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                format!("--spell-check needs the hunspell program ({e}): {INSTALL_HINT}")
            })?;
        // `hunspell -D` lists the dictionaries on standard error, one path per line, between
        // "AVAILABLE DICTIONARIES" and "LOADED DICTIONARY".
        let listing = String::from_utf8_lossy(&out.stderr);
        let available: Vec<String> = listing
            .lines()
            .skip_while(|l| !l.starts_with("AVAILABLE DICTIONARIES"))
            .skip(1)
            .take_while(|l| !l.starts_with("LOADED DICTIONARY"))
            .filter_map(|l| l.trim().rsplit('/').next().map(str::to_owned))
            .filter(|name| !name.is_empty())
            .collect();
        if available.is_empty() {
            return Err(format!("hunspell has no dictionary: {INSTALL_HINT}"));
        }
        Ok(Self {
            available,
            spellers: Mutex::new(HashMap::new()),
        })
    }

    /// The dictionary for a BCP 47 tag: `en-US` → `en_US`; a bare `en` takes `en`, else
    /// `en_US`, else the first `en_*` installed.
    fn dictionary_for(&self, lang: &str) -> Option<String> {
        let mut parts = lang.split(['-', '_']);
        let primary = parts.next()?.to_ascii_lowercase();
        let region = parts
            .find(|p| p.len() == 2 || (p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit())))
            .map(str::to_ascii_uppercase);
        let has = |name: &str| self.available.iter().any(|a| a == name);
        if let Some(region) = region {
            let exact = format!("{primary}_{region}");
            return has(&exact).then_some(exact);
        }
        let usual = format!("{primary}_{}", primary.to_ascii_uppercase());
        [primary.clone(), usual]
            .into_iter()
            .find(|name| has(name))
            .or_else(|| {
                let prefix = format!("{primary}_");
                self.available
                    .iter()
                    .find(|a| a.starts_with(&prefix))
                    .cloned()
            })
    }
}

impl SpellChecker for Hunspell {
    fn misspelled(&self, lang: &str, text: &str) -> Vec<String> {
        let mut spellers = lock(&self.spellers);
        let speller = spellers.entry(lang.to_owned()).or_insert_with(|| {
            let dict = self.dictionary_for(lang).ok_or_else(|| {
                format!(
                    "(no hunspell dictionary for language {lang}; installed: {})",
                    self.available.join(", ")
                )
            })?;
            Speller::start(&dict)
        });
        let words = match speller {
            Ok(s) => s.check(text),
            Err(reason) => return vec![reason.clone()],
        };
        match words {
            Ok(words) => words,
            Err(reason) => {
                // The pipe is out of step or the process died: restart it on the next call.
                spellers.remove(lang);
                vec![format!("(hunspell failed: {reason})")]
            }
        }
    }
}

/// One `hunspell -a` process.
struct Speller {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// hunspell reads lines into a fixed buffer and answers each piece separately, which would put
/// the pipe out of step: longer lines are split at whitespace below this many bytes.
const MAX_LINE: usize = 1000;

impl Speller {
    fn start(dict: &str) -> Result<Self, String> {
        let mut child = Command::new("hunspell")
            .args(["-a", "-i", "utf-8", "-d", dict])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("(cannot start hunspell: {e})"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("(cannot talk to hunspell)".to_owned());
        };
        let mut speller = Self {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        };
        // The banner ("@(#) International Ispell Version …") says the dictionary loaded.
        let mut banner = String::new();
        match speller.stdout.read_line(&mut banner) {
            Ok(n) if n > 0 && banner.starts_with("@(#)") => Ok(speller),
            _ => Err(format!("(hunspell cannot load the dictionary {dict})")),
        }
    }

    fn check(&mut self, text: &str) -> Result<Vec<String>, String> {
        let mut words = Vec::new();
        for line in pipe_lines(text) {
            // `^` makes hunspell read the rest as text, never as a pipe-mode command.
            writeln!(self.stdin, "^{line}")
                .and_then(|()| self.stdin.flush())
                .map_err(|e| e.to_string())?;
            // One answer line per word, then an empty line.
            loop {
                let mut answer = String::new();
                if self
                    .stdout
                    .read_line(&mut answer)
                    .map_err(|e| e.to_string())?
                    == 0
                {
                    return Err("hunspell exited".to_owned());
                }
                let answer = answer.trim_end_matches(['\n', '\r']);
                if answer.is_empty() {
                    break;
                }
                // "& word count offset: suggestions", "# word offset", "? word …": misspelled.
                if let Some(rest) = answer.strip_prefix(['&', '#', '?'])
                    && let Some(word) = rest.split_whitespace().next()
                    && !words.iter().any(|w| w == word)
                {
                    words.push(word.to_owned());
                }
            }
        }
        Ok(words)
    }
}

impl Drop for Speller {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text as lines hunspell can take: no control characters, at most [`MAX_LINE`] bytes.
fn pipe_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for line in text.lines() {
        let clean: String = line
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let mut current = String::new();
        for word in clean.split(' ') {
            if !current.is_empty() && current.len() + 1 + word.len() > MAX_LINE {
                lines.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
            // A single "word" longer than a line: cut it at character boundaries.
            while current.len() > MAX_LINE {
                let mut cut = MAX_LINE;
                while !current.is_char_boundary(cut) {
                    cut -= 1;
                }
                let rest = current.split_off(cut);
                lines.push(std::mem::replace(&mut current, rest));
            }
        }
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_split_for_the_pipe() {
        let text = format!("{}\n\tb\u{0}c\n{}", "word ".repeat(500), "é".repeat(1200));
        let lines = pipe_lines(&text);
        assert!(
            lines
                .iter()
                .all(|l| l.len() <= MAX_LINE && !l.contains('\n'))
        );
        assert!(lines.contains(&"b c".to_owned()), "{lines:?}");
        assert_eq!(lines.concat().matches("word").count(), 500);
        assert_eq!(lines.concat().matches('é').count(), 1200);
    }

    #[test]
    fn language_tags_map_to_dictionaries() {
        let h = Hunspell {
            available: vec!["en_US".into(), "en_GB".into(), "de_AT".into(), "fr".into()],
            spellers: Mutex::new(HashMap::new()),
        };
        assert_eq!(h.dictionary_for("en-US").as_deref(), Some("en_US"));
        assert_eq!(h.dictionary_for("en-gb").as_deref(), Some("en_GB"));
        assert_eq!(h.dictionary_for("en").as_deref(), Some("en_US"));
        assert_eq!(h.dictionary_for("de").as_deref(), Some("de_AT"));
        assert_eq!(h.dictionary_for("fr-Latn-CA").as_deref(), None);
        assert_eq!(h.dictionary_for("fr").as_deref(), Some("fr"));
        assert_eq!(h.dictionary_for("ja").as_deref(), None);
    }

    /// Runs only where hunspell and an English dictionary are installed.
    #[test]
    fn hunspell_finds_misspellings() {
        let Ok(h) = Hunspell::new() else {
            eprintln!("skipped: hunspell is not installed");
            return;
        };
        if h.dictionary_for("en-US").is_none() {
            eprintln!("skipped: no en_US dictionary");
            return;
        }
        let words = h.misspelled("en-US", "A secruity advisory\n*about* the wrold");
        assert_eq!(words, ["secruity", "wrold"]);
        assert!(h.misspelled("en-US", "").is_empty());
        let unknown = h.misspelled("xx-YY", "text");
        assert_eq!(unknown.len(), 1);
        assert!(unknown[0].contains("no hunspell dictionary"), "{unknown:?}");
    }
}
