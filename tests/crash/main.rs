//! A kill -9 crash harness in the style of sled's `test_crash_recovery`: the binary
//! runs itself as a child that writes as fast as it can, printing each acknowledged
//! version, and the parent kills it with SIGKILL at a random moment, reopens the store
//! and checks that every acknowledged version is there with its content.
//!
//! Invariant D1: an acknowledged append (default durability) survives kill -9, with
//! checkpoints every few groups (K1, K2: the store verifies before it is reopened, and
//! reopens with the checkpoint plus the log after it). Also
//! E1/E4 (the live versions are exactly 1..=max after any crash, as nothing is deleted),
//! E2 (the chain verifies after any crash) and C3 (a group is all-or-nothing: a thread's
//! versions present are a prefix of what it submitted, since it submits its next create
//! only after the previous one was acknowledged).
//!
//! The kills run in each durability mode (docs/design/durability.md): `Sync` (the
//! default; every acknowledged version must survive), then `Flush` (acknowledged after
//! sled's flush: must also survive kill -9, since the bytes are with the OS), then
//! `Buffered` (acknowledgements may be lost, but every other check above still holds).
//!
//! Environment: `VERSO_CRASH_KILLS` (default 20) sets the number of `Sync` kills; the
//! other two modes get a quarter as many each (at least 3),
//! `VERSO_CRASH_SEED` the seed of the kill delays. `VERSO_CRASH_CHILD` and the other
//! `VERSO_CRASH_*` variables are set by the parent for the child.
#![allow(clippy::print_stdout)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use verso::{
    ApplicationId, ContentHash, Durability, NewApplication, NewHostedVersion, NewProfile,
    PageRequest, ProfileId, Store, StoreOptions,
};

const CHILD: &str = "VERSO_CRASH_CHILD";
const APP: &str = "VERSO_CRASH_APP";
const PROFILE: &str = "VERSO_CRASH_PROFILE";
const RUN: &str = "VERSO_CRASH_RUN";
const KILLS: &str = "VERSO_CRASH_KILLS";
const SEED: &str = "VERSO_CRASH_SEED";
const MODE: &str = "VERSO_CRASH_DURABILITY";

/// The durability mode a child writes with, and what its kill may take away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Every acknowledged version survives (D1).
    Sync,
    /// Every acknowledged version survives a process crash.
    Flush,
    /// Acknowledged versions may be lost; groups stay all-or-nothing.
    Buffered,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Flush => "flush",
            Self::Buffered => "buffered",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Sync, Self::Flush, Self::Buffered]
            .into_iter()
            .find(|m| m.name() == text)
    }

    fn durability(self) -> Durability {
        match self {
            Self::Sync => Durability::Sync,
            Self::Flush => Durability::Flush,
            Self::Buffered => Durability::Buffered,
        }
    }

    /// Whether an acknowledgement must survive kill -9 in this mode.
    fn acks_survive_kill(self) -> bool {
        self != Self::Buffered
    }
}

/// Writer threads in the child.
const THREADS: usize = 8;
/// Kill delay bounds, in milliseconds.
const MIN_DELAY_MS: u64 = 20;
const MAX_DELAY_MS: u64 = 400;

fn main() {
    match std::env::var_os(CHILD) {
        Some(dir) => child(Path::new(&dir)),
        None => parent(),
    }
}

/// A small seeded PRNG (xorshift64*), so a failing schedule can be replayed.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

// ---------------------------------------------------------------------------------
// The child: writes until it is killed.

