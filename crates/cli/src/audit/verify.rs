//! `verso verify` and `verso rebuild`.

use serde_json::json;
use verso_storage::{Violation, verify_path};

use super::output::Out;
use super::progress::Progress;
use super::{
    Code, Failure, Outcome, Source, SourceArgs, StoreArgs, close, require_store, storage_failure,
};

#[derive(clap::Args, Debug)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Also require the chain to reach this head, `POSITION:CHAINHASH` (as `verso
    /// export` and `verso verify` print it): a log cut short since then fails.
    #[arg(long, value_name = "POSITION:HASH")]
    expect_head: Option<String>,
    /// Verify a bundle file instead of a store, offline, without opening any store.
    #[arg(long, value_name = "FILE", conflicts_with = "endpoint")]
    bundle: Option<std::path::PathBuf>,
    /// One JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub(crate) struct RebuildArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// One JSON object.
    #[arg(long)]
    json: bool,
}

/// An expected head: a position and its chain hash in hex.
#[derive(Clone, Debug)]
pub(crate) struct ExpectedHead {
    pub(crate) position: u64,
    pub(crate) hash: String,
}

pub(crate) fn parse_expected_head(text: &str) -> Result<ExpectedHead, Failure> {
    let bad = || {
        Failure::usage(format!(
            "bad --expect-head {text:?}: expected POSITION:CHAINHASH (64 hex digits)"
        ))
    };
    let (p, h) = text.split_once(':').ok_or_else(bad)?;
    let position = p.parse().map_err(|_| bad())?;
    if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    Ok(ExpectedHead {
        position,
        hash: h.to_ascii_lowercase(),
    })
}

/// Prints the verdict and returns its exit code.
/// A verification that failed, as the commands print it: a store's or a bundle's
/// [`Violation`] (its kind is for callers of the library), or a server's answer or an
/// `--expect-head` check, which carry no kind.
#[derive(Debug)]
pub(crate) struct Broken {
    pub(crate) position: Option<verso_domain::Position>,
    pub(crate) problem: String,
}

impl From<Violation> for Broken {
    fn from(v: Violation) -> Self {
        Self {
            position: v.position,
            problem: v.problem,
        }
    }
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.position {
            Some(p) => write!(f, "position {p}: {}", self.problem),
            None => f.write_str(&self.problem),
        }
    }
}

pub(crate) fn report<B: Into<Broken>>(
    json: bool,
    verdict: Result<serde_json::Value, B>,
    ok_line: impl FnOnce(&serde_json::Value) -> String,
) -> Outcome {
    let mut out = Out::new();
    let code = match verdict.map_err(Into::into) {
        Ok(mut value) => {
            if json {
                value["ok"] = json!(true);
                out.json(&value)?;
            } else {
                out.line(&ok_line(&value))?;
            }
            Code::Ok
        }
        Err(v) => {
            if json {
                out.json(&json!({
                    "ok": false,
                    "position": v.position.map(verso_domain::Position::get),
                    "problem": v.problem,
                }))?;
            } else {
                out.line(&format!("verification FAILED: {v}"))?;
            }
            Code::VerificationFailed
        }
    };
    out.finish()?;
    Ok(code)
}

pub(crate) fn verify(args: &VerifyArgs) -> Outcome {
    let expected = args
        .expect_head
        .as_deref()
        .map(parse_expected_head)
        .transpose()?;
    if let Some(bundle) = &args.bundle {
        return super::bundle::verify_bundle(bundle, expected.as_ref(), args.json);
    }
    let Some(dir) = args.source.local_dir()? else {
        return verify_remote(args, expected.as_ref());
    };
    require_store(&dir)?;
    let mut progress = Progress::new("verifying", None);
    let checked = verify_path(&dir, &mut |n| progress.update(n));
    progress.finish(0);
    let checked = checked.map_err(|e| storage_failure(&dir, &e))?;
    let verdict = match checked {
        Err(v) => Err(v.into()),
        Ok(report) => {
            let head = json!({
                "position": report.head.position,
                "chain_hash": report.head.hash_hex(),
            });
            let value = json!({
                "head": head,
                "contents": report.contents,
                "projection_entries": report.projection_entries,
            });
            match &expected {
                None => Ok(value),
                Some(e) => check_expected(e, find_local(&dir, e.position)).map(|()| value),
            }
        }
    };
    verified(args.json, verdict)
}

