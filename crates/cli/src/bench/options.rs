//! `verso bench`'s command line: the syntax and the checks of each value, no I/O.

use std::path::PathBuf;
use std::time::Duration;

use verso_storage::Durability;

/// The store's content limit per version (AWS's 2 MiB): no event may be larger.
pub(crate) const MAX_SIZE: u64 = verso_domain::Limits::DEFAULT.max_content_bytes;
/// At most this many distinct sizes in `--size-mix`, and this total weight.
const MAX_MIX_WEIGHT: u32 = 1000;
/// `--duration` when neither it nor `--events` is given.
pub(crate) const DEFAULT_DURATION: Duration = Duration::from_secs(5);

/// Measure durable write throughput and latency on this machine's disk, Verso beside
/// raw baselines on the same filesystem, in one run.
///
/// Each subject (Verso, then each baseline) runs the same workload: `--writers`
/// concurrent writers, each waiting for its acknowledgement before it sends the next,
/// for `--events` events or `--duration` seconds. The report gives events/s, bytes/s,
/// latency percentiles, flush groups, disk space per logical byte and Verso's ratio to
/// each baseline (docs/performance.md, "Run it yourself").
#[derive(clap::Args, Debug)]
pub(crate) struct BenchArgs {
    /// Concurrent writers (readers with --read), 1 to 4096. Each waits for its answer
    /// before it sends the next.
    #[arg(long, default_value_t = 16, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub(crate) writers: u32,

    /// Content size of every event: bytes, or with a unit (KiB, MiB; K and M are the
    /// same). From 1 byte to 2 MiB, the store's content limit.
    #[arg(long, default_value = "1KiB", value_name = "BYTES", value_parser = parse_size,
          conflicts_with = "size_mix")]
    pub(crate) size: u64,

    /// A mix of content sizes instead of one: `SIZE[:WEIGHT]` items separated by commas,
    /// e.g. `1KiB,64KiB` (alternating) or `1KiB:9,64KiB:1` (nine small, one large).
    /// Events cycle through the mix in order, so every subject writes the same bytes.
    #[arg(long, value_name = "SIZE[:WEIGHT],...", value_parser = parse_mix)]
    pub(crate) size_mix: Option<SizeMix>,

    /// Hosted configuration profiles written to, round robin: 1 is one hot profile,
    /// more spread the writes. 1 to 10000.
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) streams: u32,

    /// Events per subject (Verso and each baseline), at least 1. Without it (and
    /// without --duration) each subject runs for 5 seconds.
    #[arg(long, value_name = "N", conflicts_with = "duration",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) events: Option<u64>,

    /// Seconds per subject (decimals allowed, e.g. 0.5), more than 0 and at most 3600.
    /// Default 5 unless --events is given.
    #[arg(long, value_name = "SECS", value_parser = parse_duration)]
    pub(crate) duration: Option<Duration>,

    /// When Verso acknowledges a write (docs/design/durability.md): `sync` (the
    /// default: on stable storage), `flush` (handed to the OS), `buffered` (in sled's
    /// memory). The baselines take the same relaxation. Not with --http: `verso serve`
    /// runs `sync`; not with --read, which writes only to prepare.
    #[arg(long, value_enum, default_value_t = DurabilityArg::Sync,
          conflicts_with_all = ["http", "read"])]
    pub(crate) durability: DurabilityArg,

    /// Where the Verso store (`DIR/store`) and the baselines' scratch directories go;
    /// kept afterwards, except the baselines' scratch. Must be empty or missing.
    /// Default: a fresh temporary directory (under $TMPDIR), removed afterwards. Put it
    /// on the disk you want to measure: on tmpfs a sync costs nothing.
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,

    /// Drive a running `verso serve` at URL (e.g. `http://127.0.0.1:7080`) through the
    /// AWS wire (CreateHostedConfigurationVersion; with --read, GetHostedConfigurationVersion
    /// and GetLatestConfiguration, which need `verso serve --poll-interval-check off`)
    /// instead of an embedded store. The bench creates its own application and profiles
    /// there. The baselines still run in --data-dir: put it on the server's disk.
    #[arg(long, value_name = "URL", value_parser = parse_url)]
    pub(crate) http: Option<HttpUrl>,

    /// With --http: how long connecting and each request may take, in seconds (more
    /// than 0, at most 3600), so that an unreachable or stuck server is an error, not a
    /// hang.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_duration,
          requires = "http")]
    pub(crate) http_timeout: Duration,

    /// With --http: which API the writers drive. `appconfig` (the default): one event is
    /// one CreateHostedConfigurationVersion. `connect`: one event is one Amazon Connect
    /// view version, two requests and two durable writes: UpdateViewContent (Status
    /// PUBLISHED, a new Template of the event's size) then CreateViewVersion guarded by
    /// that content's ViewContentSha256; events/s are versions/s, and the report adds
    /// requests/s and per-request latency. Each writer gets its own view (in fresh
    /// instances `verso-bench-<time>-<n>`, 100 views each), so writers never conflict and
    /// --streams is not used (more than 1 is refused); --read is refused, and a size is
    /// at most 409,566 bytes (400 KiB of canonical view content). `proton`: one event is
    /// one AWS Proton CreateEnvironmentTemplateVersion (awsJson1_0), the next minor of
    /// major 1 of the writer's own template, with a unique clientToken and an S3 key of
    /// the event's size (at most 1024 bytes); each writer's template (`vb<time>-<n>`) and
    /// its 1.0 are created first. The server allows 100 live templates, so at most 100
    /// writers (see --delete-templates); --read and --streams above 1 are refused.
    #[arg(long, value_enum, default_value_t = FaceArg::Appconfig,
          value_name = "appconfig|connect|proton", requires = "http")]
    pub(crate) face: FaceArg,

    /// With --face proton: after the run and its check, delete the run's template
    /// versions and templates (not measured), so that the server's quota of 100 live
    /// templates has room for the next run. Skipped when the check fails.
    #[arg(long)]
    pub(crate) delete_templates: bool,

    /// Print the report as one JSON object on stdout (field names in
    /// docs/performance.md) instead of the human report.
    #[arg(long)]
    pub(crate) json: bool,

    /// Also draw throughput per second and latency over time of every subject as an
    /// SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub(crate) plot: Option<PathBuf>,

    /// Measure reads instead of writes, against a store the bench prepares:
    /// latest-version reads and GetLatestConfiguration-equivalent polls per second,
    /// beside raw sled point reads.
    #[arg(long)]
    pub(crate) read: bool,

    /// The live progress line on stderr (rate, elapsed): `auto` shows it when stderr is
    /// a terminal.
    #[arg(long, value_enum, default_value_t = ProgressArg::Auto)]
    pub(crate) progress: ProgressArg,

    /// Measure Verso only: no baselines, no ratios.
    #[arg(long)]
    pub(crate) no_baselines: bool,
}

