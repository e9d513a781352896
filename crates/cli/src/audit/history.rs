//! `verso log`.

use serde_json::json;
use verso_domain::{ApplicationId, Position, ProfileId, Timestamp};
use verso_storage::{LogEntry, LogFilter, LogStream};

use super::output::{Out, time};
use super::{
    Code, Failure, Outcome, Source, SourceArgs, is_view_or_template, parse_stream, parse_time,
};

#[derive(clap::Args, Debug)]
pub(crate) struct LogArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Only events about this stream, as the stream column shows it: a configuration
    /// profile, `<app>/<profile>` or `appconfig/<app>/<profile>` (ids, or names as they
    /// are now); a Connect view, `connect/<instance>/<view>`; an environment template,
    /// `proton/<template>` (every generation), `proton/<template>#<generation>` or
    /// `proton/<template>#<generation>/<major>` (one major's minors).
    #[arg(long, value_name = "STREAM")]
    stream: Option<String>,
    /// From this position on.
    #[arg(long, value_name = "POSITION")]
    from: Option<u64>,
    /// Up to this position.
    #[arg(long, value_name = "POSITION")]
    to: Option<u64>,
    /// From this RFC 3339 time on.
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Up to this RFC 3339 time.
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Newest first.
    #[arg(long)]
    reverse: bool,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

fn time_arg(name: &str, text: Option<&String>) -> Result<Option<Timestamp>, Failure> {
    text.map(|t| parse_time(t).map_err(|e| Failure::usage(format!("bad {name} {t:?}: {e}"))))
        .transpose()
}

pub(crate) fn log(args: &LogArgs) -> Outcome {
    let since = time_arg("--since", args.since.as_ref())?;
    let until = time_arg("--until", args.until.as_ref())?;
    let position = |p: Option<u64>| p.map(Position::new);
    let source = args.source.open()?;
    let mut filter = LogFilter::new()
        .positions(position(args.from), position(args.to))
        .times(since, until);
    let mut unresolved = None;
    if let Some(text) = &args.stream {
        if is_view_or_template(text) {
            let stream = LogStream::parse(text).map_err(Failure::usage)?;
            // Nothing ever happened to a stream with no record at all: a typo, unless
            // bounds were given that may leave its records out.
            let bounded =
                args.from.is_some() || args.to.is_some() || since.is_some() || until.is_some();
            if !bounded {
                unresolved = Some(format!(
                    "unknown stream {text}: the log has no record of it"
                ));
            }
            filter = filter.about(stream);
        } else {
            let text = text.strip_prefix("appconfig/").unwrap_or(text);
            let (app, profile) = parse_stream(text)?;
            let (ids, refused) = resolve_now(&source, &app, &profile)?;
            unresolved = refused.map(|r| format!("unknown stream {text}: {r}"));
            filter = filter.stream(ids.0, ids.1);
        }
    }
    let mut written = 0u64;
    let mut out = Out::new();
    let mut write = |entry: &LogEntry| -> Result<(), Failure> {
        written += 1;
        if args.json {
            out.json(&entry_json(entry))?;
        } else {
            out.line(&entry_line(entry))?;
        }
        Ok(())
    };
    {
        let entries = entries(&source, &filter)?;
        if args.reverse {
            let all: Vec<LogEntry> = entries.collect::<Result<_, _>>()?;
            for entry in all.iter().rev() {
                write(entry)?;
            }
        } else {
            for entry in entries {
                write(&entry?)?;
            }
        }
    }
    out.finish()?;
    source.close()?;
    match unresolved {
        // Ids that name nothing now and have no history either: a typo, not a quiet log.
        Some(message) if written == 0 => Err(Failure::usage(message)),
        _ => Ok(Code::Ok),
    }
}

/// The entries `filter` selects, from the store or through the admin API.
fn entries<'s>(
    source: &'s Source,
    filter: &LogFilter,
) -> Result<Box<dyn Iterator<Item = Result<LogEntry, Failure>> + 's>, Failure> {
    match source {
        Source::Local(store) => {
            let dir = store.path().to_path_buf();
            Ok(Box::new(store.log(filter).map(move |e| {
                e.map_err(|e| super::storage_failure(&dir, &e))
            })))
        }
        Source::Remote(remote) => {
            let mut params = Vec::new();
            let mut put = |name: &'static str, value: Option<String>| {
                if let Some(v) = value {
                    params.push((name, v));
                }
            };
            put("from", filter.from.map(|p| p.get().to_string()));
            put("to", filter.to.map(|p| p.get().to_string()));
            put("since_ms", filter.since.map(|t| t.as_millis().to_string()));
            put("until_ms", filter.until.map(|t| t.as_millis().to_string()));
            put("stream", filter.stream.as_ref().map(ToString::to_string));
            Ok(Box::new(remote.log(&params)?))
        }
    }
}

/// The ids of `app`/`profile` as the store has them now (an id, or a unique name). The
/// text of a deleted profile's ids is taken as ids, so its history can still be read;
/// the refusal comes back with them, for when nothing matches.
fn resolve_now(
    source: &Source,
    app: &str,
    profile: &str,
) -> Result<((ApplicationId, ProfileId), Option<String>), Failure> {
    match source.resolve(verso_storage::At::Head, app, profile)? {
        Ok(ids) => Ok((ids, None)),
        Err(refused) => match (ApplicationId::parse(app), ProfileId::parse(profile)) {
            (Ok(a), Ok(p)) => Ok(((a, p), Some(refused))),
            _ => Err(Failure::usage(format!(
                "unknown stream {app}/{profile}: {refused}"
            ))),
        },
    }
}

pub(crate) fn entry_line(e: &LogEntry) -> String {
    format!(
        "{:>6}  {}  {}  {}  {}  {}  {}",
        e.position,
        time(e.timestamp_ms),
        e.stream,
        e.version
            .map_or_else(|| "-".to_owned(), |v| format!("v{v}")),
        e.event,
        e.content_sha256
            .as_deref()
            .map_or_else(|| "-".to_owned(), |h| format!("sha256:{h}")),
        e.chain_hash
    )
}

pub(crate) fn entry_json(e: &LogEntry) -> serde_json::Value {
    json!({
        "position": e.position,
        "time": time(e.timestamp_ms),
        "actor": e.actor,
        "stream": e.stream,
        "version": e.version,
        "event": e.event,
        "content_sha256": e.content_sha256,
        "chain_hash": e.chain_hash,
    })
}
