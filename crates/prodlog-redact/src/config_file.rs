//! Reading a settings file an operator named, without trusting what is at the path.

use std::io::{self, Read};
use std::path::Path;

/// The largest settings file read (a rules file: gitleaks' whole default set is about 100 KB).
pub(crate) const MAX_CONFIG_BYTES: u64 = 8 << 20;

/// Reads a regular file of at most [`MAX_CONFIG_BYTES`] as UTF-8. A FIFO, a device
/// (`/dev/zero`) or a directory is refused before a byte is read (opened with
/// `O_NONBLOCK`, so a FIFO cannot hang the open either); a larger file is refused rather
/// than read to its end.
///
/// `prodlog-filter` has the same dozen lines for its directives file (`config_file.rs`): the two
/// crates share no dependency, and this is too small to be one.
pub(crate) fn read(path: &Path) -> io::Result<String> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut opts, libc::O_NONBLOCK);
    let file = opts.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, a device or a directory)",
        ));
    }
    let mut text = String::new();
    file.take(MAX_CONFIG_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {MAX_CONFIG_BYTES} bytes"),
        ));
    }
    Ok(text)
}
