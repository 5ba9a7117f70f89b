"""Assertions and payloads shared by the gateway tests."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

# Lines a test wants in the run's summary (the fuzzer's report), shown even when it passes.
SUMMARY = pytest.StashKey[list[str]]()

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


@dataclass
class RawResponse:
    """An answer read off a raw socket: status, headers (names lowercased) and body."""

    status: int
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


def send_raw(
    url: str, data: bytes, *, pause: float = 0, rest: bytes = b"", timeout: float = 10
) -> bytes:
    """Send ``data`` (then ``rest`` after ``pause`` seconds) and read until the server closes."""
    host, _, port = url.removeprefix("http://").partition(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        connection.sendall(data)
        if pause:
            time.sleep(pause)
        if rest:
            # The server may have answered and closed already.
            with contextlib.suppress(OSError):
                connection.sendall(rest)
        received = bytearray()
        while True:
            try:
                chunk = connection.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    return bytes(received)


def parse_responses(data: bytes) -> list[RawResponse]:
    """Every HTTP/1.x response in ``data``, in order (bodies delimited by Content-Length)."""
    responses = []
    while data:
        head, separator, data = data.partition(b"\r\n\r\n")
        assert separator, f"an incomplete answer: {head!r}"
        status_line, *lines = head.decode("latin-1").split("\r\n")
        assert re.fullmatch(r"HTTP/1\.1 [1-5][0-9]{2}( .*)?", status_line), status_line
        headers: dict[str, list[str]] = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers.setdefault(name.lower(), []).append(value.strip())
        length = int(headers.get("content-length", ["0"])[0])
        responses.append(RawResponse(int(status_line.split()[1]), headers, data[:length]))
        data = data[length:]
    return responses


def raw_request(url: str, data: bytes, **options: Any) -> RawResponse:
    """The one answer to ``data`` sent raw (the request should ask to close the connection)."""
    responses = parse_responses(send_raw(url, data, **options))
    assert len(responses) == 1, responses
    return responses[0]


def assert_raw_problem(response: RawResponse, status: int, code: str) -> dict[str, Any]:
    """Like ``assert_problem`` for an answer read off a raw socket."""
    assert response.status == status, response
    assert (response.header("content-type") or "").startswith("application/problem+json")
    body: dict[str, Any] = json.loads(response.body)
    assert PROBLEM_FIELDS <= body.keys() <= PROBLEM_FIELDS | {"errors"}
    assert (body["status"], body["code"]) == (status, code)
    assert body["type"] == f"urn:flusk:problem:{code}"
    assert body["request_id"] == response.header("x-request-id")
    return body
