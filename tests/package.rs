//! The handler artifact: built by cargo-lambda for provided.al2023, linked
//! against glibc 2.34 at most, zipped deterministically.

mod common;
use std::io::Read;
use std::process::Command;

fn package() -> serde_json::Value {
    let out = Command::new(common::bin())
        .args(["package", "--json"])
        .env_remove("DEPLOYER_HANDLER_ZIP")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn handler_zip_is_deterministic_and_runs_on_amazon_linux_2023() {
    let a = package();
    let first = std::fs::read(a["path"].as_str().unwrap()).unwrap();
    let b = package();
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
