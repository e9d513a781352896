//! The audit commands: `log`, `verify`, `rebuild`, `replay`, `show`, `diff`, `export`
//! and `import` (issue #6, docs/audit.md).
//!
//! Each works on a data directory (`--data-dir`, the same default as `verso serve`);
//! the read-only ones (`log`, `verify`, `replay`, `show`, `diff`, `export`) also on a
//! running server with `--endpoint URL`, through the Verso admin API ([`remote`],
//! docs/admin-api.md), with the same output.
//! Output is human-readable by default and one JSON object per line with `--json`.
//! Exit codes are in [`Code`].

mod bundle;
mod diff;
mod history;
mod output;
mod progress;
mod remote;
mod replay;
mod verify;

use std::path::{Path, PathBuf};

use clap::Subcommand;
use verso_domain::{ApplicationId, Position, ProfileId, StreamId, Timestamp, VersionSelector};
use verso_storage::{At, Error, ErrorKind, Refused, Snapshot, Store};

/// Exit codes the audit commands promise (docs/audit.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Code {
    /// Everything asked for holds.
    Ok = 0,
    /// Verification failed: the store or the bundle is not what Verso wrote.
    VerificationFailed = 1,
    /// A usage or input error: a bad `--at`, an unknown stream or version.
    Usage = 2,
    /// The data directory cannot be used: held by a running server, missing, not a
    /// Verso store, or (for import) not empty.
    Unavailable = 3,
    /// An I/O or storage failure.
    Failure = 4,
}

/// A failure with its exit code and a message for stderr.
#[derive(Debug)]
pub(crate) struct Failure {
    code: Code,
    message: String,
}

impl Failure {
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(Code::Usage, message)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self::new(Code::Failure, format!("{e:#}"))
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Self::new(Code::Failure, format!("writing output: {e}"))
    }
}

impl From<Refused> for Failure {
    fn from(r: Refused) -> Self {
        Self::usage(r.to_string())
    }
}

/// What a command returns: the exit code it chose, or a failure.
pub(crate) type Outcome = Result<Code, Failure>;

/// The audit subcommands, flattened into `verso`'s own.
#[derive(Subcommand, Debug)]
pub(crate) enum AuditCommand {
    /// Print the events of the log: position, time, stream, version, event type,
    /// content sha256 and chain hash, oldest first.
    Log(history::LogArgs),
    /// Verify the whole store: the hash chain, every content's sha256, and the
    /// projections equal to the fold of the log. Exit 0 when everything holds, 1 with the
    /// first bad position otherwise.
    Verify(verify::VerifyArgs),
    /// Drop the projections and rebuild them by replaying the log.
    Rebuild(verify::RebuildArgs),
    /// The state of every stream (or one) as of a position or a time: latest version,
    /// labels, content hash and what each environment had deployed then.
    Replay(replay::ReplayArgs),
    /// One version's content and metadata, as of now or of `--at`:
    /// `<app>/<profile>[@version|#label]`, each an id or a name.
    Show(replay::ShowArgs),
    /// A unified diff of two versions of `<app>/<profile>` (a size-and-hash summary for
    /// binary content types).
    Diff(diff::DiffArgs),
    /// Write the whole log, its contents and its head to a self-verifying bundle file.
    Export(bundle::ExportArgs),
    /// Load a bundle into an empty data directory, after verifying all of it.
    Import(bundle::ImportArgs),
}

/// Where the store is.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct StoreArgs {
    /// The store's data directory. Default: as `verso serve` (`$VERSO_DATA_DIR`, else
    /// `$XDG_DATA_HOME/verso`, else `~/.local/share/verso`).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl StoreArgs {
    fn dir(&self) -> Result<PathBuf, Failure> {
        match &self.data_dir {
            Some(d) => Ok(d.clone()),
            None => crate::default_data_dir().map_err(|e| Failure::usage(format!("{e:#}"))),
        }
    }

    /// Opens the existing store, refusing to create one.
    fn open(&self) -> Result<Store, Failure> {
        let dir = self.dir()?;
        require_store(&dir)?;
        Store::open(&dir).map_err(|e| storage_failure(&dir, &e))
    }
}

