//! `keikai csaf validate PATH…`: validates CSAF 2.0 documents (files, directories, standard
//! input) and reports every finding, as text or JSON.
//!
//! Exit status: 0 when every document is valid, 1 when at least one is invalid, 2 when at
//! least one input could not be read as JSON (missing, unreadable, too large, not UTF-8, not
//! JSON, nested too deep). Every input is reported, whatever happens to the others.

mod checkers;
mod inputs;

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::{Args, Subcommand, ValueEnum};
use keikai_csaf::{Finding, Preset, Report, SpellChecker, UrlChecker, ValidationOptions};
use serde::Serialize;

use crate::UserError;
use inputs::Input;

#[derive(Subcommand)]
pub enum CsafCommand {
    /// Validate CSAF 2.0 documents against the JSON schema and the tests of section 6.
    ///
    /// PATH is a file, a directory (every *.json file below it, recursively, in sorted order)
    /// or `-` for standard input. Exit status: 0 when every document is valid, 1 when one is
    /// invalid, 2 when an input cannot be read as JSON (each such input is reported, the
    /// others are still validated).
    Validate(ValidateArgs),
}

#[derive(Args)]
pub struct ValidateArgs {
    /// Which tests run: basic = schema + mandatory tests (6.1, errors); extended adds the
    /// optional tests (6.2, warnings); full adds the informative tests (6.3, information).
    /// Only errors make a document invalid.
    #[arg(long, value_enum, default_value_t = PresetArg::Basic)]
    preset: PresetArg,
    /// Output format: one line per finding and a summary, or one JSON object.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Refuse inputs larger than this many bytes (checked before reading them).
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    max_size: u64,
    /// Check that the URLs of references resolve (tests 6.3.6 and 6.3.7, needs --preset full):
    /// one HTTP HEAD (then GET) request per distinct URL, 10 s timeout.
    #[arg(long)]
    network: bool,
    /// Spell-check the texts (test 6.3.8, needs --preset full) with `hunspell`, using the
    /// dictionary of each document's /document/lang.
    #[arg(long)]
    spell_check: bool,
    /// How many documents to validate at once [default: the number of CPUs].
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<std::num::NonZeroUsize>,
    /// Files, directories, or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum PresetArg {
    Basic,
    Extended,
    Full,
}

