//! `verso diff`: two versions of a stream, as a unified diff or a size-and-hash summary.

use serde_json::json;
use similar::TextDiff;
use verso_domain::VersionSelector;
use verso_storage::At;

use super::output::Out;
use super::{Code, Failure, Outcome, SourceArgs, Target, Version, is_view_or_template, parse_at};

#[derive(clap::Args, Debug)]
pub(crate) struct DiffArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// `<app>/<profile>` (ids or names), a Connect view's `connect/<instance>/<view>`, or
    /// a Proton template's `proton/<template>#<generation>[/<major>]`.
    #[arg(value_name = "STREAM")]
    stream: String,
    /// The old version: a number, or (for a profile) `#label`, the newest live version
    /// carrying it.
    #[arg(value_name = "A")]
    a: String,
    /// The new version, likewise.
    #[arg(value_name = "B")]
    b: String,
    /// Resolve versions and labels as of this log position or RFC 3339 time.
    #[arg(long, value_name = "POSITION|TIME")]
    at: Option<String>,
    /// One JSON object.
    #[arg(long)]
    json: bool,
}

fn selector(text: &str) -> Result<VersionSelector, Failure> {
    if let Some(label) = text.strip_prefix('#') {
        if label.is_empty() {
            return Err(Failure::usage("empty label: expected #LABEL"));
        }
        return Ok(VersionSelector::Label(label.to_owned()));
    }
    text.parse::<u64>()
        .map(|n| VersionSelector::Number(verso_domain::StreamVersion::new(n)))
        .map_err(|_| Failure::usage(format!("bad version {text:?}: expected a number or #label")))
}

/// Whether a content type is text that a line diff means something for.
pub(crate) fn is_text(content_type: Option<&str>) -> bool {
    let Some(t) = content_type else {
        return false;
    };
    let t = t
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    t.starts_with("text/")
        || t.ends_with("+json")
        || t.ends_with("+yaml")
        || t.ends_with("+xml")
        || matches!(
            t.as_str(),
            "application/json"
                | "application/yaml"
                | "application/x-yaml"
                | "application/toml"
                | "application/x-toml"
                | "application/xml"
        )
}

pub(crate) fn diff(args: &DiffArgs) -> Outcome {
    let at = args.at.as_deref().map_or(Ok(At::Head), parse_at)?;
    let target = Target::parse(&args.stream)?;
    let (sa, sb) = (selector(&args.a)?, selector(&args.b)?);
    let source = args.source.open()?;
    let (a, b) = (
        source.version(at, &target, Some(&sa)),
        source.version(at, &target, Some(&sb)),
    );
    source.close()?;
    let (a, b) = (a?, b?);
    let mut out = Out::new();
    render(&mut out, &args.stream, &a, &b, args.json)?;
    out.finish()?;
    Ok(Code::Ok)
}

/// The unified diff of two versions, when both are text.
fn unified(stream: &str, a: &Version, b: &Version) -> Option<String> {
    // A view's or template's content is JSON that the store encoded; it has no type.
    let json = |v: &Version| v.meta.content_type.is_none() && is_view_or_template(&v.meta.stream);
    let text = |v: &Version| is_text(v.meta.content_type.as_deref()) || json(v);
    let text = text(a) && text(b);
    let (Ok(ta), Ok(tb)) = (
        std::str::from_utf8(&a.content),
        std::str::from_utf8(&b.content),
    ) else {
        return None;
    };
    if !text {
        return None;
    }
    let old = format!("{stream}@{}", a.meta.version);
    let new = format!("{stream}@{}", b.meta.version);
    Some(
        TextDiff::from_lines(ta, tb)
            .unified_diff()
            .context_radius(3)
            .header(&old, &new)
            .to_string(),
    )
}

pub(crate) fn render(
    out: &mut Out,
    stream: &str,
    a: &Version,
    b: &Version,
    json: bool,
) -> Result<(), Failure> {
    let identical = a.meta.sha256 == b.meta.sha256;
    let patch = unified(stream, a, b);
    let side = |v: &Version| {
        json!({
            "version": v.meta.version,
            "content_type": v.meta.content_type,
            "sha256": v.meta.sha256,
            "size": v.meta.size,
        })
    };
    if json {
        out.json(&json!({
            "stream": stream,
            "a": side(a),
            "b": side(b),
            "identical": identical,
            "text": patch.is_some(),
            "diff": patch,
        }))?;
        return Ok(());
    }
    match patch {
        Some(p) if !identical => {
            let p = p.strip_suffix('\n').unwrap_or(&p);
            out.line(p)?;
        }
        _ => {
            for (name, v) in [("a", a), ("b", b)] {
                out.line(&format!(
                    "{name}: {stream}@{}  {}  {} bytes  sha256:{}",
                    v.meta.version,
                    v.meta.content_type.as_deref().unwrap_or("-"),
                    v.meta.size,
                    v.meta.sha256
                ))?;
            }
            out.line(if identical {
                "identical content"
            } else {
                "binary content differs"
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_types_are_recognised() {
        for t in [
            "application/json",
            "text/plain; charset=utf-8",
            "application/x-yaml",
            "application/toml",
            "application/vnd.foo+json",
        ] {
            assert!(is_text(Some(t)), "{t}");
        }
        for t in ["application/octet-stream", "image/png"] {
            assert!(!is_text(Some(t)), "{t}");
        }
        assert!(!is_text(None));
    }
}
