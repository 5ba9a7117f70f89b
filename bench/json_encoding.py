"""JSON encoding: Flusk's orjson provider against Flask's default provider, side by side.

Encodes a typical list response (100 records with datetimes) many times with each and
prints the time of each and their ratio. Run with `make bench`.
"""

from __future__ import annotations

import timeit
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from flusk_common._json import OrjsonProvider

ROUNDS = 2_000


def sample_page() -> dict[str, Any]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    items = [
        {
            "id": index,
            "name": f"Maintainer {index}",
            "email": f"maintainer{index}@example.org",
            "created_at": start + timedelta(minutes=index),
            "updated_at": start + timedelta(minutes=index, seconds=30),
        }
        for index in range(100)
    ]
    return {"items": items, "next_cursor": "WzEwMF0"}


def main() -> None:
    app = Flask(__name__)
    page = sample_page()
    providers = {"flask default": DefaultJSONProvider(app), "flusk orjson": OrjsonProvider(app)}
    timings = {
        name: min(timeit.repeat(lambda p=provider: p.dumps(page), number=ROUNDS, repeat=5))
        for name, provider in providers.items()
    }
    baseline = timings["flask default"]
    for name, seconds in timings.items():
        per_call = seconds / ROUNDS * 1e6
        ratio = baseline / seconds
        print(f"{name:14} {per_call:8.1f} µs per page   x{ratio:5.1f} vs flask default")  # noqa: T201


if __name__ == "__main__":
    main()
