"""Client-side deadlines on PostgreSQL connections: no wait on the database outlives them.

The server's ``statement_timeout`` cannot fire on a server that is frozen (stopped, its
sockets still open) or cut off by a partition, and TCP keepalives never notice a frozen
peer whose kernel still acknowledges. So a watchdog thread shuts a connection's socket
down when it is used past its deadline: the blocked read returns, psycopg raises, the
pool discards the connection, and the request answers 503 ``database_unavailable``.

The deadline of a connection checked out by a request is the request's (``REQUEST_DEADLINE``);
each statement's is also at most ``DATABASE_STATEMENT_TIMEOUT`` plus a second, so that a
live server cancels it first. A connection is pinged when checked out, under the same
deadline (SQLAlchemy's own pre-ping would run before it), and a new one is given at most the
time left to connect.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from ._deadline import time_left
from ._errors import DatabaseUnavailable

# After the server's own statement_timeout: on a live server, the server cancels first.
GRACE = 1.0
_REQUEST_DEADLINE = "flusk_request_deadline"


class Watchdog:
    """Shuts down the sockets of connections still in use past their deadlines."""

    def __init__(self) -> None:
        self._armed: dict[int, tuple[float, int]] = {}  # id(connection): (deadline, fd)
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, connection: Any, deadline: float) -> None:
        try:
            fd = connection.fileno()
        except Exception:  # closed: nothing to wait on
            return
        with self._changed:
            self._armed[id(connection)] = (deadline, fd)
            if self._thread is None or not self._thread.is_alive():
                # Started on first use, so that each forked worker runs its own.
                self._thread = threading.Thread(target=self._run, name="db-watchdog", daemon=True)
                self._thread.start()
            self._changed.notify()

    def disarm(self, connection: Any) -> None:
        with self._changed:
            self._armed.pop(id(connection), None)

    def _run(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                for key, (deadline, fd) in list(self._armed.items()):
                    if deadline <= now:
                        del self._armed[key]
                        _shut_down(fd)
                soonest = min((deadline for deadline, _fd in self._armed.values()), default=None)
                self._changed.wait(None if soonest is None else soonest - now)


def _shut_down(fd: int) -> None:
    """End the connection on ``fd`` both ways; its owner's blocked read returns at once."""
    try:
        with socket.socket(fileno=socket.dup(fd)) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # closed meanwhile: nothing left to wait on


def bound_connections(engine: Engine, config: Mapping[str, Any]) -> None:
    """Put every wait on ``engine``'s connections under a deadline (PostgreSQL's engine)."""
    watchdog = Watchdog()
    statement_limit: float = config["DATABASE_STATEMENT_TIMEOUT"] / 1000 + GRACE
    connect_timeout = config["DATABASE_CONNECT_TIMEOUT"]

    def request_deadline() -> float | None:
        left = time_left()
        if left is None:
            return None
        if left <= 0:
            raise DatabaseUnavailable(
                "The request has no time left to wait for the database.",
                retry_after=config["RETRY_AFTER"],
            )
        return time.monotonic() + left

    def statement_deadline(request: float | None) -> float:
        limit = time.monotonic() + statement_limit
        return limit if request is None else min(limit, request)

    @sa.event.listens_for(engine, "do_connect")
    def _bound_connect(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        left = time_left()
        if left is not None:
            request_deadline()  # refuse when no time is left
            params["connect_timeout"] = min(connect_timeout, max(math.ceil(left), 1))

    @sa.event.listens_for(engine, "checkout")
    def _ping_and_arm(
        connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        deadline = request_deadline()
        watchdog.arm(connection, statement_deadline(deadline))
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            connection.rollback()  # end the transaction the ping began
        except Exception as exc:
            watchdog.disarm(connection)
            raise sa.exc.DisconnectionError(str(exc)) from exc  # the pool connects anew
        _rearm(connection, record, deadline)

    def _rearm(connection: Any, record: ConnectionPoolEntry, deadline: float | None) -> None:
        record.info[_REQUEST_DEADLINE] = deadline
        if deadline is None:
            watchdog.disarm(connection)
        else:
            watchdog.arm(connection, deadline)

    @sa.event.listens_for(engine, "checkin")
    def _disarm(connection: Any, record: ConnectionPoolEntry) -> None:
        record.info.pop(_REQUEST_DEADLINE, None)
        if connection is not None:
            watchdog.disarm(connection)

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _arm_statement(connection: sa.Connection, *_args: Any) -> None:
        dbapi = connection.connection.dbapi_connection
        request = connection.connection.info.get(_REQUEST_DEADLINE)
        watchdog.arm(dbapi, statement_deadline(request))

    @sa.event.listens_for(engine, "after_cursor_execute")
    def _end_statement(connection: sa.Connection, *_args: Any) -> None:
        dbapi = connection.connection.dbapi_connection
        request = connection.connection.info.get(_REQUEST_DEADLINE)
        if request is None:
            watchdog.disarm(dbapi)
        else:
            watchdog.arm(dbapi, request)
