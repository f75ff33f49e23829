//! The package's tests (`#[cfg(test)] mod tests` in mod.rs).

use super::*;

#[test]
fn zip_is_deterministic() {
    let a = zip_bootstrap(b"\x7fELF pretend binary").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = zip_bootstrap(b"\x7fELF pretend binary").unwrap();
    assert_eq!(a, b);
    assert_eq!(code_sha256(&a), code_sha256(&b));
    assert_ne!(
        code_sha256(&a),
        code_sha256(&zip_bootstrap(b"other").unwrap())
    );
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(a)).unwrap();
    let f = z.by_name("bootstrap").unwrap();
    assert_eq!(f.unix_mode().unwrap() & 0o777, 0o755);
}

#[test]
fn a_build_drops_only_what_cargo_gives_a_running_crate() {
    for gone in [
        "CARGO_MANIFEST_DIR",
        "CARGO_PKG_NAME",
        "CARGO_PKG_VERSION_MAJOR",
        "CARGO_BIN_EXE_deployer",
        "CARGO_CRATE_NAME",
        "OUT_DIR",
    ] {
        assert!(set_by_cargo_for_a_running_crate(gone), "{gone}");
    }
    // The user's and deployer's own build settings stay.
    for kept in [
        "CARGO",
        "CARGO_HOME",
        "CARGO_TARGET_DIR",
        "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS",
        "CARGO_BUILD_JOBS",
        "RUSTFLAGS",
        "PATH",
    ] {
        assert!(!set_by_cargo_for_a_running_crate(kept), "{kept}");
    }
}

#[test]
fn glibc_scan() {
    assert_eq!(
        max_glibc(b"..GLIBC_2.17\0GLIBC_2.34\0GLIBC_2.3.4\0GLIBC_PRIVATE"),
        Some((2, 34))
    );
    assert_eq!(max_glibc(b"nothing"), None);
}

#[test]
fn a_failed_build_shows_the_compilers_messages_first() {
    let mut log = BuildLog::default();
    for l in [
        "   Compiling ring v0.17.14",
        "   Compiling handler v0.1.0 (/build/handler)",
    ] {
        log.stderr_line(l);
    }
    let link = "error: linking with `zigcc.sh` failed: exit status: 1\n  |\n  = note: ld.lld: error: unable to find library -lnope\n";
    log.json_line(
        &serde_json::json!({"reason": "compiler-message", "message": {"level": "error", "message": "linking with `zigcc.sh` failed: exit status: 1", "rendered": link}}).to_string(),
    );
    log.json_line(
        &serde_json::json!({"reason": "compiler-message", "message": {"level": "error", "message": "aborting due to 1 previous error", "rendered": "error: aborting due to 1 previous error\n"}}).to_string(),
    );
    log.json_line(r#"{"reason":"compiler-artifact","package_id":"x"}"#);
    log.json_line(r#"{"reason":"build-finished","success":false}"#);
    log.stderr_line("error: could not compile `handler` (bin \"handler\") due to 1 previous error");
    let m = log.failure(Architecture::X86_64, Profile::Dev, "exit status: 1");
    let lines: Vec<&str> = m.lines().collect();
    assert!(
        lines[0].starts_with("building the functions' code with cargo-lambda failed"),
        "{m}"
    );
    assert_eq!(
        lines[2], "error: linking with `zigcc.sh` failed: exit status: 1",
        "{m}"
    );
    assert!(
        m.find("unable to find library -lnope") < m.find("cargo said:"),
        "{m}"
    );
    assert!(
        !m.contains("Compiling"),
        "progress lines are not repeated: {m}"
    );
    assert!(!m.contains("aborting due to"), "{m}");
    assert!(
        m.contains("What to try: the link of `bootstrap` through zig failed"),
        "{m}"
    );
}

#[test]
fn a_build_failing_without_a_message_says_so_and_how_to_see_more() {
    let mut log = BuildLog::default();
    log.stderr_line("error: could not compile `handler` (bin \"handler\")");
    log.stderr_line("Caused by:");
    let long = format!(
        "  process didn't exit successfully: `rustc --crate-name handler {}` (exit status: 1)",
        "-C x ".repeat(500)
    );
    log.stderr_line(&long);
    let m = log.failure(Architecture::X86_64, Profile::Dev, "exit status: 101");
    assert!(m.contains("the compiler gave no message of its own"), "{m}");
    assert!(m.contains("Caused by:"), "{m}");
    assert!(
        m.lines().all(|l| l.len() < 600),
        "a command line is cut: {m}"
    );
    assert!(m.contains("CARGO_TERM_VERBOSE=true"), "{m}");
}

/// What a first build on a full disk said (reproduced on a full tmpfs):
/// LLVM's plain-text line, no compiler diagnostic. It is shown, and the
/// next step names the disk.
#[test]
fn a_full_disk_is_named() {
    let mut log = BuildLog::default();
    for l in [
        "   Compiling handler v0.1.0 (/build/handler)",
        "rustc-LLVM ERROR: IO failure on output stream: No space left on device",
        "error: could not compile `handler` (bin \"handler\")",
        "Caused by:",
        "  process didn't exit successfully: `rustc --crate-name handler` (exit status: 1)",
    ] {
        log.stderr_line(l);
    }
    let m = log.failure(Architecture::X86_64, Profile::Dev, "exit status: 101");
    assert!(
        m.contains("rustc-LLVM ERROR: IO failure on output stream: No space left on device"),
        "{m}"
    );
    assert!(m.contains("What to try: the disk is full"), "{m}");
    let w = low_space(200 * 1024 * 1024, Path::new("/x/target/lambda-build")).unwrap();
    assert!(
        w.contains("only 200 MB free") && w.contains("/x/target/lambda-build"),
        "{w}"
    );
    assert!(low_space(5 * FIRST_BUILD_NEEDS_BYTES, Path::new("/x")).is_none());
    assert!(free_bytes(Path::new("/")).is_some_and(|b| b > 0));
}

#[test]
fn output_lines_survive_invalid_utf8() {
    let bytes: &[u8] = b"first\nbad \xff byte\r\nlast";
    let lines: Vec<String> = lossy_lines(bytes).collect();
    assert_eq!(lines, vec!["first", "bad \u{fffd} byte", "last"]);
}
