//! The bounded queue between the callers and one destination's sending thread.

use std::io;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::Stats;

/// How one destination sends a batch of whole lines (prodlog JSON, each ending in `\n`).
pub(crate) trait Transport: Send + 'static {
    /// A short name for messages: `otlp http://127.0.0.1:4318/v1/logs`.
    fn describe(&self) -> String;
    /// Sends every line of `lines`. An error of kind [`io::ErrorKind::InvalidData`] means
    /// the destination refused the data itself: retrying it would fail again, so the batch
    /// is counted as rejected. Any other error is retried.
    ///
    /// `stop` is raised when a shutdown gives up on the lines (its time ran out): a send
    /// that can stop between writes (a TCP stream) stops there, so the lines it had not
    /// written yet stay counted as dropped and are not delivered behind that count.
    fn send(&mut self, lines: &[&[u8]], stop: &AtomicBool) -> io::Result<()>;
    /// After `send` failed: how many of its first lines were delivered all the same (the
    /// kernel took their bytes), so they are counted as sent and not sent twice.
    fn delivered_before_error(&mut self) -> usize {
        0
    }
    /// After `send` failed: how long the destination asked to be left alone (an HTTP
    /// `Retry-After`), which the next try waits whatever the backoff.
    fn retry_after(&mut self) -> Option<Duration> {
        None
    }
}

/// Settings of the queue in front of a transport.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueueSettings {
    /// Bytes of lines held (queued, plus the batch being sent or retried), at most.
    pub(crate) max_bytes: usize,
    /// How long the thread waits for more lines before sending a batch.
    pub(crate) linger: Duration,
    /// The most lines one call to the transport gets.
    pub(crate) max_batch_lines: usize,
}

struct State {
    queued: Vec<u8>,
    /// Lines taken by the thread and not yet sent (kept while the destination fails).
    held_bytes: usize,
    /// Lines in the thread's batch.
    held_lines: u64,
    closing: bool,
    /// The shutdown's time ran out: what was queued or held was counted as dropped, and
    /// the thread only settles the count of a send already under way.
    abandoned: bool,
    /// Lines dropped since the last in-band report.
    dropped_unreported: u64,
    /// The thread has nothing in hand.
    idle: bool,
    /// With the local file as the spool (see `spool.rs`).
    pub(crate) spool: Option<crate::spool::SpoolState>,
}

impl State {
    /// Nothing is waiting in the file for this destination.
    fn caught_up(&self) -> bool {
        self.spool.as_ref().is_none_or(|sp| {
            sp.behind
                .is_none_or(|from| sp.stop_at.is_some_and(|stop| from >= stop))
        })
    }
}