/// `--durability`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DurabilityArg {
    /// Acknowledged once on stable storage (flush + fdatasync).
    Sync,
    /// Acknowledged once handed to the OS (sled's flush).
    Flush,
    /// Acknowledged once in memory.
    Buffered,
}

impl DurabilityArg {
    pub(crate) const fn store(self) -> Durability {
        match self {
            Self::Sync => Durability::Sync,
            Self::Flush => Durability::Flush,
            Self::Buffered => Durability::Buffered,
        }
    }

    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Flush => "flush",
            Self::Buffered => "buffered",
        }
    }
}

/// `--face`: the API a write run drives over HTTP.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FaceArg {
    /// AWS AppConfig: CreateHostedConfigurationVersion.
    Appconfig,
    /// Amazon Connect views: UpdateViewContent then CreateViewVersion.
    Connect,
    /// AWS Proton environment templates: CreateEnvironmentTemplateVersion.
    Proton,
}

impl FaceArg {
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Appconfig => "appconfig",
            Self::Connect => "connect",
            Self::Proton => "proton",
        }
    }
}

/// The checks clap cannot express, on options it has already parsed: what `--face
/// connect` and `--face proton` refuse. `Err` is the usage error's message.
pub(crate) fn check_combinations(args: &BenchArgs) -> Result<(), String> {
    if args.delete_templates && args.face != FaceArg::Proton {
        return Err("--delete-templates needs --face proton".into());
    }
    // (name, what each writer gets, the largest size, what that size is, and why).
    let (face, each, limit, largest_is, why) = match args.face {
        FaceArg::Appconfig => return Ok(()),
        FaceArg::Connect => (
            "connect",
            "view",
            super::connect::max_template_bytes(),
            "the largest view template",
            "a view's canonical content is at most 400 KiB",
        ),
        FaceArg::Proton => (
            "proton",
            "template",
            super::proton::MAX_KEY_CHARS,
            "the longest template source key",
            "an S3 key is at most 1024 characters",
        ),
    };
    if args.read {
        return Err(format!(
            "--face {face} measures writes only: it cannot be used with --read"
        ));
    }
    if args.streams != 1 {
        return Err(format!(
            "--face {face} gives each writer its own {each}: --streams cannot be more than 1"
        ));
    }
    let largest = args.size_mix.as_ref().map_or(args.size, |m| {
        m.0.iter().map(|&(s, _)| s).max().unwrap_or(0)
    });
    if largest > limit {
        return Err(format!(
            "--face {face}: {largest} bytes is over {largest_is}, {limit} bytes ({why})"
        ));
    }
    if args.face == FaceArg::Proton && u64::from(args.writers) > super::proton::MAX_WRITERS {
        let most = super::proton::MAX_WRITERS;
        return Err(format!(
            "--face proton gives each writer its own template and verso serve allows {most} \
             live templates: --writers cannot be more than {most}"
        ));
    }
    Ok(())
}

/// `--progress`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProgressArg {
    /// When stderr is a terminal.
    Auto,
    /// Always.
    On,
    /// Never.
    Off,
}

