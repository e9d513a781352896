//! `verso replay` and `verso show`: time travel by folding the log.

use serde_json::json;
use verso_domain::VersionSelector;
use verso_storage::{At, LogStream, Snapshot, StreamSnapshot, TemplateSnapshot, ViewSnapshot};

use super::output::{Out, time};
use super::{
    Code, Failure, Outcome, SourceArgs, Target, Version, is_view_or_template, parse_at,
    parse_stream,
};

#[derive(clap::Args, Debug)]
pub(crate) struct ReplayArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// A log position (the state right after it, deployments evaluated at its time) or an
    /// RFC 3339 time (every record up to it, evaluated then). Default: the head, now.
    #[arg(long, value_name = "POSITION|TIME")]
    at: Option<String>,
    /// Only this stream: a configuration profile, `<app>/<profile>` or
    /// `appconfig/<app>/<profile>` (ids or names as of then); a Connect view,
    /// `connect/<instance>/<view>`; an environment template, `proton/<template>` or
    /// `proton/<template>#<generation>`.
    #[arg(long, value_name = "STREAM")]
    stream: Option<String>,
    /// One JSON object per stream, one per line.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub(crate) struct ShowArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// `<app>/<profile>`, `<app>/<profile>@<version>` or `<app>/<profile>#<label>`; a
    /// Connect view's `connect/<instance>/<view>[@<version>]`; a Proton template's
    /// `proton/<template>#<generation>[/<major>][@<version>]` (versions as `verso log`
    /// numbers them). The newest live version when none is given.
    #[arg(value_name = "STREAM[@VERSION|#LABEL]")]
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
    /// What `--stream` names.
    enum Wanted {
        /// A profile by ids or names, resolved as of `at`.
        Profile(String, String),
        /// A view or a template.
        Other(LogStream),
    }
    let wanted = match args.stream.as_deref() {
        None => None,
        Some(text) if is_view_or_template(text) => {
            let stream = LogStream::parse(text).map_err(Failure::usage)?;
            if matches!(stream, LogStream::Template { major: Some(_), .. }) {
                return Err(Failure::usage(format!(
                    "bad stream {text:?}: replay takes a template, proton/<template>[#<generation>]"
                )));
            }
            Some(Wanted::Other(stream))
        }
        Some(text) => {
            let (a, p) = parse_stream(text.strip_prefix("appconfig/").unwrap_or(text))?;
            Some(Wanted::Profile(a, p))
        }
    };
    let source = args.source.open()?;
    let snapshot = source.snapshot(at)?;
    let only = match wanted {
        None => None,
        Some(Wanted::Profile(a, p)) => {
            let (a, p) = source
                .resolve(at, &a, &p)?
                .map_err(|r| Failure::usage(format!("unknown stream {a}/{p} as of then: {r}")))?;
            Some(LogStream::Profile(a, p))
        }
        Some(Wanted::Other(stream)) => {
            if !has(&snapshot, &stream) {
                return Err(Failure::usage(format!(
                    "unknown stream {stream} as of then: no such live view or template"
                )));
            }
            Some(stream)
        }
    };
    source.close()?;
    let mut out = Out::new();
    render_snapshot(&mut out, &snapshot, only.as_ref(), args.json)?;
    out.finish()?;
    Ok(Code::Ok)
}

fn view_is(v: &ViewSnapshot, only: Option<&LogStream>) -> bool {
    match only {
        None => true,
        Some(LogStream::View(i, id)) => v.instance == i.as_str() && v.view == id.as_str(),
        Some(_) => false,
    }
}

fn template_is(t: &TemplateSnapshot, only: Option<&LogStream>) -> bool {
    match only {
        None => true,
        Some(LogStream::Template {
            template,
            generation,
            ..
        }) => t.template == template.as_str() && generation.is_none_or(|g| g == t.generation),
        Some(_) => false,
    }
}

/// Whether the snapshot holds the view or template `stream` names.
fn has(snapshot: &Snapshot, stream: &LogStream) -> bool {
    snapshot.views.iter().any(|v| view_is(v, Some(stream)))
        || snapshot
            .templates
            .iter()
            .any(|t| template_is(t, Some(stream)))
}

