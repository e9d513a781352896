//! The report: one structure, printed for people or as one JSON object (`--json`).
//! Field names are stable; docs/performance.md lists them.

use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde::Serialize;
use serde::ser::{SerializeMap as _, Serializer};

use super::driver::{Measured, round_u64, thousands};

/// The JSON report's format version: bumped when a field changes meaning or goes away.
pub(crate) const FORMAT: u32 = 1;

/// A whole run.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    /// [`FORMAT`].
    pub(crate) format: u32,
    /// `write` or `read`.
    pub(crate) mode: &'static str,
    /// `library` (an embedded store) or `http` (a running `verso serve`).
    pub(crate) target: &'static str,
    /// The server's base URL with `--http`.
    pub(crate) url: Option<String>,
    /// The API the writes went through: `appconfig` (hosted configuration versions,
    /// also the embedded store's), `connect` (view versions, `--face connect`) or
    /// `proton` (environment template versions, `--face proton`).
    pub(crate) face: &'static str,
    pub(crate) workload: WorkloadReport,
    pub(crate) data_dir: DataDirReport,
    pub(crate) load_average: LoadReport,
    /// Every subject by name, in the order they ran: Verso's first.
    pub(crate) subjects: Named<Subject>,
    /// `"<verso subject>/<baseline>"`: the Verso subject's events/s divided by the
    /// baseline's, both from this run.
    pub(crate) ratios: Named<f64>,
    /// Write mode: what was acknowledged against what the store holds afterwards.
    pub(crate) check: Option<Check>,
    /// Anything the reader should know to interpret the numbers.
    pub(crate) notes: Vec<String>,
}

/// The workload as run.
#[derive(Debug, Serialize)]
pub(crate) struct WorkloadReport {
    pub(crate) writers: usize,
    /// The size mix: each size with its weight (one entry without `--size-mix`).
    pub(crate) sizes: Vec<SizeShare>,
    pub(crate) mean_size_bytes: f64,
    pub(crate) streams: usize,
    /// Events per subject with `--events`, else null.
    pub(crate) events: Option<u64>,
    /// Seconds per subject with `--duration` (or by default), else null.
    pub(crate) duration_secs: Option<f64>,
    /// `sync`, `flush` or `buffered`: Verso's and the baselines'.
    pub(crate) durability: &'static str,
}

/// One size of the mix.
#[derive(Debug, Serialize)]
pub(crate) struct SizeShare {
    pub(crate) bytes: u64,
    pub(crate) weight: u32,
}

/// Where the data went.
#[derive(Debug, Serialize)]
pub(crate) struct DataDirReport {
    pub(crate) path: String,
    /// Whether it is left in place (`--data-dir`) or was a temporary one, removed.
    pub(crate) kept: bool,
    /// Its filesystem type, when known.
    pub(crate) filesystem: Option<String>,
}

/// 1, 5 and 15 minute load averages before and after the run, when known.
#[derive(Debug, Serialize)]
pub(crate) struct LoadReport {
    pub(crate) start: Option<[f64; 3]>,
    pub(crate) end: Option<[f64; 3]>,
}

/// What one subject measured.
#[derive(Debug, Serialize)]
pub(crate) struct Subject {
    pub(crate) name: String,
    /// `verso` or `baseline`.
    pub(crate) role: &'static str,
    /// What one event is, and when it is acknowledged.
    pub(crate) description: String,
    /// Acknowledged events (or answered reads).
    pub(crate) events: u64,
    /// Their content bytes.
    pub(crate) bytes: u64,
    pub(crate) elapsed_secs: f64,
    pub(crate) events_per_sec: f64,
    pub(crate) bytes_per_sec: f64,
    /// Per event, from send to acknowledgement, in microseconds.
    pub(crate) latency_us: Latency,
    /// Durable groups (Verso's group commits, the batched baseline's batches), when
    /// known.
    pub(crate) groups: Option<u64>,
    /// `events / groups`.
    pub(crate) mean_group_size: Option<f64>,
    /// Space used by the subject's directory afterwards (allocated blocks), when known.
    pub(crate) disk_bytes: Option<u64>,
    /// `disk_bytes / bytes`.
    pub(crate) disk_bytes_per_logical_byte: Option<f64>,
    /// When one event takes several HTTP requests (`--face connect`): the requests, each
    /// timed on its own. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) requests: Option<Requests>,
}

