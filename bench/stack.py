"""What the benchmark runs against: databases, the services, the gateway and the baselines.

The services start as their containers start them (``flusk_tools.commands``: gunicorn with
``flusk_common.gunicorn_conf``, the container's environment, output to a file); the gateway
is rendered from ``gateway/nginx.conf.j2`` and run in the foreground like ``make run`` does.
Every app gets 2 gunicorn workers (the services' threaded ones, as in their containers;
the baselines' sync) and the same database.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from flusk_tools.commands import migrate_command, serve_command
from flusk_tools.gateway import local_settings, local_upstreams, render
from flusk_tools.registry import load_services
from flusk_tools.run import find_nginx

ROOT = Path(__file__).resolve().parent.parent
WORKERS = "2"
STARTUP_SECONDS = 30
SERVICES = ("foss", "licenses")
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# The gateway's per-client rate limit stays in the config, set far above what one machine
# can send: wrk is one client, and 429s would measure the limit, not the gateway.
GATEWAY_RATE = 1_000_000


def beside_python(command: list[str]) -> list[str]:
    """``command`` with its program from this Python's environment (gunicorn, alembic)."""
    return [str(Path(sys.executable).parent / command[0]), *command[1:]]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# Databases ------------------------------------------------------------------------------


class Database:
    """One database engine holding a database per service, made fresh for the run."""

    name: str

    def url(self, service: str) -> str:
        raise NotImplementedError

    def create(self) -> None:
        raise NotImplementedError

    def drop(self) -> None:
        raise NotImplementedError

    def seed(self, rows: int) -> None:
        """Empty foss's table and fill it with ``rows`` records, ids 1..rows."""
        raise NotImplementedError

    def migrate(self, services: tuple[str, ...] = SERVICES) -> None:
        """The services' migrations, as their containers' migration step runs them."""
        for service in services:
            ini = str(ROOT / "services" / service / "alembic.ini")
            env = {**os.environ, "DATABASE_URL": self.url(service)}
            subprocess.run(  # noqa: S603
                beside_python(migrate_command(ini)), env=env, check=True, capture_output=True
            )


@dataclass
class SQLiteDatabase(Database):
    folder: Path
    name: str = "sqlite"

    def path(self, service: str) -> Path:
        return self.folder / f"{service}.db"

    def url(self, service: str) -> str:
        return f"sqlite:///{self.path(service)}"

    def create(self) -> None:
        self.drop()
        self.folder.mkdir(parents=True, exist_ok=True)

    def drop(self) -> None:
        for service in SERVICES:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path(service)}{suffix}").unlink(missing_ok=True)

    def seed(self, rows: int) -> None:
        connection = sqlite3.connect(self.path("foss"), isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("BEGIN")
            connection.execute("DELETE FROM foss")
            connection.execute(
                "INSERT INTO foss (name, email)"
                " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
                " SELECT 'Maintainer ' || i, 'seed-' || i || '@example.org' FROM n",
                (rows,),
            )
            connection.execute("COMMIT")
            connection.execute("ANALYZE")  # the query planner's statistics, as on a live database
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()


@dataclass
class PostgresDatabase(Database):
    admin_url: str = POSTGRES_ADMIN_URL
    name: str = "postgresql"

    def database(self, service: str) -> str:
        return f"flusk_bench_{service}"

    def url(self, service: str) -> str:
        base = self.admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        return f"{base}/{self.database(service)}"

    def reachable(self) -> str | None:
        """``None`` when the server answers, else why not."""
        import psycopg  # noqa: PLC0415 - only when PostgreSQL is measured

        try:
            psycopg.connect(self.admin_url, connect_timeout=2).close()
        except psycopg.Error as exc:
            return str(exc).strip().splitlines()[0]
        return None

    def _admin(self, *statements: str) -> None:
        import psycopg  # noqa: PLC0415

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement.encode())

    def create(self) -> None:
        self.drop()
        self._admin(*(f"CREATE DATABASE {self.database(s)}" for s in SERVICES))

    def drop(self) -> None:
        self._admin(*(f"DROP DATABASE IF EXISTS {self.database(s)} WITH (FORCE)" for s in SERVICES))

    def seed(self, rows: int) -> None:
        import psycopg  # noqa: PLC0415

        dsn = self.url("foss").replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, autocommit=True) as connection:
            with connection.transaction():
                connection.execute("TRUNCATE foss RESTART IDENTITY")
                connection.execute(
                    "INSERT INTO foss (name, email)"
                    " SELECT 'Maintainer ' || i, 'seed-' || i || '@example.org'"
                    " FROM generate_series(1, %s) AS i",
                    (rows,),
                )
            # What autovacuum would have done to a table of this size before anyone read it,
            # and the checkpoint its writes would cause, both before the measurement.
            connection.execute("VACUUM ANALYZE foss")
            connection.execute("CHECKPOINT")


