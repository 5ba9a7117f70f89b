"""The raw floor: a WSGI callable over DB-API (sqlite3 or psycopg), no framework at all.

One connection per worker process, one statement per request (one round trip to the
database), orjson for the body. It shows what Python itself costs; nothing a service
needs beyond that (errors, validation, logging) is here. Served by gunicorn with 2 sync
workers: ``gunicorn -w 2 bench.baseline_wsgi:app`` with ``DATABASE_URL`` set.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import orjson

PAGE_SIZE = 20
COLUMNS = ("id", "name", "email", "license", "created_at", "updated_at")
SELECT = "SELECT id, name, email, license, created_at, updated_at FROM foss"
ITEM_PATH = re.compile(r"/foss/([0-9]{1,18})")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class Database:
    """The worker's one connection, opened on first use (after gunicorn forks)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._connection: Any = None

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def placeholder(self) -> str:
        return "?" if self.is_sqlite else "%s"

    def connection(self) -> Any:
        if self._connection is None:
            if self.is_sqlite:
                path = self.url.split("///", 1)[1]
                self._connection = sqlite3.connect(path, isolation_level=None)
            else:
                import psycopg  # noqa: PLC0415 - only on PostgreSQL

                dsn = self.url.replace("postgresql+psycopg://", "postgresql://")
                self._connection = psycopg.connect(dsn, autocommit=True)
        return self._connection

    def fetch(self, sql: str, parameters: tuple[Any, ...]) -> list[dict[str, Any]]:
        rows = self.connection().execute(sql.replace("?", self.placeholder), parameters)
        return [dict(zip(COLUMNS, row, strict=True)) for row in rows.fetchall()]


database = Database(os.environ["DATABASE_URL"])


def respond(start_response: StartResponse, status: str, body: object) -> Iterable[bytes]:
    payload = orjson.dumps(body)
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    start_response(status, headers)
    return [payload]


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    item = ITEM_PATH.fullmatch(path)
    if method == "GET" and item:
        rows = database.fetch(f"{SELECT} WHERE id = ?", (int(item.group(1)),))
        if not rows:
            return respond(start_response, "404 Not Found", {"error": "not found"})
        return respond(start_response, "200 OK", rows[0])
    if method == "GET" and path == "/foss":
        after = int(parse_qs(environ.get("QUERY_STRING", "")).get("after", ["0"])[0])
        rows = database.fetch(f"{SELECT} WHERE id > ? ORDER BY id LIMIT ?", (after, PAGE_SIZE + 1))
        page = rows[:PAGE_SIZE]
        next_after = page[-1]["id"] if len(rows) > PAGE_SIZE else None
        return respond(start_response, "200 OK", {"items": page, "next_after": next_after})
    if method == "POST" and path == "/foss":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        data = orjson.loads(environ["wsgi.input"].read(length))
        now = datetime.now(UTC)
        rows = database.fetch(
            "INSERT INTO foss (name, email, created_at, updated_at) VALUES (?, ?, ?, ?)"
            " RETURNING id, name, email, license, created_at, updated_at",
            (data["name"], data["email"].lower(), now, now),
        )
        return respond(start_response, "201 Created", rows[0])
    return respond(start_response, "404 Not Found", {"error": "not found"})
