"""The request deadline: how long a request may wait on the database and other services.

Set when a request starts (``REQUEST_DEADLINE`` seconds on), read by every wait that could
outlast it: a call to another service takes at most the time left, and so do a database
statement, a pool checkout and a connect (see ``_client`` and ``_database``). The limits
nest, each below the next, so the innermost one answers first::

    DATABASE_STATEMENT_TIMEOUT < REQUEST_DEADLINE < GUNICORN_TIMEOUT < the gateway's read timeout
"""

from __future__ import annotations

import time

from flask import Flask, current_app, g, has_request_context


def time_left() -> float | None:
    """Seconds left before the current request's deadline; ``None`` outside a request."""
    if not has_request_context() or "flusk_deadline" not in g:
        return None
    deadline: float = g.flusk_deadline
    return deadline - time.monotonic()


def _start_clock() -> None:
    g.flusk_deadline = time.monotonic() + current_app.config["REQUEST_DEADLINE"]


def init_deadline(app: Flask) -> None:
    """Start each request's clock before any other hook runs."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start_clock)