fn child(dir: &Path) -> ! {
    let ids = (|| {
        let app = ApplicationId::parse(&std::env::var(APP).ok()?).ok()?;
        let profile = ProfileId::parse(&std::env::var(PROFILE).ok()?).ok()?;
        let run: u64 = std::env::var(RUN).ok()?.parse().ok()?;
        let mode = Mode::parse(&std::env::var(MODE).ok()?)?;
        Some((app, profile, run, mode))
    })();
    let Some((app, profile, run, mode)) = ids else {
        eprintln!("crash child: missing or bad {APP}, {PROFILE}, {RUN} or {MODE}");
        std::process::exit(2);
    };
    // K1: checkpoints every 1 to 4 groups, so kills land before, during and after them.
    let store = match StoreOptions::new()
        .durability(mode.durability())
        .checkpoint_groups(1 + run % 4)
        .open(dir)
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("crash child: open {}: {e}", dir.display());
            std::process::exit(2);
        }
    };
    let writers: Vec<_> = (0..THREADS)
        .map(|thread| {
            let (store, app, profile) = (store.clone(), app.clone(), profile.clone());
            std::thread::spawn(move || write_forever(&store, &app, &profile, run, thread))
        })
        .collect();
    for w in writers {
        let _ = w.join();
    }
    // Writers only return on an error, which they have reported.
    std::process::exit(3);
}

