"""A PostgreSQL server of the suite's own: made with initdb on a free port, stopped, frozen.

The faults below are real ones: ``pg_ctl stop -m immediate`` is a crash of the server,
``freeze`` stops the postmaster and every backend with SIGSTOP (connections stay open, as
when a machine hangs or a network partitions). Only this instance's processes, found from
its own ``postmaster.pid``, are ever signalled.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from processes import children, signal_tree
from stack import free_port

OS_USER = "postgres"


def bin_dir() -> Path | None:
    """The PostgreSQL server programs: ``PG_BINDIR``, else ``pg_config``'s, else Debian's."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(found.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def as_server_user(command: Sequence[str]) -> list[str]:
    """``command`` run as the ``postgres`` user when we are root (the server refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", OS_USER, "--", *command]
    return list(command)


@dataclass
class PostgresInstance:
    """One throwaway cluster: a temporary data folder, loopback only, trust authentication."""

    bin: Path
    databases: tuple[str, ...]
    port: int = field(default_factory=free_port)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="flusk-faults-")))

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "postgres.log"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        subprocess.run(
            as_server_user([str(self.bin / command[0]), *command[1:]]),
            check=True,
            capture_output=True,
            cwd=self.folder,
        )

    def create(self) -> PostgresInstance:
        if os.geteuid() == 0:
            shutil.chown(self.folder, OS_USER, OS_USER)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")
        settings = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": "''",
            # A crash of the server loses nothing without fsync (the kernel holds the
            # writes); synchronous_commit stays on, or acknowledged commits would be lost.
            "fsync": "off",
            "max_connections": "100",
            "shared_buffers": "32MB",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        self.start()
        for database in self.databases:
            self.execute("postgres", f'CREATE DATABASE "{database}"')
        return self

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop``: ``immediate`` is a crash (recovery runs at the next start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def postmaster_pid(self) -> int | None:
        with contextlib.suppress(FileNotFoundError, ValueError):
            return int((self.data / "postmaster.pid").read_text().split()[0])
        return None

    def backends(self) -> list[int]:
        pid = self.postmaster_pid()
        return children(pid) if pid else []

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """The postmaster and every backend stopped (SIGSTOP), sockets open, until the end."""
        pid = self.postmaster_pid()
        assert pid is not None, "the server is not running"
        signal_tree(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            signal_tree(pid, signal.SIGCONT)

    def execute(self, database: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run one statement on the server itself (autocommit) and return its rows."""
        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname=database,
            autocommit=True,
            connect_timeout=10,
        ) as connection:
            cursor = connection.execute(sql, params or None)
            return cursor.fetchall() if cursor.description else []

    def remove(self) -> None:
        pid = self.postmaster_pid()
        if pid:
            signal_tree(pid, signal.SIGCONT)
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