pub(crate) struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    settled: Condvar,
    settings: QueueSettings,
    pub(crate) sent: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) rejected: AtomicU64,
    /// Lines that came after shutdown began (dropped: the process is ending).
    pub(crate) after_close: AtomicU64,
    /// Raised with `abandoned`, for a send under way (see [`Transport::send`]).
    stop: AtomicBool,
    last_report: AtomicU64,
    /// Why the last send failed, until one succeeds.
    pub(crate) last_error: Mutex<Option<String>>,
    pub(crate) name: String,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn stats(&self) -> Stats {
        Stats {
            sent: self.sent.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failed_sends: self.failed.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }

    /// Appends one line (with the source location of its event, when known), or drops and
    /// counts it when the queue is full. Never waits for the destination.
    ///
    /// Each queued entry is `- <line>\n`, or `@<len>:<file>:<line> <line>\n` with the
    /// source location ([`crate::line::Record::parse`] reads both).
    pub(crate) fn push(&self, line: &[u8], source: Option<(&str, u32)>, number: Option<u64>) {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        // One entry per line: a newline inside would split it (JSON lines have none).
        let source = source.filter(|(file, _)| !file.contains('\n'));
        let mut s = self.lock();
        let header = source.map_or(2, |(file, _)| file.len() + 16);
        let full = s.queued.len() + s.held_bytes + line.len() + header > self.settings.max_bytes;
        let closing = s.closing;
        if let (Some(sp), Some(n)) = (&mut s.spool, number) {
            if closing {
                // Logged during the shutdown: the file holds it, and the checkpoint sends
                // it from there at the next start.
                sp.stop_at = Some(sp.stop_at.map_or(n, |stop| stop.min(n)));
                return;
            }
            // A line the file holds: read from there when this destination is behind.
            if n < sp.live_from || sp.behind.is_some_and(|from| n >= from) {
                return;
            }
            if full && sp.behind.is_none() {
                sp.behind = Some(n);
                drop(s);
                self.wake.notify_one();
                return;
            }
            // (Below the point it fell behind at, a late line is queued even over the
            // bound: the file is read from that point only.)
            sp.queued_to = sp.queued_to.max(n + 1);
        } else if s.closing {
            drop(s);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            self.after_close.fetch_add(1, Ordering::Relaxed);
            return;
        } else if full {
            s.dropped_unreported += 1;
            drop(s);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let was_empty = s.queued.is_empty();
        match source {
            Some((file, at)) => {
                s.queued.push(b'@');
                s.queued
                    .extend_from_slice(itoa::Buffer::new().format(file.len()).as_bytes());
                s.queued.push(b':');
                s.queued.extend_from_slice(file.as_bytes());
                s.queued.push(b':');
                s.queued
                    .extend_from_slice(itoa::Buffer::new().format(at).as_bytes());
                s.queued.push(b' ');
            }
            None => s.queued.extend_from_slice(b"- "),
        }
        s.queued.extend_from_slice(line);
        s.queued.push(b'\n');
        drop(s);
        if was_empty {
            self.wake.notify_one();
        }
    }

    /// Waits until every line queued so far was sent (or given up on), at most `timeout`.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut s = self.lock();
        self.wake.notify_one();
        while !(s.queued.is_empty() && s.idle && s.caught_up()) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            s = self
                .settled
                .wait_timeout(s, left.min(Duration::from_millis(50)))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            self.wake.notify_one();
        }
        true
    }

    /// On stderr, at most once a minute.
    fn report(&self, what: &str) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last = self.last_report.load(Ordering::Relaxed);
        if (last == 0 || now >= last + 60)
            && self
                .last_report
                .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            // An error may quote the endpoint (a redirect's message names it, query and
            // all): through the redactor like the name.
            let what = prodlog_redact::Redactor::default()
                .redact_text(what)
                .into_owned();
            let _ = writeln!(std::io::stderr(), "prodlog: {}: {what}", self.name);
        }
    }
}

/// Starts the sending thread of `transport`.
pub(crate) fn start(
    transport: Box<dyn Transport>,
    settings: QueueSettings,
    feeder: Option<crate::spool::Feeder>,
) -> io::Result<(Arc<Shared>, JoinHandle<()>)> {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queued: Vec::with_capacity(settings.max_bytes.min(1 << 20)),
            held_bytes: 0,
            held_lines: 0,
            closing: false,
            abandoned: false,
            dropped_unreported: 0,
            idle: true,
            spool: feeder.as_ref().map(|f| crate::spool::SpoolState {
                // An earlier run's lines go first: everything comes from the file until
                // they are sent.
                behind: f.has_prelude().then_some(0),
                live_from: 0,
                queued_to: 0,
                stop_at: None,
                source: f.source.clone(),
            }),
        }),
        wake: Condvar::new(),
        settled: Condvar::new(),
        settings,
        sent: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        rejected: AtomicU64::new(0),
        after_close: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        last_report: AtomicU64::new(0),
        last_error: Mutex::new(None),
        // An endpoint may carry credentials (`tcp://user:pw@host`, `?api_key=`): the name
        // goes into stderr and into the log, so it is redacted once, here.
        name: prodlog_redact::Redactor::default()
            .redact_text(&transport.describe())
            .into_owned(),
    });
    let worker = shared.clone();
    let handle = std::thread::Builder::new()
        .name("prodlog-ship".to_owned())
        .spawn(move || run(&worker, transport, feeder))?;
    Ok((shared, handle))
}

