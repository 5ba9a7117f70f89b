"""Fixtures of the fault suite: a PostgreSQL of its own, the stack on it, the per-fault report."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from checks import FaultReport, table, write_report
from fault_stack import FaultStack
from load import Outcome
from postgres import PostgresInstance, bin_dir
from stack import ROOT

REPORT = ROOT / "var" / "faults" / "report.json"
ROWS_KEY = pytest.StashKey[list[dict[str, Any]]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[ROWS_KEY] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The restart comes last: it reads back every write the other faults acknowledged."""
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


def missing(reason: str) -> None:
    """Skip visibly when a program is missing; on CI that is a failure instead."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresInstance]:
    """A PostgreSQL cluster of the suite's own on a free port, removed at the end."""
    programs = bin_dir()
    if programs is None:
        missing("the PostgreSQL server programs (initdb, pg_ctl) are not installed")
    if not (shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK)):
        missing("nginx is not installed (apt-get install nginx-light)")
    assert programs is not None
    instance = PostgresInstance(programs, ("foss", "licenses"))
    try:
        yield instance.create()
    finally:
        instance.remove()


@pytest.fixture(scope="session")
def fault_stack(postgres: PostgresInstance) -> Iterator[FaultStack]:
    logs = Path(tempfile.mkdtemp(prefix="flusk-faults-logs-"))
    stack = FaultStack(postgres, logs)
    try:
        yield stack.start()
    finally:
        stack.stop()
        shutil.rmtree(logs, ignore_errors=True)


@pytest.fixture
def stack(fault_stack: FaultStack) -> Iterator[FaultStack]:
    """The stack, serving at full capacity before the test and again after it."""
    fault_stack.recover()
    yield fault_stack
    fault_stack.recover()


Report = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def report(stack: FaultStack, request: pytest.FixtureRequest) -> Report:
    """``report(fault, outcomes, **notes)``: check the writes, record the fault's row.

    The acknowledged creates among ``outcomes`` are looked up in the database and the lost
    ones returned (``lost=`` gives them instead); the row (latency, answers by status,
    writes) goes to the end-of-run table and to var/faults/report.json, before the test's
    assertions, so that a failing scenario is measured too.
    """

    def record(
        fault: str,
        outcomes: list[Outcome],
        lost: list[dict[str, Any]] | None = None,
        **notes: Any,
    ) -> list[dict[str, Any]]:
        lost = stack.lost_writes(outcomes) if lost is None else lost
        test = request.node.nodeid
        row = FaultReport(fault, test, outcomes, len(lost), notes).row()
        request.config.stash[ROWS_KEY].append(row)
        return lost

    return record


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    rows = config.stash.get(ROWS_KEY, [])
    if not rows:
        return
    terminalreporter.section("faults: latency and answers per fault")
    for line in table(rows):
        terminalreporter.write_line(line)
    write_report(rows, REPORT)
    terminalreporter.write_line(f"(written to {REPORT.relative_to(ROOT)})")
