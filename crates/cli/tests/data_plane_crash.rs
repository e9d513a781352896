//! AppConfigData's single-use table across a crash of `verso serve` (kill -9), as
//! docs/design/deployments.md §AppConfigData sessions ("Single use") writes it down: the
//! table lives in memory and is saved to `<data-dir>/appconfigdata/sessions` every
//! `verso_server::SESSION_SAVE_INTERVAL` (5 s) and at a clean stop. After a crash, a
//! token issued after the last save can be used once more; a token redeemed before the
//! last save stays refused; the file is never left corrupt; a clean restart (SIGTERM)
//! keeps every session and token valid.
//!
//! The servers are real `verso serve` processes on 127.0.0.1 with a free port and a
//! temporary data directory; the client is a small HTTP/1.1 client over
//! `std::net::TcpStream`. The tests read two formats that their module docs freeze: the
//! token layout (crates/server/src/appconfigdata/token.rs: hex, session id at bytes
//! 1..17, sequence in the 8 bytes before the 32-byte tag) and the sessions file
//! (crates/server/src/appconfigdata/sessions.rs), to know what the last save holds.

mod support;

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::os::unix::fs::MetadataExt as _;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Every socket read or write gives up after this long.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest a save of the table can take to show up on disk: the save interval
/// (5 s) and room for a slow machine.
const SAVE_WAIT: Duration = Duration::from_secs(8);

/// The content of the one hosted version every test deploys.
const CONTENT: &[u8] = br#"{"max": 10}"#;

/// A session id, as the token and the sessions file carry it.
type SessionId = [u8; 16];

// ---------------------------------------------------------------------------------------
// The server process
// ---------------------------------------------------------------------------------------

/// A `verso serve --poll-interval-check off` child process; killed on drop if still
/// running.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    /// Starts a server on `data_dir` and checks that it answers: the address is printed
    /// before the AppConfigData state (the sessions file) is loaded, so a table it cannot
    /// load shows as a refused request and an exited process, not as a missing line.
    fn start(data_dir: &Path) -> Self {
        let (child, url) = support::serve(
            data_dir,
            &["--poll-interval-check", "off"],
            Stdio::inherit(),
        );
        let addr = url.strip_prefix("http://").unwrap_or(&url).to_owned();
        let mut server = Self { child, addr };
        let health = Conn::new(&server.addr).send("GET", "/applications", None, b"");
        let alive = server.child.try_wait().expect("try_wait").is_none();
        assert!(
            alive && health.as_ref().is_ok_and(|r| r.status == 200),
            "verso serve on {} did not come up (exited: {:?}, GET /applications: {:?}); \
             is the sessions file loadable?",
            data_dir.display(),
            server.child.try_wait().expect("try_wait"),
            health.map(|r| r.status)
        );
        // The server answered: it also loaded the table (that happens before serving).
        server
    }

    /// A new client connection to this server.
    fn conn(&self) -> Conn {
        Conn::new(&self.addr)
    }

    /// kill -9 (`Child::kill` sends SIGKILL) and reap. Asserts that SIGKILL is what ended
    /// the process, i.e. that it had not died on its own before.
    fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL");
        let status = self.child.wait().expect("wait");
        assert_eq!(
            status.signal(),
            Some(9),
            "verso serve ended before the SIGKILL: {status}"
        );
    }

    /// SIGTERM, then at most 10 s for a clean exit (status 0); SIGKILL and a panic after
    /// that.
    fn stop(&mut self) {
        support::stop(&mut self.child);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------
// A small HTTP/1.1 client
// ---------------------------------------------------------------------------------------

/// A response: status, headers (names in lowercase) and body.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A keep-alive HTTP/1.1 connection, opened on first use and after the server closed
/// it. A request that fails is never retried: a poll may have been redeemed.
struct Conn {
    addr: String,
    stream: Option<BufReader<TcpStream>>,
}

impl Conn {
    fn new(addr: &str) -> Self {
        Self {
            addr: addr.to_owned(),
            stream: None,
        }
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> io::Result<Response> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(&self.addr)?;
            stream.set_read_timeout(Some(IO_TIMEOUT))?;
            stream.set_write_timeout(Some(IO_TIMEOUT))?;
            stream.set_nodelay(true)?;
            self.stream = Some(BufReader::new(stream));
        }
        let reader = self.stream.as_mut().expect("connected");
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: verso\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some(t) = content_type {
            request.push_str(&format!("Content-Type: {t}\r\n"));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        let result = reader
            .get_mut()
            .write_all(&bytes)
            .and_then(|()| read_response(reader));
        match result {
            Ok((response, keep_alive)) => {
                if !keep_alive {
                    self.stream = None;
                }
                Ok(response)
            }
            Err(e) => {
                self.stream = None;
                Err(e)
            }
        }
    }

    /// A control-plane JSON request that must succeed with `expected`; returns the body.
    fn json(&mut self, method: &str, path: &str, body: &str, expected: u16) -> String {
        let response = self
            .send(method, path, Some("application/json"), body.as_bytes())
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        assert_eq!(
            response.status,
            expected,
            "{method} {path}: {}",
            response.text()
        );
        response.text()
    }
}

fn eof() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "connection closed mid-response",
    )
}

