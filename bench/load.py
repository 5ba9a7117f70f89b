"""Load from wrk (Debian's package): one run, its requests per second and latency percentiles."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"
THREADS = 2
CONNECTIONS = 32
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_DURATION = r"([0-9.]+)(us|ms|s|m)"


class LoadError(RuntimeError):
    """wrk is missing or its output is not what a run prints."""


@dataclass(frozen=True)
class Load:
    """What to send: a URL, optionally a Lua script of bench/lua and its arguments."""

    url: str
    script: str | None = None
    arguments: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    # Responses with a status of 400 or more, and connect/read/write/timeout errors.
    bad_statuses: int
    socket_errors: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise LoadError("wrk is not installed: sudo apt-get install wrk")
    return found


def command(load: Load, seconds: int) -> list[str]:
    """wrk sending ``load`` for ``seconds`` from 2 threads over 32 connections."""
    arguments = [wrk_binary(), f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    if load.script:
        arguments += ["-s", str(LUA / load.script)]
    arguments.append(load.url)
    if load.arguments:
        arguments += ["--", *load.arguments]
    return arguments


def run(load: Load, seconds: int) -> RunResult:
    """``load`` for ``seconds``: requests per second and latency percentiles."""
    command_line = command(load, seconds)
    completed = subprocess.run(  # noqa: S603
        command_line, capture_output=True, text=True, check=False, timeout=seconds + 60
    )
    if completed.returncode != 0:
        raise LoadError(f"{' '.join(command_line)} failed:\n{completed.stderr}{completed.stdout}")
    return parse(completed.stdout)


def _milliseconds(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def parse(output: str) -> RunResult:
    """The figures of wrk's report (``--latency``)."""
    rate = re.search(r"^Requests/sec:\s+([0-9.]+)", output, re.MULTILINE)
    p50 = re.search(rf"^\s+50%\s+{_DURATION}", output, re.MULTILINE)
    p99 = re.search(rf"^\s+99%\s+{_DURATION}", output, re.MULTILINE)
    total = re.search(r"^\s+([0-9]+) requests in", output, re.MULTILINE)
    if not (rate and p50 and p99 and total):
        raise LoadError(f"unexpected wrk output:\n{output}")
    statuses = re.search(r"Non-2xx or 3xx responses: ([0-9]+)", output)
    sockets = re.search(
        r"Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)",
        output,
    )
    return RunResult(
        requests_per_second=float(rate.group(1)),
        p50_ms=_milliseconds(*p50.groups()),
        p99_ms=_milliseconds(*p99.groups()),
        requests=int(total.group(1)),
        bad_statuses=int(statuses.group(1)) if statuses else 0,
        socket_errors=sum(int(count) for count in sockets.groups()) if sockets else 0,
    )
