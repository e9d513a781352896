#!/usr/bin/env python3
"""The power-loss test's rounds (issue #17); run it through `scripts/powerloss`, which
builds verso and LazyFS and passes their paths.

Each round runs `verso serve` on a LazyFS mount with concurrent writers, kills it with
kill -9, cuts the power (LazyFS `clear-cache`: unsynced file contents are dropped),
unmounts, remounts over the same backing directory, verifies the store as the cut left
it, restarts the server and checks that every acknowledged version is there with its
exact bytes, that versions are 1..max without a gap, that every version present holds
bytes a writer sent, and, after a clean SIGTERM, that `verso verify` passes. The `sync`
rounds continue one store, so each also checks every version of the earlier rounds.
The control rounds (`buffered`, then `flush`, each on a fresh store) must find an
acknowledged version missing or changed: they show the check sees a loss and, for
`flush` (acknowledged once handed to the OS, which a kill -9 alone does not lose), that
the power cut really drops unsynced data.

Python standard library only. Every wait is bounded; only processes started here are
stopped, by their PID; the mount is always unmounted.
"""

import argparse
import hashlib
import http.client
import json
import os
import random
import select
import signal
import stat
import subprocess
import sys
import threading
import time
import urllib.parse


class Skip(Exception):
    """The test cannot run here (no FUSE): reported as skipped, never as passed."""


class Failure(Exception):
    """A round failed: the message says why."""


class Timeout(Exception):
    """The whole run took longer than its bound."""


def sha(data):
    return hashlib.sha256(data).hexdigest()


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------------------------------
# Processes this script started, so that cleanup stops exactly those (by PID).

STARTED = {}  # pid -> Popen
PIDFILE = None


def started(proc):
    STARTED[proc.pid] = proc
    write_pidfile()
    return proc


def reaped(proc):
    STARTED.pop(proc.pid, None)
    write_pidfile()


def write_pidfile():
    if PIDFILE:
        tmp = PIDFILE + ".tmp"
        with open(tmp, "w") as f:
            f.write("".join(f"{pid}\n" for pid in STARTED))
        os.replace(tmp, PIDFILE)


def kill_started():
    for pid, proc in list(STARTED.items()):
        if proc.poll() is None:
            try:
                proc.kill()
            except OSError:
                pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        reaped(proc)


# ---------------------------------------------------------------------------------------
# LazyFS


