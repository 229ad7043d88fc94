//! The flight recorder: while a `request` span is open, the events below the outputs'
//! levels (down to the recorder's level) are kept for that request instead of dropped.
//! When the request closes, they are written — in order, with their own timestamps and
//! context, marked `"recorded":true` — if it failed or was slow, and discarded otherwise.
//!
//! # What is kept, and why it is cheap
//!
//! An event is not formatted when it is recorded: its field values are copied into the
//! request's byte arena (integers, floats and booleans as 8 bytes, strings as they are;
//! `Debug` and `Display` values — the message among them — rendered once, since they
//! cannot outlive the event), with its callsite, its time and the span chain it was in (an
//! `Arc` already rendered for the lines, shared). Formatting happens only for the
//! requests that are written: the recorded event is rebuilt as a `tracing` event of its
//! own callsite and goes through the same formatter, redactor and destinations as every
//! line. So a recorded and discarded event costs a copy of its values, not a JSON line
//! (bench row `record`).
//!
//! # Bounds
//!
//! Per request: at most `max_events` events and `max_bytes` bytes; past them the oldest are
//! dropped, and the written request says how many. Across requests: `budget` bytes; past
//! it, new requests do not record (counted as refused). A request open longer than
//! `max_age` (a leaked span) has its events discarded and records no more.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tracing_core::field::{Field, Visit};
use tracing_core::{Event, LevelFilter, Metadata};

use crate::chain::Chain;

/// How the flight recorder is set (see the module docs). `Default`: DEBUG, 1,000 events
/// and 256 KiB per request, 64 MiB in all, 5 minutes at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordSettings {
    /// The most verbose level recorded (`DEBUG`: DEBUG events are kept, TRACE ones not).
    pub level: LevelFilter,
    /// Per request, events and bytes kept at most (the oldest go first).
    pub max_events: usize,
    /// Per request, bytes of captured values kept at most.
    pub max_bytes: usize,
    /// Bytes held by all open requests at most: past it, new requests do not record.
    pub budget: usize,
    /// A request open longer than this records no more, and what it held is discarded.
    pub max_age: Duration,
}

impl Default for RecordSettings {
    fn default() -> Self {
        RecordSettings {
            level: LevelFilter::DEBUG,
            max_events: 1000,
            max_bytes: 256 * 1024,
            budget: 64 << 20,
            max_age: Duration::from_secs(300),
        }
    }
}

/// The recorder's counters. Every recorded event ends in exactly one of `written`,
/// `discarded` and `dropped`, or is still held by an open request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordStats {
    /// Events kept for a request.
    pub recorded: u64,
    /// Recorded events written, their request having failed or been slow.
    pub written: u64,
    /// Recorded events discarded: their request succeeded (or the process ended first).
    pub discarded: u64,
    /// Recorded events dropped by a bound (a request's, or its age).
    pub dropped: u64,
    /// Requests that did not record: the global budget was used up.
    pub refused: u64,
    /// Bytes of captured values held by the open requests now.
    pub held_bytes: u64,
}

impl RecordStats {
    /// What an open request costs the recorder besides its events' bytes: its recording
    /// (counters, lock, the arena's header) and the span extension that points to it.
    pub const REQUEST_BYTES: usize =
        std::mem::size_of::<Recording>() + 2 * std::mem::size_of::<usize>() + 16;
}

/// The recorder's shared state.
#[derive(Debug)]
pub(crate) struct Recorder {
    pub(crate) settings: RecordSettings,
    recorded: AtomicU64,
    written: AtomicU64,
    discarded: AtomicU64,
    dropped: AtomicU64,
    refused: AtomicU64,
    /// Bytes held by open requests.
    used: AtomicUsize,
    /// The open requests (for the shutdown, and for sweeping leaked ones).
    open: Mutex<Vec<Weak<Recording>>>,
    /// Arenas of closed requests, for new ones: a steady state allocates nothing.
    spare: Mutex<Vec<Buf>>,
}

/// One request's recording.
#[derive(Debug)]
pub(crate) struct Recording {
    buf: Mutex<Buf>,
    /// Failed, slow or kept: written when it closes.
    pub(crate) keep: AtomicBool,
    started: Instant,
    /// The wall-clock time it opened (compared with the events' times).
    opened: SystemTime,
}