/// Where a read-only command reads: a data directory, or a running server.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct SourceArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Ask the `verso serve` at this URL (e.g. http://127.0.0.1:7080) through its
    /// read-only admin API instead of opening a data directory: for when a server holds
    /// the directory. Output is the same.
    #[arg(long, value_name = "URL", conflicts_with = "data_dir")]
    endpoint: Option<String>,
}

impl SourceArgs {
    /// The data directory, when no endpoint is given.
    fn local_dir(&self) -> Result<Option<PathBuf>, Failure> {
        match self.endpoint {
            Some(_) => Ok(None),
            None => self.store.dir().map(Some),
        }
    }

    /// Opens the store, or a client for the endpoint.
    fn open(&self) -> Result<Source, Failure> {
        match &self.endpoint {
            Some(url) => remote::Remote::new(url).map(|r| Source::Remote(Box::new(r))),
            None => self.store.open().map(Source::Local),
        }
    }
}

/// A store opened by a read-only command, or the server that holds it.
pub(crate) enum Source {
    /// The data directory, opened.
    Local(Store),
    /// A running `verso serve`.
    Remote(Box<remote::Remote>),
}

/// One version and its content, from either source.
pub(crate) struct Version {
    pub(crate) meta: verso_server::admin::VersionBody,
    pub(crate) content: Vec<u8>,
}

impl Version {
    fn local(v: verso_storage::VersionAt) -> Self {
        Self {
            meta: verso_server::admin::VersionBody::new(&v),
            content: v.content,
        }
    }

    fn remote(r: &remote::Remote, meta: verso_server::admin::VersionBody) -> Result<Self, Failure> {
        let content = meta
            .content()
            .map_err(|e| Failure::new(Code::Failure, format!("{}: {e}", r.base())))?;
        Ok(Self { meta, content })
    }
}

impl Source {
    /// The ids of `app`/`profile` (ids or names) as of `at`; the refusal's message when
    /// they name nothing then.
    pub(crate) fn resolve(
        &self,
        at: At,
        app: &str,
        profile: &str,
    ) -> Result<Result<(ApplicationId, ProfileId), String>, Failure> {
        match self {
            Self::Local(store) => Ok(store
                .resolve_stream(at, app, profile)
                .map_err(|e| storage_failure(store.path(), &e))?
                .map_err(|r| r.to_string())),
            Self::Remote(r) => Ok(match r.resolve(at, app, profile)? {
                Ok(ids) => Ok((
                    ApplicationId::parse(&ids.application).map_err(|e| {
                        Failure::new(Code::Failure, format!("{}: bad id: {e}", r.base()))
                    })?,
                    ProfileId::parse(&ids.profile).map_err(|e| {
                        Failure::new(Code::Failure, format!("{}: bad id: {e}", r.base()))
                    })?,
                )),
                Err(message) => Err(message),
            }),
        }
    }

    /// The state of every stream as of `at`.
    pub(crate) fn snapshot(&self, at: At) -> Result<Snapshot, Failure> {
        match self {
            Self::Local(store) => Ok(store
                .snapshot(at)
                .map_err(|e| storage_failure(store.path(), &e))??),
            Self::Remote(r) => r.snapshot(at),
        }
    }

    /// One version of `target` as of `at`.
    pub(crate) fn version(
        &self,
        at: At,
        target: &Target,
        selector: Option<&VersionSelector>,
    ) -> Result<Version, Failure> {
        let (app, profile) = match target {
            Target::Profile(app, profile) => (app, profile),
            Target::Stream(stream) => return self.stream_version(at, stream, selector),
        };
        match self {
            Self::Local(store) => Ok(Version::local(
                store
                    .version_at(at, app, profile, selector)
                    .map_err(|e| storage_failure(store.path(), &e))??,
            )),
            Self::Remote(r) => Version::remote(r, r.version(at, app, profile, selector)?),
        }
    }

