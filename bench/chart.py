"""The chart of a run: requests per second of each app, per scenario, one panel per database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")  # files only, no display

import matplotlib.pyplot as plt

from .report import DATABASE_TITLES, TIMES
from .scenarios import APP_TITLES, APPS, SCENARIOS

COLOURS = {"foss": "#1f6fb4", "gateway": "#7fb2e0", "flask": "#e07b39", "wsgi": "#8c8c8c"}
COLOURS["traced"] = "#4a90c8"  # foss with tracing on
BAR_WIDTH = 0.18


def draw(results: dict[str, Any], path: Path) -> None:
    measured = {n: m for n, m in results["databases"].items() if "skipped" not in m}
    figure, axes = plt.subplots(
        1, max(len(measured), 1), figsize=(6.5 * max(len(measured), 1), 4.8), squeeze=False
    )
    for axis, (name, figures) in zip(axes[0], measured.items(), strict=False):
        _panel(axis, DATABASE_TITLES[name], figures)
    handles, labels = axes[0][0].get_legend_handles_labels()
    order = [labels.index(APP_TITLES[app]) for app in APPS if APP_TITLES[app] in labels]
    figure.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="lower center",
        ncol=len(APPS),
        frameon=False,
    )
    plan = results["plan"]
    figure.suptitle(
        f"Requests per second (median of {plan['rounds']} {TIMES} {plan['seconds']} s, wrk"
        f" {plan['wrk_connections']} connections, 2 sync workers each);"
        f" above Flusk's bars: {TIMES} bare Flask + ORM",
        fontsize=10,
    )
    figure.tight_layout(rect=(0, 0.07, 1, 0.95))
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _panel(axis: Any, title: str, figures: dict[str, Any]) -> None:
    scenarios = figures["scenarios"]
    drawn: set[str] = set()
    for index, scenario in enumerate(SCENARIOS):
        apps = [app for app in APPS if app in scenarios[scenario.name]]
        flask = scenarios[scenario.name]["flask"]["requests_per_second"]
        for offset, app in enumerate(apps):
            x = index + (offset - (len(apps) - 1) / 2) * BAR_WIDTH
            rate = scenarios[scenario.name][app]["requests_per_second"]
            label = APP_TITLES[app] if app not in drawn else None
            drawn.add(app)
            axis.bar(x, rate, BAR_WIDTH, label=label, color=COLOURS[app])
            if app in ("foss", "gateway"):
                axis.annotate(
                    f"{rate / flask:.2f}{TIMES}", (x, rate), ha="center", va="bottom", fontsize=7
                )
    axis.set_title(title)
    axis.set_xticks(range(len(SCENARIOS)), [s.label for s in SCENARIOS], fontsize=8)
    axis.set_ylabel("requests / s")
    axis.grid(axis="y", alpha=0.3)
    axis.set_axisbelow(True)
