//! Turning the PATH arguments into a list of inputs, and reading one input with a size cap.
//!
//! Nothing is skipped silently: a path that cannot be listed or opened becomes an input whose
//! source is the reason, so that it shows up in the report beside the documents.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Where a document comes from.
#[derive(Debug)]
pub(super) enum Source {
    Stdin,
    File(PathBuf),
}

/// One thing to validate, named as the user will see it. `source` is the reason when the input
/// was already found to be unreadable while listing directories.
#[derive(Debug)]
pub(super) struct Input {
    pub(super) name: String,
    pub(super) source: Result<Source, String>,
}

impl Input {
    fn file(path: PathBuf) -> Self {
        Self {
            name: path.display().to_string(),
            source: Ok(Source::File(path)),
        }
    }

    fn error(path: &Path, reason: String) -> Self {
        Self {
            name: path.display().to_string(),
            source: Err(reason),
        }
    }
}

/// The inputs named by `paths`, in argument order; the files of a directory come sorted.
pub(super) fn collect(paths: &[PathBuf]) -> Vec<Input> {
    let mut inputs = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input {
                name: "-".to_owned(),
                source: Ok(Source::Stdin),
            });
            continue;
        }
        match fs::metadata(path) {
            Err(e) => inputs.push(Input::error(path, format!("cannot read: {e}"))),
            Ok(meta) if meta.is_dir() => {
                let mut found = Vec::new();
                walk(path, &mut Vec::new(), &mut found);
                found.sort_by(|a: &Input, b: &Input| a.name.cmp(&b.name));
                if found.is_empty() {
                    // An empty run would report "0 invalid" and exit 0, which reads as a pass.
                    inputs.push(Input::error(
                        path,
                        "directory holds no *.json file (nothing to validate)".to_owned(),
                    ));
                }
                inputs.extend(found);
            }
            // Named explicitly: any file type is read (a FIFO such as `<(curl …)` too).
            Ok(_) => inputs.push(Input::file(path.clone())),
        }
    }
    inputs
}

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Adds the `*.json` files below `dir`. `ancestors` holds the canonical paths of the
/// directories being walked, so that a symbolic link back to one of them is reported instead
/// of being followed forever.
fn walk(dir: &Path, ancestors: &mut Vec<PathBuf>, found: &mut Vec<Input>) {
    let canonical = match fs::canonicalize(dir) {
        Ok(c) => c,
        Err(e) => {
            found.push(Input::error(dir, format!("cannot read directory: {e}")));
            return;
        }
    };
    if ancestors.contains(&canonical) {
        found.push(Input::error(
            dir,
            format!(
                "directory loop: a symbolic link leads back to {}, not followed",
                canonical.display()
            ),
        ));
        return;
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            found.push(Input::error(dir, format!("cannot read directory: {e}")));
            return;
        }
    };
    ancestors.push(canonical);
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                found.push(Input::error(dir, format!("cannot list directory: {e}")));
                continue;
            }
        };
        let path = entry.path();
        // Follow symbolic links, as a user listing the directory would.
        match fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => walk(&path, ancestors, found),
            Ok(meta) if meta.is_file() => {
                if is_json(&path) {
                    found.push(Input::file(path));
                }
            }
            Ok(_) if is_json(&path) => found.push(Input::error(
                &path,
                "not a regular file (FIFO, socket or device): not read, since reading it could \
                 block"
                    .to_owned(),
            )),
            Ok(_) => {}
            // A dangling or looping symbolic link: only worth a report if it looks like JSON.
            Err(e) if is_json(&path) => {
                let link = fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink());
                let what = if link {
                    "broken symbolic link"
                } else {
                    "cannot read"
                };
                found.push(Input::error(&path, format!("{what}: {e}")));
            }
            Err(_) => {}
        }
    }
    ancestors.pop();
}

/// Reads at most `max` bytes. A file whose size is known to exceed `max` is refused before it
/// is read, and a stream that turns out longer is cut off after `max + 1` bytes.
pub(super) fn read_capped(source: &Source, max: u64) -> Result<Vec<u8>, String> {
    let too_large = |len: Option<u64>| match len {
        Some(len) => {
            format!("file is {len} bytes, larger than the limit of {max} bytes (see --max-size)")
        }
        None => format!("input is larger than the limit of {max} bytes (see --max-size)"),
    };
    let mut buf = Vec::new();
    let read = match source {
        Source::Stdin => std::io::stdin()
            .lock()
            .take(max.saturating_add(1))
            .read_to_end(&mut buf),
        Source::File(path) => {
            let file = fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
            let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
            if meta.is_dir() {
                return Err("is a directory".to_owned());
            }
            if meta.is_file() && meta.len() > max {
                return Err(too_large(Some(meta.len())));
            }
            if meta.is_file() {
                // One allocation of the right size; `len` is at most `max` here.
                buf.reserve(usize::try_from(meta.len()).unwrap_or(0).saturating_add(1));
            }
            file.take(max.saturating_add(1)).read_to_end(&mut buf)
        }
    };
    read.map_err(|e| format!("cannot read: {e}"))?;
    if u64::try_from(buf.len()).unwrap_or(u64::MAX) > max {
        // The file grew after its size was checked, or a stream has no size.
        return Err(too_large(None));
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_cap_is_checked_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        let file = fs::File::create(&path).unwrap();
        file.set_len(1_000_000).unwrap();
        let err = read_capped(&Source::File(path.clone()), 999_999).unwrap_err();
        assert_eq!(
            err,
            "file is 1000000 bytes, larger than the limit of 999999 bytes (see --max-size)"
        );
        assert_eq!(
            read_capped(&Source::File(path), 1_000_000).unwrap().len(),
            1_000_000
        );
    }

    #[test]
    fn directories_are_walked_sorted_and_problems_reported() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("b/c")).unwrap();
        fs::write(root.join("b/c/z.json"), "{}").unwrap();
        fs::write(root.join("b/a.JSON"), "{}").unwrap();
        fs::write(root.join("a.json"), "{}").unwrap();
        fs::write(root.join("notes.txt"), "x").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("missing.json", root.join("dangling.json")).unwrap();
            std::os::unix::fs::symlink("..", root.join("b/up")).unwrap();
        }
        let inputs = collect(&[root.to_path_buf()]);
        let rel: Vec<(String, bool)> = inputs
            .iter()
            .map(|i| {
                let name = Path::new(&i.name)
                    .strip_prefix(root)
                    .unwrap()
                    .display()
                    .to_string();
                (name, i.source.is_ok())
            })
            .collect();
        let mut want = vec![
            ("a.json".to_owned(), true),
            ("b/a.JSON".to_owned(), true),
            ("b/c/z.json".to_owned(), true),
        ];
        if cfg!(unix) {
            want.push(("b/up".to_owned(), false));
            want.insert(3, ("dangling.json".to_owned(), false));
            want.sort();
        }
        assert_eq!(rel, want);
    }

    #[test]
    fn an_empty_directory_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let inputs = collect(&[dir.path().to_path_buf()]);
        assert_eq!(inputs.len(), 1);
        assert!(
            inputs[0]
                .source
                .as_ref()
                .unwrap_err()
                .contains("no *.json file")
        );
    }
}
