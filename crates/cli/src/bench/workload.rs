//! The workload every subject runs: how many writers, how long, and what event `i` is
//! (its size, its stream, its bytes), so that Verso and each baseline write the same.

use std::time::Duration;

use super::options::{BenchArgs, DEFAULT_DURATION, DurabilityArg};

/// When a subject stops.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Plan {
    /// After exactly this many events in all.
    Events(u64),
    /// When this much time has passed since the writers started (each finishes the
    /// event it is waiting for).
    Duration(Duration),
}

/// The validated workload.
#[derive(Clone, Debug)]
pub(crate) struct Workload {
    pub(crate) writers: usize,
    /// Each size with its weight, as given.
    pub(crate) mix: Vec<(u64, u32)>,
    /// The mix unrolled: event `i` has size `cycle[i % len]`.
    cycle: Vec<usize>,
    pub(crate) streams: usize,
    pub(crate) plan: Plan,
    pub(crate) durability: DurabilityArg,
}

impl Workload {
    pub(crate) fn from_args(args: &BenchArgs) -> anyhow::Result<Self> {
        let mix = match &args.size_mix {
            Some(m) => m.0.clone(),
            None => vec![(args.size, 1)],
        };
        let mut cycle = Vec::new();
        for &(size, weight) in &mix {
            let size = usize::try_from(size)?;
            for _ in 0..weight {
                cycle.push(size);
            }
        }
        anyhow::ensure!(!cycle.is_empty(), "the size mix is empty");
        let plan = match (args.events, args.duration) {
            (Some(n), _) => Plan::Events(n),
            (None, Some(d)) => Plan::Duration(d),
            (None, None) => Plan::Duration(DEFAULT_DURATION),
        };
        Ok(Self {
            writers: usize::try_from(args.writers)?,
            mix,
            cycle,
            streams: usize::try_from(args.streams)?,
            plan,
            durability: args.durability,
        })
    }

    /// The content size of event `i`.
    pub(crate) fn size_of(&self, i: u64) -> usize {
        let len = u64::try_from(self.cycle.len()).unwrap_or(1);
        usize::try_from(i % len)
            .ok()
            .and_then(|k| self.cycle.get(k).copied())
            .unwrap_or(1)
    }

    /// The stream (profile index) of event `i`: round robin.
    pub(crate) fn stream_of(&self, i: u64) -> usize {
        let streams = u64::try_from(self.streams).unwrap_or(1);
        usize::try_from(i % streams).unwrap_or(0)
    }

    /// The mean content size over one cycle of the mix.
    pub(crate) fn mean_size(&self) -> f64 {
        let total: f64 = self.cycle.iter().map(|&s| s as f64).sum();
        total / self.cycle.len() as f64
    }
}

/// The bytes of event `i` of `size` bytes and their MIME type: JSON that differs for
/// every `i` (`{"n":i,"pad":"xx…"}`), so the content store never deduplicates it. Below
/// the 20 or so bytes that JSON needs, the decimal `i` cut to `size` (unique only while
/// it fits).
pub(crate) fn content(i: u64, size: usize) -> (Vec<u8>, &'static str) {
    let head = format!("{{\"n\":{i},\"pad\":\"");
    if head.len() + 2 <= size {
        let mut value = Vec::with_capacity(size);
        value.extend_from_slice(head.as_bytes());
        value.resize(size - 2, b'x');
        value.extend_from_slice(b"\"}");
        return (value, "application/json");
    }
    let digits = i.to_string().into_bytes();
    let mut value: Vec<u8> = digits.iter().rev().take(size).rev().copied().collect();
    value.resize(size, b'0');
    (value, "text/plain")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_has_exactly_the_size_asked_and_differs_per_event() {
        for size in [1, 5, 19, 20, 21, 1024, 65536] {
            let (a, _) = content(7, size);
            let (b, _) = content(8, size);
            assert_eq!(a.len(), size);
            assert_eq!(b.len(), size);
            assert_ne!(a, b, "size {size}");
        }
        let (json, kind) = content(123, 64);
        assert_eq!(kind, "application/json");
        assert!(serde_json::from_slice::<serde_json::Value>(&json).is_ok());
    }
}
