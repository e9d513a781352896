"""Fixtures of the boto3 compatibility suite: a real `verso serve` and boto3 clients for it.

Every test gets its own server on a free port with its own data directory (a pytest
tmp_path), so tests never see each other's applications, quotas or version numbers.
A server starts in a few tens of milliseconds. The server is always stopped by the PID
this fixture started: SIGTERM, then SIGKILL if it has not exited in time.

Nothing here waits without a bound: the server's start line, its exit, every HTTP call
(boto3's connect/read timeouts, no retries) and every test as a whole (SIGALRM) have
time limits.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO / "target" / "debug" / "verso"

REGION = "us-east-1"
START_TIMEOUT = 15.0  # seconds until the `listening on` line
STOP_TIMEOUT = 15.0  # seconds between SIGTERM and SIGKILL
TEST_TIMEOUT = 90  # seconds for any one test, fixtures included

# Loopback traffic must never go through a proxy the developer may have configured.
_no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1", "localhost"]))
os.environ["NO_PROXY"] = os.environ["no_proxy"] = _no_proxy

_session = None


def _boto_session() -> boto3.session.Session:
    # One boto3 session for the whole run (loading the service model once); clients are
    # created from it in the main thread only, and each client is then thread-safe.
    global _session
    if _session is None:
        _session = boto3.session.Session(
            aws_access_key_id="compat-suite",
            aws_secret_access_key="not-checked",
            region_name=REGION,
        )
    return _session


def _make_client(service: str, endpoint: str, validate: bool):
    return _boto_session().client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="compat-suite",
        aws_secret_access_key="not-checked",
        config=Config(
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=5,
            read_timeout=20,
            parameter_validation=validate,
            max_pool_connections=4,
        ),
    )


def make_appconfig_client(endpoint: str, validate: bool = True):
    """A boto3 AppConfig client for `endpoint`: dummy credentials given to the
    constructor, no retries (so a wrong 5xx is not hidden), short timeouts.
    `validate=False` turns off botocore's client-side checks (required members, types,
    minimum lengths and values) so that the server's own validation can be reached."""
    return _make_client("appconfig", endpoint, validate)


def make_appconfigdata_client(endpoint: str, validate: bool = True):
    """A boto3 AppConfigData client for `endpoint`, set up as make_appconfig_client sets
    up the AppConfig one (one listener serves both services, routed by path)."""
    return _make_client("appconfigdata", endpoint, validate)


def make_connect_client(endpoint: str, validate: bool = True):
    """A boto3 Amazon Connect client for `endpoint`, set up as make_appconfig_client sets
    up the AppConfig one (one listener serves both services, routed by path: Connect
    views live under `/views/`)."""
    return _make_client("connect", endpoint, validate)


def make_proton_client(endpoint: str, validate: bool = True):
    """A boto3 AWS Proton client for `endpoint`, set up as make_appconfig_client sets up
    the AppConfig one (one listener serves every service: Proton is awsJson1_0, every
    call `POST /` with `X-Amz-Target: AwsProton20200720.<Operation>`)."""
    return _make_client("proton", endpoint, validate)


def verso_bin() -> Path:
    path = Path(os.environ.get("VERSO_BIN") or DEFAULT_BIN)
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"no verso binary at {path}: build it (cargo build --bin verso) "
            "or point VERSO_BIN at one",
            pytrace=False,
        )
    return path


