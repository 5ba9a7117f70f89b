"""gunicorn worker models for a service, side by side: sync workers against threaded ones.

Starts foss under gunicorn twice on a throwaway SQLite database (2 sync workers, then 2
gthread workers of 4 threads), sends the same bounded load to each (reads and writes from
8 concurrent clients), and prints requests per second and the ratio. Run with `make bench`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REQUESTS_PER_CLIENT = 150
CLIENTS = 8
PORT = 18765
MODELS = {"sync, 2 workers": "1", "gthread, 2 workers x 4 threads": "4"}


def serve(threads: str, database_url: str) -> subprocess.Popen[bytes]:
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PORT": str(PORT),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": threads,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
    }
    command = [str(bin_dir / "gunicorn"), "-c", "python:flusk_common.gunicorn_conf"]
    process = subprocess.Popen(  # noqa: S603
        [*command, "--access-logfile", "/dev/null", "foss.wsgi:app"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_serving(PORT)
    return process


def wait_until_serving(port: int) -> None:
    """Wait for the gunicorn on ``port`` to answer its health probe."""
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz")
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"gunicorn on port {port} did not start")


def client_load(_: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{PORT}") as client:
        for number in range(REQUESTS_PER_CLIENT):
            if number % 5 == 0:
                body = {"name": "Bench", "email": f"{uuid.uuid4().hex}@example.org"}
                client.post("/foss", json=body).raise_for_status()
            else:
                client.get("/foss", params={"limit": 20}).raise_for_status()


def measure(threads: str, folder: Path) -> float:
    database_url = f"sqlite:///{folder / f'bench-{threads}.db'}"
    bin_dir = Path(sys.executable).parent
    subprocess.run(  # noqa: S603
        [str(bin_dir / "alembic"), "-c", "services/foss/alembic.ini", "upgrade", "head"],
        env={**os.environ, "DATABASE_URL": database_url},
        check=True,
        capture_output=True,
    )
    process = serve(threads, database_url)
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(client_load, range(CLIENTS)))
        return CLIENTS * REQUESTS_PER_CLIENT / (time.perf_counter() - started)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        rates = {name: measure(threads, Path(folder)) for name, threads in MODELS.items()}
    baseline = next(iter(rates.values()))
    for name, rate in rates.items():
        print(f"{name:32} {rate:8.0f} requests/s   x{rate / baseline:4.2f}")  # noqa: T201


if __name__ == "__main__":
    main()
