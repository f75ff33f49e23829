//! The handler artifact: built with cargo-lambda for `provided.al2023`
//! (glibc 2.34 at most), zipped deterministically.

use crate::config::Architecture;
use crate::error::{Error, Result};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

mod build_log;

pub use build_log::BuildLog;

/// The handler artifact: a deterministic zip and its Lambda `CodeSha256`.
#[derive(Debug)]
pub struct Package {
    /// The zip's bytes.
    pub zip: Vec<u8>,
    /// Its `CodeSha256` (base64 SHA-256), as Lambda reports it.
    pub sha256_b64: String,
}

/// Zips `bootstrap` with a fixed timestamp (1980-01-01) and mode 0755, so
/// that the same binary always gives the same bytes and `CodeSha256`.
pub fn zip_bootstrap(binary: &[u8]) -> Result<Vec<u8>> {
    zip_bootstrap_at(binary, 9)
}

/// `zip_bootstrap` at a deflate level: 9 for what `up` uploads to AWS, 1 for
/// the dev loop's builds (a 10 MB unoptimised binary zips in tens of
/// milliseconds instead of about a second; it never leaves the machine).
pub fn zip_bootstrap_at(binary: &[u8], level: i64) -> Result<Vec<u8>> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(level))
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

/// A package of a zip built beforehand.
pub fn from_zip(zip: Vec<u8>) -> Package {
    Package {
        sha256_b64: code_sha256(&zip),
        zip,
    }
}

/// The Rust target a function of `arch` is built for (`x86_64-unknown-linux-gnu`, ...).
pub fn rust_target(arch: Architecture) -> &'static str {
    match arch {
        Architecture::X86_64 => "x86_64-unknown-linux-gnu",
        Architecture::Arm64 => "aarch64-unknown-linux-gnu",
    }
}

/// A function's code: what `Function::code` takes.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// The run's handler package: the `handler` crate of the project, or
    /// `--handler-zip` (the example's function; a `Function`'s default).
    #[default]
    Handler,
    /// A binary of a crate of the workspace (`DEPLOYER_PROJECT_DIR`, else
    /// the project's), built with cargo-lambda for Lambda; every crate of a
    /// run builds in one invocation. `bin: None` is the crate's binary of
    /// its own name.
    Crate {
        /// The crate (a package of the workspace).
        package: String,
        /// The binary; `None` for the crate's binary of its own name.
        bin: Option<String>,
    },
    /// A zip built beforehand, uploaded as it is.
    Zip(PathBuf),
}

impl Code {
    /// A binary of a crate: `Code::krate("orders")` for `orders`'s own bin.
    pub fn krate(package: impl Into<String>) -> Code {
        Code::Crate {
            package: package.into(),
            bin: None,
        }
    }

    /// The binary `bin` of crate `package`.
    pub fn bin(package: impl Into<String>, bin: impl Into<String>) -> Code {
        Code::Crate {
            package: package.into(),
            bin: Some(bin.into()),
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Code::Handler => write!(f, "the handler crate"),
            Code::Crate { package, bin: None } => write!(f, "crate {package}"),
            Code::Crate {
                package,
                bin: Some(b),
            } => write!(f, "crate {package} (bin {b})"),
            Code::Zip(p) => write!(f, "zip {}", p.display()),
        }
    }
}

/// The packages of a run's functions, by their code.
pub type Packages = std::collections::BTreeMap<Code, std::sync::Arc<Package>>;

