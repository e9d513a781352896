//! `verso`: the command-line face of Verso.
//!
//! `verso serve` serves the AWS AppConfig control plane and AppConfigData over HTTP on an
//! embedded store; `verso bench` measures durable write (and read) throughput on this
//! machine's disk beside raw baselines.

mod bench;

use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;

mod audit;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Where `verso serve` listens unless told otherwise: loopback only.
const DEFAULT_LISTEN: &str = "127.0.0.1:7080";

/// Verso: an event-sourced versioning store that speaks the AWS AppConfig API.
#[derive(Parser, Debug)]
#[command(name = "verso", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve AWS AppConfig, AppConfigData, Amazon Connect views and AWS Proton environment
    /// templates over HTTP until SIGINT or SIGTERM.
    ///
    /// Point a client at it with `--endpoint-url http://127.0.0.1:7080` (AWS CLI),
    /// `endpoint_url=` (boto3) or `endpoint_url(...)` (AWS SDK for Rust). Logs go to
    /// stderr; set `RUST_LOG` (e.g. `RUST_LOG=debug`) for more.
    Serve(ServeArgs),
    /// Measure durable write throughput and latency on this disk, Verso beside raw file
    /// and raw sled baselines, in one run (`--read` for reads).
    ///
    /// A human report on stdout (`--json` for one JSON object), a progress line on
    /// stderr when it is a terminal. docs/performance.md ("Run it yourself") explains
    /// every option and field.
    Bench(Box<bench::BenchArgs>),
    /// The audit commands: log, verify, rebuild, replay, show, diff, export, import.
    #[command(flatten)]
    Audit(audit::AuditCommand),
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Address and port to listen on. Port 0 picks a free port; the address actually
    /// bound is printed on stdout as `listening on http://ADDR`.
    #[arg(long, default_value = DEFAULT_LISTEN, value_name = "ADDR:PORT")]
    listen: SocketAddr,

    /// The store's data directory, created if missing. Default: `$VERSO_DATA_DIR`, else
    /// `$XDG_DATA_HOME/verso`, else `~/.local/share/verso`.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Whether AppConfigData refuses a GetLatestConfiguration that comes sooner than its
    /// session's poll interval (`BadRequestException`, `PollIntervalNotSatisfied`), as
    /// AWS does. `off` is for tests and local work; tokens stay single-use either way.
    #[arg(long, value_enum, default_value_t = Switch::On, value_name = "on|off")]
    poll_interval_check: Switch,

    /// sled's page cache: how much of the store's pages are kept in memory (`512MiB`,
    /// `2GiB`; at least 1 MiB). The projections are in memory whatever this says.
    #[arg(long, default_value = "1GiB", value_name = "SIZE",
          value_parser = bench::options::parse_bytes)]
    cache_size: u64,

    /// When a write is acknowledged: `sync` (on stable storage: survives a power loss),
    /// `flush` (handed to the OS: survives a crash of the process) or `buffered` (in
    /// memory). docs/design/durability.md says what each can lose.
    #[arg(long, value_enum, default_value_t = bench::options::DurabilityArg::Sync,
          value_name = "sync|flush|buffered")]
    durability: bench::options::DurabilityArg,

    /// Checkpoint the projections after this many acknowledged groups (at least 1).
    /// Fewer mean a shorter start after a crash and more writing.
    #[arg(long, default_value_t = 1000, value_name = "GROUPS",
          value_parser = clap::value_parser!(u64).range(1..))]
    checkpoint_groups: u64,
}

/// An on/off switch.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Switch {
    On,
    Off,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Bench(args) => bench::run(&args),
        Command::Audit(command) => audit::main(command),
    }
}

/// `error` and its sources, outermost first, as one line (`a: b: c`): what a client
/// error says when it is shown to a person.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// The default data directory (see [`ServeArgs::data_dir`]).
fn default_data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("VERSO_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("verso"));
    }
    let home = std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .context("no data directory: pass --data-dir, or set VERSO_DATA_DIR or HOME")?;
    Ok(PathBuf::from(home).join(".local/share/verso"))
}

fn serve(args: ServeArgs) -> Result<()> {
    let data_dir = match args.data_dir {
        Some(d) => d,
        None => default_data_dir()?,
    };
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
    let store = verso_storage::StoreOptions::new()
        .cache_capacity(args.cache_size)
        .durability(args.durability.store())
        .checkpoint_groups(args.checkpoint_groups)
        .open(&data_dir)
        .with_context(|| format!("opening the store in {}", data_dir.display()))?;
    let head = store.head();
    let options = verso_server::ServerOptions::default()
        .enforce_poll_interval(args.poll_interval_check == Switch::On);
    // Before the address is announced: a damaged AppConfigData session table or key
    // stops the start with the file named, and nobody is told the server is up.
    let server = verso_server::Server::new(store, options)
        .with_context(|| format!("loading AppConfigData state in {}", data_dir.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("verso-http")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("binding {}", args.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        // IMPORTANT: before the address is announced, so that a signal sent as soon as
        // it is read is handled.
        let shutdown = shutdown_signal()?;
        tracing::info!(
            data_dir = %data_dir.display(),
            head = head.position,
            "verso serving the AppConfig and AppConfigData APIs on http://{addr}"
        );
        // The one line on stdout: scripts and tests read the bound address from it.
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on http://{addr}").context("writing to stdout")?;
        stdout.flush().context("writing to stdout")?;
        drop(stdout);
        server.serve(listener, shutdown).await.context("serving")?;
        tracing::info!("store closed; bye");
        Ok(())
    })
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled: a signal that arrives right after the
/// server announced its address must stop it cleanly, not kill it.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut terminate =
        signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("SIGINT: finishing in-flight requests"),
            _ = terminate.recv() => tracing::info!("SIGTERM: finishing in-flight requests"),
        }
    })
}