/// A size mix: each size with its weight, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SizeMix(pub(crate) Vec<(u64, u32)>);

/// A `verso serve` base URL: `http://HOST:PORT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HttpUrl {
    /// `HOST:PORT`.
    pub(crate) authority: String,
}

impl HttpUrl {
    /// The URL of `path_and_query` (which starts with `/`) on this server.
    pub(crate) fn at(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.authority)
    }
}

impl std::fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http://{}", self.authority)
    }
}

/// A content size: [`parse_bytes`], at most the store's content limit.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let bytes = parse_bytes(text)?;
    if bytes > MAX_SIZE {
        return Err(format!(
            "{bytes} bytes is over the store's content limit of {MAX_SIZE} bytes (2 MiB)"
        ));
    }
    Ok(bytes)
}

/// A size: digits, then optionally `B`, `K`/`KiB`/`KB`, `M`/`MiB`/`MB` or
/// `G`/`GiB`/`GB` (all binary); at least 1 byte.
pub(crate) fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. 1024, 1KiB, 64KiB, 2MiB)"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit {other:?} (use B, KiB, MiB or GiB)"
            ));
        }
    };
    let bytes = n
        .checked_mul(scale)
        .ok_or_else(|| format!("{text:?} is too large"))?;
    if bytes == 0 {
        return Err("the size must be at least 1 byte".to_owned());
    }
    Ok(bytes)
}

fn parse_mix(text: &str) -> Result<SizeMix, String> {
    let mut items = Vec::new();
    let mut total: u32 = 0;
    for item in text.split(',') {
        let (size, weight) = match item.split_once(':') {
            Some((s, w)) => {
                let w: u32 = w
                    .trim()
                    .parse()
                    .map_err(|_| format!("weight {w:?} is not a whole number"))?;
                (s, w)
            }
            None => (item, 1),
        };
        if weight == 0 {
            return Err(format!("{item:?}: a weight must be at least 1"));
        }
        total = total.saturating_add(weight);
        items.push((parse_size(size)?, weight));
    }
    if total > MAX_MIX_WEIGHT {
        return Err(format!(
            "the weights add up to {total}; at most {MAX_MIX_WEIGHT}"
        ));
    }
    Ok(SizeMix(items))
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= 3600.0) {
        return Err(format!("{text} s is outside (0, 3600]"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn parse_url(text: &str) -> Result<HttpUrl, String> {
    let rest = match text.split_once("://") {
        Some(("http", rest)) => rest,
        Some(("https", _)) => {
            return Err("https is not supported: verso serve speaks plain HTTP".to_owned());
        }
        Some((scheme, _)) => return Err(format!("unsupported scheme {scheme:?}: use http://")),
        None => return Err(format!("{text:?} is not a URL like http://127.0.0.1:7080")),
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
        return Err(format!(
            "{text:?}: give the server's base URL only, like http://127.0.0.1:7080"
        ));
    }
    let authority = if has_port(authority) {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    Ok(HttpUrl { authority })
}

/// Whether `HOST:PORT` (or `[v6]:PORT`) names a port.
fn has_port(authority: &str) -> bool {
    let host_end = authority.rfind(']').map_or(0, |i| i + 1);
    authority
        .get(host_end..)
        .and_then(|tail| tail.rsplit_once(':'))
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_units_and_the_content_limit() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("1KiB"), Ok(1024));
        assert_eq!(parse_size("64k"), Ok(65536));
        assert_eq!(parse_size("2MiB"), Ok(2 * 1024 * 1024));
        assert!(parse_size("0").is_err());
        assert!(parse_size("3MiB").unwrap_err().contains("content limit"));
        assert!(parse_size("1GiB").unwrap_err().contains("content limit"));
        assert_eq!(parse_bytes("1GiB"), Ok(1 << 30));
        assert!(parse_bytes("2TiB").unwrap_err().contains("unit"));
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn a_mix_keeps_order_and_weights() {
        assert_eq!(
            parse_mix("1KiB:9,64KiB"),
            Ok(SizeMix(vec![(1024, 9), (65536, 1)]))
        );
        assert!(parse_mix("1KiB:0").is_err());
        assert!(parse_mix("1KiB:2000").is_err());
        assert!(parse_mix("").is_err());
    }

    #[test]
    fn urls_are_plain_http_base_urls() {
        assert_eq!(
            parse_url("http://127.0.0.1:7080/").map(|u| u.to_string()),
            Ok("http://127.0.0.1:7080".to_owned())
        );
        assert_eq!(
            parse_url("http://localhost").map(|u| u.authority),
            Ok("localhost:80".to_owned())
        );
        assert_eq!(
            parse_url("http://[::1]:9").map(|u| u.authority),
            Ok("[::1]:9".to_owned())
        );
        assert!(parse_url("https://x").unwrap_err().contains("https"));
        assert!(parse_url("127.0.0.1:7080").is_err());
        assert!(parse_url("http://h:1/applications").is_err());
    }

    #[test]
    fn durations_are_positive_seconds() {
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("NaN").is_err());
    }
}