impl From<PresetArg> for Preset {
    fn from(p: PresetArg) -> Self {
        match p {
            PresetArg::Basic => Self::Basic,
            PresetArg::Extended => Self::Extended,
            PresetArg::Full => Self::Full,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// What happened to one input.
enum Outcome {
    /// It could not be read as a JSON document; the reason.
    Unreadable(String),
    Checked(Report),
}

struct FileResult {
    name: String,
    outcome: Outcome,
}

pub fn run(cmd: CsafCommand) -> anyhow::Result<ExitCode> {
    let CsafCommand::Validate(args) = cmd;
    let preset = Preset::from(args.preset);
    if (args.network || args.spell_check) && preset != Preset::Full {
        // Tests 6.3.x only run in the full preset: accepting the flag and doing nothing would
        // let a user believe the URLs or the spelling were checked.
        return Err(UserError(
            "--network and --spell-check enable informative tests (6.3.6-6.3.8): add --preset full"
                .to_owned(),
        )
        .into());
    }
    let url_checker = if args.network {
        Some(checkers::HttpUrlChecker::new().map_err(UserError)?)
    } else {
        None
    };
    let spell_checker = if args.spell_check {
        Some(checkers::Hunspell::new().map_err(UserError)?)
    } else {
        None
    };

    let inputs = inputs::collect(&args.paths);
    let max = args.max_size;
    let jobs = args
        .jobs
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, std::num::NonZeroUsize::get);
    let results = validate_all(&inputs, jobs, |input| {
        let options = ValidationOptions {
            preset,
            url_checker: url_checker.as_ref().map(|c| c as &dyn UrlChecker),
            spell_checker: spell_checker.as_ref().map(|c| c as &dyn SpellChecker),
        };
        check_one(input, max, &options)
    });

    let summary = Summary::of(&results);
    let mut out = BufWriter::new(std::io::stdout().lock());
    // A closed pipe (`| head`) is not an error worth reporting; the exit status still is.
    let _ = match args.format {
        Format::Text => write_text(&mut out, &results, &summary, preset),
        Format::Json => write_json(&mut out, &results, &summary, preset),
    }
    .and_then(|()| out.flush());
    Ok(summary.exit_code())
}

/// Reads, parses and validates one input. The parsed document is dropped before returning,
/// so memory stays bounded by (jobs × --max-size), whatever the number of inputs.
fn check_one(input: &Input, max: u64, options: &ValidationOptions<'_>) -> FileResult {
    let name = input.name.clone();
    let source = match &input.source {
        Ok(source) => source,
        Err(reason) => {
            return FileResult {
                name,
                outcome: Outcome::Unreadable(reason.clone()),
            };
        }
    };
    let outcome = match inputs::read_capped(source, max) {
        Err(reason) => Outcome::Unreadable(reason),
        Ok(bytes) => {
            let limit = usize::try_from(max).unwrap_or(usize::MAX);
            match keikai_csaf::parse_json_limited(&bytes, limit) {
                Err(e) => Outcome::Unreadable(e.to_string()),
                Ok(doc) => {
                    drop(bytes);
                    Outcome::Checked(keikai_csaf::validate(&doc, options))
                }
            }
        }
    };
    FileResult { name, outcome }
}

/// Runs `check` over `inputs` on up to `jobs` threads and returns the results in input order.
fn validate_all<F>(inputs: &[Input], jobs: usize, check: F) -> Vec<FileResult>
where
    F: Fn(&Input) -> FileResult + Sync,
{
    let jobs = jobs.clamp(1, inputs.len().max(1));
    if jobs == 1 {
        return inputs.iter().map(&check).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, FileResult)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                // The schema validator recurses once per nesting level (at most 127 after
                // parsing); 8 MiB is the main thread's stack, 2 MiB the default for threads.
                std::thread::Builder::new()
                    .stack_size(8 * 1024 * 1024)
                    .spawn_scoped(scope, || {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(input) = inputs.get(i) else { break };
                            done.push((i, check(input)));
                        }
                        done
                    })
            })
            .collect();
        let mut all = Vec::with_capacity(inputs.len());
        for worker in workers {
            match worker.map(|h| h.join()) {
                Ok(Ok(done)) => all.extend(done),
                // A worker that could not start leaves its share to the others; one that
                // panicked is a bug, and the panic carries on here.
                Err(_) => {}
                Ok(Err(panic)) => std::panic::resume_unwind(panic),
            }
        }
        all
    });
    // Inputs no worker reached (every spawn failed): validate them on this thread.
    if results.len() < inputs.len() {
        let seen: std::collections::HashSet<usize> = results.iter().map(|(i, _)| *i).collect();
        for (i, input) in inputs.iter().enumerate() {
            if !seen.contains(&i) {
                results.push((i, check(input)));
            }
        }
    }
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    valid: usize,
    invalid: usize,
    unreadable: usize,
}

impl Summary {
    fn of(results: &[FileResult]) -> Self {
        let mut s = Self {
            files: results.len(),
            valid: 0,
            invalid: 0,
            unreadable: 0,
        };
        for r in results {
            match &r.outcome {
                Outcome::Unreadable(_) => s.unreadable += 1,
                Outcome::Checked(report) if report.valid => s.valid += 1,
                Outcome::Checked(_) => s.invalid += 1,
            }
        }
        s
    }

    fn exit_code(&self) -> ExitCode {
        if self.unreadable > 0 {
            ExitCode::from(2)
        } else if self.invalid > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }
}

fn preset_name(preset: Preset) -> &'static str {
    match preset {
        Preset::Basic => "basic",
        Preset::Extended => "extended",
        Preset::Full => "full",
    }
}

fn severity_name(f: &Finding) -> &'static str {
    match f.severity {
        keikai_csaf::Severity::Error => "error",
        keikai_csaf::Severity::Warning => "warning",
        keikai_csaf::Severity::Info => "info",
    }
}

