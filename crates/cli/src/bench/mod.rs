//! `verso bench`: durable write throughput and latency on the user's own disk, Verso
//! beside raw baselines on the same filesystem, in one run (issue #7).
//!
//! | module | owns |
//! | --- | --- |
//! | `options` | the command line and its checks |
//! | `workload` | what event `i` is: size, stream, bytes |
//! | `driver` | running one subject: writers, timing, histograms, the progress line |
//! | `library` | Verso embedded (`Store::create_hosted_version`) |
//! | `http` | Verso through the AWS wire against a running `verso serve` |
//! | `connect` | `--face connect`: the writes as Connect view versions over the wire |
//! | `proton` | `--face proton`: the writes as Proton environment template versions over the wire |
//! | `baselines` | raw file append, raw sled per event, raw sled batched |
//! | `read` | `--read`: latest-version reads and polls |
//! | `report` | the report, for people and as JSON |
//! | `plot` | `--plot`: the SVG |
//! | `machine` | disk usage, filesystem type, load average |
//!
//! docs/performance.md ("Run it yourself") documents the options and every report field.

mod baselines;
mod connect;
mod driver;
mod http;
mod library;
mod machine;
pub(crate) mod options;
mod plot;
mod proton;
mod read;
mod report;
mod workload;

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

pub(crate) use options::BenchArgs;

use driver::{Measured, Sample, Settings, drive};
use options::{FaceArg, ProgressArg};
use report::{Check, DataDirReport, LoadReport, Named, Report, SizeShare, Subject, WorkloadReport};
use workload::{Plan, Workload};

/// The data directory: a temporary one (removed on drop) or the user's (kept).
pub(crate) struct DataDir {
    root: PathBuf,
    temp: Option<tempfile::TempDir>,
}

impl DataDir {
    fn new(given: Option<&Path>) -> Result<Self> {
        let Some(root) = given else {
            let temp = tempfile::Builder::new()
                .prefix("verso-bench-")
                .tempdir()
                .context("creating a temporary data directory")?;
            return Ok(Self {
                root: temp.path().to_path_buf(),
                temp: Some(temp),
            });
        };
        if root.exists() {
            if !root.is_dir() {
                bail!("--data-dir {} is not a directory", root.display());
            }
            let mut entries = std::fs::read_dir(root)
                .with_context(|| format!("reading the data directory {}", root.display()))?;
            if entries.next().is_some() {
                bail!(
                    "--data-dir {} is not empty: give an empty or new directory (the bench \
                     creates DIR/store and scratch directories in it)",
                    root.display()
                );
            }
        }
        std::fs::create_dir_all(root)
            .with_context(|| format!("creating the data directory {}", root.display()))?;
        Ok(Self {
            root: root.to_path_buf(),
            temp: None,
        })
    }

    /// The Verso store's directory.
    pub(crate) fn store(&self) -> PathBuf {
        self.root.join("store")
    }

    /// A baseline's scratch directory.
    pub(crate) fn scratch(&self, name: &str) -> PathBuf {
        self.root.join(format!("baseline-{name}"))
    }

    /// Removes a scratch directory; a failure is only a warning.
    pub(crate) fn remove_scratch(&self, dir: &Path) {
        if let Err(e) = std::fs::remove_dir_all(dir) {
            tracing::warn!(dir = %dir.display(), error = %e, "could not remove a baseline's scratch directory");
        }
    }
}

/// The report being built and each subject's samples for the plot.
pub(crate) struct Run {
    pub(crate) report: Report,
    samples: Vec<(String, Vec<Sample>)>,
}

impl Run {
    /// The acks check and the note of a run over HTTP: `listed` acknowledged writes were
    /// read back from the server, `missing` were not (for the faces that say).
    fn over_http(
        &mut self,
        acknowledged: u64,
        listed: u64,
        missing: Option<u64>,
        baselines: &Path,
    ) {
        self.report.check = Some(Check {
            acknowledged,
            versions_in_store: listed,
            records: None,
            missing,
        });
        self.report.notes.push(format!(
            "over HTTP the server's flush groups and disk use are not visible; the \
             baselines ran in {}: for a fair ratio it should be on the server's disk",
            baselines.display()
        ));
    }

    /// Adds a subject (in run order) and keeps its samples.
    pub(crate) fn add(&mut self, subject: Subject, measured: Measured) {
        self.samples.push((subject.name.clone(), measured.samples));
        self.report.subjects.0.push((subject.name.clone(), subject));
    }
}