/// The HTTP requests of a subject whose event is several requests.
#[derive(Debug, Serialize)]
pub(crate) struct Requests {
    /// Requests answered during the run.
    pub(crate) count: u64,
    /// `count / events`.
    pub(crate) per_event: f64,
    /// `count / elapsed_secs` (the subject's elapsed time).
    pub(crate) per_sec: f64,
    /// Per request, from send to the end of the answer, in microseconds.
    pub(crate) latency_us: Latency,
    /// The same, per operation, in the order each event sends them.
    pub(crate) operations: Named<OperationRequests>,
}

/// One operation's requests.
#[derive(Debug, Serialize)]
pub(crate) struct OperationRequests {
    pub(crate) count: u64,
    pub(crate) per_sec: f64,
    pub(crate) latency_us: Latency,
}

/// Latency percentiles and the mean, in microseconds.
#[derive(Debug, Serialize)]
pub(crate) struct Latency {
    pub(crate) p50: f64,
    pub(crate) p90: f64,
    pub(crate) p99: f64,
    pub(crate) p99_9: f64,
    pub(crate) max: f64,
    pub(crate) mean: f64,
}

/// Acknowledged against stored.
#[derive(Debug, Serialize)]
pub(crate) struct Check {
    /// Events Verso acknowledged.
    pub(crate) acknowledged: u64,
    /// Hosted versions in the bench's profiles afterwards, read back from the store.
    pub(crate) versions_in_store: u64,
    /// Log records the writer appended during the run (library mode only).
    pub(crate) records: Option<u64>,
    /// `--face connect` and `--face proton`: acknowledged version numbers that the store
    /// does not list (0 when every acknowledged version is there). Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) missing: Option<u64>,
}

/// Items by name, serialized as a JSON object in their order.
#[derive(Debug)]
pub(crate) struct Named<T>(pub(crate) Vec<(String, T)>);

impl<T> Default for Named<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T: Serialize> Serialize for Named<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl Latency {
    pub(crate) fn of(h: &Histogram<u64>) -> Self {
        let us = |ns: u64| ns as f64 / 1000.0;
        let p50 = h.value_at_quantile(0.5);
        let p90 = h.value_at_quantile(0.9).max(p50);
        let p99 = h.value_at_quantile(0.99).max(p90);
        let p99_9 = h.value_at_quantile(0.999).max(p99);
        let max = h.max().max(p99_9);
        Self {
            p50: us(p50),
            p90: us(p90),
            p99: us(p99),
            p99_9: us(p99_9),
            max: us(max),
            mean: h.mean() / 1000.0,
        }
    }
}

impl Subject {
    /// A subject from what it measured.
    pub(crate) fn new(
        name: &str,
        role: &'static str,
        description: String,
        m: &Measured,
        groups: Option<u64>,
        disk_bytes: Option<u64>,
    ) -> Self {
        let secs = m.elapsed.as_secs_f64().max(f64::MIN_POSITIVE);
        let events = m.events as f64;
        let bytes = m.bytes as f64;
        Self {
            name: name.to_owned(),
            role,
            description,
            events: m.events,
            bytes: m.bytes,
            elapsed_secs: m.elapsed.as_secs_f64(),
            events_per_sec: events / secs,
            bytes_per_sec: bytes / secs,
            latency_us: Latency::of(&m.latency),
            groups,
            mean_group_size: groups.filter(|&g| g > 0).map(|g| events / g as f64),
            disk_bytes,
            disk_bytes_per_logical_byte: disk_bytes
                .filter(|_| m.bytes > 0)
                .map(|d| d as f64 / bytes),
            requests: None,
        }
    }

