//! Runs one subject: `writers` threads started together, each doing one operation at a
//! time and timing it, until the plan says stop; a live progress line meanwhile.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use hdrhistogram::Histogram;

use super::workload::Plan;

/// One operation of a writer: does event `i`, returns the logical bytes it moved. It
/// lives on its writer's thread only, and may borrow what outlives the run.
pub(crate) type Op<'a> = Box<dyn FnMut(u64) -> Result<u64> + 'a>;

/// Latencies are recorded in nanoseconds, from 1 ns to an hour, to 3 significant digits.
const LATENCY_MAX_NS: u64 = 3_600_000_000_000;

/// A new latency histogram.
pub(crate) fn histogram() -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, LATENCY_MAX_NS, 3).map_err(|e| anyhow!("latency histogram: {e}"))
}

/// One timed operation, kept for `--plot`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sample {
    /// When it completed, since the subject started.
    pub(crate) at: Duration,
    /// How long it took, in nanoseconds.
    pub(crate) latency_ns: u64,
}

/// What one subject did.
pub(crate) struct Measured {
    /// Operations that completed (acknowledged events, answered reads).
    pub(crate) events: u64,
    /// Their logical bytes (content bytes).
    pub(crate) bytes: u64,
    /// From the first writer's start to the last writer's end.
    pub(crate) elapsed: Duration,
    /// Every operation's latency, in nanoseconds.
    pub(crate) latency: Histogram<u64>,
    /// Every operation, in completion order per writer; empty unless asked for.
    pub(crate) samples: Vec<Sample>,
}

/// How to run subjects.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub(crate) writers: usize,
    pub(crate) plan: Plan,
    /// Keep every sample (for `--plot`).
    pub(crate) keep_samples: bool,
    /// Draw the progress line on stderr.
    pub(crate) progress: bool,
}

/// What one writer thread measured.
struct Part {
    start: Instant,
    end: Instant,
    events: u64,
    bytes: u64,
    latency: Histogram<u64>,
    /// Completion instants and latencies.
    samples: Vec<(Instant, u64)>,
}

/// Runs `label` with `settings.writers` threads. Each thread builds its operation with
/// `make(writer)` (on its own thread: an HTTP client's runtime lives there), then all
/// start together; event numbers are handed out in order from 0. The first error stops
/// every writer and is returned.
pub(crate) fn drive<'a, F>(label: &str, settings: Settings, make: F) -> Result<Measured>
where
    F: Fn(usize) -> Result<Op<'a>> + Sync,
{
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let finished = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let fail = |e: anyhow::Error| {
        stop.store(true, Ordering::SeqCst);
        let mut slot = failure.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(e);
        }
    };
    // The writers and this thread, which draws the progress line.
    let barrier = Barrier::new(settings.writers + 1);
    let parts: Vec<Result<Option<Part>>> = thread::scope(|s| {
        let handles: Vec<_> = (0..settings.writers)
            .map(|w| {
                let (next, done, finished, stop, barrier, make, fail) =
                    (&next, &done, &finished, &stop, &barrier, &make, &fail);
                s.spawn(move || {
                    let part = match (make(w), histogram()) {
                        (Ok(op), Ok(latency)) => {
                            // IMPORTANT: every writer reaches the barrier, even one whose
                            // set-up failed, or the others would wait forever.
                            barrier.wait();
                            let part = run_writer(op, latency, settings, next, done, stop);
                            part.map_err(fail).ok()
                        }
                        (Err(e), _) | (_, Err(e)) => {
                            fail(e);
                            barrier.wait();
                            None
                        }
                    };
                    finished.fetch_add(1, Ordering::SeqCst);
                    part
                })
            })
            .collect();
        barrier.wait();
        show_progress(label, settings, &done, &finished);
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| anyhow!("a writer thread panicked")))
            .collect()
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(PoisonError::into_inner) {
        return Err(e.context(format!("{label}: the run stopped")));
    }
    let parts: Vec<Option<Part>> = parts
        .into_iter()
        .collect::<Result<_>>()
        .map_err(|e| e.context(format!("{label}: the run stopped")))?;
    combine(parts.into_iter().flatten().collect())
}

fn run_writer(
    mut op: Op<'_>,
    mut latency: Histogram<u64>,
    settings: Settings,
    next: &AtomicU64,
    done: &AtomicU64,
    stop: &AtomicBool,
) -> Result<Part> {
    let start = Instant::now();
    let deadline = match settings.plan {
        Plan::Duration(d) => Some(start + d),
        Plan::Events(_) => None,
    };
    let (mut events, mut bytes) = (0u64, 0u64);
    let mut samples = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let i = next.fetch_add(1, Ordering::Relaxed);
        if let Plan::Events(n) = settings.plan
            && i >= n
        {
            break;
        }
        let began = Instant::now();
        let moved = op(i).map_err(|e| e.context(format!("event {i}")))?;
        let ended = Instant::now();
        let ns = u64::try_from(ended.duration_since(began).as_nanos()).unwrap_or(u64::MAX);
        latency.saturating_record(ns.max(1));
        if settings.keep_samples {
            samples.push((ended, ns));
        }
        events += 1;
        bytes += moved;
        done.fetch_add(1, Ordering::Relaxed);
    }
    Ok(Part {
        start,
        end: Instant::now(),
        events,
        bytes,
        latency,
        samples,
    })
}

