"""Client load through the gateway: a few threads creating and reading foss records.

Each thread plays one role for the whole run, so that answers can be told apart by what
was asked: ``create`` (no license: foss alone), ``create-licensed`` (foss asks licenses),
``read`` (a record this load created, or a page of the list). Every request is recorded
as an ``Outcome``, answered or not. The load is bounded by a number of requests per thread
and by time.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

ROLES = ("create", "create-licensed", "read")
LICENSE = "MIT"
# Longer than the gateway's 60 s read timeout: every request gets the gateway's answer.
CLIENT_TIMEOUT = 90.0
PAUSE_SECONDS = 0.05
MAX_REQUESTS_PER_THREAD = 400
MAX_SECONDS = 120.0


@dataclass(frozen=True)
class Outcome:
    """One request and its answer (``status`` 0: no answer, ``error`` says why)."""

    role: str
    started: float
    seconds: float
    status: int
    content_type: str = ""
    retry_after: str | None = None
    body: Any = None
    sent: dict[str, Any] | None = None
    error: str = ""

    @property
    def acknowledged_write(self) -> bool:
        return self.role.startswith("create") and 200 <= self.status < 300

    @property
    def answered(self) -> float:
        return self.started + self.seconds


def new_record(role: str) -> dict[str, Any]:
    """A foss record no other request of the suite sends."""
    record = {"name": "Fault Tolerant", "email": f"fault-{uuid.uuid4().hex}@example.org"}
    if role == "create-licensed":
        record["license"] = LICENSE
    return record


def send(client: httpx.Client, role: str, method: str, path: str, sent: Any = None) -> Outcome:
    started = time.monotonic()
    try:
        response = client.request(method, path, json=sent)
    except httpx.HTTPError as error:
        return Outcome(role, started, time.monotonic() - started, 0, error=repr(error))
    seconds = time.monotonic() - started
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return Outcome(
        role,
        started,
        seconds,
        response.status_code,
        response.headers.get("Content-Type", ""),
        response.headers.get("Retry-After"),
        body,
        sent,
    )


class Load:
    """``with Load(url, ["create", "read"]) as load:`` runs one thread per role until the end."""

    def __init__(self, base_url: str, roles: Sequence[str]) -> None:
        assert set(roles) <= set(ROLES), roles
        self.base_url = base_url
        self.roles = roles
        self.outcomes: list[Outcome] = []
        self._created: list[int] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(role,), name=f"load-{role}-{n}")
            for n, role in enumerate(roles)
        ]

    def __enter__(self) -> Load:
        self.started = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def wait_for_answers(self, count: int, timeout: float = 30) -> None:
        """Block until ``count`` requests were answered (the load is under way)."""
        deadline = time.monotonic() + timeout
        while len(self.outcomes) < count:
            assert time.monotonic() < deadline, f"only {len(self.outcomes)} answers"
            time.sleep(0.05)

    def _run(self, role: str) -> None:
        chooser = random.Random(role)  # which record to read
        with httpx.Client(base_url=self.base_url, timeout=CLIENT_TIMEOUT) as client:
            for _ in range(MAX_REQUESTS_PER_THREAD):
                if self._stop.is_set() or time.monotonic() - self.started > MAX_SECONDS:
                    return
                outcome = self._request(client, role, chooser)
                with self._lock:
                    self.outcomes.append(outcome)
                    if outcome.acknowledged_write:
                        self._created.append(outcome.body["id"])
                self._stop.wait(PAUSE_SECONDS)

    def _request(self, client: httpx.Client, role: str, chooser: random.Random) -> Outcome:
        if role != "read":
            return send(client, role, "POST", "/foss", new_record(role))
        with self._lock:
            known = list(self._created)
        if known:
            return send(client, role, "GET", f"/foss/{chooser.choice(known)}")
        return send(client, role, "GET", "/foss?limit=5")


def percentile(seconds: Iterable[float], share: float) -> float:
    """The ``share`` quantile (0.99: p99) of ``seconds``, interpolated; 0 when empty."""
    values = sorted(seconds)
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=1000, method="inclusive")[round(share * 1000) - 1]
