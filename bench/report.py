"""Ratios against the baselines of the same run, the goals, and the files a run writes."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .scenarios import APP_TITLES, SCENARIOS, Scenario

TIMES = "\N{MULTIPLICATION SIGN}"
DATABASE_TITLES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass(frozen=True)
class Goal:
    name: str
    title: str
    target: float
    compare: Callable[[float, float], bool]
    sign: str
    unit: str = TIMES
    # The same comparison in workers' CPU time per request, which noise moves much less.
    cpu_name: str | None = None

    def text(self) -> str:
        return f"{self.sign} {self.target:g}{self.unit}"


GOALS = (
    Goal(
        "read_vs_flask",
        "`GET /foss/<id>` direct / bare Flask + ORM",
        1.0,
        operator.ge,
        "≥",
        cpu_name="read_cpu_vs_flask",
    ),
    Goal(
        "read_vs_wsgi",
        "`GET /foss/<id>` direct / raw WSGI floor",
        0.5,
        operator.ge,
        "≥",
        cpu_name="read_cpu_vs_wsgi",
    ),
    Goal(
        "gateway_vs_direct",
        "`GET /foss/<id>` via gateway / direct",
        0.9,
        operator.ge,
        "≥",
        cpu_name="gateway_cpu_vs_direct",
    ),
    Goal(
        "traced_vs_direct",
        "`GET /foss/<id>` traced / direct",
        0.8,
        operator.ge,
        "≥",
        cpu_name="traced_cpu_vs_direct",
    ),
    Goal(
        "create_vs_flask",
        "`POST /foss` / bare Flask + ORM",
        1.0,
        operator.ge,
        "≥",
        cpu_name="create_cpu_vs_flask",
    ),
    Goal(
        "deep_vs_first",
        "deep page's cost / first page's (foss)",
        1.1,
        operator.le,
        "≤",
        cpu_name="deep_vs_first_cpu",
    ),
    Goal("worker_rss", "foss worker RSS after load", 60, operator.le, "≤", " MB"),
    Goal("p99_over_p50", "worst p99 / p50 of foss, direct", 3.0, operator.le, "≤"),
)


def _rate(scenarios: dict[str, Any], scenario: str, app: str) -> float:
    rate: float = scenarios[scenario][app]["requests_per_second"]
    return rate


def _cpu(scenarios: dict[str, Any], scenario: str, app: str) -> float:
    cpu: float = scenarios[scenario][app]["cpu_ms_per_request"]
    return cpu


def ratios(measured: dict[str, Any]) -> dict[str, float]:
    """Every ratio of one database's run (throughput ratios; cost is 1 / throughput)."""
    scenarios = measured["scenarios"]
    values: dict[str, float] = {}
    for scenario in SCENARIOS:
        for baseline in ("flask", "wsgi"):
            values[f"{scenario.name}_vs_{baseline}"] = _rate(
                scenarios, scenario.name, "foss"
            ) / _rate(scenarios, scenario.name, baseline)
        for baseline in ("flask", "wsgi"):
            values[f"{scenario.name}_cpu_vs_{baseline}"] = _cpu(
                scenarios, scenario.name, baseline
            ) / _cpu(scenarios, scenario.name, "foss")
    values["gateway_vs_direct"] = _rate(scenarios, "read", "gateway") / _rate(
        scenarios, "read", "foss"
    )
    values["gateway_cpu_vs_direct"] = _cpu(scenarios, "read", "foss") / _cpu(
        scenarios, "read", "gateway"
    )
    values["traced_vs_direct"] = _rate(scenarios, "read", "traced") / _rate(
        scenarios, "read", "foss"
    )
    values["traced_cpu_vs_direct"] = _cpu(scenarios, "read", "foss") / _cpu(
        scenarios, "read", "traced"
    )
    values["deep_vs_first_cpu"] = _cpu(scenarios, "deep_page", "foss") / _cpu(
        scenarios, "first_page", "foss"
    )
    for app in ("foss", "flask", "wsgi"):
        first, deep = _rate(scenarios, "first_page", app), _rate(scenarios, "deep_page", app)
        values["deep_vs_first" if app == "foss" else f"deep_vs_first_{app}"] = first / deep
    values["worker_rss"] = max(measured["worker_rss_mb"]["foss"])
    values["p99_over_p50"] = max(
        scenarios[s.name]["foss"]["p99_ms"] / scenarios[s.name]["foss"]["p50_ms"] for s in SCENARIOS
    )
    return {name: round(value, 3) for name, value in values.items()}


def add_ratios(results: dict[str, Any]) -> None:
    for measured in results["databases"].values():
        if "skipped" in measured:
            continue
        measured["ratios"] = ratios(measured)
        measured["goals"] = {
            goal.name: goal.compare(measured["ratios"][goal.name], goal.target) for goal in GOALS
        }


def failed_requests(results: dict[str, Any]) -> int:
    """Responses of 400 or more: a run that measured errors measured nothing."""
    return sum(
        app["bad_statuses"]
        for measured in results["databases"].values()
        for scenario in measured.get("scenarios", {}).values()
        for app in scenario.values()
    )


def run_line(scenario: Scenario, app: str, figures: dict[str, Any]) -> str:
    errors = figures["bad_statuses"] + figures["socket_errors"]
    return (
        f"  {scenario.title:28} {APP_TITLES[app]:24} {figures['requests_per_second']:6.0f} req/s"
        f"  p50 {figures['p50_ms']:6.2f} ms  p99 {figures['p99_ms']:6.2f} ms"
        f"  CPU {figures['cpu_ms_per_request']:5.2f} ms/request"
        + (f"  ERRORS {errors}" if errors else "")
    )