#[derive(Debug, Default)]
struct Buf {
    bytes: Vec<u8>,
    /// Where each event starts in `bytes`.
    starts: VecDeque<usize>,
    /// The callsites and span chains of the events, by index.
    metas: Vec<&'static Metadata<'static>>,
    chains: Vec<Arc<Chain>>,
    dropped: u64,
    /// Written or discarded: records no more.
    done: bool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Recorder {
    pub(crate) fn new(settings: RecordSettings) -> Recorder {
        Recorder {
            settings,
            recorded: AtomicU64::new(0),
            written: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            used: AtomicUsize::new(0),
            open: Mutex::new(Vec::new()),
            spare: Mutex::new(Vec::new()),
        }
    }

    /// An empty arena, reused when one is spare.
    fn fresh(&self) -> Buf {
        lock(&self.spare).pop().unwrap_or_else(|| Buf {
            bytes: Vec::with_capacity(4096),
            starts: VecDeque::with_capacity(64),
            metas: Vec::with_capacity(8),
            chains: Vec::with_capacity(8),
            dropped: 0,
            done: false,
        })
    }

    /// Gives an arena back (cleared), unless it grew large or many are spare.
    fn give_back(&self, mut b: Buf) {
        if b.bytes.capacity() > 64 * 1024 {
            return;
        }
        b.bytes.clear();
        b.starts.clear();
        b.metas.clear();
        b.chains.clear();
        b.dropped = 0;
        b.done = false;
        let mut spare = lock(&self.spare);
        if spare.len() < 256 {
            spare.push(b);
        }
    }

    pub(crate) fn stats(&self) -> RecordStats {
        RecordStats {
            recorded: self.recorded.load(Ordering::Relaxed),
            written: self.written.load(Ordering::Relaxed),
            discarded: self.discarded.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            held_bytes: self.used.load(Ordering::Relaxed) as u64,
        }
    }

    /// A recording for a new request, unless the budget is used up.
    pub(crate) fn open(&self) -> Option<Arc<Recording>> {
        if self.used.load(Ordering::Relaxed) >= self.settings.budget {
            self.sweep();
            if self.used.load(Ordering::Relaxed) >= self.settings.budget {
                self.refused.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        }
        let rec = Arc::new(Recording {
            buf: Mutex::new(self.fresh()),
            keep: AtomicBool::new(false),
            started: Instant::now(),
            opened: SystemTime::now(),
        });
        let mut open = lock(&self.open);
        if open.len() >= 64 && open.len().is_power_of_two() {
            open.retain(|w| w.strong_count() > 0);
        }
        open.push(Arc::downgrade(&rec));
        Some(rec)
    }

    /// Discards what leaked requests (open past `max_age`) hold.
    fn sweep(&self) {
        let open: Vec<Arc<Recording>> = {
            let mut open = lock(&self.open);
            open.retain(|w| w.strong_count() > 0);
            open.iter().filter_map(Weak::upgrade).collect()
        };
        for rec in open {
            if rec.started.elapsed() > self.settings.max_age {
                self.expire(&rec);
            }
        }
    }

    fn expire(&self, rec: &Recording) {
        let mut b = lock(&rec.buf);
        if !b.done {
            let n = b.starts.len() as u64;
            self.dropped.fetch_add(n, Ordering::Relaxed);
            self.used.fetch_sub(b.bytes.len(), Ordering::Relaxed);
            *b = Buf {
                done: true,
                ..Buf::default()
            };
        }
    }

    /// Keeps `event` for `rec`.
    pub(crate) fn capture(
        &self,
        rec: &Recording,
        event: &Event<'_>,
        chain: Option<&Arc<Chain>>,
        time: SystemTime,
    ) {
        let mut b = lock(&rec.buf);
        if b.done {
            return;
        }
        // The age, against the event's own time (no clock read of its own).
        if time
            .duration_since(rec.opened)
            .is_ok_and(|age| age > self.settings.max_age)
        {
            drop(b);
            return self.expire(rec);
        }
        let chain_at = match chain {
            Some(c) => match b.chains.last() {
                Some(last) if Arc::ptr_eq(last, c) => b.chains.len() - 1,
                _ => {
                    b.chains.push(c.clone());
                    b.chains.len() - 1
                }
            },
            None => u32::MAX as usize,
        };
        let meta = event.metadata();
        let meta_at = match b.metas.iter().rposition(|m| std::ptr::eq(*m, meta)) {
            Some(i) => i,
            None => {
                b.metas.push(meta);
                b.metas.len() - 1
            }
        };
        let before = b.bytes.len();
        b.starts.push_back(before);
        let nanos = time
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        b.bytes.extend_from_slice(&(meta_at as u32).to_ne_bytes());
        b.bytes.extend_from_slice(&nanos.to_ne_bytes());
        b.bytes.extend_from_slice(&(chain_at as u32).to_ne_bytes());
        event.record(&mut Capture(&mut b.bytes));
        b.bytes.push(END);
        let grew = b.bytes.len() - before;
        self.recorded.fetch_add(1, Ordering::Relaxed);
        self.used.fetch_add(grew, Ordering::Relaxed);
        // Past the request's bounds: the oldest events go.
        if b.starts.len() > self.settings.max_events || b.bytes.len() > self.settings.max_bytes {
            let keep_events = self.settings.max_events * 3 / 4;
            let keep_bytes = self.settings.max_bytes * 3 / 4;
            let mut cut = 0;
            let mut gone = 0u64;
            while b.starts.len() > 1
                && (b.starts.len() > keep_events || b.bytes.len() - cut > keep_bytes)
            {
                b.starts.pop_front();
                cut = *b.starts.front().expect("more than one");
                gone += 1;
            }
            b.bytes.drain(..cut);
            for s in b.starts.iter_mut() {
                *s -= cut;
            }
            b.dropped += gone;
            self.dropped.fetch_add(gone, Ordering::Relaxed);
            self.used.fetch_sub(cut, Ordering::Relaxed);
        }
    }

    /// The request closed: its events, when it is to be written, for `write` (each rebuilt
    /// as an event, with its time and chain); counted as written or discarded.
    pub(crate) fn close(&self, rec: &Recording, write: impl FnMut(Replayed<'_>)) {
        self.finish(rec, rec.keep.load(Ordering::Relaxed), write);
    }

    /// At shutdown: failed requests still open are written, the others discarded.
    pub(crate) fn close_all(&self, write: impl FnMut(Replayed<'_>)) {
        let open: Vec<Arc<Recording>> = lock(&self.open).iter().filter_map(Weak::upgrade).collect();
        let mut write = write;
        for rec in open {
            self.finish(&rec, rec.keep.load(Ordering::Relaxed), &mut write);
        }
    }

    fn finish(&self, rec: &Recording, keep: bool, mut write: impl FnMut(Replayed<'_>)) {
        let b = {
            let mut b = lock(&rec.buf);
            if b.done {
                return;
            }
            std::mem::replace(
                &mut *b,
                Buf {
                    done: true,
                    ..Buf::default()
                },
            )
        };
        self.used.fetch_sub(b.bytes.len(), Ordering::Relaxed);
        let n = b.starts.len() as u64;
        if !keep {
            self.discarded.fetch_add(n, Ordering::Relaxed);
            self.give_back(b);
            return;
        }
        if b.dropped > 0 {
            write(Replayed::Dropped(b.dropped));
        }
        let mut at = 0;
        while at < b.bytes.len() {
            match replay(&b.bytes[at..], &b.metas, &b.chains, &mut write) {
                Some(len) => at += len,
                None => break,
            }
        }
        self.written.fetch_add(n, Ordering::Relaxed);
        self.give_back(b);
    }
}

/// One recorded event, rebuilt, or the note of how many were dropped.
pub(crate) enum Replayed<'a> {
    Event {
        event: &'a Event<'a>,
        time: SystemTime,
        chain: Option<&'a Chain>,
    },
    Dropped(u64),
}

const END: u8 = 0xff;
const I64: u8 = 0;
const U64: u8 = 1;
const F64: u8 = 2;
const BOOL: u8 = 3;
const STR: u8 = 4;
const DEBUG: u8 = 5;

/// Copies an event's values into the arena: `index, tag, payload` per field.
struct Capture<'a>(&'a mut Vec<u8>);

impl Capture<'_> {
    fn head(&mut self, field: &Field, tag: u8) {
        self.0.push(field.index().min(0xfe) as u8);
        self.0.push(tag);
    }

    fn text(&mut self, field: &Field, tag: u8, f: impl FnOnce(&mut Text<'_>)) {
        self.head(field, tag);
        let at = self.0.len();
        self.0.extend_from_slice(&[0; 4]);
        f(&mut Text(self.0));
        let len = (self.0.len() - at - 4) as u32;
        self.0[at..at + 4].copy_from_slice(&len.to_ne_bytes());
    }
}

struct Text<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Text<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

impl Visit for Capture<'_> {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.head(field, I64);
        self.0.extend_from_slice(&value.to_ne_bytes());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.head(field, U64);
        self.0.extend_from_slice(&value.to_ne_bytes());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.head(field, F64);
        self.0.extend_from_slice(&value.to_ne_bytes());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.head(field, BOOL);
        self.0.extend_from_slice(&u64::from(value).to_ne_bytes());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, STR, |t| t.0.extend_from_slice(value.as_bytes()));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.text(field, STR, |t| {
            let _ = write!(t, "{value}");
        });
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.text(field, DEBUG, |t| {
            let _ = write!(t, "{value:?}");
        });
    }
}

