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
        self._wakes_at: float | None = None  # when the thread wakes next by itself (None: never)

    def arm(self, connection: Any, deadline: float) -> None:
        try:
            fd = connection.fileno()
        except Exception:  # closed: nothing to wait on
            return
        with self._changed:
            self._armed[id(connection)] = (deadline, fd)
            if self._thread is None or not self._thread.is_alive():
                # Started on first use, so that each forked worker runs its own.
                self._wakes_at = None
                self._thread = threading.Thread(target=self._run, name="db-watchdog", daemon=True)
                self._thread.start()
            if self._wakes_at is None or deadline < self._wakes_at:
                # Woken only for a deadline sooner than the one it sleeps until: one per
                # statement would make it take turns with the requests' threads for nothing.
                self._wakes_at = deadline
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
                self._wakes_at = soonest
                self._changed.wait(None if soonest is None else soonest - now)


def _shut_down(fd: int) -> None:
    """End the connection on ``fd`` both ways; its owner's blocked read returns at once."""
    try:
        with socket.socket(fileno=socket.dup(fd)) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # closed meanwhile: nothing left to wait on


# One per process, for every engine: its thread sleeps until the soonest deadline.
_WATCHDOG = Watchdog()


def bound_connections(engine: Engine, config: Mapping[str, Any]) -> None:
    """Put every wait on ``engine``'s connections under a deadline (PostgreSQL's engine)."""
    deadlines = _Deadlines(config)
    for event, listener in (
        ("do_connect", deadlines.bound_connect),
        ("checkout", deadlines.ping_and_arm),
        ("checkin", deadlines.checked_in),
        ("before_cursor_execute", deadlines.arm_statement),
        ("after_cursor_execute", deadlines.statement_done),
        ("handle_error", deadlines.statement_failed),
        ("invalidate", deadlines.forget),
        ("soft_invalidate", deadlines.forget),
        ("close", deadlines.forget),
        ("close_detached", deadlines.forget),
    ):
        sa.event.listen(engine, event, listener)


class _Deadlines:
    """The engine's event listeners that arm and disarm the watchdog."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.watchdog = _WATCHDOG
        self.statement_limit: float = config["DATABASE_STATEMENT_TIMEOUT"] / 1000 + GRACE
        self.connect_timeout: int = config["DATABASE_CONNECT_TIMEOUT"]
        self.retry_after: int = config["RETRY_AFTER"]

    def request_deadline(self) -> float | None:
        """The current request's deadline; refused at once when it has passed."""
        left = time_left()
        if left is None:
            return None
        if left <= 0:
            raise DatabaseUnavailable(
                "The request has no time left to wait for the database.",
                retry_after=self.retry_after,
            )
        return time.monotonic() + left

    def statement_deadline(self, request: float | None) -> float:
        limit = time.monotonic() + self.statement_limit
        return limit if request is None else min(limit, request)

    def bound_connect(self, _dialect: Any, _record: Any, _args: Any, params: Any) -> None:
        left = time_left()
        if left is not None:
            self.request_deadline()  # refuse when no time is left
            params["connect_timeout"] = min(self.connect_timeout, max(math.ceil(left), 1))

    def ping_and_arm(
        self, connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        deadline = self.request_deadline()
        self.watchdog.arm(connection, self.statement_deadline(deadline))
        try:
            autocommit = connection.autocommit
            connection.autocommit = True  # a ping needs no transaction: one round trip
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
            finally:
                connection.autocommit = autocommit
        except Exception as exc:
            self.watchdog.disarm(connection)
            raise sa.exc.DisconnectionError(str(exc)) from exc  # the pool connects anew
        record.info[_REQUEST_DEADLINE] = deadline
        self._rearm(connection, deadline)

    def checked_in(self, connection: Any, record: ConnectionPoolEntry) -> None:
        record.info.pop(_REQUEST_DEADLINE, None)
        self.forget(connection)

    def arm_statement(self, connection: sa.Connection, *_args: Any) -> None:
        request = connection.connection.info.get(_REQUEST_DEADLINE)
        self.watchdog.arm(connection.connection.dbapi_connection, self.statement_deadline(request))

    def statement_done(self, connection: sa.Connection, *_args: Any) -> None:
        if connection.closed or connection.invalidated:
            return
        request = connection.connection.info.get(_REQUEST_DEADLINE)
        self._rearm(connection.connection.dbapi_connection, request)

    def statement_failed(self, context: sa.engine.ExceptionContext) -> None:
        if context.connection is not None:  # a refused statement (a 409, ...) has ended too
            self.statement_done(context.connection)

    def forget(self, connection: Any, *_args: Any) -> None:
        # A closed connection's file descriptor may soon belong to another socket.
        if connection is not None:
            self.watchdog.disarm(connection)

    def _rearm(self, connection: Any, request: float | None) -> None:
        if request is None:
            self.watchdog.disarm(connection)
        else:
            self.watchdog.arm(connection, request)