/// Builds (or reads) every code of `codes` but `Code::Handler` (built by
/// `build`/`build_with` as before): the crates in one cargo(-lambda)
/// invocation with `profile`, the zips read.
pub fn build_codes(arch: Architecture, profile: Profile, codes: &[Code]) -> Result<Packages> {
    let mut out = Packages::new();
    // (code, (crate, binary)) of each crate to build.
    let mut crates = vec![];
    for c in codes {
        match c {
            Code::Handler => {}
            Code::Zip(p) => {
                let zip = std::fs::read(p).map_err(|e| {
                    Error::Other(format!(
                        "a function's code, {}: {e}; build the zip first or give the function another Code",
                        p.display()
                    ))
                })?;
                out.insert(c.clone(), std::sync::Arc::new(from_zip(zip)));
            }
            Code::Crate { package, bin } => {
                let bin = bin.clone().unwrap_or_else(|| package.clone());
                crates.push((c.clone(), (package.clone(), bin)));
            }
        }
    }
    if crates.is_empty() {
        return Ok(out);
    }
    let specs: Vec<(String, String)> = crates.iter().map(|(_, s)| s.clone()).collect();
    let built = build_crates(arch, profile, &specs)?;
    for ((c, _), (_, p)) in crates.into_iter().zip(built) {
        out.insert(c, std::sync::Arc::new(p));
    }
    Ok(out)
}

/// How the handler is built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Profile {
    /// The `lambda-release` profile (optimised, thin LTO), paths remapped:
    /// the same bytes on every clone (what `up` deploys).
    #[default]
    Release,
    /// The `lambda-dev` profile (unoptimised, incremental) for Lambda's
    /// target: what `up --watch` deploys on each save.
    Dev,
    /// The `lambda-dev` profile for this machine, with plain cargo (no
    /// cargo-lambda, no zig): what `deployer dev` runs here. A one-line
    /// change rebuilds in about 1.3 s where the Lambda target's link through
    /// zig takes 2.2-2.5 s (measured on 2 cores).
    Local,
}

impl Profile {
    /// The cargo profile it builds with.
    fn cargo_profile(self) -> &'static str {
        match self {
            Profile::Release => "lambda-release",
            Profile::Dev | Profile::Local => "lambda-dev",
        }
    }

    /// The tool that builds it (named in a failed build's message).
    fn tool(self) -> &'static str {
        match self {
            Profile::Release | Profile::Dev => "cargo-lambda",
            Profile::Local => "cargo",
        }
    }
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

/// The directory of each code's crate (what `--watch` watches): the
/// handler crate's for `Code::Handler`, a workspace member's (from `cargo
/// metadata`) for `Code::Crate`; a zip has none.
pub fn code_dirs(codes: &[Code]) -> Result<Vec<(Code, PathBuf)>> {
    let root = crate::tools::project_dir();
    let mut members = std::collections::BTreeMap::new();
    if codes.iter().any(|c| matches!(c, Code::Crate { .. })) {
        let o = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args([
                "metadata",
                "--no-deps",
                "--format-version",
                "1",
                "--manifest-path",
            ])
            .arg(root.join("Cargo.toml"))
            .output()
            .map_err(|e| Error::Other(format!("cargo metadata: {e}")))?;
        if !o.status.success() {
            return Err(Error::Other(format!(
                "cargo metadata in {}: {}",
                root.display(),
                String::from_utf8_lossy(&o.stderr).trim()
            )));
        }
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .map_err(|e| Error::Other(format!("cargo metadata: {e}")))?;
        for p in v["packages"].as_array().into_iter().flatten() {
            if let (Some(name), Some(manifest)) = (p["name"].as_str(), p["manifest_path"].as_str())
            {
                let dir = Path::new(manifest).parent().map(Path::to_path_buf);
                members.insert(name.to_string(), dir.unwrap_or_default());
            }
        }
    }
    let mut out = vec![];
    for c in codes {
        match c {
            Code::Handler => out.push((c.clone(), handler_dir())),
            Code::Crate { package, .. } => match members.get(package) {
                Some(d) => out.push((c.clone(), d.clone())),
                None => {
                    return Err(Error::Other(format!(
                        "no crate `{package}` in the workspace at {}",
                        root.display()
                    )))
                }
            },
            Code::Zip(_) => {}
        }
    }
    Ok(out)
}