fn combine(parts: Vec<Part>) -> Result<Measured> {
    let start = parts.iter().map(|p| p.start).min();
    let end = parts.iter().map(|p| p.end).max();
    let (Some(start), Some(end)) = (start, end) else {
        return Err(anyhow!("no writer ran"));
    };
    let mut latency = histogram()?;
    let mut samples = Vec::new();
    let (mut events, mut bytes) = (0, 0);
    for part in parts {
        latency
            .add(&part.latency)
            .map_err(|e| anyhow!("merging latencies: {e}"))?;
        events += part.events;
        bytes += part.bytes;
        samples.extend(part.samples.into_iter().map(|(at, latency_ns)| Sample {
            at: at.duration_since(start),
            latency_ns,
        }));
    }
    samples.sort_by_key(|s| s.at);
    Ok(Measured {
        events,
        bytes,
        elapsed: end.duration_since(start),
        latency,
        samples,
    })
}

/// When progress is on, until every writer has finished: redraws `label: N done, R/s,
/// T s` on stderr every 200 ms, then ends the line.
fn show_progress(label: &str, settings: Settings, done: &AtomicU64, finished: &AtomicUsize) {
    if !settings.progress {
        return;
    }
    let start = Instant::now();
    let draw = |final_line: bool| {
        let n = done.load(Ordering::Relaxed);
        let secs = start.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { n as f64 / secs } else { 0.0 };
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{label}: {} done, {}/s, {secs:.1} s\x1b[K",
            thousands(n),
            thousands(round_u64(rate))
        );
        if final_line {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    };
    let mut drawn = start;
    while finished.load(Ordering::SeqCst) < settings.writers {
        if drawn.elapsed() >= Duration::from_millis(200) {
            draw(false);
            drawn = Instant::now();
        }
        thread::sleep(Duration::from_millis(5));
    }
    draw(true);
}

/// `x` rounded to a whole number, 0 for negatives and NaN, `u64::MAX` past it: for
/// display and plotting only.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a float to integer `as` saturates and maps NaN to 0, which is what is wanted"
)]
pub(crate) fn round_u64(x: f64) -> u64 {
    x.round() as u64
}

/// `12345` as `12,345`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(writers: usize, plan: Plan) -> Settings {
        Settings {
            writers,
            plan,
            keep_samples: true,
            progress: false,
        }
    }

    #[test]
    fn a_counted_plan_runs_every_event_exactly_once() {
        let seen = Mutex::new(Vec::new());
        let measured = drive("t", settings(4, Plan::Events(100)), |_| {
            let seen = &seen;
            let op: Op<'_> = Box::new(move |i| {
                seen.lock().unwrap().push(i);
                Ok(2)
            });
            Ok(op)
        });
        let measured = measured.unwrap();
        assert_eq!(measured.events, 100);
        assert_eq!(measured.bytes, 200);
        assert_eq!(measured.latency.len(), 100);
        assert_eq!(measured.samples.len(), 100);
        let mut seen = seen.into_inner().unwrap();
        seen.sort_unstable();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn a_failing_writer_stops_the_run_with_its_error() {
        let result = drive("t", settings(3, Plan::Events(1000)), |_| {
            let op: Op<'_> = Box::new(|i| if i == 10 { Err(anyhow!("boom")) } else { Ok(1) });
            Ok(op)
        });
        let message = format!("{:#}", result.err().unwrap());
        assert!(
            message.contains("boom") && message.contains("event 10"),
            "{message}"
        );
    }

    #[test]
    fn a_failing_set_up_does_not_hang_the_others() {
        let result = drive("t", settings(3, Plan::Events(10)), |w| {
            if w == 1 {
                return Err(anyhow!("no client"));
            }
            let op: Op<'_> = Box::new(|_| Ok(1));
            Ok(op)
        });
        assert!(format!("{:#}", result.err().unwrap()).contains("no client"));
    }

    #[test]
    fn a_timed_plan_stops() {
        let measured = drive(
            "t",
            settings(2, Plan::Duration(Duration::from_millis(50))),
            |_| {
                let op: Op<'_> = Box::new(|_| {
                    thread::sleep(Duration::from_millis(1));
                    Ok(1)
                });
                Ok(op)
            },
        )
        .unwrap();
        assert!(measured.events > 0);
        assert!(measured.elapsed >= Duration::from_millis(50));
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
