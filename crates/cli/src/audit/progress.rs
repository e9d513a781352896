//! Progress on stderr for long walks (verify, rebuild, export, import, verify --bundle),
//! only when stderr is a terminal, so scripts and tests see none of it.

use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

/// A progress line, redrawn at most every 100 ms.
pub(crate) struct Progress {
    what: &'static str,
    /// What is counted, plural: "events" unless told otherwise.
    unit: &'static str,
    total: Option<u64>,
    started: Instant,
    last_draw: Option<Instant>,
    shown: bool,
}

impl Progress {
    pub(crate) fn new(what: &'static str, total: Option<u64>) -> Self {
        Self::counting(what, "events", total)
    }

    /// A progress line counting `unit` (plural) rather than events.
    pub(crate) fn counting(what: &'static str, unit: &'static str, total: Option<u64>) -> Self {
        Self {
            what,
            unit,
            total,
            started: Instant::now(),
            last_draw: None,
            shown: std::io::stderr().is_terminal(),
        }
    }

    /// Events per second since the start.
    pub(crate) fn rate(&self, done: u64) -> f64 {
        let secs = self.started.elapsed().as_secs_f64();
        if secs > 0.0 { done as f64 / secs } else { 0.0 }
    }

    /// Reports `done` out of a total that has changed to `total`.
    pub(crate) fn update_of(&mut self, done: u64, total: u64) {
        if self.total != Some(total) {
            self.total = Some(total);
            self.last_draw = None;
        }
        self.update(done);
    }

    /// Reports `done` events.
    // The bar width is 0..=30, from a share clamped to 0..=1.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    pub(crate) fn update(&mut self, done: u64) {
        if !self.shown {
            return;
        }
        let now = Instant::now();
        if self
            .last_draw
            .is_some_and(|t| now.duration_since(t) < Duration::from_millis(100))
        {
            return;
        }
        self.last_draw = Some(now);
        let rate = self.rate(done);
        let line = match self.total.filter(|t| *t > 0) {
            Some(total) => {
                let share = (done.min(total) as f64 / total as f64).clamp(0.0, 1.0);
                let filled = (share * 30.0).round() as usize;
                format!(
                    "\r{} [{}{}] {done}/{total} {unit} {:>3.0}% {rate:.0}/s ",
                    self.what,
                    "#".repeat(filled),
                    "-".repeat(30 - filled.min(30)),
                    share * 100.0,
                    unit = self.unit,
                )
            }
            None => format!(
                "\r{} {done} {unit} {rate:.0}/s ",
                self.what,
                unit = self.unit
            ),
        };
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line.as_bytes());
        let _ = err.flush();
    }

    /// Ends the progress line.
    pub(crate) fn finish(&mut self, done: u64) {
        if !self.shown {
            return;
        }
        self.last_draw = None;
        self.update(done);
        let _ = std::io::stderr().write_all(b"\n");
        self.shown = false;
    }
}
