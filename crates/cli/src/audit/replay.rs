//! `verso replay` and `verso show`: time travel by folding the log.

use serde_json::json;
use verso_domain::VersionSelector;
use verso_storage::{At, Snapshot, StreamSnapshot};

use super::output::{Out, time};
use super::{Code, Failure, Outcome, SourceArgs, Version, parse_at, parse_stream};

#[derive(clap::Args, Debug)]
pub(crate) struct ReplayArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// A log position (the state right after it, deployments evaluated at its time) or an
    /// RFC 3339 time (every record up to it, evaluated then). Default: the head, now.
    #[arg(long, value_name = "POSITION|TIME")]
    at: Option<String>,
    /// Only this stream, `<app>/<profile>` (ids or names as of then).
    #[arg(long, value_name = "APP/PROFILE")]
    stream: Option<String>,
    /// One JSON object per stream, one per line.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub(crate) struct ShowArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// `<app>/<profile>`, `<app>/<profile>@<version>` or `<app>/<profile>#<label>`; the
    /// newest live version when neither is given.
    #[arg(value_name = "APP/PROFILE[@VERSION|#LABEL]")]
    target: String,
    /// As of this log position or RFC 3339 time. Default: now.
    #[arg(long, value_name = "POSITION|TIME")]
    at: Option<String>,
    /// One JSON object (content as UTF-8 text, or hex when it is not).
    #[arg(long)]
    json: bool,
}

fn at_arg(text: Option<&String>) -> Result<At, Failure> {
    text.map_or(Ok(At::Head), |t| parse_at(t))
}

pub(crate) fn replay(args: &ReplayArgs) -> Outcome {
    let at = at_arg(args.at.as_ref())?;
    let wanted = args.stream.as_deref().map(parse_stream).transpose()?;
    let source = args.source.open()?;
    let snapshot = source.snapshot(at)?;
    let filter = match &wanted {
        None => None,
        Some((a, p)) => Some(
            source
                .resolve(at, a, p)?
                .map_err(|r| Failure::usage(format!("unknown stream {a}/{p} as of then: {r}")))?,
        ),
    };
    source.close()?;
    let mut out = Out::new();
    render_snapshot(&mut out, &snapshot, filter.as_ref(), args.json)?;
    out.finish()?;
    Ok(Code::Ok)
}

/// Prints a snapshot, optionally only one stream's part.
pub(crate) fn render_snapshot(
    out: &mut Out,
    snapshot: &Snapshot,
    only: Option<&(verso_domain::ApplicationId, verso_domain::ProfileId)>,
    json: bool,
) -> Result<(), Failure> {
    let streams = snapshot.streams.iter().filter(|s| {
        only.is_none_or(|(a, p)| s.application == a.as_str() && s.profile == p.as_str())
    });
    if !json {
        out.line(&format!(
            "as of position {}, evaluated at {}",
            snapshot.position,
            time(snapshot.evaluated_at_ms)
        ))?;
    }
    for s in streams {
        if json {
            let mut value = serde_json::to_value(s)
                .map_err(|e| Failure::new(Code::Failure, format!("encoding JSON: {e}")))?;
            value["position"] = json!(snapshot.position);
            value["evaluated_at"] = json!(time(snapshot.evaluated_at_ms));
            out.json(&value)?;
        } else {
            for line in stream_lines(s) {
                out.line(&line)?;
            }
        }
    }
    Ok(())
}

