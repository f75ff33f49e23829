//! The handler artifact: built by cargo-lambda for provided.al2023, linked
//! against glibc 2.34 at most, zipped deterministically.

use crate::common;
use std::io::Read;
use std::process::Command;

/// `deployer package --json` and what it said on stderr. `as_cargo_runs_it`:
/// with the variables cargo gives a process it runs (this test has them from
/// its runner, as `cargo run -- package` has), else without them, as a plain
/// binary runs.
fn package(as_cargo_runs_it: bool) -> (serde_json::Value, String) {
    let mut cmd = Command::new(common::bin());
    cmd.args(["package", "--json"])
        .env_remove("DEPLOYER_HANDLER_ZIP")
        // A build directory of its own: the release build holds cargo's lock
        // on its directory for minutes, and the --watch tests rebuild in
        // target/lambda-build meanwhile.
        .env(
            "DEPLOYER_LAMBDA_TARGET_DIR",
            common::project_dir().join("target/lambda-release-build"),
        );
    if as_cargo_runs_it {
        // Also when this test binary runs without its runner.
        cmd.env("CARGO_MANIFEST_DIR", env!("CARGO_MANIFEST_DIR"))
            .env("CARGO_PKG_NAME", env!("CARGO_PKG_NAME"));
    } else {
        for (k, _) in std::env::vars() {
            if k.starts_with("CARGO_PKG_") || k.starts_with("CARGO_MANIFEST_") {
                cmd.env_remove(k);
            }
        }
    }
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    (serde_json::from_slice(&out.stdout).unwrap(), err)
}

#[test]
fn handler_zip_is_deterministic_and_runs_on_amazon_linux_2023() {
    let (a, _) = package(true);
    let first = std::fs::read(a["path"].as_str().unwrap()).unwrap();
    // The same build from a plain binary compiles nothing: the variables of
    // `cargo run` do not reach the build (they made ring's build script run
    // again, and seven crates compile again, 40 s).
    let (b, said) = package(false);
    assert!(
        !said.contains("crates compiled"),
        "an unchanged handler built again: {said}"
    );
    let second = std::fs::read(b["path"].as_str().unwrap()).unwrap();
    assert_eq!(
        a["code_sha256"], b["code_sha256"],
        "an unchanged handler gives the same CodeSha256"
    );
    assert_eq!(first, second);
    assert_eq!(
        a["code_sha256"].as_str().unwrap(),
        deployer::package::code_sha256(&first)
    );

    let mut z = zip::ZipArchive::new(std::io::Cursor::new(first)).unwrap();
    assert_eq!(z.len(), 1);
    let mut f = z.by_name("bootstrap").unwrap();
    assert_eq!(f.unix_mode().unwrap() & 0o777, 0o755);
    let mut bin = vec![];
    f.read_to_end(&mut bin).unwrap();
    assert_eq!(&bin[..4], b"\x7fELF");
    assert_eq!(bin[18], 0x3e, "x86_64 (e_machine EM_X86_64)");
    let (major, minor) = deployer::package::max_glibc(&bin).expect("a glibc-linked binary");
    assert!(
        (major, minor) <= (2, 34),
        "bootstrap needs GLIBC_{major}.{minor}; Amazon Linux 2023 has 2.34"
    );
}

/// A link that fails shows the linker's own message first, then what to
/// try (issue: the README's first command failed and said nothing of why).
/// The copy of the handler crate asks the linker (zig's, as for every
/// build) for a library that does not exist.
#[test]
fn a_failed_link_shows_the_linkers_message() {
    let copy = common::handler_copy();
    std::fs::write(
        copy.path().join("handler/build.rs"),
        "fn main() { println!(\"cargo:rustc-link-arg-bins=-ldeployer_test_no_such_library\"); }\n",
    )
    .unwrap();
    let out = common::builds_in(&mut Command::new(common::bin()), &copy)
        .args(["package", "--dev"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the link must fail: {err}");
    let failed = err
        .find("building the functions' code with cargo-lambda failed")
        .unwrap_or_else(|| panic!("no build failure said: {err}"));
    let said = &err[failed..];
    // rustc's diagnostic, with the linker's own output in it.
    let linking = said
        .find("linking with")
        .unwrap_or_else(|| panic!("rustc's link error is not shown: {said}"));
    let library = said
        .find("deployer_test_no_such_library")
        .unwrap_or_else(|| panic!("the linker's message is not shown: {said}"));
    let cargo = said.find("cargo said:").unwrap_or(said.len());
    assert!(
        linking < cargo && library < cargo,
        "the compiler's and linker's messages come first: {said}"
    );
    assert!(
        said.contains("What to try: the link of `bootstrap` through zig failed"),
        "{said}"
    );
}