/// The handler crate's directory (what `--watch` watches).
pub fn handler_dir() -> PathBuf {
    crate::tools::project_dir().join("handler")
}

/// Where the handler builds: `target/lambda-build` of the project, or
/// `DEPLOYER_LAMBDA_TARGET_DIR`.
fn lambda_target_dir() -> PathBuf {
    std::env::var_os("DEPLOYER_LAMBDA_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            crate::tools::project_dir()
                .join("target")
                .join("lambda-build")
        })
}

/// Whether the handler was built with `profile` before: a first build
/// compiles every dependency (minutes), a later one what changed.
pub fn built_before(arch: Architecture, profile: Profile) -> bool {
    match profile {
        Profile::Local => local_binary(&lambda_target_dir(), "handler").is_file(),
        _ => lambda_target_dir()
            .join(rust_target(arch))
            .join(profile.cargo_profile())
            .is_dir(),
    }
}

/// Where plain cargo leaves this machine's build of the binary `bin`.
fn local_binary(target_dir: &Path, bin: &str) -> PathBuf {
    target_dir.join(Profile::Local.cargo_profile()).join(bin)
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
    let spec = [("handler".to_string(), "handler".to_string())];
    let mut built = build_crates(arch, profile, &spec)?;
    Ok(built.remove(0))
}

/// Builds the binaries `specs` (crate, binary) of the project's workspace
/// in one cargo-lambda invocation (plain cargo for `Profile::Local`) and
/// zips each: the zips' paths and packages, in the order of `specs`.
pub fn build_crates(
    arch: Architecture,
    profile: Profile,
    specs: &[(String, String)],
) -> Result<Vec<(PathBuf, Package)>> {
    let root = crate::tools::project_dir();
    let target_dir = lambda_target_dir();
    if profile == Profile::Local {
        return build_here(&root, &target_dir, specs);
    }
    let cargo_lambda = match crate::tools::on_path("cargo-lambda") {
        Some(p) => p,
        None => crate::tools::ensure("cargo-lambda")?,
    };
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
    let bootstrap = |bin: &str| target_dir.join("lambda").join(bin).join("bootstrap");
    let first = specs.iter().any(|(_, bin)| !bootstrap(bin).exists());
    if first {
        eprintln!(
            "deployer: building the functions' code for Amazon Linux 2023 with cargo-lambda and zig; the first build compiles every dependency (several minutes on a 2-core machine), later ones only what changed"
        );
        warn_low_space(&target_dir);
    }
    let mut cmd = Command::new(&cargo_lambda);
    cmd.args(["lambda", "build"]);
    for (package, bin) in specs {
        cmd.args(["--package", package, "--bin", bin]);
    }
    cmd.args(["--target", &target, "--profile", profile.cargo_profile()]);
    match profile {
        Profile::Release => {
            cmd.env(rustflags_var, remap);
        }
        // No remapped paths: the dependencies compiled once are reused by
        // every copy of the crate sharing the build directory.
        _ => {
            cmd.env_remove(rustflags_var);
        }
    }
    cmd.env("PATH", crate::tools::path_with(&bin_dir));
    run_build(cmd, &root, &target_dir, profile, first, arch)?;
    specs
        .iter()
        .map(|(_, bin)| {
            let path = bootstrap(bin);
            let b = std::fs::read(&path).map_err(|e| Error::io(path.display().to_string(), e))?;
            let (zip, name) = match profile {
                Profile::Release => (zip_bootstrap(&b)?, format!("{bin}-{}.zip", arch.as_str())),
                _ => (
                    zip_bootstrap_at(&b, 1)?,
                    format!("{bin}-{}-dev.zip", arch.as_str()),
                ),
            };
            write_zip(target_dir.join(name), zip)
        })
        .collect()
}