class LazyFS:
    """One LazyFS mount of `backing` at `mnt`, remountable."""

    def __init__(self, binary, work, backing, mnt):
        self.binary = binary
        self.backing = backing
        self.mnt = mnt
        self.fifo = os.path.join(work, "faults.fifo")
        self.done_fifo = os.path.join(work, "faults-done.fifo")
        self.config = os.path.join(work, "lazyfs.toml")
        self.logfile = os.path.join(work, "lazyfs.log")
        self.proc = None
        self.done_fd = None
        self.mounts = 0
        for fifo in (self.fifo, self.done_fifo):
            if not os.path.exists(fifo):
                os.mkfifo(fifo, 0o600)
        with open(self.config, "w") as f:
            # The cache must hold all unsynced data: a full cache writes through and
            # would hide losses. No eviction for the same reason.
            f.write(
                "[faults]\n"
                f'fifo_path="{self.fifo}"\n'
                f'fifo_path_completed="{self.done_fifo}"\n'
                "[cache]\n"
                "apply_eviction=false\n"
                "[cache.simple]\n"
                'custom_size="2gb"\n'
                "blocks_per_page=1\n"
                "[filesystem]\n"
                "log_all_operations=false\n"
                f'logfile="{self.logfile}"\n'
            )

    def mounted(self):
        with open("/proc/self/mountinfo") as f:
            return any(line.split()[4] == self.mnt for line in f)

    def mount(self):
        if self.mounted():
            raise Failure(f"{self.mnt} is already a mount point")
        out = open(os.path.join(os.path.dirname(self.config), "lazyfs.out"), "ab")
        self.proc = started(
            subprocess.Popen(
                [self.binary, self.mnt, "--config-path", self.config,
                 "-o", "modules=subdir", "-o", f"subdir={self.backing}", "-f"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            )
        )
        out.close()
        # ONE reader of the completion FIFO, from now until unmount: LazyFS opens its
        # write end once, blocking until a reader is there, and never reopens it.
        self.done_fd = os.open(self.done_fifo, os.O_RDONLY | os.O_NONBLOCK)
        self.done_buf = b""
        deadline = time.monotonic() + 15
        while not self.mounted():
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                reaped(self.proc)
                self.proc = None
                self.close_done()
                text = self.output_tail()
                low = text.lower()
                if any(w in low for w in ("permission denied", "operation not permitted",
                                          "fuse: device not found", "/dev/fuse")):
                    last = (text.strip().splitlines() or [""])[-1]
                    raise Skip(f"the FUSE mount failed for lack of permission or device "
                               f"(lazyfs exit {rc}: {last})")
                raise Failure(f"lazyfs exited {rc} before mounting {self.mnt}:\n{text}")
            if time.monotonic() > deadline:
                raise Failure(f"lazyfs did not mount {self.mnt} within 15 s:\n"
                              + self.output_tail())
            time.sleep(0.05)
        self.mounts += 1

    def output_tail(self):
        text = ""
        for name in ("lazyfs.out", "lazyfs.log"):
            path = os.path.join(os.path.dirname(self.config), name)
            try:
                with open(path, errors="replace") as f:
                    text += "".join(f.readlines()[-15:])
            except OSError:
                pass
        return text

    def clear_cache(self):
        """Drops every unsynced write (the power cut) and waits until LazyFS says so."""
        deadline = time.monotonic() + 10
        while True:
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError:  # ENXIO: LazyFS has not opened its end yet
                if time.monotonic() > deadline:
                    raise Failure("LazyFS never opened its faults FIFO")
                time.sleep(0.05)
        try:
            os.write(fd, b"lazyfs::clear-cache\n")
        finally:
            os.close(fd)
        while b"finished::clear-cache" not in self.done_buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("LazyFS did not confirm the clear-cache within 10 s:\n"
                              + self.output_tail())
            r, _, _ = select.select([self.done_fd], [], [], min(left, 0.1))
            if r:
                chunk = os.read(self.done_fd, 4096)
                if chunk:
                    self.done_buf += chunk
                else:  # no writer yet (or any more): poll again
                    time.sleep(0.02)
        self.done_buf = self.done_buf.split(b"finished::clear-cache", 1)[1]

    def close_done(self):
        if self.done_fd is not None:
            os.close(self.done_fd)
            self.done_fd = None

    def unmount(self):
        """Unmounts (which drops unsynced data too) and waits for LazyFS to exit
        (it exits 134 then: harmless)."""
        if self.mounted():
            for attempt in range(50):
                r = subprocess.run(["fusermount3", "-u", self.mnt],
                                   capture_output=True, text=True, timeout=20)
                if r.returncode == 0 or not self.mounted():
                    break
                time.sleep(0.1)
            else:
                subprocess.run(["fusermount3", "-uz", self.mnt], capture_output=True,
                               timeout=20)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            reaped(self.proc)
            self.proc = None
        self.close_done()
        if self.mounted():
            raise Failure(f"could not unmount {self.mnt}")


# ---------------------------------------------------------------------------------------
# verso serve


class Server:
    def __init__(self, verso, data_dir, logpath, durability, checkpoint_groups):
        self.logpath = logpath
        err = open(logpath, "ab")
        err.write(f"--- serve --durability {durability} --checkpoint-groups "
                  f"{checkpoint_groups}\n".encode())
        err.flush()
        self.proc = started(
            subprocess.Popen(
                [verso, "serve", "--data-dir", data_dir, "--listen", "127.0.0.1:0",
                 "--poll-interval-check", "off", "--durability", durability,
                 "--checkpoint-groups", str(checkpoint_groups)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
            )
        )
        err.close()
        line = b""
        deadline = time.monotonic() + 60
        fd = self.proc.stdout.fileno()
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill9()
                raise Failure("verso serve did not print its address within 60 s:\n"
                              + self.log_tail())
            r, _, _ = select.select([fd], [], [], min(left, 0.2))
            if r:
                chunk = os.read(fd, 1)
                if not chunk:
                    self.proc.wait(timeout=10)
                    reaped(self.proc)
                    raise Failure(f"verso serve exited {self.proc.returncode} before "
                                  f"listening:\n{self.log_tail()}")
                line += chunk
        text = line.decode().strip()
        if not text.startswith("listening on http://"):
            self.kill9()
            raise Failure(f"unexpected first line from verso serve: {text!r}")
        host, port = text[len("listening on http://"):].rsplit(":", 1)
        self.host, self.port = host, int(port)

    def log_tail(self):
        with open(self.logpath, errors="replace") as f:
            return "".join(f.readlines()[-20:])

    def kill9(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        reaped(self.proc)

    def terminate(self):
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise Failure("verso serve did not stop within 60 s of SIGTERM")
        reaped(self.proc)
        if rc != 0:
            raise Failure(f"verso serve exited {rc} after SIGTERM:\n{self.log_tail()}")

    def conn(self, timeout=10):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


def call(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r.status, r, r.read()


def verify(verso, data_dir, when):
    try:
        r = subprocess.run([verso, "verify", "--data-dir", data_dir], capture_output=True,
                           text=True, timeout=120)
    except subprocess.TimeoutExpired:
        raise Failure(f"verso verify ({when}) took over 120 s")
    if r.returncode != 0:
        raise Failure(f"verso verify ({when}) exited {r.returncode}:\n{r.stdout}{r.stderr}")


# ---------------------------------------------------------------------------------------
# Writers and checks


class Profile:
    """The application and hosted profile the writers write to, created once per store."""

    def __init__(self, server, name):
        c = server.conn()
        st, _, body = call(c, "POST", "/applications", json.dumps({"Name": name}),
                           {"Content-Type": "application/json"})
        if st != 201:
            raise Failure(f"CreateApplication answered {st}: {body[:300]!r}")
        self.app = json.loads(body)["Id"]
        st, _, body = call(c, "POST", f"/applications/{self.app}/configurationprofiles",
                           json.dumps({"Name": "powerloss", "LocationUri": "hosted"}),
                           {"Content-Type": "application/json"})
        if st != 201:
            raise Failure(f"CreateConfigurationProfile answered {st}: {body[:300]!r}")
        self.profile = json.loads(body)["Id"]
        c.close()
        self.path = (f"/applications/{self.app}/configurationprofiles/{self.profile}"
                     "/hostedconfigurationversions")


class Writers:
    """`n` threads creating versions as fast as they can; a version is acknowledged only
    by a 201 whose whole response arrived."""

    def __init__(self, server, profile, n, tag, rng):
        self.server, self.profile, self.tag = server, profile, tag
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked = {}       # version -> sha256 of its content
        self.sent = set()     # sha256 of every content sent, acknowledged or not
        self.ack_times = []   # monotonic time of each ack
        self.errors = []      # unexpected answers (anything but 201 or a dead connection)
        self.dead = 0         # requests whose connection died
        self.seeds = [rng.getrandbits(64) for _ in range(n)]
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(n)]

    def start(self):
        for t in self.threads:
            t.start()

    def run(self, i):
        rng = random.Random(self.seeds[i])
        conn, seq = None, 0
        while not self.stop.is_set():
            seq += 1
            head = f"{self.tag} writer {i} seq {seq} ".encode()
            content = head + rng.randbytes(512).hex().encode()[: 1024 - len(head)]
            digest = sha(content)
            with self.lock:
                self.sent.add(digest)
            try:
                if conn is None:
                    conn = self.server.conn(timeout=10)
                st, resp, body = call(conn, "POST", self.profile.path, content,
                                      {"Content-Type": "text/plain"})
            except (OSError, http.client.HTTPException):
                # Not acknowledged: the connection died (the server was killed).
                self.dead += 1
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.01)
                continue
            if st == 201:
                try:
                    v = int(resp.getheader("Version-Number"))
                except (TypeError, ValueError):
                    with self.lock:
                        self.errors.append("a 201 without a numeric Version-Number: "
                                           f"{resp.getheader('Version-Number')!r}")
                    continue
                with self.lock:
                    if v in self.acked:
                        self.errors.append(f"version {v} acknowledged twice")
                    self.acked[v] = digest
                    self.ack_times.append(time.monotonic())
                if sha(body) != digest:
                    with self.lock:
                        self.errors.append(f"version {v}: the 201 echoed other bytes")
            else:
                with self.lock:
                    self.errors.append(f"create answered {st}: {body[:200]!r}")
        if conn is not None:
            conn.close()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)
            if t.is_alive():
                raise Failure("a writer thread did not stop within 30 s")


def list_versions(server, profile):
    """Every version number ListHostedConfigurationVersions returns, page by page."""
    c = server.conn(timeout=30)
    found, token, pages = [], None, 0
    while True:
        q = {"max_results": "50"}
        if token:
            q["next_token"] = token
        st, _, body = call(c, "GET", profile.path + "?" + urllib.parse.urlencode(q))
        if st != 200:
            raise Failure(f"ListHostedConfigurationVersions answered {st}: {body[:300]!r}")
        page = json.loads(body)
        found += [item["VersionNumber"] for item in page.get("Items", [])]
        token = page.get("NextToken")
        pages += 1
        if not token:
            break
        if pages > 100000:
            raise Failure("ListHostedConfigurationVersions never ends")
    c.close()
    return found


def fetch_all(server, profile, versions, threads=8):
    """{version: sha256 of its content, or None where it is not found}."""
    versions = sorted(versions)
    out, errors, lock = {}, [], threading.Lock()

    def work(part):
        try:
            read(part)
        except (OSError, http.client.HTTPException) as e:
            with lock:
                errors.append(f"reading the versions back: {e!r}")

    def read(part):
        c = server.conn(timeout=30)
        for v in part:
            st, _, body = call(c, "GET", f"{profile.path}/{v}")
            if st == 200:
                d = sha(body)
            elif st == 404:
                d = None
            else:
                with lock:
                    errors.append(f"GetHostedConfigurationVersion {v} answered {st}: "
                                  f"{body[:200]!r}")
                continue
            with lock:
                out[v] = d
        c.close()

    ts = [threading.Thread(target=work, args=(versions[i::threads],), daemon=True)
          for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=120)
        if t.is_alive():
            raise Failure("reading the versions back took over 120 s")
    if errors:
        raise Failure(errors[0])
    return out


# ---------------------------------------------------------------------------------------
# Rounds


CHAIN = 4  # sync rounds per store


class Run:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.work = args.work
        self.backing = os.path.join(self.work, "backing")
        self.mnt = os.path.join(self.work, "mnt")
        os.makedirs(self.backing, exist_ok=True)
        os.makedirs(self.mnt, exist_ok=True)
        self.fs = LazyFS(args.lazyfs, self.work, self.backing, self.mnt)
        self.passed = 0
        self.failed = 0

    def serve(self, store, durability, groups):
        return Server(self.args.verso, os.path.join(self.mnt, store),
                      os.path.join(self.work, f"serve-{store}.log"), durability, groups)

    def cut(self, server, writers, stop_after):
        """Lets the writers run until `stop_after()` says stop, then kill -9 (writers
        still writing), power cut, unmount, remount."""
        writers.start()
        stop_after()
        server.kill9()
        writers.join()
        self.fs.clear_cache()
        self.fs.unmount()
        self.fs.mount()

    def check(self, server, profile, expected, sent, what):
        """Reads the store back; returns (listed versions, {version: sha}, missing,
        changed) where missing/changed are the expected versions not found or found
        with other bytes."""
        listed = list_versions(server, profile)
        top = max(listed, default=0)
        contents = fetch_all(server, profile, set(listed) | set(expected))
        missing = sorted(v for v in expected if contents.get(v) is None)
        changed = sorted(v for v in expected
                         if contents.get(v) is not None and contents[v] != expected[v])
        problems = []
        if len(listed) != len(set(listed)):
            problems.append("ListHostedConfigurationVersions repeats a version")
        if sorted(listed) != list(range(1, top + 1)):
            gaps = sorted(set(range(1, top + 1)) - set(listed))
            problems.append(f"versions are not 1..{top}: {len(gaps)} missing from the "
                            f"list, first {gaps[:10]}")
        unlisted = sorted(v for v in contents if contents[v] is not None
                          and v not in set(listed))
        if unlisted:
            problems.append(f"versions readable but not listed: {unlisted[:10]}")
        strangers = sorted(v for v in listed
                           if contents.get(v) is not None and v not in expected
                           and contents[v] not in sent)
        if strangers:
            problems.append(f"versions holding bytes no writer sent: {strangers[:10]}")
        if problems:
            raise Failure(f"{what}: " + "; ".join(problems))
        return listed, contents, missing, changed

    def sync_round(self, n, groups, state):
        what = (f"round {n} (sync, checkpoint every {groups} group{'s' * (groups != 1)}, "
                f"{state['store']})")
        t0 = time.monotonic()
        store = state["store"]
        server = self.serve(store, "sync", groups)
        if state["profile"] is None:
            state["profile"] = Profile(server, "powerloss-sync")
        profile = state["profile"]
        writers = Writers(server, profile, self.args.writers, f"round {n}", self.rng)
        secs = self.rng.uniform(0.5, 2.5)
        self.cut(server, writers, lambda: time.sleep(secs))
        if writers.errors:
            raise Failure(f"{what}: {writers.errors[0]}")
        acked = writers.acked
        if not acked:
            raise Failure(f"{what}: no write was acknowledged in {secs:.2f} s")
        verify(self.args.verso, os.path.join(self.mnt, store), f"{what}, as the cut left it")
        server = self.serve(store, "sync", groups)
        expected = dict(state["known"])
        for v, d in acked.items():
            if v in expected:
                raise Failure(f"{what}: version {v} acknowledged again after an earlier "
                              "round's clean close had it")
            expected[v] = d
        state["sent"] |= writers.sent
        listed, contents, missing, changed = self.check(server, profile, expected,
                                                       state["sent"], what)
        server.terminate()
        verify(self.args.verso, os.path.join(self.mnt, store), f"{what}, after SIGTERM")
        kept = len([v for v in listed if v not in expected])
        earlier = len(state["known"])
        line = (f"{what}: wrote {secs:.2f} s, {len(acked)} acked "
                f"(v{min(acked)}..v{max(acked)}), {writers.dead} requests cut; after the "
                f"power cut: versions 1..{max(listed)} gapless, {len(acked) - len([v for v in acked if v in missing or v in changed])}"
                f"/{len(acked)} acked identical, {earlier - len([v for v in state['known'] if v in missing or v in changed])}"
                f"/{earlier} earlier identical, {kept} unacked kept; verify ok "
                f"({time.monotonic() - t0:.1f} s)")
        if missing or changed:
            raise Failure(f"{what}: {len(missing)} acknowledged versions missing "
                          f"(first {missing[:10]}), {len(changed)} with other bytes "
                          f"(first {changed[:10]}); {line}")
        state["known"] = {v: contents[v] for v in listed}
        log(line)

    def control_round(self, mode, attempt):
        t0 = time.monotonic()
        store = f"control-{mode}-{attempt}"
        what = f"control ({mode}, attempt {attempt})"
        server = self.serve(store, mode, 1000)
        profile = Profile(server, f"powerloss-{mode}")
        # A clean close makes the application and profile durable: the loss to find is
        # of acknowledged versions, not of the profile they belong to.
        server.terminate()
        server = self.serve(store, mode, 1000)
        writers = Writers(server, profile, self.args.writers, f"control {mode}", self.rng)

        # Kill right after a burst of acks, well within sled's 500 ms background flush:
        # at least 100 acks, and the last one under 5 ms ago.
        def burst():
            deadline = time.monotonic() + 0.3 + self.rng.uniform(0, 0.4)
            while True:
                time.sleep(0.002)
                with writers.lock:
                    n = len(writers.acked)
                    last = writers.ack_times[-1] if writers.ack_times else 0
                now = time.monotonic()
                if now >= deadline and n >= 100 and now - last < 0.005:
                    return
                if now > deadline + 10:
                    return

        self.cut(server, writers, burst)
        if writers.errors:
            raise Failure(f"{what}: {writers.errors[0]}")
        acked = writers.acked
        verify(self.args.verso, os.path.join(self.mnt, store), f"{what}, as the cut left it")
        server = self.serve(store, mode, 1000)
        listed, contents, missing, changed = self.check(server, profile, acked,
                                                       writers.sent, what)
        server.terminate()
        verify(self.args.verso, os.path.join(self.mnt, store), f"{what}, after SIGTERM")
        found = f"versions 1..{max(listed)} gapless" if listed else "no version left"
        line = (f"{what}: {len(acked)} acked (v1..v{max(acked, default=0)}); after the "
                f"power cut: {found}, "
                f"{len(missing)} acked missing, {len(changed)} acked with other bytes; "
                f"verify ok ({time.monotonic() - t0:.1f} s)")
        return line, bool(missing or changed)

    def main(self):
        a = self.args
        log(f"powerloss: seed {a.seed}, {a.rounds} sync rounds, {a.writers} writers, "
            f"work dir {self.work}")
        self.fs.mount()
        cycle = [1, 3, 1000]
        try:
            for n in range(1, a.rounds + 1):
                # One store continues over CHAIN rounds (each checks the earlier rounds'
                # versions too), then a fresh one: reading everything back each round
                # would make long runs quadratic.
                if (n - 1) % CHAIN == 0:
                    state = {"store": f"sync-{(n - 1) // CHAIN + 1}", "profile": None,
                             "known": {}, "sent": set()}
                self.sync_round(n, cycle[(n - 1) % len(cycle)], state)
                self.passed += 1
            for mode in a.controls:
                for attempt in range(1, 4):
                    line, lost = self.control_round(mode, attempt)
                    if lost:
                        log(line + " -> loss detected, as it must be")
                        self.passed += 1
                        break
                    log(line + " -> NO loss detected" + (", trying again" if attempt < 3 else ""))
                else:
                    raise Failure(f"control ({mode}): 3 attempts and no acknowledged version "
                                  "lost: the harness could not show that it detects loss")
        except Failure as e:
            self.failed += 1
            log(f"powerloss: FAILED: {e}")
        except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
            # A request of the checks that failed (the server died, an answer that is
            # not what the API says): a failure, never a pass.
            self.failed += 1
            log(f"powerloss: FAILED: {e!r}")
        finally:
            kill_started()
            self.fs.unmount()
        log(f"powerloss: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--verso", required=True)
    p.add_argument("--lazyfs", required=True)
    p.add_argument("--work", required=True, help="an empty directory for the run")
    p.add_argument("--rounds", type=int, default=int(os.environ.get("VERSO_POWERLOSS_ROUNDS", 4)))
    p.add_argument("--writers", type=int, default=int(os.environ.get("VERSO_POWERLOSS_WRITERS", 12)))
    p.add_argument("--seed", type=int,
                   default=int(os.environ.get("VERSO_POWERLOSS_SEED") or random.randrange(2**32)))
    p.add_argument("--controls", default=os.environ.get("VERSO_POWERLOSS_CONTROLS", "buffered,flush"))
    p.add_argument("--timeout", type=float, default=None,
                   help="bound on the whole run in seconds (default 90 + 30 per round)")
    args = p.parse_args()
    args.controls = [c for c in args.controls.split(",") if c]
    for c in args.controls:
        if c not in ("buffered", "flush"):
            p.error(f"unknown control mode {c!r} (buffered, flush)")
    args.work = os.path.abspath(args.work)
    timeout = args.timeout or float(os.environ.get("VERSO_POWERLOSS_TIMEOUT")
                                    or 90 + 30 * (args.rounds + len(args.controls)))

    global PIDFILE
    PIDFILE = os.path.join(args.work, "pids")

    def on_signal(signum, frame):
        if signum == signal.SIGALRM:
            raise Timeout(f"the run took over {timeout:.0f} s")
        raise Failure(f"stopped by signal {signum}")

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
        signal.signal(s, on_signal)
    signal.setitimer(signal.ITIMER_REAL, timeout)

    run = None
    try:
        run = Run(args)
        return run.main()
    except Skip as e:
        log(f"powerloss: skipped: {e}")
        return 0
    except (Failure, Timeout) as e:
        log(f"powerloss: FAILED: {e}")
        log(f"powerloss: {run.passed if run else 0} passed, 1 failed")
        return 1
    except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
        log(f"powerloss: FAILED: {e!r}")
        log(f"powerloss: {run.passed if run else 0} passed, 1 failed")
        return 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        kill_started()
        if run is not None:
            try:
                run.fs.unmount()
            except Exception as e:  # noqa: BLE001 - report, the shell's trap retries
                log(f"powerloss: cleanup: {e}")


if __name__ == "__main__":
    sys.exit(main())