/// `verso verify --endpoint`: the server's `Store::verify`, then `--expect-head` checked
/// against its log.
fn verify_remote(args: &VerifyArgs, expected: Option<&ExpectedHead>) -> Outcome {
    let source = args.source.open()?;
    let Source::Remote(remote) = &source else {
        return Err(Failure::new(
            Code::Failure,
            "verify_remote without an endpoint",
        ));
    };
    let mut answer = remote.verify()?;
    let verdict = if answer["ok"] == json!(true) {
        if let Some(map) = answer.as_object_mut() {
            map.remove("ok");
        }
        match expected {
            None => Ok(answer),
            Some(e) => {
                let head = answer["head"]["position"].as_u64().unwrap_or_default();
                let found = find_remote(&source, e.position).map(|hash| (hash, head));
                check_expected(e, found).map(|()| answer)
            }
        }
    } else {
        Err(Broken {
            position: answer["position"].as_u64().map(verso_domain::Position::new),
            problem: answer["problem"]
                .as_str()
                .unwrap_or("verification failed")
                .to_owned(),
        })
    };
    source.close()?;
    verified(args.json, verdict)
}

/// The chain hash at `position` through the admin API.
fn find_remote(source: &Source, position: u64) -> Result<Option<String>, String> {
    let Source::Remote(remote) = source else {
        return Err("no endpoint".to_owned());
    };
    let params = [("from", position.to_string()), ("to", position.to_string())];
    let mut entries = remote.log(&params).map_err(|f| f.message)?;
    entries
        .next()
        .transpose()
        .map(|e| e.map(|e| e.chain_hash))
        .map_err(|f| f.message)
}

/// Prints a store verification's verdict.
fn verified(json: bool, verdict: Result<serde_json::Value, Broken>) -> Outcome {
    report(json, verdict, |v| {
        format!(
            "ok: chain verified to head {}:{}, {} contents, {} projection entries",
            v["head"]["position"],
            v["head"]["chain_hash"].as_str().unwrap_or_default(),
            v["contents"],
            v["projection_entries"]
        )
    })
}

/// The chain hash at `position` in the store in `dir` (none past its end) and the
/// store's head position.
fn find_local(dir: &std::path::Path, position: u64) -> Result<(Option<String>, u64), String> {
    let store = verso_storage::Store::open(dir).map_err(|e| e.to_string())?;
    let filter = verso_storage::LogFilter::new().positions(
        Some(verso_domain::Position::new(position)),
        Some(verso_domain::Position::new(position)),
    );
    let found = store
        .log(&filter)
        .next()
        .transpose()
        .map_err(|e| e.to_string())?
        .map(|e| e.chain_hash);
    let head = store.head().position;
    store.close().map_err(|e| e.to_string())?;
    Ok((found, head))
}

/// After a successful verify: the chain reaches `expected` with the same hash. `found`
/// is the chain hash at the expected position (if the log reaches it) and the head.
fn check_expected(
    expected: &ExpectedHead,
    found: Result<(Option<String>, u64), String>,
) -> Result<(), Broken> {
    let found = found.and_then(|(found, head)| {
        if found.is_none() && expected.position > head {
            return Err(format!(
                "the log ends at position {head} but the expected head is at position {}: records are missing (truncated tail)",
                expected.position
            ));
        }
        Ok(found)
    });
    let position = verso_domain::Position::new(expected.position.max(1));
    match found {
        Err(problem) => Err(violation(position, problem)),
        Ok(Some(hash)) if hash == expected.hash => Ok(()),
        Ok(_) => Err(violation(
            position,
            "chain hash differs from the expected head: the history up to it was rewritten",
        )),
    }
}

fn violation(position: verso_domain::Position, problem: impl Into<String>) -> Broken {
    Broken {
        position: Some(position),
        problem: problem.into(),
    }
}

pub(crate) fn rebuild(args: &RebuildArgs) -> Outcome {
    let store = args.store.open()?;
    let total = store.head().position;
    let dir = store.path().to_path_buf();
    let progress = std::sync::Arc::new(std::sync::Mutex::new(Progress::new(
        "rebuilding",
        Some(total),
    )));
    let shared = std::sync::Arc::clone(&progress);
    let checked = store.rebuild_with_progress(Box::new(move |n| {
        if let Ok(mut p) = shared.lock() {
            p.update(n);
        }
    }));
    if let Ok(mut p) = progress.lock() {
        p.finish(total);
    }
    let checked = checked.map_err(|e| storage_failure(&dir, &e))?;
    close(store)?;
    let verdict = checked.map(|r| {
        let secs = r.elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            r.events as f64 / secs
        } else {
            0.0
        };
        json!({
            "events": r.events,
            "projection_entries": r.entries,
            "written": r.written,
            "seconds": (secs * 1000.0).round() / 1000.0,
            "events_per_second": rate.round(),
        })
    });
    report(args.json, verdict, |v| {
        format!(
            "rebuilt: {} events replayed into {} projection entries ({} differed from the fold and were rewritten) in {} s ({} events/s)",
            v["events"],
            v["projection_entries"],
            v["written"],
            v["seconds"],
            v["events_per_second"]
        )
    })
}
