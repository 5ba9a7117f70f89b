"""`make run`: the `flusk-run` script, started as a developer does and stopped as Ctrl-C does.

Each run gets free ports and its own FLUSK_VAR_DIR, so the developer's var/ is untouched.
honcho starts every process in a session of its own, so "nothing left behind" is checked
on flusk-run's session and on the session of every process honcho reports as started.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import httpx
import pytest

from flusk_tools.registry import load_services
from helpers import foss_body
from stack import ROOT, STARTUP_SECONDS, free_port

FLUSK_RUN = Path(sys.executable).parent / "flusk-run"
SERVICES = load_services(ROOT)
PORT_VARIABLES = ["GATEWAY_PORT", *(f"{service.name.upper()}_PORT" for service in SERVICES)]
# Only these reach flusk-run: a developer's DATABASE_URL or API_KEYS must not.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "NGINX_BIN")
STOP_SECONDS = 15
FAIL_SECONDS = 10
STARTED = re.compile(r"\bstarted \(pid=(\d+)\)")

needs_proc = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="finding leftover processes needs /proc"
)


def port_is_free(port: int) -> bool:
    """Whether a server could listen on ``port`` now (TIME_WAIT leftovers allowed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            probe.listen()
        except OSError:
            return False
        return True


def session_members(sessions: set[int]) -> list[int]:
    """Live (non-zombie) processes whose session is one of ``sessions``, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended while we looked
            continue
        state, _ppid, _group, session = stat.rsplit(")", 1)[1].split()[:4]
        if int(session) in sessions and state != "Z":
            members.append(int(entry.name))
    return members


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


class LocalRun:
    """`make run` with ports and FLUSK_VAR_DIR of its own; started as often as a test likes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {name: os.environ[name] for name in INHERITED if name in os.environ}
        self.env |= {variable: str(free_port()) for variable in PORT_VARIABLES}
        self.env["FLUSK_VAR_DIR"] = str(folder / "var")
        self.processes: list[subprocess.Popen[bytes]] = []
        self.sessions: set[int] = set()

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.env['GATEWAY_PORT']}"

    def log(self, stream: str, index: int = -1) -> Path:
        """The file of ``stream`` (stdout, stderr) of the ``index``-th start (the last one)."""
        number = index if index >= 0 else len(self.processes) + index
        return self.folder / f"run{number}.{stream}"

    def output(self, stream: str) -> str:
        return self.log(stream).read_text()

    def start(self) -> subprocess.Popen[bytes]:
        """flusk-run in a new session, as a terminal would run it: in its own group."""
        index = len(self.processes)
        stdout_log, stderr_log = self.log("stdout", index), self.log("stderr", index)
        with stdout_log.open("wb") as stdout, stderr_log.open("wb") as stderr:
            process = subprocess.Popen(
                [str(FLUSK_RUN)],
                cwd=ROOT,
                env=self.env,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        self.processes.append(process)
        self.sessions.add(process.pid)
        return process

    def start_serving(self) -> subprocess.Popen[bytes]:
        """Start, then wait until the gateway answers and reaches every service."""
        process = self.start()
        urls = [f"{self.gateway_url}/healthz"]
        urls += [f"{self.gateway_url}{service.prefix}" for service in SERVICES]
        deadline = time.monotonic() + STARTUP_SECONDS
        while not all(map(answers, urls)) or len(self.started_sessions()) < 1 + len(SERVICES):
            assert process.poll() is None, f"flusk-run exited early:\n{self.report()}"
            assert time.monotonic() < deadline, f"not serving in time:\n{self.report()}"
            time.sleep(0.1)
        self.sessions |= self.started_sessions()
        return process

    def started_sessions(self, index: int = -1) -> set[int]:
        """honcho's processes (each a session leader) as its output reports them."""
        log = self.log("stdout", index)
        return {int(pid) for pid in STARTED.findall(log.read_text())} if log.exists() else set()

    def wait_stopped(self, process: subprocess.Popen[bytes]) -> None:
        """Wait up to STOP_SECONDS for flusk-run and every process of the stack to end."""
        deadline = time.monotonic() + STOP_SECONDS
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"flusk-run still runs {STOP_SECONDS}s after the signal:\n{self.report()}")
        while left := session_members(self.sessions):
            assert time.monotonic() < deadline, f"left running: {left}\n{self.report()}"
            time.sleep(0.1)

    def kill(self) -> None:
        """Last resort: SIGKILL every process group this run started, then reap flusk-run."""
        for index in range(len(self.processes)):
            self.sessions |= self.started_sessions(index)
        try:
            for session in self.sessions:  # each session leader leads a group of the same id
                with suppress(ProcessLookupError):
                    os.killpg(session, signal.SIGKILL)
        finally:
            for process in self.processes:
                process.wait(timeout=STOP_SECONDS)

    def report(self) -> str:
        return f"stdout:\n{self.output('stdout')}\nstderr:\n{self.output('stderr')}"

    def fails_with(self) -> str:
        """Start, expect exit status 1 without starting anything; the one stderr line."""
        process = self.start()
        assert process.wait(timeout=FAIL_SECONDS) == 1, self.report()
        assert self.output("stdout") == ""
        lines = self.output("stderr").splitlines()
        assert len(lines) == 1, self.report()
        return lines[0]