fn write_forever(store: &Store, app: &ApplicationId, profile: &ProfileId, run: u64, thread: usize) {
    for sequence in 0u64.. {
        let content = format!("run {run} thread {thread} sequence {sequence}").into_bytes();
        let hash = ContentHash::of(&content);
        let new = NewHostedVersion {
            content,
            content_type: "text/plain".into(),
            ..Default::default()
        };
        match store.create_hosted_version(app, profile, new).wait() {
            Ok(Ok(v)) => {
                let mut out = std::io::stdout().lock();
                let written =
                    writeln!(out, "ack {} {hash}", v.version.get()).and_then(|()| out.flush());
                if written.is_err() {
                    // The parent went away: nobody is listening.
                    std::process::exit(4);
                }
            }
            Ok(Err(refused)) => {
                eprintln!("crash child: create refused: {refused}");
                return;
            }
            Err(e) => {
                eprintln!("crash child: create failed: {e}");
                return;
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// The parent: kills the child at random moments and checks the store after each kill.

fn parent() {
    let started = Instant::now();
    let kills: u32 = match std::env::var(KILLS) {
        Ok(n) => match n.parse() {
            Ok(n) => n,
            Err(_) => fail_setup(&format!("{KILLS}={n} is not a number")),
        },
        Err(_) => 20,
    };
    let seed: u64 = match std::env::var(SEED) {
        Ok(s) => match s.parse() {
            Ok(s) => s,
            Err(_) => fail_setup(&format!("{SEED}={s} is not a number")),
        },
        Err(_) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_secs() ^ u64::from(d.subsec_nanos()) << 20),
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => fail_setup(&format!("temp dir: {e}")),
    };
    let (app, profile) = match setup(dir.path()) {
        Ok(ids) => ids,
        Err(e) => fail_setup(&e),
    };
    let mut rng = XorShift::new(seed);
    let mut total_acked = 0usize;
    let mut latest = 0;
    let others = (kills / 4).max(3);
    let schedule: Vec<Mode> = std::iter::repeat_n(Mode::Sync, kills as usize)
        .chain(std::iter::repeat_n(Mode::Flush, others as usize))
        .chain(std::iter::repeat_n(Mode::Buffered, others as usize))
        .collect();
    let kills = schedule.len();
    for (run, mode) in (0u32..).zip(schedule) {
        let delay = Duration::from_millis(rng.between(MIN_DELAY_MS, MAX_DELAY_MS));
        match crash_once(dir.path(), (&app, &profile), run, mode, delay, latest) {
            Ok(survived) => {
                total_acked += survived.acked;
                latest = survived.latest;
            }
            Err(problem) => {
                let kept = dir.keep();
                println!(
                    "crash: kill {} of {kills} ({} mode, after {delay:?}): {problem}",
                    run + 1,
                    mode.name()
                );
                println!(
                    "crash: seed {seed} (rerun with {SEED}={seed}); store kept in {}",
                    kept.display()
                );
                println!("crash: {run} passed, 1 failed");
                std::process::exit(1);
            }
        }
    }
    println!(
        "crash: {total_acked} acknowledged of {latest} versions checked across {kills} kills \
         in {:.1?} (seed {seed})",
        started.elapsed()
    );
    println!("crash: {kills} passed, 0 failed");
}

fn fail_setup(problem: &str) -> ! {
    println!("crash: setup failed: {problem}");
    println!("crash: 0 passed, 1 failed");
    std::process::exit(1);
}

/// Creates the application and the hosted profile the child writes to.
fn setup(dir: &Path) -> Result<(ApplicationId, ProfileId), String> {
    let store = Store::open(dir).map_err(|e| format!("open: {e}"))?;
    let app = store
        .create_application(NewApplication {
            name: "crash".into(),
            ..Default::default()
        })
        .wait()
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let profile = store
        .create_profile(
            &app.id,
            NewProfile {
                name: "crash".into(),
                ..Default::default()
            },
        )
        .wait()
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    store.close().map_err(|e| format!("close: {e}"))?;
    Ok((app.id, profile.id))
}

/// One acknowledgement line: the version and the sha256 of its content.
type Ack = (u64, String);

/// What one kill left behind.
struct Survived {
    /// Acknowledged versions checked.
    acked: usize,
    /// The latest version after the kill.
    latest: u64,
}

/// Runs the child, kills it after `delay`, and checks the store. `before` is the
/// latest version before this run, all of whose versions earlier runs checked.
fn crash_once(
    dir: &Path,
    ids: (&ApplicationId, &ProfileId),
    run: u32,
    mode: Mode,
    delay: Duration,
    before: u64,
) -> Result<Survived, String> {
    let (app, profile) = ids;
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut child = Command::new(exe)
        .env(CHILD, dir)
        .env(APP, app.as_str())
        .env(PROFILE, profile.as_str())
        .env(RUN, run.to_string())
        .env(MODE, mode.name())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("spawn child: {e}"))?;
    let stdout = child.stdout.take().ok_or("child has no stdout")?;
    let reader = std::thread::spawn(move || read_acks(stdout));
    std::thread::sleep(delay);
    let early = child.try_wait().map_err(|e| format!("try_wait: {e}"))?;
    if let Some(status) = early {
        let _ = reader.join();
        return Err(format!("the child exited before it was killed: {status}"));
    }
    child.kill().map_err(|e| format!("kill: {e}"))?;
    child.wait().map_err(|e| format!("wait for child: {e}"))?;
    let acks = reader
        .join()
        .map_err(|_| "the reader thread panicked".to_owned())??;
    // K2: before any open, the checkpoint plus the log after it is the whole fold.
    match verso::verify_path(dir, &mut |_| {}) {
        Ok(Ok(_)) => {}
        Ok(Err(v)) => return Err(format!("verify before reopen: {v}")),
        Err(e) => return Err(format!("verify before reopen: {e}")),
    }
    let store = Store::open(dir).map_err(|e| format!("reopen after kill: {e}"))?;
    let checked = check(&store, ids, &acks, run, mode, before);
    let closed = store.close();
    let latest = checked?;
    closed.map_err(|e| format!("close after checks: {e}"))?;
    Ok(Survived {
        acked: acks.len(),
        latest,
    })
}

/// Reads the child's acknowledgements until its stdout closes. A last line cut short
/// by the kill is not an acknowledgement the parent saw, and is dropped.
fn read_acks(stdout: std::process::ChildStdout) -> Result<Vec<Ack>, String> {
    let mut reader = BufReader::new(stdout);
    let mut acks = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => return Ok(acks),
            Ok(_) if !line.ends_with('\n') => return Ok(acks),
            Ok(_) => {}
            Err(e) => return Err(format!("reading the child's output: {e}")),
        }
        let mut words = line.split_whitespace();
        let parsed = match (words.next(), words.next(), words.next(), words.next()) {
            (Some("ack"), Some(version), Some(hash), None) => {
                version.parse().ok().map(|v| (v, hash.to_owned()))
            }
            _ => None,
        };
        match parsed {
            Some(ack) => acks.push(ack),
            None => return Err(format!("unexpected line from the child: {line:?}")),
        }
    }
}

