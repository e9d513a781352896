//! Starting and stopping `verso serve` for the binary's integration tests: one copy of
//! the spawn, the read of its `listening on` line, and the SIGTERM-then-wait stop.
// Each test crate includes this module and uses the part it needs.
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// `verso serve --listen 127.0.0.1:0 --data-dir DIR`, stdout piped for its first line,
/// with `RUST_LOG` at `warn` and no `VERSO_DATA_DIR` from the environment. Add arguments
/// and choose stderr before spawning.
pub(crate) fn serve_command(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_verso"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .env_remove("VERSO_DATA_DIR")
        .stdout(Stdio::piped());
    command
}

/// The base URL (`http://ADDR`) of the server's `listening on` line. Returns at the first
/// line, or at EOF if the server exits: it never hangs.
///
/// # Panics
/// When the first line is anything else.
pub(crate) fn listening(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout is piped"))
        .read_line(&mut line)
        .expect("read stdout");
    line.trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned()
}

/// Spawns [`serve_command`] plus `extra`, with stderr as given; returns the child and its
/// base URL.
pub(crate) fn serve(data_dir: &Path, extra: &[&str], stderr: Stdio) -> (Child, String) {
    let mut child = serve_command(data_dir)
        .args(extra)
        .stderr(stderr)
        .spawn()
        .expect("spawn verso serve");
    let url = listening(&mut child);
    (child, url)
}

/// SIGTERM by PID, then the exit status within 10 s (SIGKILL and a panic after that).
pub(crate) fn terminate(child: &mut Child) -> ExitStatus {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("verso serve ignored SIGTERM for 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// [`terminate`], asserting a clean exit.
pub(crate) fn stop(child: &mut Child) {
    let status = terminate(child);
    assert!(status.success(), "verso serve exited with {status}");
}
