"""`make run`'s parts on their own: what a save changes, what it prints, how it stops.

The whole stack under flusk-run (real nginx and gunicorn) is tested by the gateway suite;
here the supervisor runs small shell processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import ROOT
from flusk_tools.registry import Service
from flusk_tools.run import (
    database_url,
    missing_database_advice,
    service_environment,
    without_password,
)
from flusk_tools.supervise import Output, Program, Supervisor, describe_exit
from flusk_tools.watch import classify

SERVICES = [Service("foss", 8001), Service("licenses", 8002)]
NAMES = ["a", "bbb"]
needs_linux = pytest.mark.skipif(sys.platform != "linux", reason="parent-death signal is Linux's")


@pytest.mark.parametrize(
    ("path", "code", "migrations", "shared"),
    [
        ("services/foss/src/foss/views.py", {"foss"}, set(), False),
        ("services/foss/src/foss/schemas/create_foss.json", {"foss"}, set(), False),
        ("services/licenses/migrations/versions/0003_x.py", set(), {"licenses"}, False),
        ("services/licenses/alembic.ini", set(), {"licenses"}, False),
        ("libs/flusk_common/src/flusk_common/_app.py", set(), set(), True),
        ("services/foss/tests/test_api.py", set(), set(), False),
        ("services/foss/src/foss/.views.py.swx", set(), set(), False),
        ("services/zz_unknown/src/zz_unknown/views.py", set(), set(), False),
        ("README.md", set(), set(), False),
    ],
)
def test_classify_saved_file(
    tmp_path: Path, path: str, code: set[str], migrations: set[str], shared: bool
) -> None:
    changes = classify(tmp_path, SERVICES, [tmp_path / path])

    assert (changes.code, changes.migrations, changes.shared) == (code, migrations, shared)


def test_hide_password_in_database_url() -> None:
    url = "postgresql+psycopg://flusk:s3cr%40t@db.example:5432/foss"

    assert without_password(url) == "postgresql+psycopg://flusk:***@db.example:5432/foss"
    assert without_password("sqlite:///var/foss.db") == "sqlite:///var/foss.db"


def test_read_database_url_as_the_service_does(tmp_path: Path) -> None:
    foss = SERVICES[0]

    assert database_url(foss, tmp_path, {}) == f"sqlite:///{tmp_path}/foss.db"
    assert database_url(foss, tmp_path, {"DATABASE_URL": "sqlite:///a.db"}) == "sqlite:///a.db"
    both = {"DATABASE_URL": "sqlite:///a.db", "FOSS_DATABASE_URL": "sqlite:///b.db"}
    assert database_url(foss, tmp_path, both) == "sqlite:///b.db"


@pytest.mark.parametrize("exporters", ["jsonl", "otlp, JSONL"])
def test_write_traces_under_var_dir(tmp_path: Path, exporters: str) -> None:
    environ = {"OTEL_TRACES_EXPORTER": exporters}
    variables = service_environment(tmp_path, SERVICES[0], SERVICES, tmp_path / "var", environ)
    assert variables["FLUSK_TRACES_DIR"] == str(tmp_path / "var" / "traces")
    assert variables["OTEL_BSP_SCHEDULE_DELAY"] == "500"


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"OTEL_TRACES_EXPORTER": "otlp"},
        {"OTEL_TRACES_EXPORTER": "jsonl", "FLUSK_TRACES_DIR": "/t"},
    ],
)
def test_leave_traces_settings_alone(tmp_path: Path, environ: dict[str, str]) -> None:
    variables = service_environment(tmp_path, SERVICES[0], SERVICES, tmp_path / "var", environ)
    assert "FLUSK_TRACES_DIR" not in variables


@pytest.mark.parametrize(
    ("arguments", "command"),
    [([], ".venv/bin/flusk-run"), (["traces=1"], "OTEL_TRACES_EXPORTER=jsonl .venv/bin/flusk-run")],
)
def test_make_run_traces_selects_jsonl_exporter(arguments: list[str], command: str) -> None:
    recipe = subprocess.run(
        ["make", "--dry-run", "--old-file=venv", "run", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert recipe.stdout.splitlines() == [command]


def test_advise_creating_missing_database() -> None:
    url = "postgresql+psycopg://postgres:pw@127.0.0.1:5433/zz_shop"
    error = 'connection failed: FATAL:  database "zz_shop" does not exist\n'

    advice = missing_database_advice(SERVICES[0], url, error)

    assert advice is not None
    assert "\n" not in advice
    assert "createdb -h 127.0.0.1 -p 5433 -U postgres zz_shop" in advice
    create = """psql -h 127.0.0.1 -p 5433 -U postgres -d postgres -c 'CREATE DATABASE "zz_shop"'"""
    assert create in advice
    assert "pw" not in advice
    assert missing_database_advice(SERVICES[0], url, "could not connect") is None


def test_describe_exit() -> None:
    assert describe_exit(3) == "exit status 3"
    assert describe_exit(-9) == "killed by SIGKILL"


def shell(name: str, script: str, grace_seconds: float = 20.0) -> Program:
    return Program(name, ["sh", "-c", script], dict(os.environ), grace_seconds=grace_seconds)


@pytest.fixture
def terminal(tmp_path: Path) -> Path:
    return tmp_path / "terminal"


@pytest.fixture
def runner(tmp_path: Path, terminal: Path) -> Iterator[Supervisor]:
    """A supervisor printing to the file ``terminal``, stopped at the end of the test."""
    with terminal.open("wb") as stream:
        output = Output(tmp_path / "log", NAMES, stream)
        supervisor = Supervisor(output)
        yield supervisor
        supervisor.stop_all([list(NAMES)])
        output.close()


def step_until(supervisor: Supervisor, done: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "not in time"
        supervisor.step(0.05)


def test_relay_lines_to_terminal_and_log(runner: Supervisor, terminal: Path) -> None:
    runner.start(shell("a", "echo one; printf 'two'"))
    runner.start(shell("bbb", "echo three >&2"))

    step_until(runner, lambda: len(runner.exited) == 2)

    lines = terminal.read_text().splitlines()
    assert {"a   | one", "a   | two", "bbb | three"} <= set(lines)
    assert (terminal.parent / "log" / "a.log").read_text() == "one\ntwo\n"
    assert sorted(runner.exited) == [("a", 0), ("bbb", 0)]


def test_report_death_and_keep_others(runner: Supervisor) -> None:
    runner.start(shell("a", "exit 3"))
    runner.start(shell("bbb", "sleep 30"))

    step_until(runner, lambda: runner.exited == [("a", 3)])

    assert runner.running("bbb")
    runner.stop_all([["bbb"]])
    assert not runner.running("bbb")


def test_restart_when_stopped(runner: Supervisor, terminal: Path) -> None:
    runner.start(shell("a", "sleep 30"))
    first = runner.pid("a")

    runner.restart(shell("a", "echo again; sleep 30"))
    step_until(runner, lambda: "a   | again" in terminal.read_text())

    assert runner.pid("a") not in {None, first}
    assert runner.exited == []  # a restart is not a death


def test_kill_after_grace_period(runner: Supervisor, terminal: Path) -> None:
    script = "trap '' TERM; echo ready; while :; do sleep 0.1; done"
    runner.start(shell("a", script, grace_seconds=0.2))
    step_until(runner, lambda: "ready" in terminal.read_text())

    runner.stop_all([["a"]])

    assert not runner.running("a")
    assert "a is slow to stop: killing it" in terminal.read_text()


def test_stop_when_output_closed(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "wb") as stream:
        output = Output(tmp_path / "log", NAMES, stream)
        runner = Supervisor(output)
        runner.start(shell("a", "sleep 30"))
        os.close(read_end)  # `make run | head`: head has exited

        step_until(runner, lambda: runner.stop_reason is not None)
        runner.stop_all([["a"]])
        output.close()

    assert runner.stop_reason == "the output was closed"
    assert not runner.running("a")


@needs_linux
def test_child_stopped_when_supervisor_dies(tmp_path: Path) -> None:
    """A supervisor killed outright: the kernel sends its children their stop signal."""
    pid_file = tmp_path / "pid"
    code = (
        "import sys, time; from pathlib import Path;"
        "from flusk_tools.supervise import Output, Program, Supervisor;"
        f"s = Supervisor(Output(Path({str(tmp_path)!r}), ['a']));"
        "s.start(Program('a', ['sleep', '30'], {}));"
        f"Path({str(pid_file)!r}).write_text(str(s.pid('a')));"
        "time.sleep(30)"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child = int(pid_file.read_text())

    parent.send_signal(signal.SIGKILL)
    parent.wait()

    while alive(child):
        assert time.monotonic() < deadline + 10, "the child outlived its supervisor"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
