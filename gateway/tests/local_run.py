"""`make run` under test: the `flusk-run` script, started as a developer does.

Each run gets free ports and its own FLUSK_VAR_DIR, so the developer's var/ is untouched;
a run may also work on a copy of the repository, to edit its code while it runs.
flusk-run starts every process in a session of its own and says so ("foss started
(pid=...)"), so "nothing left behind" is checked on flusk-run's session and on each of those.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import httpx
import pytest

from flusk_tools.registry import load_services
from helpers import foss_body
from stack import ROOT, STARTUP_SECONDS, free_port

FLUSK_RUN = Path(sys.executable).parent / "flusk-run"
SERVICES = load_services(ROOT)
PORT_VARIABLES = [
    "GATEWAY_PORT",
    "GATEWAY_STATUS_PORT",
    *(f"{service.name.upper()}_PORT" for service in SERVICES),
]
# Only these reach flusk-run: a developer's DATABASE_URL or API_KEYS must not.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "NGINX_BIN")
STOP_SECONDS = 15
FAIL_SECONDS = 10
STARTED = re.compile(r"\b(\w+) started \(pid=(\d+)\)")
SERVING = "Flusk is serving:"
# What a copy of the repository leaves out: environments, caches, databases.
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", ".tox", "var", "__pycache__", "*.egg-info", ".*_cache", "bench", "compose"
)


def copy_repository(target: Path) -> Path:
    """The services, flusk_common, the gateway template and the registry, in ``target``."""
    shutil.copytree(ROOT, target, ignore=NOT_COPIED)
    return target


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


def wait_for(
    what: str,
    check: Callable[[], bool],
    report: Callable[[], str],
    seconds: float = STARTUP_SECONDS,
) -> None:
    """Poll ``check()`` until true, failing after ``seconds`` with ``report()``."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds}s\n{report()}")
        time.sleep(0.1)


class LocalRun:
    """`make run` with ports and FLUSK_VAR_DIR of its own; started as often as a test likes."""

    def __init__(self, folder: Path, root: Path = ROOT) -> None:
        self.folder = folder
        self.root = root
        self.env = {name: os.environ[name] for name in INHERITED if name in os.environ}
        self.env |= {variable: str(free_port()) for variable in PORT_VARIABLES}
        self.env["FLUSK_VAR_DIR"] = str(folder / "var")
        self.processes: list[subprocess.Popen[bytes]] = []
        self.sessions: set[int] = set()

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.env['GATEWAY_PORT']}"

    def service_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.env[f'{name.upper()}_PORT']}"

    def log(self, stream: str, index: int = -1) -> Path:
        """The file of ``stream`` (stdout, stderr) of the ``index``-th start (the last one)."""
        number = index if index >= 0 else len(self.processes) + index
        return self.folder / f"run{number}.{stream}"

    def output(self, stream: str) -> str:
        return self.log(stream).read_text()

    def start(self, *, stdout: int | None = None) -> subprocess.Popen[bytes]:
        """flusk-run in a new session, as a terminal would run it: in its own group.

        Its output goes to files, or to ``stdout`` (``subprocess.PIPE``) when given.
        """
        index = len(self.processes)
        stdout_log, stderr_log = self.log("stdout", index), self.log("stderr", index)
        with stdout_log.open("wb") as stdout_file, stderr_log.open("wb") as stderr:
            process = subprocess.Popen(
                [str(FLUSK_RUN)],
                cwd=self.root,
                env=self.env,
                stdout=stdout_file if stdout is None else stdout,
                stderr=stderr,
                start_new_session=True,
            )
        self.processes.append(process)
        self.sessions.add(process.pid)
        return process

    def start_serving(self) -> subprocess.Popen[bytes]:
        """Start, then wait for the banner that says every service answers."""
        process = self.start()
        self.wait_serving(process)
        return process

    def wait_serving(self, process: subprocess.Popen[bytes]) -> None:
        def serving() -> bool:
            assert process.poll() is None, f"flusk-run exited early:\n{self.report()}"
            return SERVING in self.output("stdout")

        wait_for("serving", serving, self.report)
        self.sessions |= set(self.started().values())

    def started(self, index: int = -1) -> dict[str, int]:
        """The processes flusk-run started (each a session leader), the latest by name."""
        log = self.log("stdout", index)
        text = log.read_text() if log.exists() else ""
        return {name: int(pid) for name, pid in STARTED.findall(text)}

    def all_started(self) -> set[int]:
        sessions = set()
        for index in range(len(self.processes)):
            log = self.log("stdout", index)
            text = log.read_text() if log.exists() else ""
            sessions |= {int(pid) for _, pid in STARTED.findall(text)}
        return sessions

    def wait_stopped(self, process: subprocess.Popen[bytes]) -> None:
        """Wait up to STOP_SECONDS for flusk-run and every process of the stack to end."""
        deadline = time.monotonic() + STOP_SECONDS
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"flusk-run still runs {STOP_SECONDS}s after the signal:\n{self.report()}")
        self.wait_all_gone(deadline)

    def wait_all_gone(self, deadline: float) -> None:
        self.sessions |= self.all_started()
        while left := session_members(self.sessions):
            assert time.monotonic() < deadline, f"left running: {left}\n{self.report()}"
            time.sleep(0.1)

    def kill(self) -> None:
        """Last resort: SIGKILL every process group this run started, then reap flusk-run."""
        self.sessions |= self.all_started()
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


def create_record(run: LocalRun, **fields: object) -> dict[str, object]:
    response = httpx.post(
        f"{run.gateway_url}{SERVICES[0].prefix}", json=foss_body(**fields), timeout=10
    )
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
