"""Simultaneous writes on a real database: one winner per unique name, and no lock errors."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask

from database_helpers import MakeApp, real_app, stored
from sample_app.models import Widget

THREADS = 20


def _send_together(
    app: Flask, method: str, path: str, body_of: Callable[[int], dict[str, Any]]
) -> Counter[int]:
    """Send ``THREADS`` requests at once, each thread with its own client; count the statuses."""
    barrier = threading.Barrier(THREADS)

    def send(index: int) -> int:
        client = app.test_client()
        barrier.wait()
        return client.open(path, method=method, json=body_of(index)).status_code

    with ThreadPoolExecutor(THREADS) as pool:
        return Counter(pool.map(send, range(THREADS)))


def test_create_same_widget_concurrently_once(make_app: MakeApp, fresh_database_url: str) -> None:
    app = real_app(make_app, fresh_database_url)

    statuses = _send_together(app, "POST", "/widgets", lambda _index: {"name": "same"})

    assert statuses == {201: 1, 409: THREADS - 1}
    assert stored(app, Widget.name) == ["same"]


def test_create_different_widgets_concurrently(make_app: MakeApp, fresh_database_url: str) -> None:
    app = real_app(make_app, fresh_database_url)

    statuses = _send_together(app, "POST", "/widgets", lambda index: {"name": f"widget {index}"})

    assert statuses == {201: THREADS}
    assert sorted(stored(app, Widget.name)) == sorted(f"widget {index}" for index in range(THREADS))


def test_update_same_widget_concurrently(make_app: MakeApp, fresh_database_url: str) -> None:
    """Each update reads before it writes: SQLite must not refuse one as 'database is locked'."""
    app = real_app(make_app, fresh_database_url)
    path = app.test_client().post("/widgets", json={"name": "shared"}).headers["Location"]

    statuses = _send_together(app, "PATCH", path, lambda index: {"price": index})

    assert statuses == {200: THREADS}
    assert stored(app, Widget.price)[0] in range(THREADS)