fn bad(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// Reads one response; also says whether the connection stays open.
fn read_response(reader: &mut BufReader<TcpStream>) -> io::Result<(Response, bool)> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(eof());
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(eof());
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mut keep_alive = !find("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
    let body = if let Some(length) = find("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| bad(format!("bad Content-Length {length:?}")))?;
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        body
    } else if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        read_chunked(reader)?
    } else if status == 204 || status == 304 || (100..200).contains(&status) {
        Vec::new()
    } else {
        keep_alive = false;
        let mut body = Vec::new();
        reader.read_to_end(&mut body)?;
        body
    };
    Ok((
        Response {
            status,
            headers,
            body,
        },
        keep_alive,
    ))
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(eof());
        }
        let size = line.trim().split(';').next().unwrap_or_default();
        let size =
            usize::from_str_radix(size, 16).map_err(|_| bad(format!("bad chunk size {line:?}")))?;
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0; 2];
        reader.read_exact(&mut crlf)?;
    }
}

/// The string value of `"key":"..."` in a compact JSON body (ids and tokens have no
/// escapes).
fn json_string(body: &str, key: &str) -> Option<String> {
    let pattern = format!("\"{key}\":\"");
    let start = body.find(&pattern)? + pattern.len();
    let len = body[start..].find('"')?;
    Some(body[start..start + len].to_owned())
}

// ---------------------------------------------------------------------------------------
// AppConfig and AppConfigData over the wire
// ---------------------------------------------------------------------------------------

/// An application with a hosted profile whose version 1 ([`CONTENT`]) is deployed
/// AllAtOnce to its one environment.
struct Fixture {
    app: String,
    profile: String,
    env: String,
}

