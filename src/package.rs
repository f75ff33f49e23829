//! The handler artifact: built with cargo-lambda for `provided.al2023`
//! (glibc 2.34 at most), zipped deterministically.

use crate::config::Architecture;
use crate::error::{Error, Result};
use crate::resources::Package;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Zips `bootstrap` with a fixed timestamp (1980-01-01) and mode 0755, so
/// that the same binary always gives the same bytes and `CodeSha256`.
pub fn zip_bootstrap(binary: &[u8]) -> Result<Vec<u8>> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(9))
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o755);
        z.start_file("bootstrap", opts)
            .map_err(|e| Error::Other(format!("zip: {e}")))?;
        z.write_all(binary)
            .map_err(|e| Error::Other(format!("zip: {e}")))?;
        z.finish().map_err(|e| Error::Other(format!("zip: {e}")))?;
    }
    Ok(buf.into_inner())
}

/// Lambda's `CodeSha256`: base64 of the SHA-256 of the zip.
pub fn code_sha256(zip: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(zip))
}

pub fn from_zip(zip: Vec<u8>) -> Package {
    Package {
        sha256_b64: code_sha256(&zip),
        zip,
    }
}

pub fn rust_target(arch: Architecture) -> &'static str {
    match arch {
        Architecture::X86_64 => "x86_64-unknown-linux-gnu",
        Architecture::Arm64 => "aarch64-unknown-linux-gnu",
    }
}

/// How the handler is built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Profile {
    /// `--release`, paths remapped: the same bytes on every clone (what `up`
    /// deploys).
    #[default]
    Release,
    /// The `lambda-dev` profile (unoptimised, incremental): the dev loop's
    /// rebuilds (`--watch`) in seconds.
    Dev,
}

/// Builds the handler crate and returns the zip's path and the package.
pub fn build(arch: Architecture) -> Result<(PathBuf, Package)> {
    if let Some(p) = std::env::var_os("DEPLOYER_HANDLER_ZIP") {
        let path = PathBuf::from(p);
        let zip = std::fs::read(&path).map_err(|e| Error::io(path.display().to_string(), e))?;
        return Ok((path, from_zip(zip)));
    }
    build_with(arch, Profile::Release)
}

/// The handler crate's directory (what `--watch` watches).
pub fn handler_dir() -> PathBuf {
    crate::tools::project_dir().join("handler")
}

