"""``python -m bench.profile``: where foss's workers spend their time under each load.

Starts the same stack as ``make bench`` on one database, sends each scenario's load to
foss with wrk while py-spy samples both gunicorn workers, and prints, per scenario, the
functions that hold the most samples (inclusive: the function or anything it calls) and
the busiest leaves. The raw stacks (py-spy's collapsed format) are kept under var/bench/
for flame graphs (``py-spy``'s own ``--format flamegraph`` or speedscope).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from .__main__ import VAR, say
from .load import run
from .scenarios import READ_ROWS, SCENARIOS
from .stack import Database, PostgresDatabase, SQLiteDatabase, running_stack

REQUEST_FRAME = "Worker.handle"  # SyncWorker.handle or ThreadWorker.handle
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^:]*)(?::\d+)?\)$")


def shorten(frame: str) -> str:
    """``function (path/to/module.py:12)`` as ``module.py:function``."""
    match = _FRAME.match(frame)
    if not match:
        return frame
    return f"{Path(match['file']).name}:{match['function']}"


def summarize(collapsed: str, top: int, cpu_ms: float) -> str:
    """Shares of the busy samples, and that share of a request's CPU time (≈ ms)."""
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [shorten(frame) for frame in stack.split(";") if "(" in frame]
        # Below gunicorn's request handling: the worker's loop above it is in every stack.
        starts = [i for i, frame in enumerate(frames) if frame.endswith(REQUEST_FRAME)]
        frames = frames[starts[0] :] if starts else ["(outside requests)"]
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        if frames:
            leaves[frames[-1]] += count
    if not total:
        return "    no samples"

    def line(name: str, count: int) -> str:
        return f"      {100 * count / total:5.1f}%  {cpu_ms * count / total:6.3f} ms  {name}"

    lines = [f"    {total} busy samples; inclusive:"]
    lines += [line(name, count) for name, count in inclusive.most_common(top)]
    lines.append("    leaves (self time):")
    lines += [line(name, count) for name, count in leaves.most_common(top // 2)]
    return "\n".join(lines)


def profile(database: Database, apps: list[str], seconds: int, page_rows: int, top: int) -> None:
    py_spy = str(Path(sys.executable).parent / "py-spy")
    with running_stack(database, VAR / f"profile-{database.name}", READ_ROWS) as stack:
        for scenario in SCENARIOS:
            rows = READ_ROWS if scenario.table == "read" else page_rows
            if scenario.name == "first_page":
                database.seed(page_rows)
            for app in apps:
                server = stack.servers[app]
                scenario.check(app, server.url, rows)
                output = stack.folder / f"{scenario.name}-{app}.txt"
                assert server.process is not None
                record = [py_spy, "record", "--pid", str(server.process.pid), "--subprocesses"]
                record += ["--format", "raw", "--rate", "250", "--duration", str(seconds)]
                record += ["--nonblocking", "--output", str(output)]
                sampler = subprocess.Popen(  # noqa: S603
                    record, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                load = scenario.load_for(app, server.url, rows, f"profile-{database.name}")
                cpu_before = server.cpu_seconds()
                result = run(load, seconds)
                cpu_ms = 1000 * (server.cpu_seconds() - cpu_before) / max(result.requests, 1)
                sampler.wait(timeout=seconds + 30)
                say(
                    f"  {scenario.title}, {app}: {result.requests_per_second:.0f} requests/s,"
                    f" {cpu_ms:.2f} ms of CPU per request"
                    f" ({output.relative_to(VAR.parent.parent)}):"
                )
                say(summarize(output.read_text(), top, cpu_ms))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--page-rows", type=int, default=1_000_000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--apps", default="foss,flask", help="of foss, flask, wsgi")
    args = parser.parse_args(argv)
    database: Database = (
        PostgresDatabase() if args.database == "postgresql" else SQLiteDatabase(VAR / "sqlite-data")
    )
    say(f"{database.name}:")
    profile(database, args.apps.split(","), args.seconds, args.page_rows, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