fn deployed_fixture(conn: &mut Conn) -> Fixture {
    let body = conn.json("POST", "/applications", r#"{"Name":"crash"}"#, 201);
    let app = json_string(&body, "Id").expect("application id");
    let body = conn.json(
        "POST",
        &format!("/applications/{app}/configurationprofiles"),
        r#"{"Name":"limits","LocationUri":"hosted"}"#,
        201,
    );
    let profile = json_string(&body, "Id").expect("profile id");
    let path =
        format!("/applications/{app}/configurationprofiles/{profile}/hostedconfigurationversions");
    let response = conn
        .send("POST", &path, Some("application/json"), CONTENT)
        .expect("create hosted version");
    assert_eq!(response.status, 201, "{}", response.text());
    assert_eq!(response.header("version-number"), Some("1"));
    let body = conn.json(
        "POST",
        &format!("/applications/{app}/environments"),
        r#"{"Name":"prod"}"#,
        201,
    );
    let env = json_string(&body, "Id").expect("environment id");
    conn.json(
        "POST",
        &format!("/applications/{app}/environments/{env}/deployments"),
        &format!(
            r#"{{"DeploymentStrategyId":"AppConfig.AllAtOnce","ConfigurationProfileId":"{profile}","ConfigurationVersion":"1"}}"#
        ),
        201,
    );
    Fixture { app, profile, env }
}

/// StartConfigurationSession; the raw response.
fn try_start_session(conn: &mut Conn, f: &Fixture) -> io::Result<Response> {
    let body = format!(
        r#"{{"ApplicationIdentifier":"{}","EnvironmentIdentifier":"{}","ConfigurationProfileIdentifier":"{}"}}"#,
        f.app, f.env, f.profile
    );
    conn.send(
        "POST",
        "/configurationsessions",
        Some("application/json"),
        body.as_bytes(),
    )
}

/// The initial token of a started session.
fn initial_token(response: &Response) -> String {
    assert_eq!(response.status, 201, "{}", response.text());
    json_string(&response.text(), "InitialConfigurationToken").expect("initial token")
}

fn start_session(conn: &mut Conn, f: &Fixture) -> String {
    initial_token(&try_start_session(conn, f).expect("start session"))
}

/// GetLatestConfiguration; the raw response.
fn try_poll(conn: &mut Conn, token: &str) -> io::Result<Response> {
    conn.send(
        "GET",
        &format!("/configuration?configuration_token={token}"),
        None,
        b"",
    )
}

/// What a poll gave.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// 200: the next token and the configuration (empty when nothing is new).
    Accepted { next: String, content: Vec<u8> },
    /// BadRequestException, Reason InvalidParameters, with this `Problem` for
    /// `ConfigurationToken`.
    Refused(String),
}

impl Outcome {
    fn is_accepted(&self) -> bool {
        matches!(self, Self::Accepted { .. })
    }
}

/// The outcome of a poll response; panics on anything else.
fn outcome(response: &Response) -> Outcome {
    match response.status {
        200 => Outcome::Accepted {
            next: response
                .header("next-poll-configuration-token")
                .expect("Next-Poll-Configuration-Token")
                .to_owned(),
            content: response.body.clone(),
        },
        400 => {
            let text = response.text();
            assert_eq!(
                response
                    .header("x-amzn-errortype")
                    .map(|t| t.split(':').next().unwrap_or_default()),
                Some("BadRequestException"),
                "{text}"
            );
            assert_eq!(
                json_string(&text, "Reason").as_deref(),
                Some("InvalidParameters"),
                "{text}"
            );
            assert!(
                text.contains(r#""ConfigurationToken":{"Problem":"#),
                "{text}"
            );
            Outcome::Refused(json_string(&text, "Problem").expect("Problem"))
        }
        status => panic!("unexpected poll response {status}: {}", response.text()),
    }
}

fn poll(conn: &mut Conn, token: &str) -> Outcome {
    outcome(&try_poll(conn, token).expect("poll"))
}

/// Polls `token`, which must be accepted; returns the next token and the content.
fn accept(conn: &mut Conn, token: &str, what: &str) -> (String, Vec<u8>) {
    match poll(conn, token) {
        Outcome::Accepted { next, content } => (next, content),
        Outcome::Refused(problem) => panic!("{what}: refused ({problem}), expected accepted"),
    }
}

/// Polls `token`, which must be refused; returns the `Problem`.
fn refuse(conn: &mut Conn, token: &str, what: &str) -> String {
    match poll(conn, token) {
        Outcome::Refused(problem) => problem,
        Outcome::Accepted { .. } => panic!("{what}: accepted, expected refused"),
    }
}

// ---------------------------------------------------------------------------------------
// The frozen formats: tokens and the sessions file
// ---------------------------------------------------------------------------------------

/// The session id and sequence number of a token (token.rs, "Token layout").
fn token_parts(token: &str) -> (SessionId, u64) {
    assert!(
        token.len().is_multiple_of(2) && token.is_ascii(),
        "not hex: {token:?}"
    );
    let bytes: Vec<u8> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16).expect("hex token"))
        .collect();
    assert!(
        bytes.len() >= 1 + 16 + 48 && bytes[0] == 1,
        "not a format-1 token"
    );
    let session: SessionId = bytes[1..17].try_into().expect("16 bytes");
    let at = bytes.len() - 32 - 8;
    let sequence = u64::from_be_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    (session, sequence)
}