/// Builds the handler crate with `profile` (no `DEPLOYER_HANDLER_ZIP`).
/// `DEPLOYER_LAMBDA_TARGET_DIR` overrides where it builds (a copy of the
/// crate can share a build directory's compiled dependencies).
pub fn build_with(arch: Architecture, profile: Profile) -> Result<(PathBuf, Package)> {
    let root = crate::tools::project_dir();
    if !root.join("handler").join("Cargo.toml").is_file() {
        return Err(Error::Other(format!(
            "the handler crate is not at {}/handler: run deployer from the project checkout, set DEPLOYER_PROJECT_DIR, or pass --handler-zip",
            root.display()
        )));
    }
    let cargo_lambda = match crate::tools::on_path("cargo-lambda") {
        Some(p) => p,
        None => crate::tools::ensure("cargo-lambda")?,
    };
    let target_dir = std::env::var_os("DEPLOYER_LAMBDA_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target").join("lambda-build"));
    // glibc 2.34 is what Amazon Linux 2023 ships: link against no newer one.
    let target = format!("{}.2.34", rust_target(arch));
    let bin_dir = cargo_lambda
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    // Paths of this checkout and of the cargo home stay out of the binary,
    // so that every clone builds the same bytes (and the same CodeSha256).
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default()
                .join(".cargo")
        });
    let remap = format!(
        "--remap-path-prefix={}=/build --remap-path-prefix={}=/cargo",
        root.display(),
        cargo_home.display()
    );
    let rustflags_var = format!(
        "CARGO_TARGET_{}_RUSTFLAGS",
        rust_target(arch).to_uppercase().replace('-', "_")
    );
    let first = !target_dir
        .join("lambda")
        .join("handler")
        .join("bootstrap")
        .exists();
    if first {
        eprintln!(
            "deployer: building the handler for Amazon Linux 2023 with cargo-lambda and zig; the first build compiles every dependency (several minutes on a 2-core machine), later ones only what changed"
        );
    }
    let started = std::time::Instant::now();
    let mut cmd = Command::new(&cargo_lambda);
    cmd.args([
        "lambda",
        "build",
        "--package",
        "handler",
        "--target",
        &target,
    ]);
    match profile {
        Profile::Release => {
            cmd.env(rustflags_var, remap).arg("--release");
        }
        // No remapped paths: the dependencies compiled once are reused by
        // every copy of the crate sharing the build directory.
        Profile::Dev => {
            cmd.env_remove(rustflags_var)
                .args(["--profile", "lambda-dev"]);
        }
    }
    let mut child = cmd
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("PATH", crate::tools::path_with(&bin_dir))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| Error::Other(format!("could not run {}: {e}", cargo_lambda.display())))?;
    // Progress of a long build: one updating line on a terminal, a line
    // every 30 s otherwise; the output is kept for the error message.
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut err = String::new();
    let mut crates = 0;
    let mut said = std::time::Instant::now();
    if let Some(pipe) = child.stderr.take() {
        use std::io::BufRead;
        for line in std::io::BufReader::new(pipe).lines().map_while(|l| l.ok()) {
            let t = line.trim_start();
            if let Some(what) = t.strip_prefix("Compiling ") {
                crates += 1;
                let secs = started.elapsed().as_secs();
                if tty {
                    let what: String = what.chars().take(40).collect();
                    eprint!("\r\x1b[2K  building the handler: {crates} crates, {secs} s, compiling {what}");
                } else if said.elapsed().as_secs() >= 30 {
                    eprintln!("deployer: building the handler: {crates} crates compiled, {secs} s");
                    said = std::time::Instant::now();
                }
            }
            err.push_str(&line);
            err.push('\n');
        }
    }
    if tty && crates > 0 {
        eprint!("\r\x1b[2K");
    }
    let status = child
        .wait()
        .map_err(|e| Error::Other(format!("could not run {}: {e}", cargo_lambda.display())))?;
    if first || crates > 0 {
        eprintln!(
            "deployer: handler built in {:.0} s ({crates} crates compiled)",
            started.elapsed().as_secs_f64()
        );
    }
    if !status.success() {
        let tail: Vec<&str> = err.lines().rev().take(15).collect();
        let hint = if arch == Architecture::Arm64 {
            " (arm64 needs `rustup target add aarch64-unknown-linux-gnu`)"
        } else {
            ""
        };
        return Err(Error::Other(format!(
            "building the handler with cargo-lambda failed{hint}:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )));
    }
    let bootstrap = target_dir.join("lambda").join("handler").join("bootstrap");
    let bin =
        std::fs::read(&bootstrap).map_err(|e| Error::io(bootstrap.display().to_string(), e))?;
    let zip = zip_bootstrap(&bin)?;
    let zip_path = target_dir.join(match profile {
        Profile::Release => format!("handler-{}.zip", arch.as_str()),
        Profile::Dev => format!("handler-{}-dev.zip", arch.as_str()),
    });
    std::fs::write(&zip_path, &zip).map_err(|e| Error::io(zip_path.display().to_string(), e))?;
    Ok((zip_path, from_zip(zip)))
}

/// The highest `GLIBC_x.y` version an ELF binary asks for.
pub fn max_glibc(binary: &[u8]) -> Option<(u32, u32)> {
    let needle = b"GLIBC_";
    let mut best = None;
    let mut i = 0;
    while i + needle.len() < binary.len() {
        if &binary[i..i + needle.len()] == needle {
            let rest = &binary[i + needle.len()..];
            let end = rest
                .iter()
                .position(|c| !(c.is_ascii_digit() || *c == b'.'))
                .unwrap_or(rest.len());
            let v = std::str::from_utf8(&rest[..end]).unwrap_or("");
            let mut it = v.split('.').map(|p| p.parse::<u32>().ok());
            if let (Some(Some(a)), Some(Some(b))) = (it.next(), it.next()) {
                if best.is_none_or(|x| (a, b) > x) {
                    best = Some((a, b));
                }
            }
            i += needle.len();
        } else {
            i += 1;
        }
    }
    best
}

#[cfg(test)]
mod tests {
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
    fn glibc_scan() {
        assert_eq!(
            max_glibc(b"..GLIBC_2.17\0GLIBC_2.34\0GLIBC_2.3.4\0GLIBC_PRIVATE"),
            Some((2, 34))
        );
        assert_eq!(max_glibc(b"nothing"), None);
    }
}
