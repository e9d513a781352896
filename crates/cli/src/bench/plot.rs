//! `--plot FILE.svg`: throughput per second and latency over time of every subject, two
//! charts in one SVG, drawn with plotters' SVG backend.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use super::driver::{Sample, round_u64, thousands};

/// One subject's line.
pub(crate) struct Series<'a> {
    pub(crate) name: &'a str,
    pub(crate) samples: &'a [Sample],
}

/// A bin's throughput (operations per second) and latency percentiles (µs).
struct Bin {
    at_secs: f64,
    rate: f64,
    p50_us: f64,
    p99_us: f64,
}

/// Bins of one subject's samples: `width` wide, from its start.
fn bins(samples: &[Sample], width: Duration) -> Vec<Bin> {
    let width_secs = width.as_secs_f64();
    let mut out = Vec::new();
    let mut current: Vec<u64> = Vec::new();
    let mut index = 0u32;
    let flush = |index: u32, latencies: &mut Vec<u64>, out: &mut Vec<Bin>| {
        if latencies.is_empty() {
            return;
        }
        latencies.sort_unstable();
        let pick = |q: f64| {
            let last = latencies.len() - 1;
            let k = ((last as f64) * q).round();
            let k = usize::try_from(round_u64(k)).unwrap_or(last);
            latencies.get(k.min(last)).copied().unwrap_or(0) as f64 / 1000.0
        };
        out.push(Bin {
            at_secs: (f64::from(index) + 0.5) * width_secs,
            rate: latencies.len() as f64 / width_secs,
            p50_us: pick(0.5).max(0.001),
            p99_us: pick(0.99).max(0.001),
        });
        latencies.clear();
    };
    for s in samples {
        let k = u32::try_from(s.at.as_nanos() / width.as_nanos().max(1)).unwrap_or(u32::MAX);
        if k != index {
            flush(index, &mut current, &mut out);
            index = k;
        }
        current.push(s.latency_ns);
    }
    // The last bin ends with the run: its rate counts only the time it covered, and a
    // sliver of a bin is left out rather than drawn as a drop.
    let covered = samples
        .last()
        .map_or(0.0, |s| s.at.as_secs_f64() - f64::from(index) * width_secs);
    if covered >= width_secs / 4.0 {
        let count = current.len() as f64;
        flush(index, &mut current, &mut out);
        if let Some(last) = out.last_mut() {
            last.rate = count / covered.min(width_secs);
        }
    }
    out
}

/// Distinct colours, Verso's first.
const COLORS: [RGBColor; 6] = [
    RGBColor(214, 39, 40),
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

fn color(k: usize) -> RGBAColor {
    COLORS
        .get(k % COLORS.len())
        .copied()
        .unwrap_or(BLACK)
        .to_rgba()
}

/// Writes the SVG to `path`. Bins are one second wide for runs of 20 s or more, a
/// twentieth of the longest run otherwise; throughput is in operations per second
/// either way.
pub(crate) fn draw(path: &Path, title: &str, series: &[Series<'_>]) -> Result<()> {
    let longest = series
        .iter()
        .filter_map(|s| s.samples.last())
        .map(|s| s.at)
        .max()
        .unwrap_or(Duration::from_secs(1));
    let width = if longest >= Duration::from_secs(20) {
        Duration::from_secs(1)
    } else {
        (longest / 20).max(Duration::from_millis(1))
    };
    let binned: Vec<(&str, Vec<Bin>)> = series
        .iter()
        .map(|s| (s.name, bins(s.samples, width)))
        .collect();
    let x_max = longest.as_secs_f64().max(0.001) * 1.02;
    let rate_max = binned
        .iter()
        .flat_map(|(_, b)| b.iter().map(|b| b.rate))
        .fold(1.0, f64::max)
        * 1.1;
    let lat_min = binned
        .iter()
        .flat_map(|(_, b)| b.iter().map(|b| b.p50_us))
        .fold(f64::INFINITY, f64::min)
        .clamp(0.001, 1.0e9)
        / 2.0;
    let lat_max = binned
        .iter()
        .flat_map(|(_, b)| b.iter().map(|b| b.p99_us))
        .fold(lat_min * 10.0, f64::max)
        * 2.0;

    let fail = |e: &dyn std::fmt::Display| anyhow!("drawing {}: {e}", path.display());
    let root = SVGBackend::new(path, (1100, 800)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let root = root
        .titled(title, ("sans-serif", 18))
        .map_err(|e| fail(&e))?;
    let (top, bottom) = root.split_vertically(380);

    let mut rate = ChartBuilder::on(&top)
        .caption("throughput (operations per second)", ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..x_max, 0f64..rate_max)
        .map_err(|e| fail(&e))?;
    rate.configure_mesh()
        .x_desc("seconds since the subject started")
        .y_desc("per second")
        .y_label_formatter(&|v| thousands(round_u64(*v)))
        .draw()
        .map_err(|e| fail(&e))?;
    for (k, (name, b)) in binned.iter().enumerate() {
        let color = color(k);
        rate.draw_series(LineSeries::new(
            b.iter().map(|b| (b.at_secs, b.rate)),
            color.stroke_width(2),
        ))
        .map_err(|e| fail(&e))?
        .label(*name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    rate.configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(&e))?;

    let mut latency = ChartBuilder::on(&bottom)
        .caption(
            "latency (µs, log scale): p99 thick, p50 thin",
            ("sans-serif", 15),
        )
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..x_max, (lat_min..lat_max).log_scale())
        .map_err(|e| fail(&e))?;
    latency
        .configure_mesh()
        .x_desc("seconds since the subject started")
        .y_desc("µs")
        .y_label_formatter(&|v| {
            if *v >= 1.0 {
                thousands(round_u64(*v))
            } else {
                format!("{v:.2}")
            }
        })
        .draw()
        .map_err(|e| fail(&e))?;
    for (k, (name, b)) in binned.iter().enumerate() {
        let color = color(k);
        latency
            .draw_series(LineSeries::new(
                b.iter().map(|b| (b.at_secs, b.p99_us)),
                color.stroke_width(2),
            ))
            .map_err(|e| fail(&e))?
            .label(format!("{name} p99"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        latency
            .draw_series(LineSeries::new(
                b.iter().map(|b| (b.at_secs, b.p50_us)),
                color.mix(0.6).stroke_width(1),
            ))
            .map_err(|e| fail(&e))?;
    }
    latency
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_count_and_rank_their_samples() {
        let samples: Vec<Sample> = (0..100u64)
            .map(|k| Sample {
                at: Duration::from_millis(k * 10),
                latency_ns: 1000 * (k % 10 + 1),
            })
            .collect();
        let b = bins(&samples, Duration::from_millis(100));
        assert_eq!(b.len(), 10);
        for bin in &b {
            assert!(bin.p50_us <= bin.p99_us);
        }
        for bin in &b[..9] {
            assert!((bin.rate - 100.0).abs() < 1e-9, "{}", bin.rate);
        }
        // The last bin's rate counts the 90 ms it covered.
        assert!((b[9].rate - 10.0 / 0.09).abs() < 1e-6, "{}", b[9].rate);
    }

    #[test]
    fn the_svg_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.svg");
        let samples: Vec<Sample> = (0..50u64)
            .map(|k| Sample {
                at: Duration::from_millis(k),
                latency_ns: 5000 + k,
            })
            .collect();
        draw(
            &path,
            "test",
            &[Series {
                name: "verso",
                samples: &samples,
            }],
        )
        .unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }
}