fn sequence(token: &str) -> u64 {
    token_parts(token).1
}

fn sessions_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("appconfigdata")
}

fn sessions_file(data_dir: &Path) -> PathBuf {
    sessions_dir(data_dir).join("sessions")
}

/// The table in `<data-dir>/appconfigdata/sessions` (sessions.rs, "File format"):
/// session → the sequence of its only valid token. `None` if there is no file. Checks
/// the structure (magic, format, length, sorted unique ids); the sha256 trailer is
/// checked by the server, which refuses to start on a bad one.
fn read_table(data_dir: &Path) -> Option<HashMap<SessionId, u64>> {
    let bytes = match std::fs::read(sessions_file(data_dir)) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => panic!("reading the sessions file: {e}"),
    };
    Some(decode_table(&bytes))
}

fn decode_table(bytes: &[u8]) -> HashMap<SessionId, u64> {
    assert!(bytes.len() >= 20 + 32, "truncated: {} bytes", bytes.len());
    assert_eq!(&bytes[..8], b"VERSOSES", "magic");
    assert_eq!(&bytes[8..12], &1u32.to_be_bytes(), "format");
    let count = u64::from_be_bytes(bytes[12..20].try_into().expect("8 bytes"));
    let count = usize::try_from(count).expect("count");
    assert_eq!(
        bytes.len(),
        20 + count * 32 + 32,
        "length for {count} entries"
    );
    let mut table = HashMap::with_capacity(count);
    let mut previous: Option<SessionId> = None;
    for entry in bytes[20..20 + count * 32].chunks_exact(32) {
        let session: SessionId = entry[..16].try_into().expect("16 bytes");
        assert!(previous < Some(session), "entries not sorted and unique");
        previous = Some(session);
        table.insert(
            session,
            u64::from_be_bytes(entry[16..24].try_into().expect("8 bytes")),
        );
    }
    table
}

/// Identity and change stamp of a file (inode, mtime, length), if it exists.
fn stamp(path: &Path) -> Option<(u64, i64, i64, u64)> {
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.ino(), m.mtime(), m.mtime_nsec(), m.len()))
}

// ---------------------------------------------------------------------------------------
// Test 1: the exact sequence
// ---------------------------------------------------------------------------------------

