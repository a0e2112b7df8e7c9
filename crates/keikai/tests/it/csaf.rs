//! `keikai csaf validate`: exit codes, output formats, and hostile or broken inputs (each must
//! give a clear message for that file while the others are still validated, and no panic).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::process::{keikai, run};
use crate::support::strings;

/// A small CSAF Base document that passes the schema and every mandatory test.
fn valid_doc() -> Value {
    json!({
        "document": {
            "category": "csaf_base",
            "csaf_version": "2.0",
            "publisher": {"category": "vendor", "name": "Example PSIRT", "namespace": "https://psirt.example.com"},
            "title": "Test advisory",
            "tracking": {
                "current_release_date": "2024-01-02T00:00:00.000Z",
                "id": "EX-2024-0001",
                "initial_release_date": "2024-01-02T00:00:00.000Z",
                "revision_history": [{"date": "2024-01-02T00:00:00.000Z", "number": "1", "summary": "Initial version."}],
                "status": "final",
                "version": "1"
            }
        }
    })
}

/// Valid for the schema, but product `CSAFPID-0001` is used without being defined (6.1.1).
fn invalid_doc() -> Value {
    let mut doc = valid_doc();
    doc["vulnerabilities"] = json!([{"product_status": {"fixed": ["CSAFPID-0001"]}}]);
    doc
}

fn write_json(path: &Path, doc: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
}

/// `keikai csaf validate args…` in `dir`, to change and run with [`run_validator`].
fn validate_command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = keikai(dir);
    cmd.args(["csaf", "validate"]).args(args);
    cmd
}

/// Runs the validator, which must not panic: exit code, standard output and error.
fn run_validator(cmd: &mut Command, stdin: Option<&str>) -> (i32, String, String) {
    let (code, out, err) = run(cmd, stdin);
    assert_ne!(code, 101, "keikai panicked: {err}");
    assert!(!err.contains("panicked"), "{err}");
    (code, out, err)
}

fn validate(dir: &Path, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    run_validator(&mut validate_command(dir, args), stdin)
}

/// [`validate`], which must exit with `code`: standard output and error.
fn validated(dir: &Path, args: &[&str], stdin: Option<&str>, code: i32) -> (String, String) {
    let (exit, out, err) = validate(dir, args, stdin);
    assert_eq!(exit, code, "{args:?}: {out}{err}");
    (out, err)
}

/// The text format's last line.
fn summary(valid: usize, invalid: usize, unreadable: usize) -> String {
    let files = valid + invalid + unreadable;
    format!(
        "{valid} valid, {invalid} invalid, {unreadable} unreadable ({files} files, preset basic)\n"
    )
}

/// A directory with `valid.json` and `invalid.json` in it.
fn with_documents() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_json(&dir.path().join("valid.json"), &valid_doc());
    write_json(&dir.path().join("invalid.json"), &invalid_doc());
    dir
}

/// A temporary directory with `d/valid.json` and an empty directory `d/{sub}`; returns it and
/// the path of `d`.
fn documents_tree(sub: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("d");
    std::fs::create_dir_all(d.join(sub)).unwrap();
    write_json(&d.join("valid.json"), &valid_doc());
    (tmp, d)
}

/// The JSON report's entry for `file`.
fn entry<'a>(report: &'a Value, file: &str) -> &'a Value {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == file)
        .unwrap_or_else(|| panic!("{file} is not in the report: {report:#}"))
}

#[test]
fn exit_codes_and_text_output() {
    let dir = with_documents();
    let (out, _) = validated(dir.path(), &["valid.json"], None, 0);
    assert_eq!(out, summary(1, 0, 0));

    let (out, _) = validated(dir.path(), &["valid.json", "invalid.json"], None, 1);
    let finding = "invalid.json: error [6.1.1] /vulnerabilities/0/product_status/fixed/0: product id \"CSAFPID-0001\"";
    assert!(out.starts_with(finding), "{out}");
    assert!(out.ends_with(&summary(1, 1, 0)), "{out}");

    // A missing input wins over an invalid one, and the others are still validated.
    let three = ["invalid.json", "missing.json", "valid.json"];
    let (out, _) = validated(dir.path(), &three, None, 2);
    for line in [
        "missing.json: unreadable: cannot read: No such file",
        "invalid.json: error [6.1.1]",
    ] {
        assert!(out.contains(line), "{out}");
    }
    assert!(out.ends_with(&summary(1, 1, 1)), "{out}");

    // Warnings (extended preset) do not make a document invalid.
    let (out, _) = validated(dir.path(), &["--preset", "extended", "valid.json"], None, 0);
    assert!(
        out.contains(": warning [6.2."),
        "the optional tests did not run: {out}"
    );
}

