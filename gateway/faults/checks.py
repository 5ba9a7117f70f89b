"""What every fault scenario asserts of the answers, and the per-fault report rows."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from load import Outcome, percentile

PROBLEM_JSON = "application/problem+json"
# 503 says a dependency (the database, another service) is down, with Retry-After; the
# gateway's 502 says a service could not be reached at all (not listening, or its worker
# died mid-request); scenarios allow it only where that is the fault.
SUCCESS = frozenset({200, 201})
UNAVAILABLE = 503
BAD_GATEWAY = 502


def problems(outcomes: Iterable[Outcome]) -> list[str]:
    """Every way the answers in ``outcomes`` break the error contract, one line each.

    An error answer is problem+json whose ``status`` is the answer's; a 503 carries a
    ``Retry-After`` in seconds; every request gets an answer.
    """
    found = []
    for outcome in outcomes:
        where = f"{outcome.role} {outcome.status} after {outcome.seconds:.2f}s"
        if outcome.status == 0:
            found.append(f"{where}: no answer ({outcome.error})")
        elif outcome.status >= 400:
            body = outcome.body if isinstance(outcome.body, dict) else {}
            if not outcome.content_type.startswith(PROBLEM_JSON):
                found.append(f"{where}: {outcome.content_type!r}, not problem+json")
            elif body.get("status") != outcome.status or not body.get("code"):
                found.append(f"{where}: problem body {body!r}")
            if outcome.status == UNAVAILABLE and not (outcome.retry_after or "").isdigit():
                found.append(f"{where}: no Retry-After")
    return found


def assert_answers(outcomes: list[Outcome], allowed: Iterable[int]) -> None:
    """Each answer is one of ``allowed`` statuses, and every error answer is problem+json."""
    statuses = Counter(o.status for o in outcomes)
    unexpected = {status: n for status, n in statuses.items() if status not in set(allowed)}
    assert not unexpected, f"unexpected statuses {unexpected} (all: {dict(statuses)})"
    broken = problems(outcomes)
    assert not broken, "\n".join(broken[:20])


BASE_COLUMNS = frozenset(
    {"fault", "test", "requests", "statuses", "p50_ms", "p99_ms", "max_ms"}
    | {"acknowledged_writes", "lost_writes"}
)


@dataclass
class FaultReport:
    """One fault's row: latency and answers by status, acknowledged writes, lost ones."""

    fault: str
    test: str
    outcomes: list[Outcome]
    lost: int
    notes: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        seconds = [o.seconds for o in self.outcomes if o.status]
        statuses = Counter(str(o.status) for o in self.outcomes)
        return {
            "fault": self.fault,
            "test": self.test,
            "requests": len(self.outcomes),
            "statuses": dict(sorted(statuses.items())),
            "p50_ms": round(percentile(seconds, 0.50) * 1000),
            "p99_ms": round(percentile(seconds, 0.99) * 1000),
            "max_ms": round(max(seconds, default=0) * 1000),
            "acknowledged_writes": sum(o.acknowledged_write for o in self.outcomes),
            "lost_writes": self.lost,
            **self.notes,
        }


def role_latency(outcomes: Iterable[Outcome], role: str) -> dict[str, int]:
    """p50, p99 and max of one role's answers, in milliseconds (for a report's notes)."""
    seconds = [o.seconds for o in outcomes if o.role == role and o.status]
    return {
        f"{role}_p50_ms": round(percentile(seconds, 0.50) * 1000),
        f"{role}_p99_ms": round(percentile(seconds, 0.99) * 1000),
        f"{role}_max_ms": round(max(seconds, default=0) * 1000),
    }


def table(rows: list[dict[str, Any]]) -> list[str]:
    """The report as aligned text lines, for the end of the run."""
    header = ("fault", "requests", "statuses", "p50 ms", "p99 ms", "max ms", "acked", "lost", "")
    lines = [header]
    for row in rows:
        statuses = " ".join(f"{status}:{n}" for status, n in row["statuses"].items())
        notes = " ".join(
            f"{name}={row[name]}"
            for name in sorted(row.keys() - BASE_COLUMNS)
            if name.endswith("p99_ms") or not name.endswith("_ms")
        )
        lines.append(
            (
                row["fault"],
                str(row["requests"]),
                statuses,
                str(row["p50_ms"]),
                str(row["p99_ms"]),
                str(row["max_ms"]),
                str(row["acknowledged_writes"]),
                str(row["lost_writes"]),
                notes,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]


def write_report(rows: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, indent=2) + "\n")
