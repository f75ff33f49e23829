//! The local backend: the state file written atomically beside its
//! backup, and the stack's lock file (flock).

use super::{check_size, hostname, parse, State, Store};
use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

impl Store {
    pub fn backup_path(&self) -> PathBuf {
        with_suffix(&self.path, ".bak")
    }

    fn lock_path(&self) -> PathBuf {
        self.path.with_extension("lock")
    }

    /// Takes the stack's lock or fails at once naming its holder.
    pub fn lock(&mut self, stack: &str) -> Result<()> {
        let lp = self.lock_path();
        if let Some(dir) = lp.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
        }
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lp)
            .map_err(|e| Error::io(lp.display().to_string(), e))?;
        match f.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                // The holder writes who it is right after taking the lock:
                // give a run that raced us a moment to do so.
                let mut holder = String::new();
                for _ in 0..50 {
                    holder.clear();
                    let _ = f.rewind();
                    let _ = f.read_to_string(&mut holder);
                    if holder.contains("pid=") {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                return Err(Error::Locked {
                    stack: stack.to_string(),
                    holder: describe_holder(holder.trim()),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io(lp.display().to_string(), e))
            }
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let info = format!(
            "pid={} host={} since={}",
            std::process::id(),
            hostname(),
            now
        );
        f.set_len(0)
            .map_err(|e| Error::io(lp.display().to_string(), e))?;
        f.rewind()
            .map_err(|e| Error::io(lp.display().to_string(), e))?;
        f.write_all(info.as_bytes())
            .map_err(|e| Error::io(lp.display().to_string(), e))?;
        let _ = f.sync_all();
        self.lock = Some(f);
        Ok(())
    }

    /// Loads the state file; a missing file is an empty state.
    pub fn load_file(&self, stack: &str) -> Result<State> {
        let p = self.path.display().to_string();
        if let Ok(m) = std::fs::metadata(&self.path) {
            check_size(m.len(), &p)?;
        }
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::new(stack)),
            Err(e) => return Err(Error::io(p, e)),
        };
        parse(&text, &p, &self.backup_path().display().to_string())
    }

    /// Writes the state atomically: temp file, fsync, previous copy to `.bak`,
    /// rename, fsync of the directory. Mode 0600.
    pub fn save_file(&self, state: &State) -> Result<()> {
        let _g = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let p = self.path.display().to_string();
        let dir = self
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
        let tmp = with_suffix(&self.path, ".tmp");
        let body = serde_json::to_vec_pretty(state).map_err(|e| Error::Other(e.to_string()))?;
        write_synced(&tmp, &body).map_err(|e| Error::io(tmp.display().to_string(), e))?;
        if self.path.exists() {
            let bak = self.backup_path();
            let bak_tmp = with_suffix(&self.path, ".bak.tmp");
            let prev = std::fs::read(&self.path).map_err(|e| Error::io(p.clone(), e))?;
            // Never replace a good backup with a corrupt current copy.
            if serde_json::from_slice::<serde_json::Value>(&prev).is_ok() {
                write_synced(&bak_tmp, &prev)
                    .map_err(|e| Error::io(bak_tmp.display().to_string(), e))?;
                std::fs::rename(&bak_tmp, &bak)
                    .map_err(|e| Error::io(bak.display().to_string(), e))?;
            }
        }
        std::fs::rename(&tmp, &self.path).map_err(|e| Error::io(p, e))?;
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Removes the state file once the stack is gone (the backup stays).
    pub fn remove_file(&self, state: &State) -> Result<()> {
        self.save_file(state)?;
        std::fs::remove_file(&self.path).map_err(|e| Error::io(self.path.display().to_string(), e))
    }
}

pub(super) fn write_synced(path: &Path, body: &[u8]) -> std::io::Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(body)?;
    f.sync_all()
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn describe_holder(raw: &str) -> String {
    let mut pid = "?";
    let mut host = "?";
    let mut since = None;
    for part in raw.split_whitespace() {
        if let Some(v) = part.strip_prefix("pid=") {
            pid = v;
        } else if let Some(v) = part.strip_prefix("host=") {
            host = v;
        } else if let Some(v) = part.strip_prefix("since=") {
            since = v.parse::<u64>().ok();
        }
    }
    let ago = since
        .map(|s| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(s);
            format!("since unix time {s}, {}s ago", now.saturating_sub(s))
        })
        .unwrap_or_else(|| "since an unknown time".into());
    format!("pid {pid} on host {host}, {ago}")
}
