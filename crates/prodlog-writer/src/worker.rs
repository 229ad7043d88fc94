//! The worker thread of a [`Writer`](crate::Writer): waits for lines, takes the queue as one
//! batch, writes it (rotating between lines), retries a failing disk, and stops at
//! shutdown. The caller side is in `writer.rs`.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use crate::roll::report_line;
use crate::writer::{lock, Shared, RETRY, TICK};

impl Shared {
    /// The worker: waits for lines, writes them in batches, retries failures.
    pub(crate) fn run(self: Arc<Self>) {
        let mut pending: Vec<u8> = Vec::new();
        // The pieces of `pending`, in order: their length, and the number of their first
        // line (`None`: the writer's own report lines, not numbered).
        let mut pieces: Vec<(usize, Option<u64>)> = Vec::new();
        let mut last_sync = Instant::now();
        let mut unsynced = false;
        let mut idle_ticks = 0u32;
        // Lines waiting for a failing disk (0: writing works).
        let mut fault_lines = 0usize;
        loop {
            let mut st = lock(&self.state);
            let wait = if st.faulted { RETRY } else { TICK };
            if !pending.is_empty() {
                // The disk is failing: retry at a steady pace, whatever callers do meanwhile
                // (at shutdown too, until the shutdown timeout).
                let pause = st.give_up_at.map_or(RETRY, |t| {
                    RETRY.min(t.saturating_duration_since(Instant::now()))
                });
                st = self
                    .wake
                    .wait_timeout(st, pause)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            } else if st.queue.is_empty()
                && pending.is_empty()
                && st.flush_requested == st.flush_done
                && !st.stop
            {
                idle_ticks += 1;
                if idle_ticks > 100 && !unsynced {
                    // A second with nothing to do: sleep until a line arrives.
                    st.deep_sleep = true;
                    st = self.wake.wait(st).unwrap_or_else(PoisonError::into_inner);
                } else {
                    st = self
                        .wake
                        .wait_timeout(st, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            } else if st.queue.len() < self.wake_at
                && st.flush_requested == st.flush_done
                && !st.stop
                && !st.woken
            {
                st = self
                    .wake
                    .wait_timeout(st, wait)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            // The file first, then the queue: `freeze` takes them in this order too, so a
            // batch is either still in the queue or written when it looks.
            drop(st);
            let mut file = lock(&self.file);
            let mut st = lock(&self.state);
            if st.frozen {
                return;
            }
            st.woken = false;
            st.deep_sleep = false;
            // While earlier lines wait to be retried, the queue stays where it is: memory
            // stays bounded (callers that find it full count their lines as lost).
            let (mut batch, dropped, lost) = if pending.is_empty() {
                let spare = std::mem::take(&mut st.spare);
                (
                    std::mem::replace(&mut st.queue, spare),
                    std::mem::take(&mut st.dropped),
                    std::mem::take(&mut st.lost),
                )
            } else {
                (Vec::new(), 0, 0)
            };
            // The batch's lines are numbered from here (spool), and the queue is empty.
            let mut batch_tag = Some(st.queue_first);
            if pending.is_empty() {
                st.queue_first = st.next_line;
            }
            let flush_target = st.flush_requested;
            let stop = st.stop;
            self.room.notify_all();
            drop(st);
            if !batch.is_empty() || !pending.is_empty() || dropped + lost > 0 {
                idle_ticks = 0;
            }

            let mut report = Vec::new();
            if dropped > 0 {
                report_line(&mut report, &format!("prodlog dropped {dropped} lines"));
            }
            if lost > 0 {
                report_line(
                    &mut report,
                    &format!("prodlog could not write {lost} lines: the disk kept failing"),
                );
            }
            let ok = {
                let mut ok = true;
                // Earlier lines waiting for the disk first, piece by piece (each with its
                // numbering), then the reports, then the batch.
                while ok && !pieces.is_empty() {
                    let (len, tag) = pieces[0];
                    file.tag = tag;
                    match file.write_lines(&pending[..len]) {
                        Ok(()) => {
                            pending.drain(..len);
                            pieces.remove(0);
                            unsynced = true;
                        }
                        Err((e, rest)) => {
                            let keep = rest.len();
                            pending.drain(..len - keep);
                            pieces[0] = (keep, file.tag);
                            ok = false;
                            self.failed(&e, pending.iter().filter(|&&b| b == b'\n').count());
                        }
                    }
                }
                for (data, tag) in [(&mut report, None), (&mut batch, batch_tag)] {
                    if data.is_empty() || !ok {
                        continue;
                    }
                    file.tag = tag;
                    match file.write_lines(data) {
                        Ok(()) => {
                            data.clear();
                            unsynced = true;
                        }
                        Err((e, rest)) => {
                            let keep = rest.len();
                            let start = data.len() - keep;
                            data.drain(..start);
                            ok = false;
                            if tag.is_some() {
                                batch_tag = file.tag;
                            }
                            self.failed(&e, data.iter().filter(|&&b| b == b'\n').count());
                        }
                    }
                }
                file.tag = None;
                if unsynced {
                    if let Some(every) = self.fsync_every {
                        if last_sync.elapsed() >= every && file.sync().is_ok() {
                            last_sync = Instant::now();
                            unsynced = false;
                        }
                    } else {
                        unsynced = false;
                    }
                }
                ok
            };
            // What failed waits in `pending`, in order: pending, reports, then the batch.
            if !ok {
                if !report.is_empty() {
                    pieces.push((report.len(), None));
                    pending.append(&mut report);
                }
                if !batch.is_empty() {
                    pieces.push((batch.len(), batch_tag));
                    pending.append(&mut batch);
                }
            }
            self.pending_bytes
                .store(pending.len() as u64, Ordering::Relaxed);
            self.pending_lines.store(
                pending.iter().filter(|&&b| b == b'\n').count() as u64,
                Ordering::Relaxed,
            );
            let mut st = lock(&self.state);
            drop(file);
            st.faulted = !pending.is_empty();
            if ok || stop {
                st.flush_done = flush_target;
            }
            batch.clear();
            if batch.capacity() <= 2 * self.capacity {
                st.spare = batch;
            }
            self.done.notify_all();
            if fault_lines > 0 && pending.is_empty() {
                crate::safe::warn(&format!(
                    "writing to {} again after {} failed writes ({} lines lost meanwhile)",
                    self.path.display(),
                    self.failed_writes.load(Ordering::Relaxed),
                    self.lost_total.load(Ordering::Relaxed),
                ));
                fault_lines = 0;
            } else if !pending.is_empty() {
                fault_lines = pending.iter().filter(|&&b| b == b'\n').count();
            }
            // Stop once the queue is written — or, when the disk still fails at the shutdown
            // deadline, give up on what is left and count it.
            let give_up = !pending.is_empty() && st.give_up_at.is_none_or(|t| Instant::now() >= t);
            if stop && ((st.queue.is_empty() && pending.is_empty()) || give_up) {
                let left = pending
                    .iter()
                    .chain(&st.queue)
                    .filter(|&&b| b == b'\n')
                    .count() as u64;
                if left > 0 {
                    self.lost_total.fetch_add(left, Ordering::Relaxed);
                    st.queue.clear();
                    crate::safe::warn(&format!(
                        "{left} lines could not be written to {} before shutdown ({} lost in all)",
                        self.path.display(),
                        self.lost_total.load(Ordering::Relaxed),
                    ));
                }
                st.stopped = true;
                self.room.notify_all();
                self.done.notify_all();
                return;
            }
        }
    }
}
