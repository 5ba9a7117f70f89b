"""A service's own output under gunicorn: with LOG_FORMAT=json, every line is JSON.

gunicorn's lines too (start-up, access log, shutdown), each carrying the request id.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx

from helpers import wait_for_log_line
from stack import ServiceProcess, migrate


def test_log_every_line_as_json_with_request_id(database_url: str, tmp_path: Path) -> None:
    migrate("foss", database_url)
    log = tmp_path / "foss.log"
    service = ServiceProcess("foss", database_url, log, env={"LOG_FORMAT": "json"}).start()
    request_id = f"log-{uuid.uuid4()}"
    try:
        response = httpx.get(f"{service.url}/foss", headers={"X-Request-ID": request_id})
        wait_for_log_line(log, f'"request_id": "{request_id}"')
    finally:
        service.stop()

    entries = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    access = [entry for entry in entries if entry["logger"] == "gunicorn.access"]
    loggers = {entry["logger"] for entry in entries}
    assert response.status_code == 200
    assert {"gunicorn.error", "gunicorn.access"} <= loggers
    assert any("Listening at" in entry["message"] for entry in entries)
    assert [entry["request_id"] for entry in access if "GET /foss" in entry["message"]] == [
        request_id
    ]
    assert all("request_id" in entry for entry in entries)