#[test]
fn json_output_lists_every_file_and_finding() {
    let dir = with_documents();
    std::fs::write(dir.path().join("broken.json"), "{\"document\": ").unwrap();

    let args = [
        "--format",
        "json",
        "valid.json",
        "invalid.json",
        "broken.json",
    ];
    let (out, _) = validated(dir.path(), &args, None, 2);
    assert_eq!(out.lines().count(), 1, "one JSON document: {out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["preset"], "basic");
    assert_eq!(
        report["summary"],
        json!({"files": 3, "valid": 1, "invalid": 1, "unreadable": 1})
    );
    assert_eq!(
        strings(&report["files"], "file"),
        ["valid.json", "invalid.json", "broken.json"],
        "argument order"
    );

    let valid = entry(&report, "valid.json");
    assert_eq!(valid["valid"], true);
    assert_eq!(valid["error"], Value::Null);
    assert_eq!(valid["findings"], json!([]));

    let invalid = entry(&report, "invalid.json");
    assert_eq!(invalid["valid"], false);
    assert_eq!(invalid["error"], Value::Null);
    let first = &invalid["findings"][0];
    assert_eq!(first["test_id"], "6.1.1");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["path"], "/vulnerabilities/0/product_status/fixed/0");
    assert!(
        first["message"].as_str().unwrap().contains("CSAFPID-0001"),
        "{first}"
    );
    for f in invalid["findings"].as_array().unwrap() {
        let keys: Vec<&String> = f.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["test_id", "severity", "path", "message"]);
    }

    let broken = entry(&report, "broken.json");
    assert_eq!(broken["valid"], false);
    assert_eq!(broken["findings"], json!([]));
    assert_eq!(
        broken["error"],
        "JSON ends unexpectedly at line 1, column 13: the input looks truncated"
    );
}

#[test]
fn standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let doc = valid_doc().to_string();
    validated(dir.path(), &["-"], Some(&doc), 0);

    let invalid = invalid_doc().to_string();
    let (out, _) = validated(dir.path(), &["--format", "json", "-"], Some(&invalid), 1);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(entry(&report, "-")["findings"][0]["test_id"], "6.1.1");

    for (args, input, says) in [
        (&["-"][..], "[1, 2", "-: unreadable: JSON ends unexpectedly"),
        // The size cap applies to streams too, whose length is not known in advance.
        (
            &["--max-size", "100", "-"],
            &doc,
            "-: unreadable: input is larger than the limit of 100 bytes (see --max-size)",
        ),
    ] {
        let (out, _) = validated(dir.path(), args, Some(input), 2);
        assert!(out.starts_with(says), "{args:?}: {out}");
    }
}