/// Stops taking lines (later ones are dropped and counted), sends what is queued and
/// stops the thread, waiting at most `timeout`. False when lines were left unsent (the
/// thread counts them as dropped when its last attempt fails).
pub(crate) fn close(shared: &Shared, handle: JoinHandle<()>, timeout: Duration) -> bool {
    shared.lock().closing = true;
    shared.wake.notify_one();
    let flushed = shared.flush(timeout);
    if flushed {
        let _ = handle.join();
        return true;
    }
    // Time is up: every line not sent yet is counted as dropped now (the process may end
    // at any moment), so sent + dropped + rejected = lines logged. A send under way
    // settles its own lines when it ends (sent ones are moved back from dropped).
    let mut s = shared.lock();
    s.abandoned = true;
    shared.stop.store(true, Ordering::Relaxed);
    let queued = s.queued.iter().filter(|&&b| b == b'\n').count() as u64;
    s.queued.clear();
    let unsent = queued + s.held_lines;
    shared.dropped.fetch_add(unsent, Ordering::Relaxed);
    // A send under way stops between two writes and settles what it delivered: waited
    // for a moment, so the counts are final when this returns.
    let s = shared
        .settled
        .wait_timeout_while(s, Duration::from_millis(500), |s| !s.idle)
        .unwrap_or_else(PoisonError::into_inner)
        .0;
    drop(s);
    let _ = writeln!(
        std::io::stderr(),
        "prodlog: {}: {unsent} lines not sent at shutdown: the destination did not take them within {timeout:?}",
        shared.name
    );
    false
}