def _value(goal: Goal, ratios: dict[str, float]) -> str:
    value = ratios[goal.name]
    shown = f"{value:.0f}{goal.unit}" if goal.unit == " MB" else f"{value:.2f}{goal.unit}"
    text = f"{shown} {'met' if goal.compare(value, goal.target) else '**not met**'}"
    if goal.cpu_name:
        text += f" (CPU {ratios[goal.cpu_name]:.2f}{goal.unit})"
    return text


def goals_table(results: dict[str, Any]) -> str:
    databases = results["databases"]
    header = ["goal", "target", *(DATABASE_TITLES[name] for name in databases)]
    lines = [_row(header), _row(["---"] * len(header))]
    for goal in GOALS:
        cells = [goal.title, goal.text()]
        for measured in databases.values():
            skipped = "skipped" in measured
            cells.append("skipped" if skipped else _value(goal, measured["ratios"]))
        lines.append(_row(cells))
    return "\n".join(lines)


def throughput_table(results: dict[str, Any]) -> str:
    apps = ("foss", "traced", "gateway", "flask", "wsgi")
    header = ["database", "scenario", *(APP_TITLES[app] for app in apps)]
    lines = [_row(header), _row(["---"] * len(header))]
    for name, measured in results["databases"].items():
        if "skipped" in measured:
            continue
        for scenario in SCENARIOS:
            figures = measured["scenarios"][scenario.name]
            cells = [DATABASE_TITLES[name], scenario.title.replace("<", "&lt;")]
            for app in apps:
                if app not in figures:
                    cells.append("")
                    continue
                f = figures[app]
                cells.append(
                    f"{f['requests_per_second']:,.0f}/s, p50 {f['p50_ms']:.1f} ms,"
                    f" p99 {f['p99_ms']:.1f} ms, CPU {f['cpu_ms_per_request']:.2f} ms"
                )
            lines.append(_row(cells))
    return "\n".join(lines)


def cpu_table(results: dict[str, Any]) -> str:
    """Workers' CPU time per request: steadier than throughput on a busy machine."""
    databases = {n: m for n, m in results["databases"].items() if "skipped" not in m}
    header = ["scenario", *(f"{DATABASE_TITLES[n]}: foss / Flask / WSGI" for n in databases)]
    lines = [_row(header), _row(["---"] * len(header))]
    for scenario in SCENARIOS:
        cells = [scenario.title.replace("<", "&lt;")]
        for measured in databases.values():
            figures = measured["scenarios"][scenario.name]
            foss, flask, wsgi = (
                figures[a]["cpu_ms_per_request"] for a in ("foss", "flask", "wsgi")
            )
            ratio = measured["ratios"][f"{scenario.name}_cpu_vs_flask"]
            cells.append(f"{foss:.2f} / {flask:.2f} / {wsgi:.2f} ms ({ratio:.2f}{TIMES})")
        lines.append(_row(cells))
    return "\n".join(lines)


def memory_table(results: dict[str, Any]) -> str:
    databases = {n: m for n, m in results["databases"].items() if "skipped" not in m}
    header = ["app", *(f"{DATABASE_TITLES[n]}: RSS / PSS" for n in databases)]
    lines = [_row(header), _row(["---"] * len(header))]
    for app in ("foss", "flask", "wsgi"):
        cells = [APP_TITLES[app]]
        for measured in databases.values():
            rss, pss = max(measured["worker_rss_mb"][app]), max(measured["worker_pss_mb"][app])
            cells.append(f"{rss:.0f} / {pss:.0f} MB")
        lines.append(_row(cells))
    return "\n".join(lines)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def summary(results: dict[str, Any]) -> str:
    lines = ["", "Goals (ratios within this run):"]
    for name, measured in results["databases"].items():
        if "skipped" in measured:
            lines.append(f"  {DATABASE_TITLES[name]}: skipped ({measured['skipped']})")
            continue
        lines.append(f"  {DATABASE_TITLES[name]}:")
        for goal in GOALS:
            value = _value(goal, measured["ratios"]).replace("**", "")
            lines.append(f"    {goal.title.replace('`', ''):46} {goal.text():7} {value}")
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    plan = results["plan"]
    return (
        f"Measured {results['started_at']} on {results['machine']['cpus']} CPUs, Python"
        f" {results['machine']['python']}: wrk {plan['wrk_threads']} threads,"
        f" {plan['wrk_connections']} connections, {plan['rounds']} rounds of"
        f" {plan['seconds']} s per app (median), {plan['gunicorn_workers']} gunicorn"
        " workers per app (foss's threaded, as its container runs them; the baselines' sync);"
        f" reads over {plan['read_rows']:,} rows, pages over"
        f" {plan['page_rows']:,}.\n\n"
        f"{goals_table(results)}\n\n"
        "Workers' CPU time per request (user + system, gunicorn workers; in brackets, Flask's"
        " over foss's, so above 1 means foss is cheaper):\n\n"
        f"{cpu_table(results)}\n\n{throughput_table(results)}\n\n"
        "Memory of a gunicorn worker after the load (the larger of the two; PSS counts pages"
        " shared with other processes in proportion):\n\n"
        f"{memory_table(results)}\n"
    )


def write(results: dict[str, Any], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    data, table = folder / "results.json", folder / "results.md"
    data.write_text(json.dumps(results, indent=2) + "\n")
    table.write_text(markdown(results))
    return [data, table]