#[test]
fn broken_inputs_in_a_directory_each_get_a_message() {
    let (tmp, d) = documents_tree("sub");
    write_json(&d.join("sub/valid2.json"), &valid_doc());
    write_json(&d.join("invalid.json"), &invalid_doc());
    let full = serde_json::to_string(&valid_doc()).unwrap();
    std::fs::write(d.join("truncated.json"), &full[..full.len() / 2]).unwrap();
    std::fs::write(d.join("latin1.json"), b"{\"title\": \"caf\xE9\"}").unwrap();
    std::fs::write(d.join("empty.json"), b"").unwrap();
    std::fs::write(d.join("deep.json"), "[".repeat(100_000)).unwrap();
    std::fs::write(d.join("notes.txt"), "not JSON, not a .json file: ignored").unwrap();
    // 100 MB that were never written: the validator must refuse it from its size alone.
    std::fs::File::create(d.join("huge.json"))
        .unwrap()
        .set_len(100 * 1024 * 1024)
        .unwrap();

    // Files that cannot be read. Root reads a chmod 000 file anyway, so there the unreadable
    // cases are a dangling symbolic link, a symbolic link loop and a FIFO (which must not be
    // opened: nobody writes to it, so reading would block forever).
    let mut expect_unreadable: Vec<(&str, &str)> = vec![
        (
            "d/huge.json",
            "file is 104857600 bytes, larger than the limit of 67108864 bytes",
        ),
        ("d/truncated.json", "the input looks truncated"),
        (
            "d/latin1.json",
            "not valid UTF-8: invalid byte sequence at byte offset 14",
        ),
        ("d/empty.json", "input is empty"),
        ("d/deep.json", "nested more than 127 levels deep"),
    ];
    #[cfg(unix)]
    {
        use std::os::unix::fs::{PermissionsExt, symlink};
        symlink("nowhere.json", d.join("dangling.json")).unwrap();
        symlink("loop.json", d.join("loop.json")).unwrap();
        symlink("..", d.join("sub/up")).unwrap();
        expect_unreadable.push((
            "d/dangling.json",
            "broken symbolic link: No such file or directory",
        ));
        expect_unreadable.push((
            "d/loop.json",
            "broken symbolic link: Too many levels of symbolic links",
        ));
        expect_unreadable.push(("d/sub/up", "directory loop"));
        let made_fifo = Command::new("mkfifo")
            .arg(d.join("fifo.json"))
            .status()
            .is_ok_and(|s| s.success());
        if made_fifo {
            expect_unreadable.push(("d/fifo.json", "not a regular file"));
        } else {
            eprintln!("skipped the FIFO case: mkfifo is not available");
        }
        let locked = d.join("locked.json");
        write_json(&locked, &valid_doc());
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&locked).is_err() {
            expect_unreadable.push(("d/locked.json", "cannot open: Permission denied"));
        } else {
            eprintln!("skipped the chmod 000 case: running as root, which reads it anyway");
            std::fs::remove_file(&locked).unwrap();
        }
    }

    let started = Instant::now();
    let (out, _) = validated(tmp.path(), &["--format", "json", "d"], None, 2);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "took {took:?}: the 100 MB file must not be read"
    );
    let report: Value = serde_json::from_str(&out).unwrap();
    for (file, message) in &expect_unreadable {
        let e = entry(&report, file);
        assert_eq!(e["valid"], false, "{file}");
        let error = e["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{file}: no error: {e}"));
        assert!(
            error.contains(message),
            "{file}: {error:?} lacks {message:?}"
        );
    }
    assert_eq!(entry(&report, "d/valid.json")["valid"], true);
    assert_eq!(entry(&report, "d/sub/valid2.json")["valid"], true);
    assert_eq!(entry(&report, "d/invalid.json")["valid"], false);
    assert_eq!(entry(&report, "d/invalid.json")["error"], Value::Null);
    let files = strings(&report["files"], "file");
    assert!(!files.contains(&"d/notes.txt"), "{files:?}");
    let mut sorted = files.clone();
    sorted.sort_unstable();
    assert_eq!(files, sorted, "directory entries come sorted");
    assert_eq!(
        report["summary"],
        json!({"files": 3 + expect_unreadable.len(), "valid": 2, "invalid": 1,
               "unreadable": expect_unreadable.len()})
    );

    // The text format says the same, one line per problem.
    let (out, _) = validated(tmp.path(), &["d"], None, 2);
    for (file, message) in &expect_unreadable {
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("{file}: unreadable: ")) && l.contains(message)),
            "no line for {file}:\n{out}"
        );
    }
}