class VersoServer:
    """One `verso serve` process on 127.0.0.1 with a given data directory and, after
    `--listen` and `--data-dir`, the extra arguments `args` (kept across restarts)."""

    def __init__(self, binary: Path, data_dir: Path, log_path: Path, args: tuple[str, ...] = ()):
        self.binary = binary
        self.data_dir = data_dir
        self.log_path = log_path
        self.args = tuple(args)
        self.proc: subprocess.Popen | None = None
        self.endpoint: str | None = None
        self._log = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> str:
        assert self.proc is None, "server already running"
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [
                str(self.binary),
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
                str(self.data_dir),
                *self.args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        try:
            line = self._read_start_line()
        except BaseException:
            self._kill()
            raise
        m = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+)\n", line)
        if not m:
            self._kill()
            pytest.fail(f"unexpected first line from verso serve: {line!r}\n{self.log_tail()}")
        self.endpoint = m.group(1)
        return self.endpoint

    def _read_start_line(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + START_TIMEOUT
        buf = b""
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(
                        f"verso serve printed no `listening on` line in {START_TIMEOUT}s\n"
                        + self.log_tail()
                    )
                if not sel.select(left):
                    continue
                chunk = os.read(fd, 4096)
                if not chunk:
                    rc = self.proc.poll()
                    pytest.fail(
                        f"verso serve closed stdout before its start line (exit {rc})\n"
                        + self.log_tail()
                    )
                buf += chunk
        return buf.decode()

    def stop(self) -> int:
        """SIGTERM, wait up to STOP_TIMEOUT, then SIGKILL. Returns the exit status
        (negative: killed by that signal; KILLED_AFTER_TIMEOUT if it had to be killed)."""
        proc = self.proc
        if proc is None:
            raise AssertionError("server not running")
        rc: int
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._kill()
                rc = KILLED_AFTER_TIMEOUT
        else:
            rc = proc.returncode
        self._close()
        return rc

    def restart(self) -> str:
        """Graceful stop (asserting exit status 0), then a new server on the same data
        directory with the same arguments. Returns the new endpoint; make new clients
        for it."""
        rc = self.stop()
        assert rc == 0, f"verso serve exited with {rc} on SIGTERM\n{self.log_tail()}"
        return self.start()

    def _kill(self) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self._close()

    def _close(self) -> None:
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None
        self.endpoint = None
        if self._log is not None:
            self._log.close()
            self._log = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- helpers ---------------------------------------------------------------------

    def client(self, validate: bool = True):
        assert self.endpoint, "server not running"
        return make_appconfig_client(self.endpoint, validate=validate)

    def data_client(self, validate: bool = True):
        """An AppConfigData client of this (current) server."""
        assert self.endpoint, "server not running"
        return make_appconfigdata_client(self.endpoint, validate=validate)

    def connect_client(self, validate: bool = True):
        """An Amazon Connect client of this (current) server."""
        assert self.endpoint, "server not running"
        return make_connect_client(self.endpoint, validate=validate)

    def proton_client(self, validate: bool = True):
        """An AWS Proton client of this (current) server."""
        assert self.endpoint, "server not running"
        return make_proton_client(self.endpoint, validate=validate)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no server log)"
        return "--- verso serve stderr (tail) ---\n" + "\n".join(text[-lines:])


KILLED_AFTER_TIMEOUT = -1000


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "server_args(*args): extra `verso serve` arguments for the test's server, e.g. "
        "support.relaxed for `--poll-interval-check off`",
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


@pytest.fixture(autouse=True)
def _hard_timeout():
    """No test runs for more than TEST_TIMEOUT seconds, whatever it waits on."""

    def expired(signum, frame):
        raise TimeoutError(f"test ran for more than {TEST_TIMEOUT}s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def server(tmp_path, request):
    """A running `verso serve` on a fresh data directory under tmp_path; stopped (by its
    PID) when the test ends, whatever happened. A `server_args` mark on the test adds
    arguments (`@pytest.mark.server_args("--poll-interval-check", "off")`); restarts
    keep them."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    mark = request.node.get_closest_marker("server_args")
    args = tuple(mark.args) if mark is not None else ()
    srv = VersoServer(verso_bin(), data_dir, tmp_path / "verso-serve.log", args)
    srv.start()
    try:
        yield srv
    finally:
        if srv.proc is not None:
            srv.stop()
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            print(srv.log_tail())


@pytest.fixture
def client(server):
    """A boto3 AppConfig client for the test's server."""
    return server.client()


@pytest.fixture
def loose_client(server):
    """A client without botocore's client-side validation, to reach the server's own
    checks of minimum lengths, minimum values and types."""
    return server.client(validate=False)


@pytest.fixture
def data_client(server):
    """A boto3 AppConfigData client for the test's server."""
    return server.data_client()


@pytest.fixture
def loose_data_client(server):
    """An AppConfigData client without botocore's client-side validation."""
    return server.data_client(validate=False)


@pytest.fixture
def connect_client(server):
    """A boto3 Amazon Connect client for the test's server."""
    return server.connect_client()


@pytest.fixture
def loose_connect_client(server):
    """A Connect client without botocore's client-side validation, to reach the server's
    own checks of required members, minimum lengths and minimum values."""
    return server.connect_client(validate=False)


@pytest.fixture
def proton_client(server):
    """A boto3 AWS Proton client for the test's server."""
    return server.proton_client()


@pytest.fixture
def loose_proton_client(server):
    """A Proton client without botocore's client-side validation, to reach the server's
    own checks of required members, minimum lengths, minimum values and unions."""
    return server.proton_client(validate=False)


@pytest.fixture
def make_client(server):
    """Factory for more clients of the test's (current) server."""

    def make(validate: bool = True):
        return server.client(validate=validate)

    return make