/// Prints a snapshot, optionally only one stream's part.
pub(crate) fn render_snapshot(
    out: &mut Out,
    snapshot: &Snapshot,
    only: Option<&LogStream>,
    json: bool,
) -> Result<(), Failure> {
    let streams = snapshot.streams.iter().filter(|s| match only {
        None => true,
        Some(LogStream::Profile(a, p)) => s.application == a.as_str() && s.profile == p.as_str(),
        Some(_) => false,
    });
    if !json {
        out.line(&format!(
            "as of position {}, evaluated at {}",
            snapshot.position,
            time(snapshot.evaluated_at_ms)
        ))?;
    }
    for s in streams {
        print(out, snapshot, json, s, stream_lines)?;
    }
    for v in snapshot.views.iter().filter(|v| view_is(v, only)) {
        print(out, snapshot, json, v, view_lines)?;
    }
    for t in snapshot.templates.iter().filter(|t| template_is(t, only)) {
        print(out, snapshot, json, t, template_lines)?;
    }
    Ok(())
}

/// One stream of a snapshot: a JSON object stamped with the snapshot's point, or lines.
fn print<T: serde::Serialize>(
    out: &mut Out,
    snapshot: &Snapshot,
    json: bool,
    item: &T,
    lines: fn(&T) -> Vec<String>,
) -> Result<(), Failure> {
    if json {
        let mut value = serde_json::to_value(item)
            .map_err(|e| Failure::new(Code::Failure, format!("encoding JSON: {e}")))?;
        value["position"] = json!(snapshot.position);
        value["evaluated_at"] = json!(time(snapshot.evaluated_at_ms));
        out.json(&value)?;
    } else {
        for line in lines(item) {
            out.line(&line)?;
        }
    }
    Ok(())
}

fn view_lines(v: &ViewSnapshot) -> Vec<String> {
    let mut lines = vec![format!("{} ({})", v.stream, v.name)];
    lines.push(format!(
        "  {}: $SAVED sha256:{}  $LATEST {}",
        v.status,
        v.saved_content_sha256,
        v.latest_content_sha256
            .as_ref()
            .map_or_else(|| "none".to_owned(), |h| format!("sha256:{h}"))
    ));
    lines.push(match v.latest_version {
        Some(n) => format!(
            "  latest: v{n}  sha256:{}",
            v.latest_version_content_sha256.as_deref().unwrap_or("-")
        ),
        None => "  latest: none".to_owned(),
    });
    lines.push(format!("  last assigned: {}", v.last_assigned));
    lines
}

fn template_lines(t: &TemplateSnapshot) -> Vec<String> {
    let versions: Vec<String> = t
        .versions
        .iter()
        .map(|v| format!("{} {}", v.version, v.status))
        .collect();
    vec![
        t.stream.clone(),
        format!(
            "  recommended: {}",
            t.recommended_version.as_deref().unwrap_or("none")
        ),
        format!(
            "  versions: {}",
            if versions.is_empty() {
                "none".to_owned()
            } else {
                versions.join(", ")
            }
        ),
    ]
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

/// `<app>/<profile>[@version|#label]`, or a view's or template's stream `[@version]`.
pub(crate) fn parse_target(text: &str) -> Result<(Target, Option<VersionSelector>), Failure> {
    let number = |v: &str| {
        v.parse::<u64>()
            .map(|n| VersionSelector::Number(verso_domain::StreamVersion::new(n)))
            .map_err(|_| {
                Failure::usage(format!("bad version {v:?} in {text:?}: expected a number"))
            })
    };
    if is_view_or_template(text) {
        // These streams have no labels, and '#' is part of a template's stream.
        return match text.rsplit_once('@') {
            Some((s, v)) => Ok((Target::parse(s)?, Some(number(v)?))),
            None => Ok((Target::parse(text)?, None)),
        };
    }
    let (stream, selector) = if let Some((s, v)) = text.rsplit_once('@') {
        (s, Some(number(v)?))
    } else if let Some((s, l)) = text.rsplit_once('#') {
        if l.is_empty() {
            return Err(Failure::usage(format!("empty label in {text:?}")));
        }
        (s, Some(VersionSelector::Label(l.to_owned())))
    } else {
        (text, None)
    };
    Ok((Target::parse(stream)?, selector))
}

pub(crate) fn show(args: &ShowArgs) -> Outcome {
    let at = at_arg(args.at.as_ref())?;
    let (target, selector) = parse_target(&args.target)?;
    let source = args.source.open()?;
    let found = source.version(at, &target, selector.as_ref());
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
    let names = if r.application_name.is_empty() && r.profile_name.is_empty() {
        String::new()
    } else {
        format!(" ({}/{})", r.application_name, r.profile_name)
    };
    vec![
        format!(
            "{}{names} version {}, as of position {}",
            r.stream, r.version, r.as_of_position
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
    let name = |n: &String| (!n.is_empty()).then(|| n.clone());
    json!({
        "stream": r.stream,
        "application_name": name(&r.application_name),
        "profile_name": name(&r.profile_name),
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
