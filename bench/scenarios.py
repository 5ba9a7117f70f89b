"""What is measured: each scenario, the apps it runs against, and the URL each is sent."""

from __future__ import annotations

import dataclasses
import json
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from .load import Load

READ_ROWS = 1_000
PAGE_SIZE = 20
# Flusk's services and the two baselines, in the order they are run and drawn.
APPS = ("foss", "traced", "gateway", "flask", "wsgi")
APP_TITLES = {
    "foss": "Flusk foss, direct",
    "traced": "Flusk foss, traced",  # OTEL_TRACES_EXPORTER=jsonl: every span to a file
    "gateway": "Flusk foss, via gateway",
    "flask": "bare Flask + ORM",
    "wsgi": "raw WSGI + DB-API",
}


def foss_cursor(after: int) -> str:
    """foss's cursor for the page after id ``after``: the key, as text."""
    return str(after)


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    label: str  # the chart's, on two lines
    # "read": the table holds READ_ROWS rows; "pages": it holds the plan's page_rows.
    table: str
    apps: tuple[str, ...]
    load: Callable[[str, str, int], Load]  # (app, base URL, rows in the table) -> Load

    def load_for(self, app: str, base_url: str, rows: int, label: str) -> Load:
        """The load of one run on ``app``; every run of creates makes emails of its own."""
        load = self.load(app, base_url, rows)
        if self.name == "create":
            prefix = f"{label}-{app}-{time.time_ns()}"
            load = dataclasses.replace(load, arguments=(*load.arguments, prefix))
        return load

    def check(self, app: str, base_url: str, rows: int) -> None:
        """One request as the load sends it, answered as expected (and a warm-up)."""
        load = self.load(app, base_url, rows)
        if self.name == "create":
            body = json.dumps({"name": "Check", "email": f"check-{app}@example.org"}).encode()
            request = urllib.request.Request(  # noqa: S310
                load.url, body, {"Content-Type": "application/json"}, method="POST"
            )
            expected = 201
        else:
            url = f"{load.url}/1" if self.name == "read" else load.url
            request = urllib.request.Request(url)  # noqa: S310
            expected = 200
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            answer = json.loads(response.read())
            if response.status != expected:
                raise RuntimeError(f"{self.name} on {app}: {response.status}, not {expected}")
        if self.name.endswith("page") and len(answer["items"]) != PAGE_SIZE:
            raise RuntimeError(f"{self.name} on {app}: {len(answer['items'])} items")


def _read(app: str, base_url: str, rows: int) -> Load:
    return Load(f"{base_url}/foss", "foss.lua", ("read", str(rows)))


def _first_page(app: str, base_url: str, rows: int) -> Load:
    return Load(f"{base_url}/foss")


def _deep_page(app: str, base_url: str, rows: int) -> Load:
    """The page starting 50 rows before the end: a full page, and a next one after it."""
    after = rows - 50
    query = f"cursor={foss_cursor(after)}" if app in ("foss", "gateway") else f"after={after}"
    return Load(f"{base_url}/foss?{query}")


def _create(app: str, base_url: str, rows: int) -> Load:
    return Load(f"{base_url}/foss", "foss.lua", ("create",))


_DIRECT = ("foss", "flask", "wsgi")
SCENARIOS = (
    Scenario("read", "GET /foss/<random id>", "GET /foss/<id>\nrandom id", "read", APPS, _read),
    Scenario("create", "POST /foss", "POST /foss\nnew record", "read", _DIRECT, _create),
    Scenario(
        "first_page",
        "GET /foss, first page",
        "GET /foss\nfirst page",
        "pages",
        _DIRECT,
        _first_page,
    ),
    Scenario(
        "deep_page",
        "GET /foss, page near the end",
        "GET /foss?cursor=\npage near the end",
        "pages",
        _DIRECT,
        _deep_page,
    ),
)
