"""make bench's harness works: real gunicorn, real wrk, real SQLite; no speed is asserted.

One baseline app on a migrated, seeded SQLite database, driven by wrk for a second per
scenario; the other answers each scenario's check. The foss side runs in `make bench`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from bench import report
from bench.load import Load, LoadError, parse, run
from bench.scenarios import SCENARIOS, foss_cursor
from bench.stack import Server, SQLiteDatabase, baseline_server

from flusk_common._pagination import encode_cursor

ROWS = 200

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SQLiteDatabase]:
    database = SQLiteDatabase(tmp_path_factory.mktemp("bench") / "data")
    database.create()
    database.migrate(("foss",))
    database.seed(ROWS)
    yield database
    database.drop()


@pytest.fixture(scope="module")
def servers(
    database: SQLiteDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Server]]:
    folder = tmp_path_factory.mktemp("logs")
    started = {
        "flask": baseline_server("flask", "baseline_flask", database, folder),
        "wsgi": baseline_server("wsgi", "baseline_wsgi", database, folder),
    }
    for server in started.values():
        server.start()
    try:
        for server in started.values():
            server.wait_ready("/healthz")
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
def test_baselines_answer_every_scenario(scenario, servers) -> None:
    for name, server in servers.items():
        scenario.check(name, server.url, ROWS)


@pytest.mark.parametrize("name", ["read", "create"])
def test_wrk_drives_a_baseline_and_is_read(name, servers) -> None:
    scenario = next(s for s in SCENARIOS if s.name == name)
    server = servers["flask"]
    cpu_before = server.cpu_seconds()

    result = run(scenario.load_for("flask", server.url, ROWS, "test"), 1)

    assert result.requests > 0
    assert result.bad_statuses == 0
    assert 0 < result.p50_ms <= result.p99_ms
    assert server.cpu_seconds() > cpu_before
    assert all(rss > 0 for rss in server.worker_rss_mb())


def test_wrk_counts_error_statuses(servers) -> None:
    result = run(Load(f"{servers['wsgi'].url}/nowhere"), 1)

    assert result.bad_statuses == result.requests > 0


def test_unexpected_wrk_output_is_an_error() -> None:
    with pytest.raises(LoadError):
        parse("wrk: something else entirely\n")


def test_the_deep_page_cursor_is_foss_s() -> None:
    assert foss_cursor(999_950) == encode_cursor(999_950)


def test_ratios_compare_apps_of_one_run() -> None:
    def figures(rate: float, cpu: float = 1.0) -> dict[str, float]:
        return {"requests_per_second": rate, "cpu_ms_per_request": cpu, "p50_ms": 2, "p99_ms": 5}

    scenarios = {
        s.name: {"foss": figures(100), "flask": figures(200, 0.5), "wsgi": figures(400)}
        for s in SCENARIOS
    }
    scenarios["read"]["gateway"] = figures(90)
    scenarios["read"]["traced"] = figures(85, 1.25)
    scenarios["deep_page"]["foss"] = figures(80)
    measured = {"scenarios": scenarios, "worker_rss_mb": {"foss": [70.0, 71.5]}}

    ratios = report.ratios(measured)

    assert ratios["read_vs_flask"] == 0.5
    assert ratios["read_vs_wsgi"] == 0.25
    assert ratios["read_cpu_vs_flask"] == 0.5
    assert ratios["gateway_vs_direct"] == 0.9
    assert ratios["traced_vs_direct"] == 0.85
    assert ratios["traced_cpu_vs_direct"] == 0.8
    assert ratios["deep_vs_first"] == 1.25
    assert ratios["worker_rss"] == 71.5
    assert ratios["p99_over_p50"] == 2.5