/// `Profile::Local`: plain cargo for this machine, into the same build
/// directory (cargo keeps this machine's and Lambda's artifacts apart).
fn build_here(
    root: &Path,
    target_dir: &Path,
    specs: &[(String, String)],
) -> Result<Vec<(PathBuf, Package)>> {
    let binary = |bin: &str| local_binary(target_dir, bin);
    let first = specs.iter().any(|(_, bin)| !binary(bin).exists());
    if first {
        eprintln!(
            "deployer: building the functions' code for this machine; the first build compiles every dependency (about a minute on a 2-core machine), later ones only what changed"
        );
        warn_low_space(target_dir);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build");
    for (package, bin) in specs {
        cmd.args(["--package", package, "--bin", bin]);
    }
    cmd.args(["--profile", Profile::Local.cargo_profile()]);
    run_build(
        cmd,
        root,
        target_dir,
        Profile::Local,
        first,
        Architecture::X86_64,
    )?;
    specs
        .iter()
        .map(|(_, bin)| {
            let path = binary(bin);
            let b = std::fs::read(&path).map_err(|e| Error::io(path.display().to_string(), e))?;
            write_zip(
                target_dir.join(format!("{bin}-local.zip")),
                zip_bootstrap_at(&b, 1)?,
            )
        })
        .collect()
}

/// Warns before a first build if the disk is nearly full: a full disk fails
/// it at its largest write (the link), with LLVM's plain-text "IO failure on
/// output stream", after minutes.
fn warn_low_space(target_dir: &Path) {
    let _ = std::fs::create_dir_all(target_dir);
    if let Some(w) = free_bytes(target_dir).and_then(|b| low_space(b, target_dir)) {
        eprintln!("deployer: {w}");
    }
}

fn write_zip(path: PathBuf, zip: Vec<u8>) -> Result<(PathBuf, Package)> {
    std::fs::write(&path, &zip).map_err(|e| Error::io(path.display().to_string(), e))?;
    Ok((path, from_zip(zip)))
}

/// Runs a handler build (`cmd`, cargo or cargo-lambda) in `root` with
/// `CARGO_TARGET_DIR=target_dir`: progress while it compiles, the
/// compiler's and linker's messages first if it fails.
fn run_build(
    mut cmd: Command,
    root: &Path,
    target_dir: &Path,
    profile: Profile,
    first: bool,
    arch: Architecture,
) -> Result<()> {
    let started = std::time::Instant::now();
    let tool = profile.tool();
    // cargo's JSON messages on stdout carry every diagnostic rustc gave
    // (the linker's own output inside a link failure's); stderr carries
    // cargo's progress and its own errors. Both are kept for the message of
    // a failed build.
    cmd.arg("--message-format=json");
    // Its own process group, so that an interrupted run stops the whole
    // build (cargo-lambda, cargo, rustc, zig), not only its first process.
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_by_cargo_for_a_running_crate) {
            cmd.env_remove(name);
        }
    }
    let mut child = cmd
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target_dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| Error::Other(format!("could not run {tool}: {e}")))?;
    let _running = Running::register(child.id());
    let log = std::sync::Arc::new(std::sync::Mutex::new(BuildLog::default()));
    let json_reader = child.stdout.take().map(|pipe| {
        let log = log.clone();
        std::thread::spawn(move || {
            for line in lossy_lines(pipe) {
                log.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .json_line(&line);
            }
        })
    });
    // Progress of a long build: one updating line on a terminal, a line
    // every 30 s otherwise.
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut crates = 0;
    let mut said = std::time::Instant::now();
    if let Some(pipe) = child.stderr.take() {
        for line in lossy_lines(pipe) {
            if let Some(what) = log
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .stderr_line(&line)
            {
                crates += 1;
                let secs = started.elapsed().as_secs();
                if tty {
                    let what: String = what.chars().take(40).collect();
                    eprint!("\r\x1b[2K  building the functions' code: {crates} crates, {secs} s, compiling {what}");
                } else if said.elapsed().as_secs() >= 30 {
                    eprintln!("deployer: building the functions' code: {crates} crates compiled, {secs} s");
                    said = std::time::Instant::now();
                }
            }
        }
    }
    if tty && crates > 0 {
        eprint!("\r\x1b[2K");
    }
    let status = child
        .wait()
        .map_err(|e| Error::Other(format!("could not run {tool}: {e}")))?;
    if let Some(t) = json_reader {
        let _ = t.join();
    }
    if first || crates > 0 {
        eprintln!(
            "deployer: functions' code built in {:.0} s ({crates} crates compiled)",
            started.elapsed().as_secs_f64()
        );
    }
    if !status.success() {
        let log = log.lock().unwrap_or_else(|e| e.into_inner());
        return Err(Error::Build(log.failure(
            arch,
            profile,
            &status.to_string(),
        )));
    }
    Ok(())
}