fn write_text(
    out: &mut impl Write,
    results: &[FileResult],
    summary: &Summary,
    preset: Preset,
) -> std::io::Result<()> {
    for r in results {
        match &r.outcome {
            Outcome::Unreadable(reason) => writeln!(out, "{}: unreadable: {reason}", r.name)?,
            Outcome::Checked(report) => {
                for f in &report.findings {
                    let severity = severity_name(f);
                    if f.path.is_empty() {
                        // The pointer to the whole document is the empty string.
                        writeln!(out, "{}: {severity} [{}] {}", r.name, f.test_id, f.message)?;
                    } else {
                        writeln!(
                            out,
                            "{}: {severity} [{}] {}: {}",
                            r.name, f.test_id, f.path, f.message
                        )?;
                    }
                }
            }
        }
    }
    writeln!(
        out,
        "{} valid, {} invalid, {} unreadable ({} files, preset {})",
        summary.valid,
        summary.invalid,
        summary.unreadable,
        summary.files,
        preset_name(preset)
    )
}

#[derive(Serialize)]
struct JsonFile<'a> {
    file: &'a str,
    valid: bool,
    error: Option<&'a str>,
    findings: &'a [Finding],
}

#[derive(Serialize)]
struct JsonOutput<'a> {
    preset: &'static str,
    files: Vec<JsonFile<'a>>,
    summary: &'a Summary,
}

fn write_json(
    out: &mut impl Write,
    results: &[FileResult],
    summary: &Summary,
    preset: Preset,
) -> std::io::Result<()> {
    let files = results
        .iter()
        .map(|r| match &r.outcome {
            Outcome::Unreadable(reason) => JsonFile {
                file: &r.name,
                valid: false,
                error: Some(reason),
                findings: &[],
            },
            Outcome::Checked(report) => JsonFile {
                file: &r.name,
                valid: report.valid,
                error: None,
                findings: &report.findings,
            },
        })
        .collect();
    let output = JsonOutput {
        preset: preset_name(preset),
        files,
        summary,
    };
    serde_json::to_writer(&mut *out, &output)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str) -> Input {
        Input {
            name: name.to_owned(),
            source: Err(format!("unreadable {name}")),
        }
    }

    #[test]
    fn parallel_results_keep_the_input_order() {
        let inputs: Vec<Input> = (0..200).map(|i| input(&format!("f{i:03}"))).collect();
        for jobs in [1, 2, 7, 500] {
            let results = validate_all(&inputs, jobs, |i| {
                // Uneven work, so that workers finish out of order.
                if i.name.ends_with('3') {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                check_one(i, 10, &ValidationOptions::default())
            });
            let names: Vec<&str> = results.iter().map(|r| r.name.as_str()).collect();
            let want: Vec<String> = (0..200).map(|i| format!("f{i:03}")).collect();
            assert_eq!(names, want, "jobs = {jobs}");
        }
        assert!(
            validate_all(&[], 4, |i| check_one(i, 10, &ValidationOptions::default())).is_empty()
        );
    }

    #[test]
    fn exit_code_prefers_unreadable_over_invalid() {
        let s = |valid, invalid, unreadable| Summary {
            files: valid + invalid + unreadable,
            valid,
            invalid,
            unreadable,
        };
        assert_eq!(s(3, 0, 0).exit_code(), ExitCode::SUCCESS);
        assert_eq!(s(0, 0, 0).exit_code(), ExitCode::SUCCESS);
        assert_eq!(s(3, 1, 0).exit_code(), ExitCode::from(1));
        assert_eq!(s(3, 1, 1).exit_code(), ExitCode::from(2));
    }

    #[test]
    fn stdin_source_is_named_dash() {
        let inputs = inputs::collect(&[PathBuf::from("-")]);
        assert_eq!(inputs.len(), 1);
        assert_eq!(inputs[0].name, "-");
        assert!(matches!(inputs[0].source, Ok(inputs::Source::Stdin)));
    }
}
