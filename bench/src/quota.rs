//! CPU as Lambda allots it: a share of one core in proportion to the memory setting (1,769 MB
//! buys one vCPU), applied as a cgroup CPU quota, one cgroup per measured process.
//!
//! The quota is enforced per period: with a period of 20 ms, a 128 MB function may run 1.45 ms
//! of every 20. A shorter period spreads the share more evenly; the kernel's shortest is 1 ms.

use std::ffi::CString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The memory at which Lambda allots one full vCPU.
pub const FULL_CORE_MB: u32 = 1769;
/// The quota's period, in microseconds.
const PERIOD_US: u64 = 20_000;

/// A cgroup whose process gets `memory_mb / 1769` of one core; removed when dropped (once the
/// process started in it has exited).
pub struct CpuQuota {
    dir: PathBuf,
    /// The file a process writes its pid ("0": itself) to, to join the cgroup.
    procs: CString,
}

/// The cgroup v1 cpu controller's mount, or the v2 unified hierarchy's root.
enum Hierarchy {
    V1(PathBuf),
    V2(PathBuf),
}

fn hierarchy() -> anyhow::Result<Hierarchy> {
    let v1 = Path::new("/sys/fs/cgroup/cpu");
    if v1.join("cpu.cfs_quota_us").exists() {
        return Ok(Hierarchy::V1(v1.into()));
    }
    // On v2 a child cgroup has the cpu controller only when its parent hands it down.
    let v2 = Path::new("/sys/fs/cgroup");
    let delegated = std::fs::read_to_string(v2.join("cgroup.subtree_control")).unwrap_or_default();
    if delegated.split_whitespace().any(|c| c == "cpu") {
        return Ok(Hierarchy::V2(v2.into()));
    }
    bail!(
        "no cgroup cpu controller to use (v1 at /sys/fs/cgroup/cpu, or v2's cpu in \
         /sys/fs/cgroup/cgroup.subtree_control)"
    )
}

/// The quota in microseconds per period for `memory_mb`.
pub fn quota_us(memory_mb: u32) -> u64 {
    (PERIOD_US * u64::from(memory_mb)).div_ceil(u64::from(FULL_CORE_MB))
}

impl CpuQuota {
    pub fn new(memory_mb: u32) -> anyhow::Result<Self> {
        let quota = quota_us(memory_mb);
        // One per process started: a cgroup that ran another process may still owe it runtime.
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("cafe-bench-{}-{n}-{memory_mb}mb", std::process::id());
        let (dir, limits) = match hierarchy()? {
            Hierarchy::V1(root) => (
                root.join(&name),
                vec![
                    ("cpu.cfs_period_us", PERIOD_US.to_string()),
                    ("cpu.cfs_quota_us", quota.to_string()),
                ],
            ),
            Hierarchy::V2(root) => (
                root.join(&name),
                vec![("cpu.max", format!("{quota} {PERIOD_US}"))],
            ),
        };
        std::fs::create_dir_all(&dir).with_context(|| {
            format!(
                "cannot create the cgroup {} (the cold-start scenario needs root): ",
                dir.display()
            )
        })?;
        for (file, value) in limits {
            std::fs::write(dir.join(file), &value)
                .with_context(|| format!("{}: cannot write {value}", dir.join(file).display()))?;
        }
        let procs = CString::new(dir.join("cgroup.procs").to_string_lossy().as_bytes())?;
        Ok(Self { dir, procs })
    }

    /// `command`'s process joins the cgroup before it executes anything of its own, so that
    /// all of its start-up runs under the quota.
    pub fn apply(&self, command: &mut Command) {
        let procs = self.procs.clone();
        // SAFETY: between fork and exec only async-signal-safe calls: open, write, close, on a
        // path allocated before the fork.
        unsafe {
            command.pre_exec(move || {
                let fd = libc::open(procs.as_ptr(), libc::O_WRONLY);
                if fd < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                let written = libc::write(fd, b"0".as_ptr().cast(), 1);
                let error = std::io::Error::last_os_error();
                libc::close(fd);
                if written != 1 {
                    return Err(error);
                }
                Ok(())
            });
        }
    }
}

impl Drop for CpuQuota {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_share_of_a_core_follows_memory() {
        assert_eq!(quota_us(1769), PERIOD_US);
        assert_eq!(quota_us(128), 1448);
        assert_eq!(quota_us(1024), 11_578);
        // Never below the kernel's minimum quota of 1 ms.
        assert!(quota_us(128) >= 1000);
    }
}