/// The variables cargo gives the process it runs (`cargo run`, a test), for
/// that process's own package. A build started from such a process must not
/// inherit them: build scripts that watch one (ring's watches
/// `CARGO_MANIFEST_DIR`) would run again, and ring and the six crates built
/// on it (rustls ... the handler) compile again, 40 s in release, whenever
/// deployer is run once by `cargo run` and once as a plain binary. The
/// builds deployer starts get the same environment either way.
fn set_by_cargo_for_a_running_crate(name: &str) -> bool {
    matches!(
        name,
        "CARGO_MANIFEST_DIR"
            | "CARGO_MANIFEST_PATH"
            | "CARGO_MANIFEST_LINKS"
            | "CARGO_CRATE_NAME"
            | "CARGO_BIN_NAME"
            | "CARGO_PRIMARY_PACKAGE"
            | "CARGO_TARGET_TMPDIR"
            | "OUT_DIR"
    ) || name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_BIN_EXE_")
}

/// The process groups of the builds running now (see `stop_builds`).
static RUNNING: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// A running build, known to `stop_builds` until it is dropped.
struct Running(u32);

impl Running {
    fn register(pid: u32) -> Running {
        RUNNING.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
        Running(pid)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|p| *p != self.0);
    }
}

/// Stops every handler build in progress (an interrupted run): nothing it
/// started outlives it.
pub fn stop_builds() {
    for pgid in RUNNING.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        #[cfg(unix)]
        // SAFETY: kill(2) with a negative pid signals that process group.
        unsafe {
            libc::kill(-(*pgid as i32), libc::SIGTERM);
        }
    }
}

/// What a first handler build writes: about 300 MB in its build directory
/// (measured) plus zig's cache; below this much free space it warns.
pub const FIRST_BUILD_NEEDS_BYTES: u64 = 1024 * 1024 * 1024;

/// Free bytes for an unprivileged writer on `dir`'s filesystem.
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid C string and a zeroed statvfs for the call to fill.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st.f_bavail as u64 * st.f_frsize as u64)
}

/// The warning for a first build with too little free space, if any.
pub fn low_space(free: u64, dir: &Path) -> Option<String> {
    (free < FIRST_BUILD_NEEDS_BYTES).then(|| {
        format!(
            "only {} MB free where the handler builds ({}); the first build needs about {} MB and fails with \"No space left on device\" without it: free space first (`cargo clean` in old checkouts)",
            free / (1024 * 1024),
            dir.display(),
            FIRST_BUILD_NEEDS_BYTES / (1024 * 1024)
        )
    })
}

/// Lines of a child's output, invalid UTF-8 replaced: a stray byte from a
/// linker must not end the reading (the rest of the output would be lost and
/// the child would meet a closed pipe).
fn lossy_lines(pipe: impl std::io::Read) -> impl Iterator<Item = String> {
    use std::io::BufRead;
    let mut r = std::io::BufReader::new(pipe);
    std::iter::from_fn(move || {
        let mut buf = Vec::new();
        match r.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => None,
            Ok(_) => {
                while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    buf.pop();
                }
                Some(String::from_utf8_lossy(&buf).into_owned())
            }
        }
    })
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
mod tests;
