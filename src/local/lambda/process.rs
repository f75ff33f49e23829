//! The bootstrap's process and its process group: ended as a whole, and
//! reaped only once the group is.

use super::Group;
use std::sync::Arc;
#[cfg(target_os = "linux")]
use std::time::Duration;

/// The peak resident memory of a process, in MB (Lambda's "Max Memory Used").
pub(super) fn max_memory_mb(pid: Option<u32>) -> u64 {
    pid.and_then(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok())
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb.div_ceil(1024))
        .unwrap_or(0)
}

pub(super) fn kill_group(pid: i32) {
    #[cfg(unix)]
    if pid > 0 {
        // SAFETY: kill(2) on the group of our own child, not yet reaped
        // (`Group` says when): no other process has this ID.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// Waits for the bootstrap to exit, ends the rest of its process group
/// before reaping it (a crash or an exit leaves nothing it started behind,
/// as Lambda ends the sandbox), and says how it ended.
pub(super) async fn watch_exit(
    mut child: tokio::process::Child,
    group: Arc<Group>,
    tx: tokio::sync::watch::Sender<Option<String>>,
) {
    exited_unreaped(&mut child, group.pid).await;
    group.end();
    let status = match child.wait().await {
        Ok(s) => s.to_string(),
        Err(e) => e.to_string(),
    };
    let _ = tx.send(Some(status));
}

/// Resolves once the process `pid` (our child) has exited, leaving it
/// unreaped (a zombie) so that its pid, the group's ID, stays ours.
#[cfg(target_os = "linux")]
async fn exited_unreaped(_child: &mut tokio::process::Child, pid: i32) {
    use tokio::signal::unix::{signal, SignalKind};
    // Listening before the first look: no exit goes unnoticed.
    let mut sigchld = signal(SignalKind::child()).ok();
    while !has_exited(pid) {
        let signalled = match sigchld.as_mut() {
            Some(s) => s.recv().await.is_some(),
            None => false,
        };
        if !signalled {
            // No SIGCHLD to wait for (the signal driver stopped): look again
            // in a moment.
            sigchld = None;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Whether our child `pid` has exited (or cannot be waited for), without
/// reaping it.
#[cfg(target_os = "linux")]
fn has_exited(pid: i32) -> bool {
    // SAFETY: an all-zero siginfo_t is valid; waitid(2) on our own child
    // with WNOWAIT reports an exit without reaping, and fills `info`
    // (si_pid stays 0 when nothing has exited yet).
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let r = libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        match r {
            0 => info.si_pid() != 0,
            _ => std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR),
        }
    }
}

/// Elsewhere: waits for the exit (reaping it; the group is ended just after).
#[cfg(not(target_os = "linux"))]
async fn exited_unreaped(child: &mut tokio::process::Child, _pid: i32) {
    let _ = child.wait().await;
}