/// Runs `verso bench`.
pub(crate) fn run(args: &BenchArgs) -> Result<()> {
    if let Err(message) = options::check_combinations(args) {
        // A usage error, as clap's own: exit 2 before anything runs.
        clap::Error::raw(
            clap::error::ErrorKind::ArgumentConflict,
            format!("{message}\n"),
        )
        .exit();
    }
    let workload = Workload::from_args(args)?;
    if let Some(plot) = &args.plot {
        let parent = plot.parent().filter(|p| !p.as_os_str().is_empty());
        if parent.is_some_and(|p| !p.is_dir()) {
            bail!("--plot {}: its directory does not exist", plot.display());
        }
    }
    let data = DataDir::new(args.data_dir.as_deref())?;
    let filesystem = machine::filesystem(&data.root);
    let progress = match args.progress {
        ProgressArg::Auto => std::io::stderr().is_terminal(),
        ProgressArg::On => true,
        ProgressArg::Off => false,
    };
    let settings = Settings {
        writers: workload.writers,
        plan: workload.plan,
        keep_samples: args.plot.is_some(),
        progress,
    };
    let mut run = Run {
        report: Report {
            format: report::FORMAT,
            mode: if args.read { "read" } else { "write" },
            target: if args.http.is_some() {
                "http"
            } else {
                "library"
            },
            url: args.http.as_ref().map(ToString::to_string),
            face: args.face.name(),
            workload: workload_report(&workload),
            data_dir: DataDirReport {
                path: data.root.display().to_string(),
                kept: data.temp.is_none(),
                filesystem: filesystem.clone(),
            },
            load_average: LoadReport {
                start: machine::load_average(),
                end: None,
            },
            subjects: Named::default(),
            ratios: Named::default(),
            check: None,
            notes: Vec::new(),
        },
        samples: Vec::new(),
    };
    if matches!(args.face, FaceArg::Connect | FaceArg::Proton) {
        // Each writer writes its own view or template: the streams written are those.
        run.report.workload.streams = workload.writers;
    }
    if filesystem.as_deref() == Some("tmpfs") {
        run.report.notes.push(format!(
            "{} is on tmpfs, where a sync costs nothing: pass --data-dir on the disk you \
             want to measure",
            data.root.display()
        ));
    }
    if args.read {
        read::run(args, &workload, settings, &data, &mut run)?;
    } else {
        write(args, &workload, settings, &data, &mut run)?;
    }
    run.report.load_average.end = machine::load_average();
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let text = serde_json::to_string_pretty(&run.report).context("encoding the report")?;
        writeln!(stdout, "{text}").context("writing to stdout")?;
    } else {
        write!(stdout, "{}", run.report.human()).context("writing to stdout")?;
    }
    stdout.flush().context("writing to stdout")?;
    drop(stdout);
    if let Some(path) = &args.plot {
        let series: Vec<plot::Series<'_>> = run
            .samples
            .iter()
            .map(|(name, samples)| plot::Series { name, samples })
            .collect();
        let title = format!(
            "verso bench --{}: {} {}, {}",
            run.report.mode,
            workload.writers,
            if args.read { "readers" } else { "writers" },
            run.report
                .workload
                .sizes
                .iter()
                .map(|s| report::bytes_text(s.bytes))
                .collect::<Vec<_>>()
                .join(", ")
        );
        plot::draw(path, &title, &series)?;
    }
    if let Some(c) = &run.report.check {
        if c.acknowledged != c.versions_in_store {
            bail!(
                "Verso acknowledged {} events but the store holds {} versions afterwards",
                c.acknowledged,
                c.versions_in_store
            );
        }
        if let Some(missing) = c.missing.filter(|&m| m > 0) {
            bail!("{missing} acknowledged versions are missing from the store afterwards");
        }
    }
    Ok(())
}

fn workload_report(w: &Workload) -> WorkloadReport {
    WorkloadReport {
        writers: w.writers,
        sizes: w
            .mix
            .iter()
            .map(|&(bytes, weight)| SizeShare { bytes, weight })
            .collect(),
        mean_size_bytes: w.mean_size(),
        streams: w.streams,
        events: match w.plan {
            Plan::Events(n) => Some(n),
            Plan::Duration(_) => None,
        },
        duration_secs: match w.plan {
            Plan::Events(_) => None,
            Plan::Duration(d) => Some(d.as_secs_f64()),
        },
        durability: w.durability.name(),
    }
}

