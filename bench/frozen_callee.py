"""A frozen callee under load, per worker model: does foss keep serving what does not call it?

Starts licenses and foss under gunicorn (2 workers each, throwaway SQLite databases),
freezes every licenses process with SIGSTOP (its sockets stay open, the kernel still
accepts connections), then for a fixed time 24 clients create foss records with a
license (foss asks licenses) while 4 create without one. Prints latency and statuses of
each kind, for sync workers and for threaded ones. Run with `make bench`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from gunicorn_workers import wait_until_serving

DURATION = 12.0  # seconds of load
CALLING_CLIENTS, OTHER_CLIENTS = 24, 4
FOSS_PORT, LICENSES_PORT = 18802, 18801
MODELS = {"sync, 2 workers": "1", "gthread, 2 workers x 8 threads": "8"}
BIN = Path(sys.executable).parent


def serve(service: str, port: int, folder: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    database_url = f"sqlite:///{folder / service}.db"
    subprocess.run(  # noqa: S603
        [str(BIN / "alembic"), "-c", f"services/{service}/alembic.ini", "upgrade", "head"],
        env={**os.environ, "DATABASE_URL": database_url},
        check=True,
        capture_output=True,
    )
    variables = {"PORT": str(port), "DATABASE_URL": database_url, "WEB_CONCURRENCY": "2"}
    process = subprocess.Popen(  # noqa: S603
        [
            str(BIN / "gunicorn"),
            "-c",
            "python:flusk_common.gunicorn_conf",
            "--access-logfile",
            "/dev/null",
            f"{service}.wsgi:app",
        ],
        env={**os.environ, "LOG_LEVEL": "WARNING", **variables, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_serving(port)
    return process


def signal_all(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    """Signal gunicorn's master and its workers."""
    workers = subprocess.run(  # noqa: S603
        ["pgrep", "-P", str(process.pid)],  # noqa: S607 - procps, as everywhere here
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    for pid in [process.pid, *map(int, workers)]:
        os.kill(pid, signum)


def creates(with_license: bool, until: float) -> list[tuple[float, int]]:
    """Create records until ``until``; each answer's latency and status (0: no answer)."""
    answers: list[tuple[float, int]] = []
    with httpx.Client(base_url=f"http://127.0.0.1:{FOSS_PORT}", timeout=70) as client:
        while time.monotonic() < until:
            body = {"name": "Bench", "email": f"{uuid.uuid4().hex}@example.org"}
            if with_license:
                body["license"] = "MIT"
            started = time.monotonic()
            try:
                status = client.post("/foss", json=body).status_code
            except httpx.HTTPError:
                status = 0
            answers.append((time.monotonic() - started, status))
            if not with_license:
                time.sleep(0.02)
    return answers


def measure(threads: str, folder: Path) -> dict[bool, list[tuple[float, int]]]:
    licenses = serve("licenses", LICENSES_PORT, folder, {})
    foss = serve(
        "foss",
        FOSS_PORT,
        folder,
        {"GUNICORN_THREADS": threads, "LICENSES_URL": f"http://127.0.0.1:{LICENSES_PORT}"},
    )
    kinds = [True] * CALLING_CLIENTS + [False] * OTHER_CLIENTS
    signal_all(licenses, signal.SIGSTOP)
    try:
        until = time.monotonic() + DURATION
        with ThreadPoolExecutor(len(kinds)) as pool:
            answers = list(pool.map(lambda kind: creates(kind, until), kinds))
    finally:
        signal_all(licenses, signal.SIGCONT)
        for process in (foss, licenses):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    return {
        kind: [
            answer
            for client, got in zip(kinds, answers, strict=True)
            if client == kind
            for answer in got
        ]
        for kind in (True, False)
    }


def report(name: str, kind: str, answers: list[tuple[float, int]]) -> None:
    latencies = sorted(latency for latency, _status in answers)
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    statuses = dict(sorted(Counter(status for _latency, status in answers).items()))
    print(  # noqa: T201
        f"{name:32} {kind:16} n={len(answers):5}  p50 {p50:6.3f}s  p99 {p99:6.3f}s  "
        f"max {latencies[-1]:6.3f}s  {statuses}"
    )


def main() -> None:
    for name, threads in MODELS.items():
        with tempfile.TemporaryDirectory() as folder:
            answers = measure(threads, Path(folder))
        report(name, "with a license", answers[True])
        report(name, "without", answers[False])


if __name__ == "__main__":
    main()