    fn stream_version(
        &self,
        at: At,
        stream: &StreamId,
        selector: Option<&VersionSelector>,
    ) -> Result<Version, Failure> {
        let number = match selector {
            None => None,
            Some(VersionSelector::Number(n)) => Some(*n),
            Some(VersionSelector::Label(_)) => {
                return Err(Failure::usage(format!(
                    "{stream} has no labels: a label selects a configuration profile's version"
                )));
            }
        };
        match self {
            Self::Local(store) => Ok(Version::local(
                store
                    .stream_version_at(at, stream, number)
                    .map_err(|e| storage_failure(store.path(), &e))??,
            )),
            Self::Remote(r) => Version::remote(r, r.stream_version(at, stream, number)?),
        }
    }

    /// Closes a local store (its final sync); nothing to do for a server.
    pub(crate) fn close(self) -> Result<(), Failure> {
        match self {
            Self::Local(store) => close(store),
            Self::Remote(_) => Ok(()),
        }
    }
}

/// Refuses a directory that holds no store, so that a read never creates one.
fn require_store(dir: &Path) -> Result<(), Failure> {
    if dir.join("db").exists() {
        Ok(())
    } else {
        Err(Failure::new(
            Code::Unavailable,
            format!("{}: no Verso store in this directory", dir.display()),
        ))
    }
}

/// The failure for a storage error while using `dir`.
pub(crate) fn storage_failure(dir: &Path, e: &Error) -> Failure {
    match e.kind() {
        ErrorKind::Locked => Failure::new(
            Code::Unavailable,
            format!(
                "{} is in use by another process (a running `verso serve`?); \
                 stop it, or ask the server with --endpoint URL",
                dir.display()
            ),
        ),
        ErrorKind::UnknownFormat => Failure::new(Code::Unavailable, e.to_string()),
        ErrorKind::Corrupted => Failure::new(
            Code::VerificationFailed,
            format!("{}: {e}; run `verso verify`", dir.display()),
        ),
        _ => Failure::new(Code::Failure, format!("{}: {e}", dir.display())),
    }
}

/// Runs an audit command and exits with its code. Everything it opened is closed
/// before the process exits.
pub(crate) fn main(command: AuditCommand) -> anyhow::Result<()> {
    let code = match run(command) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("verso: {}", failure.message);
            failure.code
        }
    };
    if code == Code::Ok {
        return Ok(());
    }
    std::process::exit(code as i32)
}

fn run(command: AuditCommand) -> Outcome {
    match command {
        AuditCommand::Log(args) => history::log(&args),
        AuditCommand::Verify(args) => verify::verify(&args),
        AuditCommand::Rebuild(args) => verify::rebuild(&args),
        AuditCommand::Replay(args) => replay::replay(&args),
        AuditCommand::Show(args) => replay::show(&args),
        AuditCommand::Diff(args) => diff::diff(&args),
        AuditCommand::Export(args) => bundle::export(&args),
        AuditCommand::Import(args) => bundle::import(&args),
    }
}

/// Closes a store opened by a command, reporting a failed final sync.
fn close(store: Store) -> Result<(), Failure> {
    let dir = store.path().to_path_buf();
    store
        .close()
        .map(|_| ())
        .map_err(|e| storage_failure(&dir, &e))
}

/// Parses `--at`: a log position (digits) or an RFC 3339 time.
pub(crate) fn parse_at(text: &str) -> Result<At, Failure> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let n: u64 = text
            .parse()
            .map_err(|_| Failure::usage(format!("bad --at {text:?}: position out of range")))?;
        if n == 0 {
            return Err(Failure::usage(
                "bad --at 0: positions start at 1 (use a time before the first record for the empty state)",
            ));
        }
        return Ok(At::Position(Position::new(n)));
    }
    parse_time(text)
        .map(At::Time)
        .map_err(|e| Failure::usage(format!("bad --at {text:?}: {e}")))
}