    /// Adds the requests of a subject whose events are several requests each: every
    /// request's latency, and each operation's (name, histogram), in the order sent.
    pub(crate) fn with_requests(
        mut self,
        all: &Histogram<u64>,
        operations: &[(&str, &Histogram<u64>)],
    ) -> Self {
        let secs = self.elapsed_secs.max(f64::MIN_POSITIVE);
        let count = all.len();
        self.requests = Some(Requests {
            count,
            per_event: if self.events > 0 {
                count as f64 / self.events as f64
            } else {
                0.0
            },
            per_sec: count as f64 / secs,
            latency_us: Latency::of(all),
            operations: Named(
                operations
                    .iter()
                    .map(|(name, h)| {
                        (
                            (*name).to_owned(),
                            OperationRequests {
                                count: h.len(),
                                per_sec: h.len() as f64 / secs,
                                latency_us: Latency::of(h),
                            },
                        )
                    })
                    .collect(),
            ),
        });
        self
    }
}

impl Report {
    /// Adds `verso / baseline` for every baseline subject.
    pub(crate) fn add_ratios(&mut self, verso: &str) {
        let Some(v) = self.subject(verso).map(|s| s.events_per_sec) else {
            return;
        };
        let ratios: Vec<_> = self
            .subjects
            .0
            .iter()
            .filter(|(_, s)| s.role == "baseline" && s.events_per_sec > 0.0)
            .map(|(name, s)| (format!("{verso}/{name}"), v / s.events_per_sec))
            .collect();
        self.ratios.0.extend(ratios);
    }

    fn subject(&self, name: &str) -> Option<&Subject> {
        self.subjects
            .0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
    }

