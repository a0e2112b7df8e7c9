//! `keikai csaf validate`: exit codes, output formats, and hostile or broken inputs (each must
//! give a clear message for that file while the others are still validated, and no panic).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::process::{keikai, run};

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

fn validate(dir: &Path, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut cmd = keikai(dir);
    cmd.args(["csaf", "validate"]).args(args);
    let (code, out, err) = run(&mut cmd, stdin);
    assert_ne!(code, 101, "keikai panicked: {err}");
    assert!(!err.contains("panicked"), "{err}");
    (code, out, err)
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
    let dir = tempfile::tempdir().unwrap();
    write_json(&dir.path().join("valid.json"), &valid_doc());
    write_json(&dir.path().join("invalid.json"), &invalid_doc());

    let (code, out, err) = validate(dir.path(), &["valid.json"], None);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out,
        "1 valid, 0 invalid, 0 unreadable (1 files, preset basic)\n"
    );

    let (code, out, _) = validate(dir.path(), &["valid.json", "invalid.json"], None);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(
            "invalid.json: error [6.1.1] /vulnerabilities/0/product_status/fixed/0: product id \"CSAFPID-0001\""
        ),
        "{out}"
    );
    assert!(
        out.ends_with("1 valid, 1 invalid, 0 unreadable (2 files, preset basic)\n"),
        "{out}"
    );

    // A missing input wins over an invalid one, and the others are still validated.
    let (code, out, _) = validate(
        dir.path(),
        &["invalid.json", "missing.json", "valid.json"],
        None,
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("missing.json: unreadable: cannot read: No such file"),
        "{out}"
    );
    assert!(out.contains("invalid.json: error [6.1.1]"), "{out}");
    assert!(
        out.ends_with("1 valid, 1 invalid, 1 unreadable (3 files, preset basic)\n"),
        "{out}"
    );

    // Warnings (extended preset) do not make a document invalid.
    let (code, out, _) = validate(dir.path(), &["--preset", "extended", "valid.json"], None);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(": warning [6.2."),
        "the optional tests did not run: {out}"
    );
}

#[test]
fn json_output_lists_every_file_and_finding() {
    let dir = tempfile::tempdir().unwrap();
    write_json(&dir.path().join("valid.json"), &valid_doc());
    write_json(&dir.path().join("invalid.json"), &invalid_doc());
    std::fs::write(dir.path().join("broken.json"), "{\"document\": ").unwrap();

    let (code, out, err) = validate(
        dir.path(),
        &[
            "--format",
            "json",
            "valid.json",
            "invalid.json",
            "broken.json",
        ],
        None,
    );
    assert_eq!(code, 2, "{err}");
    assert_eq!(out.lines().count(), 1, "one JSON document: {out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["preset"], "basic");
    assert_eq!(
        report["summary"],
        json!({"files": 3, "valid": 1, "invalid": 1, "unreadable": 1})
    );
    let names: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
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
    let (code, out, _) = validate(dir.path(), &["-"], Some(&doc));
    assert_eq!(code, 0, "{out}");

    let (code, out, _) = validate(
        dir.path(),
        &["--format", "json", "-"],
        Some(&invalid_doc().to_string()),
    );
    assert_eq!(code, 1, "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(entry(&report, "-")["findings"][0]["test_id"], "6.1.1");

    let (code, out, _) = validate(dir.path(), &["-"], Some("[1, 2"));
    assert_eq!(code, 2);
    assert!(
        out.starts_with("-: unreadable: JSON ends unexpectedly"),
        "{out}"
    );

    // The size cap applies to streams too, whose length is not known in advance.
    let (code, out, _) = validate(dir.path(), &["--max-size", "100", "-"], Some(&doc));
    assert_eq!(code, 2);
    assert!(
        out.starts_with(
            "-: unreadable: input is larger than the limit of 100 bytes (see --max-size)"
        ),
        "{out}"
    );
}

#[test]
fn broken_inputs_in_a_directory_each_get_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("d");
    std::fs::create_dir_all(d.join("sub")).unwrap();
    write_json(&d.join("valid.json"), &valid_doc());
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
        let made_fifo = std::process::Command::new("mkfifo")
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
    let (code, out, err) = validate(tmp.path(), &["--format", "json", "d"], None);
    let took = started.elapsed();
    assert_eq!(code, 2, "{out}{err}");
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
    let files: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
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
    let (code, out, _) = validate(tmp.path(), &["d"], None);
    assert_eq!(code, 2);
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
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("d");
    std::fs::create_dir_all(d.join("closed")).unwrap();
    write_json(&d.join("closed/a.json"), &valid_doc());
    write_json(&d.join("valid.json"), &valid_doc());
    std::fs::set_permissions(d.join("closed"), std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read_dir(d.join("closed")).is_ok() {
        eprintln!("skipped: running as root, which lists a chmod 000 directory anyway");
        return;
    }
    let (code, out, _) = validate(tmp.path(), &["d"], None);
    std::fs::set_permissions(d.join("closed"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("d/closed: unreadable: cannot read directory: Permission denied"),
        "{out}"
    );
    assert!(
        out.ends_with("1 valid, 0 invalid, 1 unreadable (2 files, preset basic)\n"),
        "{out}"
    );
}

#[test]
fn usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let (code, out, _) = validate(dir.path(), &["empty"], None);
    assert_eq!(code, 2);
    assert!(
        out.contains("empty: unreadable: directory holds no *.json file"),
        "{out}"
    );

    // The network and spelling tests are informative: asking for them without the full preset
    // is refused rather than silently ignored.
    write_json(&dir.path().join("valid.json"), &valid_doc());
    let (code, out, err) = validate(dir.path(), &["--network", "valid.json"], None);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("--preset full"), "{err}");

    let (code, _, err) = validate(dir.path(), &[], None);
    assert_eq!(code, 2, "clap usage error: {err}");
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
    let mut cmd = keikai(dir.path());
    cmd.args([
        "csaf",
        "validate",
        "--preset",
        "full",
        "--network",
        "refs.json",
    ]);
    for proxy in ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"] {
        cmd.env_remove(proxy);
    }
    let (code, out, err) = run(&mut cmd, None);
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
    let (code, out, _) = validate(dir.path(), &["--preset", "full", "refs.json"], None);
    assert_eq!(code, 0);
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
    let mut cmd = keikai(dir.path());
    cmd.args([
        "csaf",
        "validate",
        "--preset",
        "full",
        "--spell-check",
        "spelling.json",
    ])
    .env("PATH", &empty);
    let (code, out, err) = run(&mut cmd, None);
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("--spell-check needs the hunspell program"),
        "{err}"
    );

    let has_dictionary = std::process::Command::new("hunspell")
        .args(["-l", "-d", "en_US"])
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_dictionary {
        eprintln!("skipped the spelling check itself: hunspell with en_US is not installed");
        return;
    }
    let (code, out, err) = validate(
        dir.path(),
        &["--preset", "full", "--spell-check", "spelling.json"],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(
            "spelling.json: info [6.3.8] /document/title: possible spelling mistakes (en-US): \"Secruity\", \"wrold\""
        ),
        "{out}"
    );
}
