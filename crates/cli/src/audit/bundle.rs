//! `verso export`, `verso import` and `verso verify --bundle` (phase 2).

use std::path::{Path, PathBuf};

use serde_json::json;
use verso_storage::{Head, ImportStep, Violation};

use super::output::Out;
use super::progress::Progress;
use super::verify::{Broken, ExpectedHead, report};
use super::{Code, Failure, Outcome, Source, SourceArgs, StoreArgs, storage_failure};

#[derive(clap::Args, Debug)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// The bundle file to write.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// One JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub(crate) struct ImportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The bundle file to read.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// One JSON object.
    #[arg(long)]
    json: bool,
}

pub(crate) fn export(args: &ExportArgs) -> Outcome {
    let source = args.source.open()?;
    // Written beside the target and renamed into place, so that a failed export never
    // leaves a partial file under the name asked for.
    let partial = args.file.with_extension("partial");
    let written = (|| -> Result<verso_storage::BundleReport, Failure> {
        let mut file = std::fs::File::create(&partial).map_err(|e| {
            Failure::new(
                Code::Failure,
                format!("creating {}: {e}", partial.display()),
            )
        })?;
        let report = match &source {
            Source::Local(store) => {
                let mut progress = Progress::counting("exporting", "records and contents", None);
                let mut last = 0;
                let exported = store.export_bundle_with_progress(&mut file, &mut |done, all| {
                    progress.update_of(done, all);
                    last = done;
                });
                progress.finish(last);
                exported.map_err(|e| storage_failure(store.path(), &e))?
            }
            Source::Remote(remote) => {
                let mut received = Counted {
                    inner: std::io::BufWriter::new(&mut file),
                    bytes: 0,
                    progress: Progress::counting("receiving", "bytes", None),
                };
                remote.export(&mut received)?;
                std::io::Write::flush(&mut received).map_err(|e| {
                    Failure::new(Code::Failure, format!("writing {}: {e}", partial.display()))
                })?;
                received.progress.finish(received.bytes);
                drop(received);
                // The report comes from the bytes received: what is renamed into place
                // is a bundle that verifies, not merely what the server meant to send.
                received_report(&partial, remote.base())?
            }
        };
        file.sync_all()
            .and_then(|()| std::fs::rename(&partial, &args.file))
            .map_err(|e| {
                Failure::new(
                    Code::Failure,
                    format!("writing {}: {e}", args.file.display()),
                )
            })?;
        Ok(report)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    let report = written?;
    source.close()?;
    let mut out = Out::new();
    let value = report_json(&report);
    if args.json {
        out.json(&value)?;
    } else {
        out.line(&format!(
            "exported {} records and {} contents to {}; head {}:{}",
            report.records,
            report.blobs,
            args.file.display(),
            report.head.position,
            report.head.hash_hex()
        ))?;
    }
    out.finish()?;
    Ok(Code::Ok)
}

/// A writer that counts what passes through it and shows the count: a remote export
/// is a stream of unknown length.
struct Counted<W> {
    inner: W,
    bytes: u64,
    progress: Progress,
}

impl<W: std::io::Write> std::io::Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        self.progress.update(self.bytes);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Verifies a bundle received from `base` and returns its report.
fn received_report(file: &Path, base: &str) -> Result<verso_storage::BundleReport, Failure> {
    let f = std::fs::File::open(file)
        .map_err(|e| Failure::new(Code::Failure, format!("reading {}: {e}", file.display())))?;
    verify_showing_progress(f, None)
        .map_err(|e| Failure::new(Code::Failure, format!("{}: {e}", file.display())))?
        .map_err(|v| {
            Failure::new(
                Code::VerificationFailed,
                format!("the bundle received from {base} does not verify: {v}"),
            )
        })
}

fn report_json(report: &verso_storage::BundleReport) -> serde_json::Value {
    json!({
        "head": {"position": report.head.position, "chain_hash": report.head.hash_hex()},
        "records": report.records,
        "contents": report.blobs,
    })
}

pub(crate) fn import(args: &ImportArgs) -> Outcome {
    let dir = args.store.dir()?;
    let occupied = std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_some());
    if occupied {
        return Err(Failure::new(
            Code::Unavailable,
            format!(
                "{} is not empty: import only into an empty data directory",
                dir.display()
            ),
        ));
    }
    let mut progress = StepProgress::default();
    let checked =
        verso_storage::import_bundle_with_progress(&args.file, &dir, &mut |step, done, total| {
            progress.update(step, done, total);
        });
    progress.finish();
    let checked = checked.map_err(|e| storage_failure(&dir, &e))?;
    let verdict = checked.map(|r| report_json(&r)).map_err(|v| Broken {
        position: v.position,
        problem: format!("{}; nothing was imported", v.problem),
    });
    report(args.json, verdict, |v| {
        format!(
            "imported {} records and {} contents into {}; head {}:{}",
            v["records"],
            v["contents"],
            dir.display(),
            v["head"]["position"],
            v["head"]["chain_hash"].as_str().unwrap_or_default()
        )
    })
}

/// A progress line for each step of an import, in turn.
#[derive(Default)]
struct StepProgress {
    current: Option<(ImportStep, Progress)>,
    done: u64,
}

impl StepProgress {
    fn update(&mut self, step: ImportStep, done: u64, total: u64) {
        if self.current.as_ref().is_none_or(|(s, _)| *s != step) {
            self.finish();
            let (name, unit) = match step {
                ImportStep::Verifying => ("verifying", "records"),
                ImportStep::Writing => ("writing", "records and contents"),
                ImportStep::Rebuilding => ("replaying", "records"),
                _ => ("writing projections", "entries"),
            };
            self.current = Some((step, Progress::counting(name, unit, Some(total))));
        }
        if let Some((_, line)) = &mut self.current {
            line.update(done);
        }
        self.done = done;
    }

    fn finish(&mut self) {
        if let Some((_, mut line)) = self.current.take() {
            line.finish(self.done);
        }
    }
}

/// Verifies the bundle in `file` against `expected` (if given), with a progress line.
fn verify_showing_progress(
    file: std::fs::File,
    expected: Option<Head>,
) -> verso_storage::Result<Result<verso_storage::BundleReport, Violation>> {
    let mut progress = StepProgress::default();
    let checked = verso_storage::verify_bundle_with_progress(
        &mut std::io::BufReader::new(file),
        expected,
        &mut |done, total| progress.update(ImportStep::Verifying, done, total),
    );
    progress.finish();
    checked
}

pub(crate) fn verify_bundle(file: &Path, expected: Option<&ExpectedHead>, json: bool) -> Outcome {
    let expected = expected.map(to_head).transpose()?;
    let f = std::fs::File::open(file)
        .map_err(|e| Failure::usage(format!("opening {}: {e}", file.display())))?;
    let checked = verify_showing_progress(f, expected)
        .map_err(|e| Failure::new(Code::Failure, format!("{}: {e}", file.display())))?;
    report(json, checked.map(|r| report_json(&r)), |v| {
        format!(
            "ok: bundle verified: {} records, {} contents, head {}:{}",
            v["records"],
            v["contents"],
            v["head"]["position"],
            v["head"]["chain_hash"].as_str().unwrap_or_default()
        )
    })
}

fn to_head(e: &ExpectedHead) -> Result<Head, Failure> {
    let mut hash = [0u8; 32];
    for (slot, i) in hash.iter_mut().zip((0..64).step_by(2)) {
        *slot = e
            .hash
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .ok_or_else(|| Failure::usage("bad --expect-head hash"))?;
    }
    Ok(Head {
        position: e.position,
        hash,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    #[test]
    fn a_counted_writer_passes_every_byte_through_and_counts_it() {
        let mut counted = Counted {
            inner: Vec::new(),
            bytes: 0,
            progress: Progress::counting("receiving", "bytes", None),
        };
        counted.write_all(b"verso").unwrap();
        counted.write_all(&[7; 10_000]).unwrap();
        counted.flush().unwrap();
        assert_eq!(counted.bytes, 10_005);
        assert_eq!(counted.inner.len(), 10_005);
        assert!(counted.inner.starts_with(b"verso"));
    }
}