fn stream_lines(s: &StreamSnapshot) -> Vec<String> {
    let mut lines = vec![format!(
        "appconfig/{}/{} ({}/{})",
        s.application, s.profile, s.application_name, s.profile_name
    )];
    lines.push(match s.latest_version {
        Some(v) => format!(
            "  latest: v{v}  sha256:{}  {}",
            s.latest_content_sha256.as_deref().unwrap_or("-"),
            s.latest_content_type.as_deref().unwrap_or("-")
        ),
        None => "  latest: none".to_owned(),
    });
    lines.push(format!("  last assigned: {}", s.last_assigned));
    if !s.labels.is_empty() {
        let labels: Vec<String> = s.labels.iter().map(|(l, v)| format!("{l}=v{v}")).collect();
        lines.push(format!("  labels: {}", labels.join(", ")));
    }
    for e in &s.environments {
        lines.push(format!(
            "  environment {} ({}): deployment {} of v{} {} {}%, live for all sessions: {}",
            e.environment,
            e.environment_name,
            e.deployment,
            e.version,
            e.state,
            e.percentage,
            e.live_version
                .map_or_else(|| "none".to_owned(), |v| format!("v{v}"))
        ));
    }
    lines
}

/// `<app>/<profile>[@version|#label]`.
pub(crate) fn parse_target(
    text: &str,
) -> Result<(String, String, Option<VersionSelector>), Failure> {
    let (stream, selector) = if let Some((s, v)) = text.rsplit_once('@') {
        let n = v.parse::<u64>().map_err(|_| {
            Failure::usage(format!("bad version {v:?} in {text:?}: expected a number"))
        })?;
        (
            s,
            Some(VersionSelector::Number(verso_domain::StreamVersion::new(n))),
        )
    } else if let Some((s, l)) = text.rsplit_once('#') {
        if l.is_empty() {
            return Err(Failure::usage(format!("empty label in {text:?}")));
        }
        (s, Some(VersionSelector::Label(l.to_owned())))
    } else {
        (text, None)
    };
    let (a, p) = parse_stream(stream)?;
    Ok((a, p, selector))
}

pub(crate) fn show(args: &ShowArgs) -> Outcome {
    let at = at_arg(args.at.as_ref())?;
    let (app, profile, selector) = parse_target(&args.target)?;
    let source = args.source.open()?;
    let found = source.version(at, &app, &profile, selector.as_ref());
    source.close()?;
    let version = found?;
    let mut out = Out::new();
    if args.json {
        out.json(&version_json(&version))?;
    } else {
        for line in version_header(&version) {
            out.line(&line)?;
        }
        out.line("")?;
        out.bytes(&version.content)?;
        if !version.content.ends_with(b"\n") && !version.content.is_empty() {
            out.line("")?;
        }
    }
    out.finish()?;
    Ok(Code::Ok)
}

fn version_header(v: &Version) -> Vec<String> {
    let r = &v.meta;
    vec![
        format!(
            "{} ({}/{}) version {}, as of position {}",
            r.stream, r.application_name, r.profile_name, r.version, r.as_of_position
        ),
        format!(
            "created: {} at position {} by {}",
            time(r.created_ms),
            r.position,
            r.actor.as_deref().unwrap_or("-")
        ),
        format!("label: {}", r.label.as_deref().unwrap_or("-")),
        format!("description: {}", r.description.as_deref().unwrap_or("-")),
        format!("content-type: {}", r.content_type.as_deref().unwrap_or("-")),
        format!("sha256: {}", r.sha256),
        format!("size: {} bytes", r.size),
    ]
}

fn version_json(v: &Version) -> serde_json::Value {
    let r = &v.meta;
    let (text, hex) = match std::str::from_utf8(&v.content) {
        Ok(t) => (Some(t.to_owned()), None),
        Err(_) => (
            None,
            Some(
                v.content
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>(),
            ),
        ),
    };
    json!({
        "stream": r.stream,
        "application_name": r.application_name,
        "profile_name": r.profile_name,
        "version": r.version,
        "as_of_position": r.as_of_position,
        "created": time(r.created_ms),
        "position": r.position,
        "actor": r.actor,
        "label": r.label,
        "description": r.description,
        "content_type": r.content_type,
        "sha256": r.sha256,
        "size": r.size,
        "content": text,
        "content_hex": hex,
    })
}
