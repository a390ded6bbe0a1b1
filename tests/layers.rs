//! The layers point one way: `cli` → modules → engine → config, host,
//! store. Read from the source tree, so that a wrong `use` fails here with
//! the file and line, before it becomes an import circle.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Lines of code (comments left out) under `dir` that name `needle`.
fn naming(dir: &str, needles: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(!files.is_empty(), "no source under {}", root.display());
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for needle in needles {
                if code.contains(needle) {
                    found.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn nothing_below_the_command_line_imports_it() {
    for dir in [
        "engine",
        "modules",
        "server",
        "config",
        "host",
        "store",
        "directory",
        "web",
    ] {
        let found = naming(dir, &["crate::cli", "super::super::cli"]);
        assert!(
            found.is_empty(),
            "src/{dir} must not use crate::cli:\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn the_engine_names_no_module() {
    let found = naming("engine", &["crate::modules", "super::modules"]);
    assert!(
        found.is_empty(),
        "src/engine must not depend on the modules (they depend on it):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_itself_sees_a_violation() {
    // The command line does use the modules: the scan finds it, so an
    // empty result above means something.
    assert!(!naming("cli", &["crate::modules"]).is_empty());
}

#[test]
fn the_host_and_the_store_are_at_the_bottom() {
    for dir in ["host", "store"] {
        let found = naming(
            dir,
            &[
                "crate::modules",
                "crate::engine",
                "crate::server",
                "crate::config",
            ],
        );
        assert!(
            found.is_empty(),
            "src/{dir} must depend on nothing above it:\n{}",
            found.join("\n")
        );
    }
    let found = naming("config", &["crate::engine", "crate::server"]);
    assert!(
        found.is_empty(),
        "src/config must not use the engine or the server:\n{}",
        found.join("\n")
    );
}