    /// The report for people.
    pub(crate) fn human(&self) -> String {
        let mut out = String::new();
        let w = &self.workload;
        let sizes: Vec<String> = w
            .sizes
            .iter()
            .map(|s| {
                if w.sizes.len() == 1 {
                    bytes_text(s.bytes)
                } else {
                    format!("{}:{}", bytes_text(s.bytes), s.weight)
                }
            })
            .collect();
        let span = match (w.events, w.duration_secs) {
            (Some(n), _) => format!("{} events per subject", thousands(n)),
            (None, Some(d)) => format!("{d} s per subject"),
            (None, None) => String::new(),
        };
        let target = match &self.url {
            Some(url) if self.face == "connect" => {
                format!("verso serve at {url} (Connect view versions)")
            }
            Some(url) if self.face == "proton" => {
                format!("verso serve at {url} (Proton environment template versions)")
            }
            Some(url) => format!("verso serve at {url}"),
            None => "an embedded store".to_owned(),
        };
        let _ = writeln!(
            out,
            "verso bench: {}s against {target}; {} {}, content {}, {} {}, {span}, durability {}",
            self.mode,
            w.writers,
            if self.mode == "read" {
                "readers"
            } else {
                "writers"
            },
            sizes.join(","),
            w.streams,
            match (self.face, w.streams) {
                ("connect", _) => "views (one per writer)",
                ("proton", _) => "templates (one per writer)",
                (_, 1) => "stream",
                _ => "streams",
            },
            w.durability,
        );
        let _ = writeln!(
            out,
            "data directory: {} ({}; {})",
            self.data_dir.path,
            self.data_dir
                .filesystem
                .as_deref()
                .unwrap_or("filesystem unknown"),
            if self.data_dir.kept {
                "kept"
            } else {
                "removed afterwards"
            },
        );
        if let (Some(a), Some(b)) = (self.load_average.start, self.load_average.end) {
            let _ = writeln!(
                out,
                "load average (1 min): {:.2} before, {:.2} after",
                a[0], b[0]
            );
        }
        out.push('\n');
        let header = [
            "subject",
            "events/s",
            "MiB/s",
            "p50 µs",
            "p90 µs",
            "p99 µs",
            "p99.9 µs",
            "max µs",
            "groups",
            "mean group",
            "disk/byte",
        ];
        let mut rows = vec![header.map(str::to_owned).to_vec()];
        for (name, s) in &self.subjects.0 {
            let l = &s.latency_us;
            rows.push(vec![
                name.clone(),
                thousands(round_u64(s.events_per_sec)),
                format!("{:.2}", s.bytes_per_sec / (1024.0 * 1024.0)),
                micros(l.p50),
                micros(l.p90),
                micros(l.p99),
                micros(l.p99_9),
                micros(l.max),
                s.groups.map_or_else(|| "-".to_owned(), thousands),
                s.mean_group_size
                    .map_or_else(|| "-".to_owned(), |g| format!("{g:.1}")),
                s.disk_bytes_per_logical_byte
                    .map_or_else(|| "-".to_owned(), |d| format!("{d:.2}")),
            ]);
        }
        table(&mut out, &rows);
        for (name, s) in &self.subjects.0 {
            let Some(r) = &s.requests else { continue };
            let _ = writeln!(
                out,
                "{name}: one event is {:.0} HTTP requests: {} requests, {}/s, per request p50 {} µs, p99 {} µs",
                r.per_event,
                thousands(r.count),
                thousands(round_u64(r.per_sec)),
                micros(r.latency_us.p50),
                micros(r.latency_us.p99),
            );
            for (op, o) in &r.operations.0 {
                let _ = writeln!(
                    out,
                    "  {op}: {} requests, p50 {} µs, p99 {} µs",
                    thousands(o.count),
                    micros(o.latency_us.p50),
                    micros(o.latency_us.p99),
                );
            }
        }
        if !self.ratios.0.is_empty() {
            out.push('\n');
            let ratios: Vec<String> = self
                .ratios
                .0
                .iter()
                .map(|(name, r)| format!("{name} {r:.2}"))
                .collect();
            let _ = writeln!(out, "ratios (events/s, same run): {}", ratios.join(", "));
        }
        if let Some(c) = &self.check {
            let _ = writeln!(
                out,
                "check: {} acknowledged, {} versions in the store afterwards{}{}",
                thousands(c.acknowledged),
                thousands(c.versions_in_store),
                c.records
                    .map(|r| format!(", {} log records appended", thousands(r)))
                    .unwrap_or_default(),
                c.missing
                    .map(|m| format!(", {} acknowledged version numbers missing", thousands(m)))
                    .unwrap_or_default(),
            );
        }
        out.push('\n');
        for (name, s) in &self.subjects.0 {
            let _ = writeln!(out, "{name}: {}", s.description);
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out
    }
}

/// Left-aligned first column, right-aligned others.
fn table(out: &mut String, rows: &[Vec<String>]) {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|t| t.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::new();
        for (c, (text, width)) in row.iter().zip(&widths).enumerate() {
            if c == 0 {
                let _ = write!(line, "{text:<width$}");
            } else {
                let _ = write!(line, "  {text:>width$}");
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// Microseconds with two significant decimals below 100.
fn micros(us: f64) -> String {
    if us < 10.0 {
        format!("{us:.2}")
    } else if us < 100.0 {
        format!("{us:.1}")
    } else {
        thousands(round_u64(us))
    }
}

/// `1024` as `1 KiB`.
pub(crate) fn bytes_text(n: u64) -> String {
    const KIB: u64 = 1024;
    if n >= KIB * KIB && n.is_multiple_of(KIB * KIB) {
        format!("{} MiB", n / (KIB * KIB))
    } else if n >= KIB && n.is_multiple_of(KIB) {
        format!("{} KiB", n / KIB)
    } else {
        format!("{n} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_ordered_whatever_the_histogram() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        for v in [1_000, 2_000, 3_000, 1_000_000] {
            h.record(v).unwrap();
        }
        let l = Latency::of(&h);
        assert!(l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p99_9 && l.p99_9 <= l.max);
        assert!(l.max >= 1000.0);
    }

    #[test]
    fn named_items_serialize_as_an_object_in_order() {
        let named = Named(vec![("b".to_owned(), 1.0), ("a".to_owned(), 2.0)]);
        assert_eq!(
            serde_json::to_string(&named).unwrap(),
            r#"{"b":1.0,"a":2.0}"#
        );
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(bytes_text(1024), "1 KiB");
        assert_eq!(bytes_text(65536), "64 KiB");
        assert_eq!(bytes_text(2 * 1024 * 1024), "2 MiB");
        assert_eq!(bytes_text(1000), "1000 B");
    }
}