# Processes ------------------------------------------------------------------------------


@dataclass
class Server:
    """One process tree serving HTTP on a loopback port, its output in ``log``."""

    name: str
    command: list[str]
    log: Path
    port: int
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(  # noqa: S603
                self.command,
                env={**os.environ, **self.env},
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )

    def wait_ready(self, path: str) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log}:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}{path}", timeout=1):  # noqa: S310
                    return
            except urllib.error.HTTPError:
                return  # an answer, whatever its status: the server is up
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer {path} within {STARTUP_SECONDS}s")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        return [child.pid for child in psutil.Process(self.process.pid).children()]

    def cpu_seconds(self) -> float:
        """User and system CPU time its workers (the master's children) have used so far."""
        total = 0.0
        for pid in self.worker_pids():
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
        return total

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each gunicorn worker (the master's children), in MB."""
        return [
            round(psutil.Process(pid).memory_info().rss / 1_000_000, 1)
            for pid in self.worker_pids()
        ]

    def worker_pss_mb(self) -> list[float]:
        """Each worker's proportional share of memory (pages shared with others divided)."""
        return [
            round(psutil.Process(pid).memory_full_info().pss / 1_000_000, 1)
            for pid in self.worker_pids()
        ]


def service_server(name: str, database: Database, folder: Path, env: dict[str, str]) -> Server:
    """A service with its container's command and environment (compose sets the rest)."""
    port = free_port()
    container_env = {
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": WORKERS,
        "DATABASE_URL": database.url(name),
        "TRUSTED_PROXY_HOPS": "1",
        "LOG_FORMAT": "json",
        **env,
    }
    command = beside_python(serve_command(name))
    return Server(name, command, folder / f"{name}.log", port, container_env)


def baseline_server(name: str, module: str, database: Database, folder: Path) -> Server:
    """A baseline app of bench/ under gunicorn's defaults: 2 sync workers, no access log."""
    port = free_port()
    command = beside_python(["gunicorn", "--workers", WORKERS, "--bind", f"127.0.0.1:{port}"])
    env = {"DATABASE_URL": database.url("foss"), "PYTHONUNBUFFERED": "1"}
    return Server(name, [*command, f"bench.{module}:app"], folder / f"{name}.log", port, env)


def gateway_server(folder: Path, ports: dict[str, int]) -> Server:
    """nginx from the gateway template (local target), in the foreground, files in ``folder``."""
    prefix = (folder / "gateway").resolve()
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    port = free_port()
    settings = local_settings(prefix, port=port, rate_limit=GATEWAY_RATE, rate_burst=GATEWAY_RATE)
    config = prefix / "nginx.conf"
    upstreams = local_upstreams(load_services(ROOT), ports)
    config.write_text(render(ROOT, upstreams, settings))
    nginx = find_nginx(os.environ)
    command = [nginx, "-p", str(prefix), "-e", "stderr", "-c", str(config), "-g", "daemon off;"]
    return Server("gateway", command, folder / "gateway.log", port)


@dataclass
class Stack:
    """foss and licenses as in their containers, the gateway, and the two baselines."""

    database: Database
    folder: Path
    servers: dict[str, Server] = field(default_factory=dict)

    def start(self) -> None:
        licenses = service_server("licenses", self.database, self.folder, {})
        foss = service_server("foss", self.database, self.folder, {"LICENSES_URL": licenses.url})
        ports = {"foss": foss.port, "licenses": licenses.port}
        # foss again, with tracing on: every span to a JSON-lines file, as `make run traces=1`.
        tracing = {"OTEL_TRACES_EXPORTER": "jsonl", "FLUSK_TRACES_DIR": str(self.folder / "traces")}
        traced = service_server(
            "foss", self.database, self.folder, {"LICENSES_URL": licenses.url, **tracing}
        )
        self.servers = {
            "foss": foss,
            "traced": dataclasses.replace(traced, name="traced", log=self.folder / "traced.log"),
            "licenses": licenses,
            "gateway": gateway_server(self.folder, ports),
            "flask": baseline_server("flask", "baseline_flask", self.database, self.folder),
            "wsgi": baseline_server("wsgi", "baseline_wsgi", self.database, self.folder),
        }
        try:
            for server in self.servers.values():
                server.start()
            for server in self.servers.values():
                server.wait_ready("/healthz")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop(signal.SIGQUIT if server.name == "gateway" else signal.SIGTERM)


@contextmanager
def running_stack(database: Database, folder: Path, rows: int) -> Iterator[Stack]:
    """Fresh databases, migrated, foss's table seeded with ``rows``, and the stack started
    with its output in ``folder`` (emptied first); everything stopped and dropped after."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    database.create()
    try:
        database.migrate()
        database.seed(rows)
        stack = Stack(database, folder)
        stack.start()
        try:
            yield stack
        finally:
            stack.stop()
    finally:
        database.drop()