fn run(
    shared: &Shared,
    mut transport: Box<dyn Transport>,
    mut feeder: Option<crate::spool::Feeder>,
) {
    let settings = shared.settings;
    // Lines taken from the queue and not sent yet.
    let mut batch: Vec<u8> = Vec::with_capacity(settings.max_bytes.min(1 << 20));
    let mut backoff = Duration::ZERO;
    let mut failing = false;
    // What the batch in hand moves forward once it is sent: lines read from the file, or
    // the numbered lines of the memory queue up to this one.
    let mut advance: Option<crate::spool::Advance> = None;
    let mut queued_to: Option<u64> = None;
    loop {
        let mut s = shared.lock();
        if s.abandoned {
            // The shutdown counted what is left as dropped: nothing more goes out.
            s.held_lines = 0;
            s.idle = true;
            shared.settled.notify_all();
            return;
        }
        let mut from_file = None;
        if batch.is_empty() {
            loop {
                if !s.queued.is_empty() {
                    break;
                }
                from_file = crate::spool::file_work(s.spool.as_mut(), feeder.as_ref());
                if from_file.is_some() {
                    break;
                }
                let caught_up = s.caught_up();
                if s.closing && caught_up {
                    s.idle = true;
                    shared.settled.notify_all();
                    return;
                }
                s.idle = caught_up;
                shared.settled.notify_all();
                s = if caught_up {
                    shared.wake.wait(s).unwrap_or_else(PoisonError::into_inner)
                } else {
                    // Lines on their way to the file: looked for again shortly.
                    shared
                        .wake
                        .wait_timeout(s, Duration::from_millis(10))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                };
            }
            s.idle = false;
            // Let a burst gather into one batch.
            if from_file.is_none() && !s.closing && !settings.linger.is_zero() {
                drop(s);
                std::thread::sleep(settings.linger);
                s = shared.lock();
            }
        }
        if let (Some(from), Some(f)) = (from_file, feeder.as_mut()) {
            drop(s);
            let max = (settings.max_bytes / 2).clamp(64 * 1024, 4 << 20);
            match f.read(Some(from), &mut batch, max) {
                Ok(Some((adv, lost))) => {
                    advance = Some(adv);
                    if lost > 0 {
                        shared.dropped.fetch_add(lost, Ordering::Relaxed);
                        shared.lock().dropped_unreported += lost;
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    // The file cannot be read: its waiting lines are lost to this
                    // destination, counted, and it goes on from what is written now.
                    let mut s = shared.lock();
                    if let Some(sp) = &mut s.spool {
                        let written = sp.source.written();
                        let lost = written.saturating_sub(from);
                        sp.behind = Some(written.max(from));
                        s.dropped_unreported += lost;
                        shared.dropped.fetch_add(lost, Ordering::Relaxed);
                    }
                    drop(s);
                    shared.report(&format!("cannot read the spooled lines back: {e}"));
                }
            }
            s = shared.lock();
        }
        let dropped_report = match std::mem::take(&mut s.dropped_unreported) {
            0 => None,
            n => Some(dropped_line(n, &shared.name)),
        };
        if advance.is_some() {
            // A batch read from the file: the queue waits for the next one.
        } else if batch.is_empty() {
            // O(1) under the lock: the queue's buffer becomes the batch and the other way.
            std::mem::swap(&mut batch, &mut s.queued);
            queued_to = s.spool.as_ref().map(|sp| sp.queued_to);
        } else {
            batch.extend_from_slice(&s.queued);
            s.queued.clear();
            queued_to = s.spool.as_ref().map(|sp| sp.queued_to);
        }
        s.held_bytes = batch.len();
        s.held_lines = batch.iter().filter(|&&b| b == b'\n').count() as u64;
        let closing = s.closing;
        drop(s);
        if let Some(report) = dropped_report {
            batch.extend_from_slice(report.as_bytes());
        }

        let lines: Vec<&[u8]> = batch
            .split_inclusive(|&b| b == b'\n')
            .filter(|l| l.len() > 1)
            .collect();
        // Lines done with: delivered, or refused for good (counted apart, not as sent).
        let mut sent_lines = 0;
        let mut delivered = 0;
        let mut error = None;
        for chunk in lines.chunks(settings.max_batch_lines.max(1)) {
            match transport.send(chunk, &shared.stop) {
                Ok(()) => {
                    sent_lines += chunk.len();
                    delivered += chunk.len();
                }
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    shared
                        .rejected
                        .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    let why = format!("the destination rejected {} lines: {e}", chunk.len());
                    shared.report(&why);
                    *shared
                        .last_error
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) = Some(why);
                    sent_lines += chunk.len();
                }
                Err(e) => {
                    let partly = transport.delivered_before_error().min(chunk.len());
                    sent_lines += partly;
                    delivered += partly;
                    error = Some(e);
                    break;
                }
            }
        }
        shared.sent.fetch_add(delivered as u64, Ordering::Relaxed);
        {
            let mut s = shared.lock();
            if s.abandoned {
                // These lines were counted as dropped when the shutdown gave up on them.
                let settled = (sent_lines as u64).min(s.held_lines);
                shared.dropped.fetch_sub(settled, Ordering::Relaxed);
                s.held_lines = 0;
                s.idle = true;
                shared.settled.notify_all();
                return;
            }
            s.held_lines -= (sent_lines as u64).min(s.held_lines);
        }
        // Keep what was not sent.
        let consumed: usize = lines[..sent_lines].iter().map(|l| l.len()).sum();
        let consumed = if sent_lines == lines.len() {
            batch.len()
        } else {
            consumed
        };
        batch.drain(..consumed);
        match error {
            None => {
                if failing {
                    failing = false;
                    let _ = writeln!(std::io::stderr(), "prodlog: {}: sending again", shared.name);
                }
                backoff = Duration::ZERO;
                shared.lock().held_bytes = 0;
                if let Some(f) = feeder.as_mut() {
                    if let Some(adv) = advance.take() {
                        if let crate::spool::Advance::Lines(to) = adv {
                            if let Some(sp) = &mut shared.lock().spool {
                                sp.behind = sp.behind.map(|from| from.max(to));
                            }
                        }
                        f.advanced(adv);
                    } else if let Some(to) = queued_to.take() {
                        f.acknowledged(to);
                    }
                }
                if delivered > 0 {
                    *shared
                        .last_error
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) = None;
                }
            }
            Some(e) => {
                shared.failed.fetch_add(1, Ordering::Relaxed);
                failing = true;
                *shared
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(
                    prodlog_redact::Redactor::default()
                        .redact_text(&e.to_string())
                        .into_owned(),
                );
                shared.report(&format!(
                    "cannot send ({e}); {} bytes held, retrying",
                    batch.len()
                ));
                if closing {
                    let lost = batch.iter().filter(|&&b| b == b'\n').count() as u64;
                    batch.clear();
                    // Not acknowledged: the checkpoint stays before these lines (the
                    // thread ends here).
                    // Counted here or by the shutdown that gave up on them, never both.
                    let mut s = shared.lock();
                    // Lines that also wait in the file, for the next start.
                    let waiting = s.spool.as_mut().map_or(0, |sp| {
                        let from = sp.behind.take().unwrap_or(sp.queued_to);
                        sp.stop_at = None;
                        sp.source.queued().saturating_sub(from)
                    });
                    if !s.abandoned {
                        shared.dropped.fetch_add(lost, Ordering::Relaxed);
                        let resumes = feeder.as_ref().and_then(|f| f.resumes());
                        let _ = match resumes {
                            Some(file) => writeln!(
                                std::io::stderr(),
                                "prodlog: {}: the destination is away at shutdown ({e}): {} lines are not sent now; they are in {} and the next start sends them",
                                shared.name,
                                lost.max(waiting),
                                file.display()
                            ),
                            None => writeln!(
                                std::io::stderr(),
                                "prodlog: {}: {lost} lines not sent at shutdown ({e})",
                                shared.name
                            ),
                        };
                    }
                    s.held_bytes = 0;
                    s.held_lines = 0;
                    s.idle = true;
                    shared.settled.notify_all();
                    return;
                }
                backoff = (backoff * 2).clamp(Duration::from_millis(100), Duration::from_secs(5));
                // Jitter: a fleet that lost its collector at once does not come back in
                // step. The wait is between half the backoff and all of it, or exactly what
                // the destination asked for.
                let wait = match transport.retry_after() {
                    Some(asked) => asked,
                    None => backoff / 2 + backoff.mul_f64(crate::retry::jitter() / 2.0),
                };
                // Sleep the whole wait: new lines also wake this condition variable, and
                // must not make a down destination be tried again sooner. Only a shutdown
                // ends the wait early.
                let s = shared.lock();
                let _ = shared
                    .wake
                    .wait_timeout_while(s, wait, |s| !s.closing)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
    }
}

/// The in-band report of dropped lines, a prodlog JSON line like any other.
fn dropped_line(n: u64, name: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let (secs, micros) = (now.as_secs(), now.subsec_micros());
    let mut line = String::from("- {\"timestamp\":\"");
    line.push_str(&crate::line::rfc3339(secs, micros));
    line.push_str("\",\"level\":\"WARN\",\"target\":\"prodlog\",\"message\":");
    line.push_str(
        &serde_json::to_string(&format!(
            "prodlog dropped {n} lines for {name}: the queue was full"
        ))
        .unwrap_or_default(),
    );
    line.push_str(",\"dropped\":");
    line.push_str(&n.to_string());
    line.push_str("}\n");
    line
}
