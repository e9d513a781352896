//! Writing results: human lines or one JSON object per line, on stdout.

use std::io::{self, Write as _};
use std::time::{Duration, UNIX_EPOCH};

/// Formats milliseconds since the Unix epoch as RFC 3339 with milliseconds, in UTC.
pub(crate) fn time(ms: i64) -> String {
    match u64::try_from(ms) {
        Ok(ms) => {
            humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
        }
        Err(_) => format!("{ms}ms"),
    }
}

/// Stdout, locked and buffered. A closed pipe (`verso log | head`) ends the output
/// quietly instead of failing the command.
pub(crate) struct Out {
    inner: io::BufWriter<io::StdoutLock<'static>>,
    closed: bool,
}

impl Out {
    pub(crate) fn new() -> Self {
        Self {
            inner: io::BufWriter::new(io::stdout().lock()),
            closed: false,
        }
    }

    /// Writes one line.
    pub(crate) fn line(&mut self, text: &str) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let written = self
            .inner
            .write_all(text.as_bytes())
            .and_then(|()| self.inner.write_all(b"\n"));
        self.quiet_on_pipe(written)
    }

    /// Writes raw bytes (content).
    pub(crate) fn bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let written = self.inner.write_all(bytes);
        self.quiet_on_pipe(written)
    }

    /// Writes one JSON object as a line.
    pub(crate) fn json(&mut self, value: &serde_json::Value) -> io::Result<()> {
        self.line(&value.to_string())
    }

    /// Flushes; call before returning.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let flushed = self.inner.flush();
        self.quiet_on_pipe(flushed)
    }

    fn quiet_on_pipe(&mut self, r: io::Result<()>) -> io::Result<()> {
        match r {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}