#[test]
fn a_kill_9_keeps_the_saved_single_use_table_and_no_more() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let mut server = Server::start(data);
    let mut c = server.conn();
    let f = deployed_fixture(&mut c);

    let t0 = start_session(&mut c, &f);
    let (session, _) = token_parts(&t0);
    let (t1, content) = accept(&mut c, &t0, "t0");
    assert_eq!(content, CONTENT);
    let (t2, content) = accept(&mut c, &t1, "t1");
    assert!(content.is_empty(), "nothing new: an empty body");
    assert_eq!((sequence(&t0), sequence(&t1), sequence(&t2)), (0, 1, 2));
    let redeemed_t1 = Instant::now();

    // Wait for the periodic save that holds "t1 used, t2 valid" (next sequence 2).
    loop {
        if read_table(data).is_some_and(|t| t.get(&session) == Some(&2)) {
            break;
        }
        assert!(
            redeemed_t1.elapsed() < SAVE_WAIT,
            "no save of the table within {SAVE_WAIT:?} of redeeming t1 (file: {:?})",
            read_table(data).map(|t| t.get(&session).copied())
        );
        thread::sleep(Duration::from_millis(10));
    }
    let saved = Instant::now();

    // Redeem t2 (after the save) and crash at once.
    let (t3, _) = accept(&mut c, &t2, "t2 before the crash");
    assert_eq!(sequence(&t3), 3);
    server.kill9();
    assert!(
        saved.elapsed() < Duration::from_secs(4),
        "the kill came too late to be before the next save"
    );
    // The file is the last save, whole: t2's redeem is not in it.
    let table = read_table(data).expect("a sessions file");
    assert_eq!(
        table.get(&session),
        Some(&2),
        "the table on disk after kill -9 is the last periodic save"
    );

    // Restart on the same directory: it loads (a corrupt table would refuse to start).
    let mut server = Server::start(data);
    let mut c = server.conn();
    // Redeemed before the last save: still refused.
    assert_eq!(refuse(&mut c, &t0, "t0 after the crash"), "Expired");
    assert_eq!(refuse(&mut c, &t1, "t1 after the crash"), "Expired");
    // Redeemed after the last save: usable once more (the documented weaker guarantee).
    let (t2b, content) = accept(&mut c, &t2, "t2 after the crash");
    assert!(content.is_empty(), "the client already held version 1");
    assert_eq!(sequence(&t2b), 3);
    assert_eq!(refuse(&mut c, &t2, "t2 a second time"), "Expired");
    // t3 was issued after the last save, with a sequence (3) not below the table's (3
    // now that t2 was redeemed again): accepted once. It has the same sequence as t2',
    // so the one redeemed first wins: t2' is refused from now on.
    let (t4, content) = accept(&mut c, &t3, "t3 after the crash");
    assert!(content.is_empty());
    assert_eq!(sequence(&t4), 4);
    assert_eq!(refuse(&mut c, &t3, "t3 a second time"), "Expired");
    assert_eq!(
        refuse(&mut c, &t2b, "t2' after t3 (same sequence)"),
        "Expired"
    );
    // The session keeps working.
    let (t5, _) = accept(&mut c, &t4, "t4");
    let (t6, _) = accept(&mut c, &t5, "t5");
    assert_eq!(refuse(&mut c, &t4, "t4 a second time"), "Expired");
    assert_eq!(sequence(&t6), 6);

    // A clean restart keeps the session and its one valid token, and nothing else.
    server.stop();
    assert_eq!(read_table(data).unwrap().get(&session), Some(&6));
    let mut server = Server::start(data);
    let mut c = server.conn();
    assert_eq!(refuse(&mut c, &t5, "t5 after a clean restart"), "Expired");
    assert_eq!(refuse(&mut c, &t2, "t2 after a clean restart"), "Expired");
    let (t7, _) = accept(&mut c, &t6, "t6 after a clean restart");
    assert_eq!(sequence(&t7), 7);
    server.stop();
}

// ---------------------------------------------------------------------------------------
// Test 2: kills at random moments
// ---------------------------------------------------------------------------------------

/// xorshift64*: enough randomness for timings and choices, reproducible from its seed.
struct Rng(u64);

