"""The stack the faults are injected into: PostgreSQL, licenses, foss and the gateway.

Services run under real gunicorn with the shared settings, each on its own database of the
suite's PostgreSQL instance with its migrations applied; foss calls licenses directly, as
in `make run`; nginx in front of both, rendered from gateway/nginx.conf.j2.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from flusk_tools.gateway import Upstream
from load import Outcome
from postgres import PostgresInstance
from processes import children, signal_tree
from stack import GatewayProcess, ServiceProcess, migrate

# The services' settings the assertions depend on, set here rather than assumed.
WORKERS = 2
SERVICE_READ_TIMEOUT = 5.0
SERVICE_BREAKER_RESET = 2  # seconds foss fails fast after licenses failed, before it probes
RECOVERY_SECONDS = 30


def upstream_of(service: ServiceProcess) -> Upstream:
    return Upstream(service.name, f"/{service.name}", f"127.0.0.1:{service.port}")


@dataclass
class FaultStack:
    postgres: PostgresInstance
    logs: Path
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    gateway: GatewayProcess | None = None
    # Every create acknowledged so far in the session: id -> the record sent.
    acknowledged: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def foss(self) -> ServiceProcess:
        return self.services["foss"]

    @property
    def licenses(self) -> ServiceProcess:
        return self.services["licenses"]

    @property
    def url(self) -> str:
        assert self.gateway is not None
        return self.gateway.url

    def start(self) -> FaultStack:
        for name in ("licenses", "foss"):
            url = self.postgres.url(name)
            migrate(name, url)
            env = {
                "WEB_CONCURRENCY": str(WORKERS),
                "SERVICE_READ_TIMEOUT": str(SERVICE_READ_TIMEOUT),
                "SERVICE_BREAKER_RESET": str(SERVICE_BREAKER_RESET),
            }
            if name == "foss":
                env["LICENSES_URL"] = self.services["licenses"].url
            self.services[name] = ServiceProcess(name, url, self.logs / f"{name}.log", env=env)
            self.services[name].start()
        self.gateway = GatewayProcess(
            self.logs / "gateway",
            [upstream_of(service) for service in self.services.values()],
            # The load comes from one address: the per-client rate limit is not under test.
            {"rate_limit": 100_000, "rate_burst": 100_000},
        )
        self.gateway.start()
        return self

    def stop(self) -> None:
        if self.gateway is not None and self.gateway.process is not None:
            self.gateway.stop()
        for service in self.services.values():
            if service.process is not None:
                signal_tree(service.process.pid, signal.SIGCONT)
                service.stop()

    def master_pid(self, name: str) -> int:
        process = self.services[name].process
        assert process is not None
        return process.pid

    def workers(self, name: str) -> list[int]:
        return children(self.master_pid(name))

    def kill(self, name: str) -> None:
        """SIGKILL a service's gunicorn master and workers at once, as a lost machine."""
        process = self.services[name].process
        assert process is not None
        signal_tree(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def recover(self) -> None:
        """Undo whatever a scenario left: thaw, start what is down, wait for full capacity."""
        if self.postgres.postmaster_pid() is None:
            self.postgres.start()
        else:
            signal_tree(self.postgres.postmaster_pid() or 0, signal.SIGCONT)
        for service in self.services.values():
            assert service.process is not None
            if service.process.poll() is None:
                signal_tree(service.process.pid, signal.SIGCONT)
            else:
                service.start()
        self.wait_for_workers()
        assert self.gateway is not None
        assert self.gateway.process is not None
        if self.gateway.process.poll() is not None:
            self.gateway.start()
        deadline = time.monotonic() + RECOVERY_SECONDS
        while httpx.get(f"{self.url}/foss?limit=1", timeout=30).status_code != 200:
            assert time.monotonic() < deadline, "foss did not recover"
            time.sleep(0.2)

    def wait_for_workers(self) -> None:
        """Every service has its full count of gunicorn workers (after a kill, a restart)."""
        deadline = time.monotonic() + RECOVERY_SECONDS
        for name in self.services:
            while len(self.workers(name)) < WORKERS:
                assert time.monotonic() < deadline, f"{name} did not get its workers back"
                time.sleep(0.1)

    @contextlib.contextmanager
    def foss_writes_blocked(self) -> Iterator[None]:
        """A transaction holding a lock that makes every insert into foss wait until the end."""
        with psycopg.connect(
            host="127.0.0.1", port=self.postgres.port, user="postgres", dbname="foss"
        ) as connection:
            connection.execute("LOCK TABLE foss IN SHARE ROW EXCLUSIVE MODE")
            yield
            connection.rollback()

    def waiting_inserts(self, at_least: int, timeout: float = 20) -> int:
        """How many of foss's connections wait on a lock, once ``at_least`` do."""
        deadline = time.monotonic() + timeout
        while True:
            [(waiting,)] = self.postgres.execute(
                "foss",
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = 'foss'",
            )
            if waiting >= at_least or time.monotonic() > deadline:
                return int(waiting)
            time.sleep(0.1)

    def lost_writes(self, outcomes: list[Outcome]) -> list[dict[str, Any]]:
        """The acknowledged creates of ``outcomes`` the database does not hold as answered.

        Checked with SQL on the server itself, not through the service. Each one found is
        added to the session's ``acknowledged`` ledger (read back after the restart).
        """
        answered = {o.body["id"]: o.sent for o in outcomes if o.acknowledged_write and o.sent}
        rows = self.postgres.execute(
            "foss",
            "SELECT id, name, email, license FROM foss WHERE id = ANY(%s)",
            list(answered),
        )
        stored = {row[0]: {"name": row[1], "email": row[2], "license": row[3]} for row in rows}
        lost = []
        for record_id, sent in answered.items():
            expected = {
                "name": sent["name"],
                "email": sent["email"],
                "license": sent.get("license"),
            }
            if stored.get(record_id) != expected:
                lost.append({"id": record_id, "sent": sent, "stored": stored.get(record_id)})
            else:
                self.acknowledged[record_id] = sent
        return lost
