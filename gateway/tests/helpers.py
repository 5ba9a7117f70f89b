"""Assertions and payloads shared by the gateway tests."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "request_id"}
GENERATED_REQUEST_ID = re.compile(r"[0-9a-f]{32}")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


def foss_body(**fields: Any) -> dict[str, Any]:
    """A valid foss record with an email no other test uses."""
    return {"name": "Ada Lovelace", "email": f"ada-{uuid.uuid4().hex}@example.org", **fields}


def create_foss(client: httpx.Client, **headers: str) -> httpx.Response:
    return client.post("/foss", json=foss_body(), headers=headers)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """``response`` is problem+json for ``status`` and ``code``, carrying its request id."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert PROBLEM_FIELDS <= body.keys() <= PROBLEM_FIELDS | {"errors"}
    assert (body["status"], body["code"]) == (status, code)
    assert body["type"] == f"urn:flusk:problem:{code}"
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def assert_security_headers(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get_list(name) == [value], name
    assert response.headers["Server"] == "nginx"


def wait_for_log_line(log: Path, needle: str) -> str:
    """The first line of ``log`` containing ``needle``, waiting for it to be written."""
    for _ in range(100):
        for line in log.read_text().splitlines():
            if needle in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} never appeared in {log}")
