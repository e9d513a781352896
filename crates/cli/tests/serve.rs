//! `verso serve` as a process: where it keeps its data, how it stops, and the clear
//! errors it gives for a bad start.

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::{listening, terminate};

fn verso() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_verso"));
    c.env("RUST_LOG", "warn").env_remove("VERSO_DATA_DIR");
    c
}

/// Starts `command` (a `verso serve`); returns the child and its address.
fn start(command: &mut Command) -> (Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let url = listening(&mut child);
    let addr = url.strip_prefix("http://").unwrap_or(&url).to_owned();
    (child, addr)
}

/// One raw HTTP/1.1 request; returns the status line.
fn status_line(addr: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.lines().next().unwrap_or_default().to_owned()
}

fn serve_args(dir: &Path) -> Vec<std::ffi::OsString> {
    vec![
        "serve".into(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--data-dir".into(),
        dir.as_os_str().to_owned(),
    ]
}

#[test]
fn sigterm_stops_the_server_cleanly_and_the_data_stays() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = start(verso().args(serve_args(dir.path())));
    let body = r#"{"Name": "a"}"#;
    let created = status_line(
        &addr,
        &format!(
            "POST /applications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert_eq!(created, "HTTP/1.1 201 Created");
    assert!(terminate(&mut child).success());
    // The store was closed: a new server opens it (no lock left) and sees the data.
    let (mut child, addr) = start(verso().args(serve_args(dir.path())));
    let list = status_line(
        &addr,
        "GET /applications HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(list, "HTTP/1.1 200 OK");
    assert!(terminate(&mut child).success());
}

#[test]
fn the_data_directory_defaults_to_verso_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("from-env");
    let (mut child, _) = start(
        verso()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("VERSO_DATA_DIR", &data),
    );
    assert!(terminate(&mut child).success());
    assert!(data.join("db").exists(), "no store in {}", data.display());
}

#[test]
fn a_second_server_on_the_same_data_directory_fails_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (mut first, _) = start(verso().args(serve_args(dir.path())));
    let second = verso()
        .args(serve_args(dir.path()))
        .output()
        .expect("run second");
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("opening the store") && stderr.contains("in use by another process"),
        "{stderr}"
    );
    assert!(terminate(&mut first).success());
}

#[test]
fn a_file_as_data_directory_and_a_bad_address_are_refused_before_serving() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, b"not a directory").unwrap();
    let out = verso().args(serve_args(&file)).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("data directory"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = verso()
        .args(["serve", "--listen", "localhost:notaport"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "clap's usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--listen"));
}

#[test]
fn a_cache_size_that_is_not_a_size_or_too_small_is_refused_before_serving() {
    let dir = tempfile::tempdir().unwrap();
    let out = verso()
        .args(serve_args(dir.path()))
        .args(["--cache-size", "lots"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "clap's usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cache-size"));
    let out = verso()
        .args(serve_args(dir.path()))
        .args(["--cache-size", "64KiB"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cache_capacity") && stderr.contains("1 MiB"),
        "{stderr}"
    );
}

#[test]
fn a_damaged_session_table_stops_the_start_before_the_address_is_announced() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _) = start(verso().args(serve_args(dir.path())));
    assert!(terminate(&mut child).success());
    let table = dir.path().join("appconfigdata").join("sessions");
    std::fs::write(&table, b"VERSOSES not a table").unwrap();
    let out = verso().args(serve_args(dir.path())).output().unwrap();
    assert!(!out.status.success());
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("listening on"),
        "announced a server that cannot serve"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("AppConfigData") && stderr.contains("sessions"),
        "{stderr}"
    );
}
