"""``python -m bench [--quick] [--save]``: measure, then write the results and the chart.

For each database (SQLite, then PostgreSQL when it answers): fresh databases, every
service's migrations, foss's table seeded with 1,000 rows; the stack and the baselines
start; reads by id and creates run; the table is seeded again with the page rows (a
million) for the first page and the page near the end. Within a scenario the apps take
turns, round after round (foss, gateway, flask, wsgi, foss, ...), so noise on a shared
machine hits them alike; each figure is the median of its rounds.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shutil
import statistics
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import chart, report
from .load import CONNECTIONS, THREADS, run
from .scenarios import READ_ROWS, SCENARIOS, Scenario
from .stack import ROOT, Database, PostgresDatabase, SQLiteDatabase, Stack, running_stack

VAR = ROOT / "var" / "bench"
MEDIANS = ("requests_per_second", "p50_ms", "p99_ms", "cpu_ms_per_request")
# Whose workers' CPU time a request of each target costs: via the gateway, nginx's too.
SERVED_BY = {
    "foss": ("foss",),
    "traced": ("traced",),
    "gateway": ("gateway", "foss"),
    "flask": ("flask",),
    "wsgi": ("wsgi",),
}
SAVED = ROOT / "bench" / "results"


@dataclass(frozen=True)
class Plan:
    rounds: int
    seconds: int
    warmup_seconds: int
    page_rows: int


FULL = Plan(rounds=5, seconds=3, warmup_seconds=1, page_rows=1_000_000)
QUICK = Plan(rounds=2, seconds=1, warmup_seconds=0, page_rows=100_000)


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def measure_scenario(
    scenario: Scenario, stack: Stack, plan: Plan, rows: int, label: str
) -> dict[str, Any]:
    """Every app of ``scenario`` for ``plan.rounds`` interleaved rounds; medians of them."""
    urls = {app: stack.servers[app].url for app in scenario.apps}
    for app, url in urls.items():
        scenario.check(app, url, rows)
        if plan.warmup_seconds:
            run(scenario.load_for(app, url, rows, f"{label}-warmup"), plan.warmup_seconds)
    rounds: dict[str, list[dict[str, Any]]] = {app: [] for app in scenario.apps}
    for number in range(plan.rounds):
        for app, url in urls.items():
            servers = [stack.servers[name] for name in SERVED_BY[app]]
            cpu_before = sum(server.cpu_seconds() for server in servers)
            result = run(scenario.load_for(app, url, rows, f"{label}-{number}"), plan.seconds)
            cpu = sum(server.cpu_seconds() for server in servers) - cpu_before
            cpu_ms = round(1000 * cpu / max(result.requests, 1), 3)
            rounds[app].append({**result.as_dict(), "cpu_ms_per_request": cpu_ms})
    measured = {}
    for app, results in rounds.items():
        measured[app] = {
            **{key: statistics.median(r[key] for r in results) for key in MEDIANS},
            "bad_statuses": sum(r["bad_statuses"] for r in results),
            "socket_errors": sum(r["socket_errors"] for r in results),
            "rounds": results,
        }
        say(report.run_line(scenario, app, measured[app]))
    return measured


def measure_database(database: Database, plan: Plan) -> dict[str, Any]:
    folder = VAR / database.name
    with running_stack(database, folder, READ_ROWS) as stack:
        scenarios: dict[str, Any] = {}
        for table, rows in (("read", READ_ROWS), ("pages", plan.page_rows)):
            if table == "pages":
                say(f"  seeding {rows:,} rows")
                database.seed(rows)
            for scenario in (s for s in SCENARIOS if s.table == table):
                label = f"{database.name}-{scenario.name}"
                scenarios[scenario.name] = measure_scenario(scenario, stack, plan, rows, label)
        apps = ("foss", "flask", "wsgi")
        rss = {app: stack.servers[app].worker_rss_mb() for app in apps}
        pss = {app: stack.servers[app].worker_pss_mb() for app in apps}
    say(f"  worker RSS after load (MB): {rss}; PSS: {pss}")
    return {
        "scenarios": scenarios,
        "worker_rss_mb": rss,
        "worker_pss_mb": pss,
        "logs": str(folder.relative_to(ROOT)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, fewer page rows")
    parser.add_argument("--save", action="store_true", help=f"copy the results to {SAVED}")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.platform(),
        },
        "plan": {
            **dataclasses.asdict(plan),
            "read_rows": READ_ROWS,
            "wrk_threads": THREADS,
            "wrk_connections": CONNECTIONS,
            "gunicorn_workers": 2,
        },
        "databases": {},
    }
    postgres = PostgresDatabase()
    databases: list[Database] = [SQLiteDatabase(VAR / "sqlite" / "data"), postgres]
    for database in databases:
        say(f"{database.name}:")
        why_not = postgres.reachable() if database is postgres else None
        if why_not:
            say(f"  skipped: PostgreSQL at {postgres.admin_url} is not reachable ({why_not})")
            results["databases"][database.name] = {"skipped": why_not}
            continue
        results["databases"][database.name] = measure_database(database, plan)
    report.add_ratios(results)
    say(report.summary(results))
    paths = report.write(results, VAR)
    chart.draw(results, VAR / "results.png")
    say(f"results: {', '.join(str(p.relative_to(ROOT)) for p in [*paths, VAR / 'results.png'])}")
    if args.save:
        SAVED.mkdir(exist_ok=True)
        for name in ("results.json", "results.md", "results.png"):
            shutil.copyfile(VAR / name, SAVED / name)
        say(f"saved to {SAVED.relative_to(ROOT)}")
    return 1 if report.failed_requests(results) else 0


if __name__ == "__main__":
    sys.exit(main())