/// A value read back from the arena, as the `tracing` value it was (`Value` is sealed:
/// each variant holds a type that implements it).
enum Value<'a> {
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    Str(&'a str),
    Debug(tracing_core::field::DebugValue<Verbatim<'a>>),
}

impl Value<'_> {
    fn as_value(&self) -> &dyn tracing_core::field::Value {
        match self {
            Value::I64(v) => v,
            Value::U64(v) => v,
            Value::F64(v) => v,
            Value::Bool(v) => v,
            Value::Str(v) => v,
            Value::Debug(v) => v,
        }
    }
}

/// Renders as the text it was captured as (no quotes added, as the `Debug` it came from).
struct Verbatim<'a>(&'a str);

impl std::fmt::Debug for Verbatim<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Rebuilds the event at the start of `bytes` and hands it to `write`; returns its length.
fn replay(
    bytes: &[u8],
    metas: &[&'static Metadata<'static>],
    chains: &[Arc<Chain>],
    write: &mut impl FnMut(Replayed<'_>),
) -> Option<usize> {
    let word = |at: usize| -> Option<[u8; 8]> { bytes.get(at..at + 8)?.try_into().ok() };
    let quad = |at: usize| -> Option<usize> {
        Some(u32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize)
    };
    let meta = *metas.get(quad(0)?)?;
    let nanos = u64::from_ne_bytes(word(4)?);
    let chain_at = quad(12)?;
    let mut values: Vec<(usize, Value<'_>)> = Vec::with_capacity(8);
    let mut at = 16;
    loop {
        let index = *bytes.get(at)?;
        if index == END {
            at += 1;
            break;
        }
        let tag = *bytes.get(at + 1)?;
        at += 2;
        let value = match tag {
            I64 => Value::I64(i64::from_ne_bytes(word(at)?)),
            U64 => Value::U64(u64::from_ne_bytes(word(at)?)),
            F64 => Value::F64(f64::from_ne_bytes(word(at)?)),
            BOOL => Value::Bool(u64::from_ne_bytes(word(at)?) != 0),
            STR | DEBUG => {
                let len = u32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
                let text = std::str::from_utf8(bytes.get(at + 4..at + 4 + len)?).unwrap_or("");
                at += 4 + len;
                values.push((
                    usize::from(index),
                    if tag == STR {
                        Value::Str(text)
                    } else {
                        Value::Debug(tracing_core::field::debug(Verbatim(text)))
                    },
                ));
                continue;
            }
            _ => return None,
        };
        at += 8;
        values.push((usize::from(index), value));
    }
    let fields = meta.fields();
    let mut slots: Vec<Option<&dyn tracing_core::field::Value>> = vec![None; fields.len()];
    for (index, value) in &values {
        if let Some(slot) = slots.get_mut(*index) {
            *slot = Some(value.as_value());
        }
    }
    // `value_set_all`: one slot per field of the callsite, `None` for the fields the
    // event did not record.
    let set = fields.value_set_all(&slots);
    let event = Event::new(meta, &set);
    write(Replayed::Event {
        event: &event,
        time: UNIX_EPOCH + Duration::from_nanos(nanos),
        chain: chains.get(chain_at).map(|c| &**c),
    });
    Some(at)
}
