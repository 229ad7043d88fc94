//! A small tmpfs for full-disk tests, shared by the workspace's tests and
//! prodlog-writer's (which include this file by path).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of `size` mounted for the test, unmounted when dropped (before its temporary
/// parent directory is removed).
pub struct SmallDisk(pub PathBuf, #[allow(dead_code)] tempfile::TempDir);

impl SmallDisk {
    /// Mounts it, or says on stderr why it cannot (the caller then skips its test).
    pub fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let mnt = dir.path().join("mnt");
        fs::create_dir(&mnt).ok()?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&mnt)
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "skipped: cannot mount a tmpfs ({})",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        Some(SmallDisk(mnt, dir))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Writes `path` until the disk has not one byte left.
#[allow(dead_code)]
pub fn fill(path: &Path) {
    let mut f = fs::File::create(path).unwrap();
    let block = vec![b'f'; 4096];
    while f.write_all(&block).is_ok() {}
    while f.write_all(b"f").is_ok() {}
}

/// Frees `bytes` of `filler` by shortening it; returns how many bytes it still holds.
#[allow(dead_code)]
pub fn free(filler: &Path, bytes: u64) -> u64 {
    let f = fs::OpenOptions::new().write(true).open(filler).unwrap();
    let len = f.metadata().unwrap().len().saturating_sub(bytes);
    f.set_len(len).unwrap();
    len
}
