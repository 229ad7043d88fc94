//! The reused per-thread line buffer.

use std::cell::RefCell;

/// Lines bigger than this give their memory back after use.
const KEEP_CAPACITY: usize = 64 * 1024;

thread_local! {
    static BUF: RefCell<String> = RefCell::new(String::with_capacity(1024));
}

/// Runs `f` with a cleared, reused buffer; a re-entrant call (a `Debug` impl that logs)
/// gets a fresh buffer instead of a panic.
pub(crate) fn with_buf<R>(f: impl FnOnce(&mut String) -> R) -> R {
    let mut f = Some(f);
    let reused = BUF
        .try_with(|cell| {
            let mut buf = cell.try_borrow_mut().ok()?;
            buf.clear();
            let out = (f.take()?)(&mut buf);
            if buf.capacity() > KEEP_CAPACITY {
                buf.clear();
                buf.shrink_to(1024);
            }
            Some(out)
        })
        .ok()
        .flatten();
    match reused {
        Some(out) => out,
        None => match f {
            Some(f) => f(&mut String::new()),
            // `f` ran but returned through the reused path: unreachable in practice.
            None => unreachable!("with_buf: closure consumed without a result"),
        },
    }
}
