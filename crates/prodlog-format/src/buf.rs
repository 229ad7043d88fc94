//! The reused per-thread line buffer.

use std::cell::Cell;

/// Lines bigger than this give their memory back after use.
const KEEP_CAPACITY: usize = 64 * 1024;

thread_local! {
    static BUF: Cell<String> = const { Cell::new(String::new()) };
    static SCRATCH: Cell<String> = const { Cell::new(String::new()) };
}

/// Runs `f` with a cleared buffer reused across events on this thread.
///
/// The buffer is taken out of the thread-local and put back afterwards, so a re-entrant
/// call (a `Debug` impl that logs) simply finds an empty buffer, and a call during thread
/// teardown works on a fresh one: no borrow flag, no panic path.
pub(crate) fn with_buf<R>(f: impl FnOnce(&mut String) -> R) -> R {
    with(&BUF, f)
}

/// A second reused buffer, for a value that must be formatted before it is redacted and
/// escaped into the line.
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut String) -> R) -> R {
    with(&SCRATCH, f)
}

fn with<R>(
    key: &'static std::thread::LocalKey<Cell<String>>,
    f: impl FnOnce(&mut String) -> R,
) -> R {
    let mut buf = key.try_with(Cell::take).unwrap_or_default();
    buf.clear();
    let out = f(&mut buf);
    if buf.capacity() > KEEP_CAPACITY {
        buf = String::new();
    }
    let _ = key.try_with(|cell| cell.set(buf));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reentrant_calls_get_their_own_buffer_and_the_outer_keeps_its_capacity() {
        let inner = with_buf(|outer| {
            outer.push_str("outer");
            let inner = with_buf(|b| {
                assert!(b.is_empty(), "the inner call must not see the outer line");
                b.push_str("inner");
                b.clone()
            });
            assert_eq!(
                outer, "outer",
                "the inner call must not clobber the outer line"
            );
            inner
        });
        assert_eq!(inner, "inner");
        with_buf(|b| {
            assert!(b.is_empty());
            assert!(b.capacity() >= 5, "the outer buffer was put back for reuse");
        });
    }
}
