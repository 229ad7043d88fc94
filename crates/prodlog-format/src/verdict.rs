//! Each value scanned for secrets once per event, when the JSON line and the console line
//! both show it.
//!
//! The JSON formatter runs first (the preset puts it before the console) and remembers, per
//! thread, the event values its redactor left unchanged: the text of each of the first
//! [`SLOTS`] fields, by field index. The console formatter, redacting with the same
//! redactor (a clone: same [`Redactor::id`]), compares its value with the remembered text
//! and skips the scan when they are equal. The verdict is a function of the redactor and
//! the text alone, so an equal text is clean whichever event it was remembered from: a
//! stale slot can only cost a scan, never let a secret through.
//!
//! Remembering costs a copy of each clean value, so the JSON formatter does it only while a
//! redacting console formatter exists in the process.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

use prodlog_redact::Redactor;

/// Fields remembered per event: the first ones of a callsite (the message is field 0).
const SLOTS: usize = 8;
/// Longer values are scanned twice (a copy of them would evict more than it saves).
const MAX_TEXT: usize = 4096;

/// Console formatters alive that would read a verdict.
static READERS: AtomicUsize = AtomicUsize::new(0);

struct Clean {
    redactor: u64,
    /// A bit per slot holding a text.
    valid: u8,
    texts: [String; SLOTS],
}

thread_local! {
    static CLEAN: RefCell<Clean> = const {
        RefCell::new(Clean {
            redactor: 0,
            valid: 0,
            texts: [const { String::new() }; SLOTS],
        })
    };
}

/// Held by a formatter that reads verdicts: while one exists, the JSON formatter keeps them.
#[derive(Debug)]
pub(crate) struct Reader(());

impl Reader {
    pub(crate) fn new() -> Self {
        READERS.fetch_add(1, Ordering::Relaxed);
        Reader(())
    }
}

impl Clone for Reader {
    fn clone(&self) -> Self {
        Reader::new()
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        READERS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `text`, the value of the event's field `index`, passed `redactor` unchanged.
#[inline]
pub(crate) fn remember(index: usize, text: &str, redactor: &Redactor) {
    if index >= SLOTS || text.len() > MAX_TEXT || READERS.load(Ordering::Relaxed) == 0 {
        return;
    }
    keep(index, text, redactor.id());
}

fn keep(index: usize, text: &str, id: u64) {
    let _ = CLEAN.try_with(|c| {
        let Ok(mut c) = c.try_borrow_mut() else {
            return;
        };
        if c.redactor != id {
            c.redactor = id;
            c.valid = 0;
        }
        let slot = &mut c.texts[index];
        slot.clear();
        slot.push_str(text);
        c.valid |= 1 << index;
    });
}

/// Whether `text`, the value of the event's field `index`, is one `redactor` was seen to
/// leave unchanged.
#[inline]
pub(crate) fn known_clean(index: usize, text: &str, redactor: &Redactor) -> bool {
    index < SLOTS
        && CLEAN
            .try_with(|c| {
                c.try_borrow().is_ok_and(|c| {
                    c.redactor == redactor.id()
                        && c.valid >> index & 1 != 0
                        && c.texts[index] == text
                })
            })
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_holds_only_for_the_same_text_and_redactor() {
        let r = Redactor::default();
        let other = Redactor::builder().build().expect("the built-in rules");
        let _reader = Reader::new();
        remember(0, "payment processed", &r);
        assert!(known_clean(0, "payment processed", &r));
        assert!(known_clean(0, "payment processed", &r.clone()));
        assert!(!known_clean(0, "payment processed!", &r), "another text");
        assert!(!known_clean(1, "payment processed", &r), "another field");
        assert!(
            !known_clean(0, "payment processed", &other),
            "another redactor"
        );
        remember(0, "refund issued", &r);
        assert!(
            !known_clean(0, "payment processed", &r),
            "the slot was reused"
        );
        remember(SLOTS, "x", &r);
        assert!(!known_clean(SLOTS, "x", &r));
    }
}