@pytest.fixture
def local_run(tmp_path: Path) -> Iterator[LocalRun]:
    run = LocalRun(tmp_path)
    yield run
    run.kill()


def create_record(run: LocalRun) -> dict[str, object]:
    response = httpx.post(f"{run.gateway_url}{SERVICES[0].prefix}", json=foss_body(), timeout=10)
    assert response.status_code == 201, response.text
    record: dict[str, object] = response.json()
    return record


def listed_records(run: LocalRun) -> list[dict[str, object]]:
    response = httpx.get(f"{run.gateway_url}{SERVICES[0].prefix}", timeout=10)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


def assert_ports_free(run: LocalRun) -> None:
    taken = [variable for variable in PORT_VARIABLES if not port_is_free(int(run.env[variable]))]
    assert taken == []


def banner_example(banner: str) -> tuple[str, dict[str, str], str]:
    """The URL, headers and body of the banner's `curl ... -d` example."""
    examples = [line for line in banner.splitlines() if line.strip().startswith("curl -s http")]
    posts = [shlex.split(line) for line in examples if " -d " in line]
    assert len(posts) == 1, banner
    words = posts[0]
    headers = dict(
        words[index + 1].split(": ", 1) for index, word in enumerate(words) if word == "-H"
    )
    url = next(word for word in words if word.startswith("http"))
    return url, headers, words[words.index("-d") + 1]


def test_start_stack_serving_every_service(local_run: LocalRun) -> None:
    local_run.start_serving()

    record = create_record(local_run)

    assert listed_records(local_run) == [record]
    var = Path(local_run.env["FLUSK_VAR_DIR"])
    assert all((var / f"{service.name}.db").is_file() for service in SERVICES)


def test_print_urls_and_working_curl_example(local_run: LocalRun) -> None:
    local_run.start_serving()
    banner = local_run.output("stdout")
    base = f"http://localhost:{local_run.env['GATEWAY_PORT']}"

    url, headers, body = banner_example(banner)
    response = httpx.post(url, headers=headers, content=body, timeout=10)

    assert f"{base}/healthz" in banner
    assert all(f"{base}{service.prefix}" in banner for service in SERVICES)
    assert response.status_code == 201, response.text


def start_watched(run: LocalRun) -> subprocess.Popen[bytes]:
    """Start serving, and make sure /proc shows the processes that must stop later."""
    process = run.start_serving()
    assert run.started_sessions() <= set(session_members(run.sessions))
    return process


@needs_proc
def test_stop_everything_on_sigterm(local_run: LocalRun) -> None:
    process = start_watched(local_run)

    process.send_signal(signal.SIGTERM)
    local_run.wait_stopped(process)

    assert_ports_free(local_run)


@needs_proc
def test_stop_everything_on_ctrl_c(local_run: LocalRun) -> None:
    process = start_watched(local_run)

    os.killpg(process.pid, signal.SIGINT)  # what the terminal sends its foreground group
    local_run.wait_stopped(process)

    assert_ports_free(local_run)


@needs_proc
def test_run_twice_in_a_row(local_run: LocalRun) -> None:
    counts = []
    for _ in range(2):
        process = start_watched(local_run)
        create_record(local_run)  # leaves connections in TIME_WAIT on both ports
        counts.append(len(listed_records(local_run)))
        process.send_signal(signal.SIGTERM)
        local_run.wait_stopped(process)

    assert counts == [1, 2]  # the second run kept the first one's database
    assert_ports_free(local_run)


@pytest.mark.parametrize("variable", PORT_VARIABLES)
def test_refuse_taken_port(local_run: LocalRun, variable: str) -> None:
    port = int(local_run.env[variable])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()

        message = local_run.fails_with()

    assert str(port) in message
    assert variable in message


def test_refuse_missing_nginx(local_run: LocalRun) -> None:
    local_run.env["NGINX_BIN"] = "/nonexistent/nginx"

    message = local_run.fails_with()

    assert "nginx is not installed" in message
    assert "apt-get install nginx-light" in message