#[cfg(unix)]
#[test]
fn an_unreadable_directory_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let (tmp, d) = documents_tree("closed");
    write_json(&d.join("closed/a.json"), &valid_doc());
    std::fs::set_permissions(d.join("closed"), std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read_dir(d.join("closed")).is_ok() {
        eprintln!("skipped: running as root, which lists a chmod 000 directory anyway");
        return;
    }
    let (code, out, _) = validate(tmp.path(), &["d"], None);
    std::fs::set_permissions(d.join("closed"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(code, 2, "{out}");
    let closed = "d/closed: unreadable: cannot read directory: Permission denied";
    assert!(out.contains(closed), "{out}");
    assert!(out.ends_with(&summary(1, 0, 1)), "{out}");
}

#[test]
fn usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let (out, _) = validated(dir.path(), &["empty"], None, 2);
    let empty = "empty: unreadable: directory holds no *.json file";
    assert!(out.contains(empty), "{out}");

    // The network and spelling tests are informative: asking for them without the full preset
    // is refused rather than silently ignored.
    write_json(&dir.path().join("valid.json"), &valid_doc());
    let (_, err) = validated(dir.path(), &["--network", "valid.json"], None, 2);
    assert!(err.contains("--preset full"), "{err}");

    // A clap usage error.
    validated(dir.path(), &[], None, 2);
}

/// A local HTTP server answering 200 on `/ok` and 404 elsewhere, for `--network`.
fn local_http_server() -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // Skip the headers.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let status = if request_line.contains(" /ok ") {
                "200 OK"
            } else {
                "404 Not Found"
            };
            let _ = write!(
                reader.get_mut(),
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    format!("http://{addr}")
}

#[test]
fn network_checks_reference_urls() {
    let dir = tempfile::tempdir().unwrap();
    let base = local_http_server();
    let mut doc = valid_doc();
    // Every URL points at the local server, so the test never leaves this machine.
    doc["document"]["publisher"]["namespace"] = json!(format!("{base}/ok"));
    doc["document"]["references"] = json!([
        {"category": "external", "url": format!("{base}/ok"), "summary": "reachable"},
        {"category": "external", "url": format!("{base}/gone"), "summary": "missing"},
        {"category": "self", "url": format!("{base}/ex-2024-0001.json"), "summary": "self"},
    ]);
    write_json(&dir.path().join("refs.json"), &doc);
    let mut cmd = validate_command(dir.path(), &["--preset", "full", "--network", "refs.json"]);
    for proxy in ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"] {
        cmd.env_remove(proxy);
    }
    let (code, out, err) = run_validator(&mut cmd, None);
    assert_eq!(
        code, 0,
        "informative findings keep the document valid: {out}{err}"
    );
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("[6.3.")).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("refs.json: info [6.3.6] /document/references/1/url: ")
            && lines[0].contains("/gone")
            && lines[0].contains("HTTP 404"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("refs.json: info [6.3.7] /document/references/2/url: "),
        "{out}"
    );

    // Without --network these tests do not run.
    let (out, _) = validated(dir.path(), &["--preset", "full", "refs.json"], None, 0);
    assert!(
        !out.contains("[6.3.6]") && !out.contains("[6.3.7]"),
        "{out}"
    );
}

#[test]
fn spell_check_uses_hunspell() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = valid_doc();
    doc["document"]["lang"] = json!("en-US");
    doc["document"]["title"] = json!("Secruity advisory for the wrold");
    write_json(&dir.path().join("spelling.json"), &doc);

    // Without hunspell on the PATH: a clear error, nothing validated.
    let empty = dir.path().join("no-programs");
    std::fs::create_dir(&empty).unwrap();
    let spell_check = ["--preset", "full", "--spell-check", "spelling.json"];
    let mut cmd = validate_command(dir.path(), &spell_check);
    cmd.env("PATH", &empty);
    let (code, out, err) = run_validator(&mut cmd, None);
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("--spell-check needs the hunspell program"),
        "{err}"
    );

    let has_dictionary = Command::new("hunspell")
        .args(["-l", "-d", "en_US"])
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_dictionary {
        eprintln!("skipped the spelling check itself: hunspell with en_US is not installed");
        return;
    }
    let (out, _) = validated(dir.path(), &spell_check, None, 0);
    assert!(
        out.contains(
            "spelling.json: info [6.3.8] /document/title: possible spelling mistakes (en-US): \"Secruity\", \"wrold\""
        ),
        "{out}"
    );
}