impl Rng {
    /// From `VERSO_CRASH_SEED` if set, else from the clock; the seed is printed.
    fn seeded() -> Self {
        let seed = std::env::var("VERSO_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                let nanos = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .expect("clock after 1970")
                    .as_nanos();
                u64::try_from(nanos % u128::from(u64::MAX)).expect("fits")
            });
        eprintln!("data_plane_crash: VERSO_CRASH_SEED={seed}");
        Self(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn index(&mut self, len: usize) -> usize {
        usize::try_from(self.below(u64::try_from(len).expect("len"))).expect("index")
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
}

/// What the test knows of one session.
struct Sess {
    id: SessionId,
    /// Every token of the main line, in order: `chain[i]` has sequence i; the last one is
    /// the one the client holds.
    chain: Vec<String>,
    /// The last poll of the held token got no answer (the server died): the server may
    /// have redeemed it.
    maybe_redeemed: bool,
    /// The held token was refused after a restart (allowed only if `maybe_redeemed`):
    /// the client would start a new session.
    dead: bool,
}

/// The sessions and what the load did.
struct Load {
    sessions: Vec<Sess>,
    /// Session starts that got no answer (the server may know them).
    lost_starts: usize,
    requests: usize,
}

/// The most sessions the load creates over the whole test (a bigger table makes a save
/// last longer, so a kill is likelier to land inside one).
const MAX_SESSIONS: usize = 2000;

/// Starts sessions and polls held tokens back to back until `stop` or until the server
/// stops answering; never retries a request.
fn run_load(
    addr: String,
    f: Arc<Fixture>,
    mut load: Load,
    stop: Arc<AtomicBool>,
    seed: u64,
) -> Load {
    let mut rng = Rng(seed | 1);
    let mut conn = Conn::new(&addr);
    let mut alive: Vec<usize> = (0..load.sessions.len())
        .filter(|&i| !load.sessions[i].dead)
        .collect();
    while !stop.load(Ordering::Relaxed) {
        load.requests += 1;
        if load.sessions.len() < MAX_SESSIONS && (alive.is_empty() || rng.percent(30)) {
            match try_start_session(&mut conn, &f) {
                Ok(response) => {
                    let token = initial_token(&response);
                    let (id, sequence) = token_parts(&token);
                    assert_eq!(sequence, 0);
                    alive.push(load.sessions.len());
                    load.sessions.push(Sess {
                        id,
                        chain: vec![token],
                        maybe_redeemed: false,
                        dead: false,
                    });
                }
                Err(_) => {
                    load.lost_starts += 1;
                    break;
                }
            }
        } else {
            let s = &mut load.sessions[alive[rng.index(alive.len())]];
            let held = s.chain.last().expect("a token");
            match try_poll(&mut conn, held) {
                Ok(response) => match outcome(&response) {
                    Outcome::Accepted { next, .. } => {
                        assert_eq!(sequence(&next), sequence(held) + 1);
                        s.chain.push(next);
                    }
                    Outcome::Refused(problem) => {
                        panic!("the held token of a live session was refused: {problem}")
                    }
                },
                Err(_) => {
                    s.maybe_redeemed = true;
                    break;
                }
            }
        }
    }
    load
}

/// What a check after a restart found.
#[derive(Default, Debug)]
struct Checked {
    entries: usize,
    probes: usize,
    refused_saved: usize,
    accepted_unsaved: usize,
    dead: usize,
}

/// After a (re)start: reads the table the server loaded, checks it against what the
/// client knows and against the previous table, then probes old and held tokens and
/// checks each answer against the rule (a token of sequence s is accepted iff the session
/// is not in the table or s ≥ its next sequence; then the next sequence is s + 1).
///
/// `clean`: the previous process stopped with SIGTERM and no request in flight, so the
/// table must hold every session with its held token, and every session is probed.
fn check_restart(
    server: &Server,
    data: &Path,
    load: &mut Load,
    previous: &HashMap<SessionId, u64>,
    rng: &mut Rng,
    clean: bool,
) -> (HashMap<SessionId, u64>, Checked) {
    let table = read_table(data).unwrap_or_default();
    let mut checked = Checked {
        entries: table.len(),
        ..Checked::default()
    };
    // Saved sessions never go back and never vanish (tokens live 24 hours).
    for (id, &was) in previous {
        let now = table
            .get(id)
            .unwrap_or_else(|| panic!("a saved session vanished from the table"));
        assert!(
            *now >= was,
            "a session's next sequence went back: {was} → {now}"
        );
    }
    let known: HashSet<SessionId> = load.sessions.iter().map(|s| s.id).collect();
    let unknown = table.keys().filter(|id| !known.contains(*id)).count();
    assert!(
        unknown <= load.lost_starts,
        "{unknown} sessions in the table that no client started ({} starts unanswered)",
        load.lost_starts
    );
    for s in load.sessions.iter().filter(|s| !s.dead) {
        let held = u64::try_from(s.chain.len() - 1).expect("len");
        match table.get(&s.id) {
            Some(&next) if clean => assert_eq!(
                next, held,
                "after a clean stop the table holds the held token's sequence"
            ),
            Some(&next) => assert!(
                next <= held || (s.maybe_redeemed && next == held + 1),
                "the table says sequence {next} is the valid one; the client holds {held}"
            ),
            None => assert!(!clean, "a clean stop lost a session"),
        }
    }
    if clean {
        assert_eq!(table.len(), load.sessions.len());
    }

    let mut c = server.conn();
    let live: Vec<usize> = (0..load.sessions.len())
        .filter(|&i| !load.sessions[i].dead)
        .collect();
    let chosen: Vec<usize> = if clean {
        live
    } else {
        (0..30.min(live.len()))
            .map(|_| live[rng.index(live.len())])
            .collect::<HashSet<_>>()
            .into_iter()
            .collect()
    };
    for i in chosen {
        let s = &mut load.sessions[i];
        let mut next = table.get(&s.id).copied();
        let held = s.chain.len() - 1;
        // An older token: just below the saved sequence (must be refused), at it, or
        // anywhere.
        if held > 0 {
            let saved = next.map_or(0, |n| usize::try_from(n).expect("fits"));
            let j = match rng.below(3) {
                0 => saved.saturating_sub(1),
                1 => saved,
                _ => rng.index(held),
            }
            .min(held - 1);
            let j64 = u64::try_from(j).expect("fits");
            let expected = next.is_none_or(|n| j64 >= n);
            let got = poll(&mut c, &s.chain[j]);
            checked.probes += 1;
            assert_eq!(
                got.is_accepted(),
                expected,
                "token {j} of a session (held {held}, table {next:?}): {got:?}"
            );
            match got {
                Outcome::Accepted { next: fork, .. } => {
                    assert_eq!(sequence(&fork), j64 + 1);
                    checked.accepted_unsaved += 1;
                    next = Some(j64 + 1);
                }
                Outcome::Refused(problem) => {
                    assert_eq!(problem, "Expired");
                    checked.refused_saved += 1;
                }
            }
        }
        // The held token.
        let held64 = u64::try_from(held).expect("fits");
        let expected = next.is_none_or(|n| held64 >= n);
        let got = poll(&mut c, &s.chain[held]);
        checked.probes += 1;
        assert_eq!(
            got.is_accepted(),
            expected,
            "held token {held} (table {next:?}, maybe redeemed: {}): {got:?}",
            s.maybe_redeemed
        );
        match got {
            Outcome::Accepted { next: token, .. } => {
                assert_eq!(sequence(&token), held64 + 1);
                s.chain.push(token);
                s.maybe_redeemed = false;
            }
            Outcome::Refused(problem) => {
                assert_eq!(problem, "Expired");
                s.dead = true;
                checked.dead += 1;
            }
        }
    }
    (table, checked)
}

/// Runs the load against `server` on a thread; returns its stop flag and handle.
fn spawn_load(
    server: &Server,
    f: &Arc<Fixture>,
    load: Load,
    rng: &mut Rng,
) -> (Arc<AtomicBool>, thread::JoinHandle<Load>) {
    let stop = Arc::new(AtomicBool::new(false));
    let handle = {
        let (addr, f, stop, seed) = (
            server.addr.clone(),
            Arc::clone(f),
            Arc::clone(&stop),
            rng.next(),
        );
        thread::spawn(move || run_load(addr, f, load, stop, seed))
    };
    (stop, handle)
}

fn join(handle: thread::JoinHandle<Load>) -> Load {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// When a round of [`kill_9_at_random_moments_never_leaves_a_table_the_server_cannot_load`]
/// kills the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kill {
    /// At a random moment 0.2–1.5 s after the start: before the first periodic save of
    /// the process (5 s), so the table on disk is the one it loaded.
    Random,
    /// While the first periodic save writes: as soon as its temporary file appears, then
    /// 0–2 ms later (between open and rename, or just after).
    MidSave,
    /// 0–300 ms after the first periodic save replaced the file, with polls going on.
    AfterSave,
}

#[test]
fn kill_9_at_random_moments_never_leaves_a_table_the_server_cannot_load() {
    let began = Instant::now();
    let mut rng = Rng::seeded();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let sessions = sessions_file(data);
    let tmp = sessions_dir(data).join("sessions.tmp");

    // Round 0: a load, then a clean stop: every session and token survives.
    let mut server = Server::start(data);
    let f = Arc::new(deployed_fixture(&mut server.conn()));
    let load = Load {
        sessions: Vec::new(),
        lost_starts: 0,
        requests: 0,
    };
    let (stop, handle) = spawn_load(&server, &f, load, &mut rng);
    thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let mut load = join(handle);
    server.stop();
    let mut server = Server::start(data);
    let (mut table, checked) =
        check_restart(&server, data, &mut load, &HashMap::new(), &mut rng, true);
    eprintln!("round 0 (SIGTERM): {} requests, {checked:?}", load.requests);
    assert!(checked.entries > 0);

    let mut mid_save_kills = 0;
    for (round, mode) in [
        Kill::Random,
        Kill::MidSave,
        Kill::Random,
        Kill::AfterSave,
        Kill::Random,
        Kill::MidSave,
    ]
    .into_iter()
    .enumerate()
    {
        let round = round + 1;
        let started = Instant::now();
        let mut before_bytes = std::fs::read(&sessions).ok();
        let mut before_file = stamp(&sessions);
        let mut before_tmp = stamp(&tmp);
        let mut early_save = false;
        let (stop, handle) = spawn_load(&server, &f, load, &mut rng);
        let mut save_seen = false;
        match mode {
            Kill::Random => {
                let lived = Duration::from_millis(200 + rng.below(1301));
                thread::sleep(lived.saturating_sub(started.elapsed()));
            }
            Kill::MidSave | Kill::AfterSave => {
                let deadline = started + SAVE_WAIT;
                thread::sleep(Duration::from_secs(4).saturating_sub(started.elapsed()));
                // The saver's first tick (at the start, a no-op for an unchanged table)
                // may have written the table if the check's polls came first: look for
                // the save after this moment only.
                let now_file = stamp(&sessions);
                early_save = now_file != before_file;
                (before_file, before_tmp) = (now_file, stamp(&tmp));
                before_bytes = std::fs::read(&sessions).ok();
                while Instant::now() < deadline {
                    let renamed = stamp(&sessions) != before_file;
                    let writing = stamp(&tmp).is_some_and(|t| Some(t) != before_tmp);
                    if renamed || (mode == Kill::MidSave && writing) {
                        save_seen = true;
                        break;
                    }
                    thread::yield_now();
                }
                let extra = match mode {
                    Kill::MidSave if rng.percent(30) => Duration::ZERO,
                    Kill::MidSave => Duration::from_micros(rng.below(2000)),
                    _ => Duration::from_millis(rng.below(300)),
                };
                let until = Instant::now() + extra;
                while Instant::now() < until {
                    std::hint::spin_loop();
                }
            }
        }
        server.kill9();
        let lived = started.elapsed();
        stop.store(true, Ordering::Relaxed);
        load = join(handle);

        let after_file = stamp(&sessions);
        let renamed = after_file.map(|s| s.0) != before_file.map(|s| s.0);
        if !renamed {
            // No save finished: the file is byte for byte the one the server loaded
            // (polls never write it).
            assert_eq!(
                std::fs::read(&sessions).ok(),
                before_bytes,
                "round {round}: the sessions file changed without a save"
            );
        }
        let tmp_left = stamp(&tmp).is_some() && stamp(&tmp) != before_tmp;
        match mode {
            Kill::Random => {}
            Kill::MidSave if save_seen && !renamed => mid_save_kills += 1,
            Kill::MidSave => {}
            Kill::AfterSave => assert!(renamed, "round {round}: the save did not replace the file"),
        }

        let restarting = Instant::now();
        server = Server::start(data);
        let restarted = restarting.elapsed();
        let (next_table, checked) =
            check_restart(&server, data, &mut load, &table, &mut rng, false);
        table = next_table;
        eprintln!(
            "round {round} ({mode:?}): killed after {lived:?}, early save {early_save}, \
             save seen {save_seen}, file replaced {renamed}, new temp file left {tmp_left}, \
             sessions {}, requests {}, restart {restarted:?}, check {:?}, {checked:?}",
            load.sessions.len(),
            load.requests,
            restarting.elapsed() - restarted
        );
        assert!(
            mode == Kill::Random || save_seen,
            "round {round}: no periodic save within {SAVE_WAIT:?}"
        );
    }
    server.stop();
    eprintln!(
        "kills that landed inside a save (before its rename): {mid_save_kills} of 2; total {:?}",
        began.elapsed()
    );
}
