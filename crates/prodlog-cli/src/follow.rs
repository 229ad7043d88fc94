//! `view --follow`: new lines of the live files as they come, through rotation.
//!
//! - A file rotated away (another inode at its name, or shorter than what was read) is read
//!   to its end through the descriptor already open, then the backups that came between
//!   (when it rotated more than once between two polls: `app.log.2`, `app.log.1`, found
//!   by inode among the uncompressed backups) are read whole, oldest first, then the new
//!   file from its start: each line once, none skipped.
//! - A directory named on the command line is looked at again on every poll: a log that
//!   appears later (a service not started yet) is followed from its first line.

use std::collections::HashSet;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::files;
use crate::render::Style;
use crate::view::{emit, Filter};

struct Live {
    path: PathBuf,
    file: Option<std::fs::File>,
    inode: u64,
    pos: u64,
    partial: Vec<u8>,
}

/// A current file (not a numbered backup, not `.gz`, not hidden).
fn is_current(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let numbered = name
        .rsplit('.')
        .next()
        .is_some_and(|s| s.parse::<u64>().is_ok());
    !(name.ends_with(".gz") || numbered || name.starts_with('.'))
}

fn open_live(p: &Path, from_start: bool) -> Live {
    let file = files::open_regular(p, false).ok();
    let meta = file.as_ref().and_then(|f| f.metadata().ok());
    Live {
        path: p.to_owned(),
        inode: meta.as_ref().map_or(0, |m| m.ino()),
        pos: if from_start {
            0
        } else {
            meta.as_ref().map_or(0, |m| m.len())
        },
        file,
        partial: Vec::new(),
    }
}

/// The backups of `path` that came after the file of inode `old` (rotated more than once
/// since the last poll), oldest first: `path.k-1` … `path.1` when the old file is `path.k`.
fn between(path: &Path, old: u64) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for i in 1..=10_000 {
        let mut p = path.as_os_str().to_owned();
        p.push(format!(".{i}"));
        let p = PathBuf::from(p);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.ino() == old => {
                found.reverse();
                return found;
            }
            Ok(m) if m.is_file() => found.push(p),
            _ => return Vec::new(),
        }
    }
    Vec::new()
}

/// Follows `paths` (the current files among them) and the directories among `named`,
/// until the process is stopped or the reader goes away.
pub(crate) fn follow(
    named: &[PathBuf],
    paths: &[PathBuf],
    filter: &Filter,
    json: bool,
    style: Style,
) {
    let mut live: Vec<Live> = paths
        .iter()
        .filter(|p| is_current(p))
        .map(|p| open_live(p, false))
        .collect();
    let mut known: HashSet<PathBuf> = live.iter().map(|l| l.path.clone()).collect();
    let dirs: Vec<&PathBuf> = named.iter().filter(|p| p.is_dir()).collect();
    let mut text = String::new();
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        // Logs that appeared in a followed directory: from their first line.
        for dir in &dirs {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for p in entries.filter_map(|e| e.ok().map(|e| e.path())) {
                let regular = std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_file());
                if regular && is_current(&p) && !known.contains(&p) {
                    known.insert(p.clone());
                    live.push(open_live(&p, true));
                }
            }
        }
        let mut any = false;
        for l in &mut live {
            let mut out = std::io::stdout().lock();
            // What is at the name now, not what a symlink there points to.
            if let Ok(meta) = std::fs::symlink_metadata(&l.path) {
                if meta.ino() != l.inode || meta.len() < l.pos {
                    // Rotated (or truncated): the rest of the old file first, then the
                    // backups that came between, then the new one — only if it is a
                    // regular file itself (not a symlink swapped in, a FIFO or a device).
                    //
                    // prodlog's writers rotate under an exclusive `flock` of the directory,
                    // renaming every backup up one: under a shared lock, the backups and
                    // the new file are seen between two rotations, not halfway through one.
                    let dir = l.path.parent().filter(|d| !d.as_os_str().is_empty());
                    let dir = std::fs::File::open(dir.unwrap_or(Path::new(".")));
                    let _held = dir.as_ref().ok().and_then(|d| {
                        rustix::fs::flock(d, rustix::fs::FlockOperation::LockShared)
                            .ok()
                            .map(|()| d)
                    });
                    drain(l.file.as_mut(), &mut l.pos, &mut chunk, &mut l.partial);
                    if lines(&mut out, &mut l.partial, &mut text, filter, json, style).is_err() {
                        return;
                    }
                    let now = std::fs::symlink_metadata(&l.path).map_or(0, |m| m.ino());
                    if now != l.inode && l.inode != 0 {
                        for p in between(&l.path, l.inode) {
                            let Ok(mut f) = files::open_regular(&p, true) else {
                                continue;
                            };
                            let mut at = 0;
                            let mut buf = Vec::new();
                            drain(Some(&mut f), &mut at, &mut chunk, &mut buf);
                            if lines(&mut out, &mut buf, &mut text, filter, json, style).is_err() {
                                return;
                            }
                        }
                    }
                    l.partial.clear();
                    l.file = files::open_regular(&l.path, true).ok();
                    let opened = l
                        .file
                        .as_ref()
                        .and_then(|f| f.metadata().ok())
                        .map(|m| m.ino());
                    if opened.is_none() && now != l.inode {
                        eprintln!(
                            "prodlog view: {}: not followed (no longer a regular file of its own)",
                            l.path.display()
                        );
                    }
                    // The inode of the file opened, not of what was at the name before.
                    l.inode = opened.unwrap_or(now);
                    l.pos = 0;
                }
            }
            let before = l.partial.len();
            let got = drain(l.file.as_mut(), &mut l.pos, &mut chunk, &mut l.partial);
            if got == 0 && l.partial.len() == before {
                if out.flush().is_err() {
                    return;
                }
                continue;
            }
            any = true;
            if lines(&mut out, &mut l.partial, &mut text, filter, json, style).is_err() {
                return;
            }
            if l.partial.len() > files::MAX_LINE {
                l.partial.clear();
            }
            if out.flush().is_err() {
                return;
            }
        }
        if !any {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Writes the whole lines of `partial` (keeping a last unfinished one).
fn lines(
    out: &mut impl Write,
    partial: &mut Vec<u8>,
    text: &mut String,
    filter: &Filter,
    json: bool,
    style: Style,
) -> std::io::Result<()> {
    let mut done = 0;
    while let Some(nl) = memchr::memchr(b'\n', &partial[done..]) {
        let line = &partial[done..done + nl];
        let raw = files::text(line).into_owned();
        done += nl + 1;
        emit(out, text, raw.trim_end_matches('\r'), filter, json, style)?;
    }
    partial.drain(..done);
    Ok(())
}

/// Reads what is new in `file` from `pos` into `partial`; the bytes read.
fn drain(
    file: Option<&mut std::fs::File>,
    pos: &mut u64,
    chunk: &mut [u8],
    partial: &mut Vec<u8>,
) -> usize {
    let Some(f) = file else { return 0 };
    if f.seek(std::io::SeekFrom::Start(*pos)).is_err() {
        return 0;
    }
    let mut total = 0;
    loop {
        match f.read(chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                partial.extend_from_slice(&chunk[..n]);
                *pos += n as u64;
                total += n;
                if partial.len() > 4 * files::MAX_LINE {
                    break;
                }
            }
        }
    }
    total
}
