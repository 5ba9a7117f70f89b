"""`make run` while code changes and services fail: the others keep serving throughout.

The runs that edit code work on a copy of the repository, whose services flusk-run serves
from their sources there.
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import httpx

from helpers import assert_problem
from local_run import SERVICES, LocalRun, create_record, wait_for

CALLER, CALLEE = SERVICES[0], SERVICES[-1]  # foss calls licenses
PROBE_VIEW = '''

@{blueprint}.get("/reload-probe")
def reload_probe() -> dict[str, str]:
    """What the test saved last."""
    return {{"saved": "{marker}"}}
'''
SYNTAX_ERROR = "\n\ndef broken(:\n"


def views_of(run: LocalRun, name: str) -> Path:
    return run.root / "services" / name / "src" / name / "views.py"


def add_probe_view(views: Path, marker: str) -> None:
    """Append a route answering ``marker`` to the service's views (on its blueprint)."""
    found = re.search(r"^(\w+) = Blueprint\(", views.read_text(), re.MULTILINE)
    assert found is not None, "the views module defines its blueprint at module level"
    views.write_text(views.read_text() + PROBE_VIEW.format(blueprint=found[1], marker=marker))


def saved_marker(run: LocalRun) -> str | None:
    try:
        response = httpx.get(f"{run.gateway_url}{CALLER.prefix}/reload-probe", timeout=5)
    except httpx.TransportError:
        return None
    return str(response.json()["saved"]) if response.status_code == 200 else None


def ready(run: LocalRun, name: str) -> bool:
    try:
        return httpx.get(f"{run.service_url(name)}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_serve_saved_view_without_restart(copied_run: LocalRun) -> None:
    process = copied_run.start_serving()
    others = {name: pid for name, pid in copied_run.started().items() if name != CALLER.name}
    original = views_of(copied_run, CALLER.name).read_text()

    add_probe_view(views_of(copied_run, CALLER.name), "first")
    wait_for("the saved view", lambda: saved_marker(copied_run) == "first", copied_run.report)
    views_of(copied_run, CALLER.name).write_text(original)
    add_probe_view(views_of(copied_run, CALLER.name), "second")
    wait_for(
        "the view saved again", lambda: saved_marker(copied_run) == "second", copied_run.report
    )

    assert {name: copied_run.started()[name] for name in others} == others  # not restarted
    assert process.poll() is None


def test_keep_serving_when_a_service_cannot_start(copied_run: LocalRun) -> None:
    views = views_of(copied_run, CALLEE.name)
    good = views.read_text()
    views.write_text(good + SYNTAX_ERROR)

    process = copied_run.start_serving()
    banner = copied_run.output("stdout")
    record = create_record(copied_run)
    views.write_text(good)
    wait_for(f"{CALLEE.name} back", lambda: ready(copied_run, CALLEE.name), copied_run.report)

    assert "SyntaxError" in banner
    assert f"{CALLEE.prefix}  (not running" in banner
    assert record["license"] is None
    assert httpx.get(f"{copied_run.gateway_url}{CALLEE.prefix}", timeout=10).status_code == 200
    assert process.poll() is None


def test_bring_back_service_broken_by_a_save(copied_run: LocalRun) -> None:
    process = copied_run.start_serving()
    views = views_of(copied_run, CALLEE.name)
    good = views.read_text()

    views.write_text(good + SYNTAX_ERROR)
    wait_for(
        f"{CALLEE.name} reported down",
        lambda: f"{CALLEE.name} stopped (exit status" in copied_run.output("stdout"),
        copied_run.report,
    )
    record = create_record(copied_run)
    views.write_text(good)
    wait_for(f"{CALLEE.name} back", lambda: ready(copied_run, CALLEE.name), copied_run.report)

    assert "SyntaxError" in copied_run.output("stdout")
    assert record["license"] is None
    assert process.poll() is None


def test_keep_serving_when_a_service_dies(local_run: LocalRun) -> None:
    process = local_run.start_serving()
    callee_url = f"{local_run.gateway_url}{CALLEE.prefix}"

    os.kill(local_run.started()[CALLEE.name], signal.SIGKILL)  # its gunicorn master
    wait_for(
        f"{CALLEE.name} gone",
        lambda: httpx.get(callee_url, timeout=10).status_code == 502,
        local_run.report,
    )
    record = create_record(local_run)

    assert_problem(httpx.get(callee_url, timeout=10), 502, "bad_gateway")
    assert record["license"] is None
    assert f"{CALLEE.name} stopped (killed by SIGKILL)" in local_run.output("stdout")
    assert httpx.get(f"{local_run.gateway_url}/healthz", timeout=10).status_code == 200
    assert process.poll() is None