/// Write mode: Verso, then each baseline.
fn write(
    args: &BenchArgs,
    workload: &Workload,
    settings: Settings,
    data: &DataDir,
    run: &mut Run,
) -> Result<()> {
    let durability = workload.durability.name();
    match &args.http {
        None => {
            let store = library::open(&data.store(), workload)?;
            let target = library::Target::prepare(store, workload)?;
            let before = target.store.stats();
            let measured = drive("verso", settings, |_| Ok(target.writer(workload)))?;
            let stats = target.store.stats().since(before);
            let versions = target.versions_in_store()?;
            target.store.close().context("closing the store")?;
            let disk = machine::disk_usage(&data.store()).ok();
            if stats.commands != measured.events {
                run.report.notes.push(format!(
                    "the writer counted {} commands for {} acknowledged events",
                    stats.commands, measured.events
                ));
            }
            run.report.check = Some(Check {
                acknowledged: measured.events,
                versions_in_store: versions,
                records: Some(stats.records),
                missing: None,
            });
            let subject = Subject::new(
                "verso",
                "verso",
                format!(
                    "Store::create_hosted_version, acknowledged after the group's barrier \
                     (durability {durability}, group commit of up to 256)"
                ),
                &measured,
                Some(stats.groups),
                disk,
            );
            run.add(subject, measured);
        }
        Some(url) if args.face == FaceArg::Connect => {
            let client = http::Client::new(url, args.http_timeout)?;
            client.probe()?;
            let views = connect::Views::prepare(&client, workload.writers)?;
            let measured = drive("verso", settings, |w| views.writer(workload, w))?;
            let found = views.versions_in_store(&client)?;
            run.over_http(
                measured.events,
                found.listed,
                Some(found.missing),
                &data.root,
            );
            run.report.notes.push(
                "--face connect: one event is one view version, two requests and two durable \
                 writes (UpdateViewContent, then CreateViewVersion); events/s are versions/s, \
                 and the ratios compare them with the baselines' single writes"
                    .to_owned(),
            );
            let [update, create] = views.operation_times();
            let subject = Subject::new(
                "verso",
                "verso",
                format!(
                    "a Connect view version over HTTP/1.1 (one keep-alive connection and one \
                     view per writer) to verso serve at {url}: UpdateViewContent (PUBLISHED, \
                     new Template) then CreateViewVersion with its ViewContentSha256, each \
                     acknowledged after the server's barrier (durability sync)"
                ),
                &measured,
                None,
                None,
            )
            .with_requests(
                &views.times()?,
                &[
                    (connect::OPERATIONS[0], &update),
                    (connect::OPERATIONS[1], &create),
                ],
            );
            run.add(subject, measured);
        }
        Some(url) if args.face == FaceArg::Proton => {
            let client = http::Client::new(url, args.http_timeout)?;
            client.probe()?;
            let templates = proton::Templates::prepare(&client, workload.writers)?;
            let measured = drive("verso", settings, |w| templates.writer(workload, w))?;
            let found = templates.versions_in_store(&client)?;
            let passed = found.missing == 0 && found.listed == measured.events;
            run.over_http(
                measured.events,
                found.listed,
                Some(found.missing),
                &data.root,
            );
            run.report.notes.push(format!(
                "--face proton: one event is one {} (the next minor of major 1 of the \
                 writer's template), one request and one durable write; the templates and \
                 their 1.0 were created before the run and are not counted",
                proton::OPERATION
            ));
            if args.delete_templates && passed {
                let deleted = templates.delete()?;
                run.report.notes.push(format!(
                    "--delete-templates: after the check, the run's {deleted} template versions \
                     (with each 1.0) and {} templates were deleted (not measured)",
                    templates.count()
                ));
            } else if args.delete_templates {
                run.report.notes.push(
                    "--delete-templates: nothing was deleted, because the check failed".to_owned(),
                );
            }
            let subject = Subject::new(
                "verso",
                "verso",
                format!(
                    "a Proton environment template version over HTTP/1.1 (awsJson1_0; one \
                     keep-alive connection and one template per writer) to verso serve at \
                     {url}: {} with majorVersion 1, a unique clientToken and the S3 key as \
                     content, acknowledged after the server's barrier (durability sync)",
                    proton::OPERATION
                ),
                &measured,
                None,
                None,
            );
            run.add(subject, measured);
        }
        Some(url) => {
            let client = http::Client::new(url, args.http_timeout)?;
            client.probe()?;
            let remote = http::Remote::prepare(&client, workload)?;
            let measured = drive("verso", settings, |_| remote.writer(workload))?;
            let versions = remote.versions_in_store(&client)?;
            run.over_http(measured.events, versions, None, &data.root);
            let subject = Subject::new(
                "verso",
                "verso",
                format!(
                    "CreateHostedConfigurationVersion over HTTP/1.1 (one keep-alive \
                     connection per writer) to verso serve at {url} (durability sync)"
                ),
                &measured,
                None,
                None,
            );
            run.add(subject, measured);
        }
    }
    if args.no_baselines {
        return Ok(());
    }
    if workload.durability != options::DurabilityArg::Sync {
        run.report.notes.push(format!(
            "the baselines take the same relaxation as --durability {durability}: none of them \
             calls fdatasync{}",
            if durability == "buffered" {
                ", and none flushes per event"
            } else {
                ""
            }
        ));
    }
    for kind in baselines::Kind::ALL {
        let dir = data.scratch(kind.name());
        let outcome = baselines::run(kind, &dir, workload, settings)?;
        data.remove_scratch(&dir);
        let subject = Subject::new(
            kind.name(),
            "baseline",
            kind.description(workload.durability),
            &outcome.measured,
            outcome.groups,
            outcome.disk_bytes,
        );
        run.add(subject, outcome.measured);
    }
    run.report.add_ratios("verso");
    Ok(())
}