/// Parses an RFC 3339 time (`Z` or a `±HH:MM` offset).
pub(crate) fn parse_time(text: &str) -> Result<Timestamp, String> {
    const HINT: &str = "expected a log position or an RFC 3339 time such as 2024-05-01T14:02:00Z";
    let (base, offset_ms) = split_offset(text).ok_or_else(|| HINT.to_owned())?;
    let utc = format!("{base}Z");
    let time = humantime::parse_rfc3339_weak(&utc).map_err(|e| format!("{e}; {HINT}"))?;
    let since = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| "times before 1970 are not in any log".to_owned())?;
    let ms = i64::try_from(since.as_millis()).map_err(|_| "time out of range".to_owned())?;
    Ok(Timestamp::from_millis(ms - offset_ms))
}

/// Splits `text` into the local time and its offset from UTC in milliseconds.
fn split_offset(text: &str) -> Option<(&str, i64)> {
    if let Some(base) = text.strip_suffix('Z').or_else(|| text.strip_suffix('z')) {
        return Some((base, 0));
    }
    let split = text.len().checked_sub(6)?;
    let (base, offset) = (text.get(..split)?, text.get(split..)?);
    let sign = match offset.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let hours: i64 = offset.get(1..3)?.parse().ok()?;
    let minutes: i64 = offset.get(4..6)?.parse().ok()?;
    if offset.get(3..4)? != ":" || hours > 23 || minutes > 59 {
        return None;
    }
    Some((base, sign * (hours * 60 + minutes) * 60_000))
}

/// The stream `show` and `diff` address.
pub(crate) enum Target {
    /// `<app>/<profile>` (ids or names), resolved by the source as of the point asked.
    Profile(String, String),
    /// A Connect view's stream of versions, or a Proton template generation's majors or
    /// a major's minors, as `verso log` shows them.
    Stream(StreamId),
}

impl Target {
    /// `<app>/<profile>`, `appconfig/<app>/<profile>`, `connect/<instance>/<view>`, or
    /// `proton/<template>#<generation>[/<major>]`.
    pub(crate) fn parse(text: &str) -> Result<Self, Failure> {
        if is_view_or_template(text) {
            let stream = verso_storage::LogStream::parse(text).map_err(Failure::usage)?;
            let id = stream.stream_id().ok_or_else(|| {
                Failure::usage(format!(
                    "bad stream {text:?}: a template's versions are numbered per generation: \
                     expected proton/<template>#<generation>[/<major>]"
                ))
            })?;
            return Ok(Self::Stream(id));
        }
        let (a, p) = parse_stream(text.strip_prefix("appconfig/").unwrap_or(text))?;
        Ok(Self::Profile(a, p))
    }
}

/// Whether `text` names a Connect view's or a Proton template's stream (`connect/…`,
/// `proton/…`, read by `LogStream::parse`) rather than a configuration profile.
pub(crate) fn is_view_or_template(text: &str) -> bool {
    text.starts_with("connect/") || text.starts_with("proton/")
}

/// `<app>/<profile>`, each an id or a name.
pub(crate) fn parse_stream(text: &str) -> Result<(String, String), Failure> {
    match text.split_once('/') {
        Some((a, p)) if !a.is_empty() && !p.is_empty() => Ok((a.to_owned(), p.to_owned())),
        _ => Err(Failure::usage(format!(
            "bad stream {text:?}: expected <application>/<profile> (ids or names)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_with_offsets_are_converted_to_utc() {
        let z = parse_time("2024-05-01T14:02:00Z").unwrap();
        let plus = parse_time("2024-05-01T16:02:00+02:00").unwrap();
        let minus = parse_time("2024-05-01T09:02:00-05:00").unwrap();
        assert_eq!(z, plus);
        assert_eq!(z, minus);
        assert_eq!(
            parse_time("2024-05-01T14:02:00.250Z").unwrap().as_millis(),
            z.as_millis() + 250
        );
    }

    #[test]
    fn bad_times_and_positions_are_usage_errors() {
        for bad in [
            "",
            "yesterday",
            "2024-05-01",
            "2024-13-01T00:00:00Z",
            "0",
            "-3",
        ] {
            let e = parse_at(bad).unwrap_err();
            assert_eq!(e.code, Code::Usage, "{bad}: {}", e.message);
        }
        assert_eq!(parse_at("12").unwrap(), At::Position(Position::new(12)));
    }
}
