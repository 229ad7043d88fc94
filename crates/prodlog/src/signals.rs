//! Lines logged before SIGTERM or SIGINT reach the disk, for programs without a handler.
//!
//! With the default disposition, SIGTERM (what `docker stop`, Kubernetes and systemd send)
//! and SIGINT (Ctrl-C) end the process at once: no destructor runs, so the guard never
//! drains the file queues. When — and only when — a signal still has its default
//! disposition at `init()`, prodlog installs a handler that wakes a thread of its own; the
//! thread logs one WARN line naming the signal, pushes every queue to its file, restores the
//! default disposition and raises the signal again, so the process ends exactly as it would
//! have (killed by the signal, exit status 128 + n for a shell).
//!
//! An application's own handling is never changed:
//! - a handler installed *before* `init()` (any library): prodlog installs nothing for that
//!   signal, and the application's shutdown drops the guard as usual;
//! - a handler installed *after* `init()` that replaces prodlog's (`ctrlc`, `sigaction`):
//!   prodlog's never runs;
//! - a handler installed after `init()` that calls the previous one too (tokio::signal and
//!   signal-hook chain to it): prodlog's handler sees that it is no longer the installed
//!   one and returns at once, so the application's graceful shutdown goes on unchanged.
//!
//! When the queues cannot be written within `PRODLOG_SHUTDOWN_MS` (a flood, a slow
//! disk), what is still queued is counted — on stderr and in the writer's `Stats::lost` —
//! and threads that log after that wait for the signal to end the process: every line
//! whose call returned is in the file or in that count, never neither, whatever the
//! rotation or compression was doing (a backup being gzipped stays uncompressed; its
//! `.gz.tmp` is left behind).
//!
//! SIGKILL cannot be caught, and `abort()` runs no handler: the lines in memory are lost
//! — those queued since the writer last took its batch (it takes one every 10 ms tick, or
//! at once when 256 KiB are queued; more only while the disk is slower than the
//! callers, up to `PRODLOG_QUEUE_BYTES / 2`) and the part of the batch being written
//! that the kernel had not taken yet. The panic hook flushes before a panic aborts. A
//! line the kernel cut short is repaired at the next start (see `prodlog-writer`).
//!
//! `unsafe` is allowed in this module only: `sigaction`, `pipe2`, `write` and `raise` have
//! no safe wrapper in std, and a handler must use nothing but async-signal-safe calls.

use std::io::Write as _;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Once;
use std::time::Duration;

/// The write end of the pipe the handler wakes the flushing thread with.
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

const SIGNALS: [(libc::c_int, &str); 2] = [(libc::SIGTERM, "SIGTERM"), (libc::SIGINT, "SIGINT")];

extern "C" fn on_signal(sig: libc::c_int) {
    // Only async-signal-safe calls here: sigaction, write, raise.
    // SAFETY: a zeroed sigaction is a valid out-parameter; the pointers are valid for the call.
    unsafe {
        let mut now: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(sig, std::ptr::null(), &mut now) == 0 && now.sa_sigaction != handler() {
            // Another handler replaced ours and chained to it: the application decides.
            return;
        }
        let fd = WAKE_FD.load(Ordering::Relaxed);
        let byte = sig as u8;
        if fd < 0 || libc::write(fd, (&raw const byte).cast(), 1) != 1 {
            default_and_raise(sig);
        }
    }
}

fn handler() -> libc::sighandler_t {
    on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t
}

/// Restores the default disposition and sends the signal again (ends the process).
fn default_and_raise(sig: libc::c_int) {
    // SAFETY: plain libc calls with a valid signal number.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// Installs the handler for each of SIGTERM and SIGINT whose disposition is still the
/// default (once per process).
pub(crate) fn install(shutdown_timeout: Duration) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let mut fds = [-1; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            let _ = writeln!(
                std::io::stderr(),
                "prodlog: no flush on SIGTERM/SIGINT: cannot create a pipe"
            );
            return;
        }
        let read = fds[0];
        let spawned = std::thread::Builder::new()
            .name("prodlog-signals".into())
            .spawn(move || flush_on_signal(read, shutdown_timeout));
        if spawned.is_err() {
            let _ = writeln!(
                std::io::stderr(),
                "prodlog: no flush on SIGTERM/SIGINT: cannot start a thread"
            );
            return;
        }
        WAKE_FD.store(fds[1], Ordering::Relaxed);
        for (sig, _) in SIGNALS {
            // SAFETY: sigaction with valid pointers; the handler is async-signal-safe.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, std::ptr::null(), &mut old) != 0
                    || old.sa_sigaction != libc::SIG_DFL
                {
                    continue; // the application (or its parent, with SIG_IGN) chose already
                }
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = handler();
                new.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut new.sa_mask);
                libc::sigaction(sig, &new, std::ptr::null_mut());
            }
        }
    });
}

/// The thread the handler wakes: says which signal came, flushes, then lets it end the
/// process.
fn flush_on_signal(read: libc::c_int, timeout: Duration) {
    loop {
        let mut byte = 0u8;
        // SAFETY: reading one byte into a valid buffer.
        let n = unsafe { libc::read(read, (&raw mut byte).cast(), 1) };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        if n != 1 {
            return;
        }
        let sig = libc::c_int::from(byte);
        let name = SIGNALS
            .iter()
            .find(|(s, _)| *s == sig)
            .map_or("a signal", |(_, n)| n);
        tracing::warn!(
            target: "prodlog",
            signal = name,
            "received {name}: flushing the logs, then ending the process"
        );
        // Not stdout: it is line-buffered (every console line is already out), and the
        // application may hold its lock forever (a loop over `stdout().lock()`).
        prodlog_limit::flush_all();
        // The flight recorder's requests that already failed, before the files close.
        prodlog_format::write_failed_requests();
        // Drained and stopped: a line logged from now on is written before its call
        // returns, so every line a caller saw logged is on disk when the signal ends us.
        prodlog_writer::shutdown_all(timeout);
        #[cfg(feature = "network")]
        prodlog_ship::shutdown_all(timeout);
        default_and_raise(sig);
        // Only if the signal is blocked in this thread.
        std::process::exit(128 + sig);
    }
}

/// Flushes every writer and network destination when the process ends through
/// `exit(3)` — `std::process::exit` included, which runs no destructor, so the guard's
/// drop never comes. Registered once, with `atexit`; after a normal return from `main`
/// the guard has already shut everything down and this finds nothing left to do.
pub(crate) fn install_exit_flush() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        extern "C" fn at_exit() {
            // Never unwind into libc.
            let _ = std::panic::catch_unwind(crate::flush);
        }
        // SAFETY: registers a plain `extern "C" fn()` that lives for the whole program.
        unsafe {
            libc::atexit(at_exit);
        }
    });
}