/// Checks the reopened store against what the child of `run` acknowledged; returns the
/// latest version.
fn check(
    store: &Store,
    (app, profile): (&ApplicationId, &ProfileId),
    acks: &[Ack],
    run: u32,
    mode: Mode,
    before: u64,
) -> Result<u64, String> {
    // D1: every acknowledged version is there, with the content it was acknowledged with
    // (in `Buffered` mode an acknowledged version may be lost, but never changed).
    for (version, hash) in acks {
        if !mode.acks_survive_kill() {
            let present = store
                .hosted_version(app, profile, *version)
                .map_err(|e| format!("read acknowledged version {version}: {e}"))?;
            let Ok(found) = present else { continue };
            let actual = ContentHash::of(&found.content).to_string();
            if &actual != hash {
                return Err(format!(
                    "acknowledged version {version} has content {actual}, acknowledged as {hash}"
                ));
            }
            continue;
        }
        let found = store
            .hosted_version(app, profile, *version)
            .map_err(|e| format!("read acknowledged version {version}: {e}"))?
            .map_err(|e| format!("acknowledged version {version} is lost: {e}"))?;
        let actual = ContentHash::of(&found.content).to_string();
        if &actual != hash {
            return Err(format!(
                "acknowledged version {version} has content {actual}, acknowledged as {hash}"
            ));
        }
    }
    // E1/E4: nothing is deleted, so the live versions are exactly 1..=max, and no
    // version an earlier run left is gone.
    let numbers = live_versions(store, app, profile)?;
    let max = numbers.last().copied().unwrap_or(0);
    if numbers.iter().copied().ne(1..=max) {
        let missing: Vec<u64> = (1..=max)
            .filter(|v| numbers.binary_search(v).is_err())
            .collect();
        return Err(format!("versions 1..={max} have gaps: missing {missing:?}"));
    }
    if max < before {
        return Err(format!(
            "the latest version went back from {before} to {max}"
        ));
    }
    if let Some((version, _)) = acks.iter().max()
        && *version > max
        && mode.acks_survive_kill()
    {
        return Err(format!(
            "acknowledged version {version} but the latest is {max}"
        ));
    }
    // C3: a thread submits its next create only after the previous one was
    // acknowledged, so what this run stored of each thread is a prefix of its sequence.
    // Earlier runs' versions were checked after their own kills; verify covers them
    // below.
    let mut sequences: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
    for version in before + 1..=max {
        let found = store
            .hosted_version(app, profile, version)
            .map_err(|e| format!("read version {version}: {e}"))?
            .map_err(|e| format!("read listed version {version}: {e}"))?;
        let text = String::from_utf8_lossy(&found.content);
        let fields: Vec<&str> = text.split(' ').collect();
        let parsed = match fields.as_slice() {
            ["run", r, "thread", thread, "sequence", sequence] if *r == run.to_string() => {
                thread.parse().ok().zip(sequence.parse().ok())
            }
            _ => None,
        };
        let Some((thread, sequence)) = parsed else {
            return Err(format!(
                "version {version} has content {text:?}, not one of run {run}"
            ));
        };
        if !sequences.entry(thread).or_default().insert(sequence) {
            return Err(format!(
                "thread {thread} sequence {sequence} is stored twice"
            ));
        }
    }
    for (thread, stored) in &sequences {
        let count = stored.len() as u64;
        if stored.iter().copied().ne(0..count) {
            return Err(format!(
                "thread {thread}: stored sequences are not a prefix: {stored:?}"
            ));
        }
    }
    // E2, E7 and the projections: the whole store verifies.
    match store.verify() {
        Ok(Ok(_)) => Ok(max),
        Ok(Err(v)) => Err(format!("verify after kill: {v}")),
        Err(e) => Err(format!("verify after kill failed: {e}")),
    }
}

/// Every live version number, oldest first.
fn live_versions(
    store: &Store,
    app: &ApplicationId,
    profile: &ProfileId,
) -> Result<Vec<u64>, String> {
    let mut numbers = Vec::new();
    let mut next_token = None;
    loop {
        let request = PageRequest {
            max_results: Some(1000),
            next_token,
        };
        let page = store
            .hosted_versions(app, profile, None, &request)
            .map_err(|e| format!("list versions: {e}"))?
            .map_err(|e| format!("list versions: {e}"))?;
        numbers.extend(page.items.iter().map(|r| r.version.get()));
        match page.next_token {
            Some(t) => next_token = Some(t),
            None => break,
        }
    }
    numbers.reverse();
    Ok(numbers)
}
