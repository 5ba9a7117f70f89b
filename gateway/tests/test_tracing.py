"""One trace across the gateway, foss, its call to licenses, and both services' SQL.

Both services run under gunicorn with OTEL_TRACES_EXPORTER=jsonl: their workers export
real spans to JSON-lines files, which the tests read. nginx has no OpenTelemetry module: it
forwards a client's well-formed traceparent and starts a trace for any other request.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import upstream_of
from helpers import foss_body, wait_for_log_line
from local_run import LocalRun, wait_for
from stack import GatewayProcess, ServiceProcess
from test_readme_curl import README_PORT, needs_curl, readme_block

SPAN_WAIT_SECONDS = 10


@dataclass
class TracedStack:
    foss: ServiceProcess
    licenses: ServiceProcess
    gateway: GatewayProcess
    client: httpx.Client
    traces: Path

    def spans(self, trace_id: str, *, until: Callable[[list[dict[str, Any]]], bool]) -> list[Any]:
        """The spans of ``trace_id`` both services exported, once ``until`` holds for them."""
        deadline = time.monotonic() + SPAN_WAIT_SECONDS
        while True:
            spans = [
                span
                for file in sorted(self.traces.glob("*.jsonl"))
                for span in map(json.loads, file.read_text().splitlines())
                if span["trace_id"] == trace_id
            ]
            if until(spans) or time.monotonic() > deadline:
                return spans
            time.sleep(0.1)


@pytest.fixture
def traced(
    make_service: Callable[..., ServiceProcess],
    make_gateway: Callable[..., GatewayProcess],
    tmp_path: Path,
) -> Iterator[TracedStack]:
    traces = tmp_path / "traces"
    tracing = {
        "OTEL_TRACES_EXPORTER": "jsonl",
        "FLUSK_TRACES_DIR": str(traces),
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    licenses = make_service("licenses", LOG_FORMAT="json", **tracing)
    foss = make_service(FOSS_LICENSES_URL=licenses.url, **tracing)
    gateway = make_gateway([upstream_of(foss), upstream_of(licenses)])
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        yield TracedStack(foss, licenses, gateway, client, traces)


def has_server_span(spans: list[dict[str, Any]]) -> bool:
    """The request's server span is in (its SQL spans, ended first, may come a batch before)."""
    return any(span["kind"] == "server" for span in spans)


def is_sql(span: dict[str, Any]) -> bool:
    return span["kind"] == "client" and any(key.startswith("db.") for key in span["attributes"])


def whole_trace(spans: list[dict[str, Any]]) -> bool:
    """foss's server, client and SQL spans and licenses' server and SQL spans are all in."""
    kinds = {(span["service"], "sql" if is_sql(span) else span["kind"]) for span in spans}
    return {
        ("foss", "server"),
        ("foss", "client"),
        ("foss", "sql"),
        ("licenses", "server"),
        ("licenses", "sql"),
    } <= kinds


def test_follow_request_across_services(traced: TracedStack) -> None:
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    response = traced.client.post(
        "/foss",
        json=foss_body(license="MIT"),
        headers={"traceparent": f"00-{trace_id}-{parent_id}-01", "tracestate": "vendor=1"},
    )
    assert response.status_code == 201, response.text

    spans = traced.spans(trace_id, until=whole_trace)
    assert whole_trace(spans), spans
    by_id = {span["span_id"]: span for span in spans}
    (foss,) = [s for s in spans if (s["service"], s["kind"]) == ("foss", "server")]
    (call,) = [
        s for s in spans if s["service"] == "foss" and s["kind"] == "client" and not is_sql(s)
    ]
    (licenses,) = [s for s in spans if (s["service"], s["kind"]) == ("licenses", "server")]
    assert foss["parent_span_id"] == parent_id  # the client's span, as the gateway forwarded it
    assert foss["name"] == "POST /foss"
    assert call["parent_span_id"] == foss["span_id"]
    assert licenses["parent_span_id"] == call["span_id"]
    assert licenses["name"] == "GET /licenses/<license:spdx_id>"
    for sql in filter(is_sql, spans):
        server = foss if sql["service"] == "foss" else licenses
        assert sql["parent_span_id"] == server["span_id"], sql
    assert any(s["name"].startswith("INSERT") for s in spans if s["service"] == "foss")
    assert foss["attributes"]["flusk.request_id"] == response.headers["X-Request-ID"]
    assert len(by_id) == len(spans)

    # Every line both services logged for the request carries the trace id, gunicorn's
    # access line (written after the span ended) too: foss logs text, licenses JSON.
    request_id = response.headers["X-Request-ID"]
    access = wait_for_log_line(traced.foss.log, f"request_id={request_id}")
    assert "gunicorn.access" in access
    assert f"trace_id={trace_id} span_id={foss['span_id']}" in access
    lines = [line for line in traced.foss.log.read_text().splitlines() if request_id in line]
    assert all(f"trace_id={trace_id}" in line for line in lines), lines

    wait_for_log_line(traced.licenses.log, f'"request_id": "{request_id}"')
    entries = [json.loads(line) for line in traced.licenses.log.read_text().splitlines()]
    mine = [entry for entry in entries if entry["request_id"] == request_id]
    assert "gunicorn.access" in {entry["logger"] for entry in mine}
    assert {(entry["trace_id"], entry["span_id"]) for entry in mine} == {
        (trace_id, licenses["span_id"])
    }


def test_trace_request_refused_before_its_view(traced: TracedStack) -> None:
    """A 415 from the body hook: a server span, and gunicorn's access line has its ids."""
    trace_id = secrets.token_hex(16)
    response = traced.client.post(
        "/foss",
        content=b"name=x",
        headers={
            "Content-Type": "text/plain",
            "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01",
        },
    )
    assert response.status_code == 415
    spans = traced.spans(trace_id, until=has_server_span)
    (server,) = [span for span in spans if span["kind"] == "server"]
    assert server["attributes"]["http.status_code"] == 415
    access = wait_for_log_line(traced.foss.log, f"request_id={response.headers['X-Request-ID']}")
    assert f"trace_id={trace_id} span_id={server['span_id']}" in access
    assert "span missing" not in traced.foss.log.read_text()


INVALID_TRACEPARENTS = [
    None,
    "garbage",
    f"00-{'0' * 32}-{'1' * 16}-01",  # an all-zero trace id is invalid
    f"00-{'A' * 32}-{'1' * 16}-01",  # upper case is not W3C
    f"00-{'a' * 32}-{'0' * 16}-01",  # nor an all-zero parent id
    f"ff-{'a' * 32}-{'1' * 16}-01",  # nor version ff
    f"00-{'a' * 32}-{'1' * 16}-01-extra",  # version 00 has four fields
    f"01-{'a' * 32}-{'1' * 16}-01extra",  # a later one's fifth follows a dash
]


def test_start_trace_for_request_without_valid_traceparent(traced: TracedStack) -> None:
    """The gateway's new trace id is its request id: one id to search logs and traces by."""
    for traceparent in INVALID_TRACEPARENTS:
        headers = {"traceparent": traceparent, "tracestate": "v=1"} if traceparent else {}
        response = traced.client.get("/foss", headers=headers)
        assert response.status_code == 200
        trace_id = response.headers["X-Request-ID"]
        assert len(trace_id) == 32

        spans = traced.spans(trace_id, until=has_server_span)
        (server,) = [span for span in spans if span["kind"] == "server"]
        assert server["service"] == "foss", traceparent
        assert server["parent_span_id"] == trace_id[16:], traceparent
        entry = json.loads(wait_for_log_line(traced.gateway.log, f'"request_id":"{trace_id}"'))
        assert entry["trace_id"] == trace_id, traceparent


def test_continue_trace_of_later_traceparent_version(traced: TracedStack) -> None:
    """A later version's first four fields are read as 00's (W3C): forwarded as it came."""
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    headers = {"traceparent": f"01-{trace_id}-{parent_id}-01-future-field"}
    response = traced.client.get("/foss", headers=headers)
    assert response.status_code == 200
    spans = traced.spans(trace_id, until=has_server_span)
    (server,) = [span for span in spans if span["kind"] == "server"]
    assert (server["service"], server["parent_span_id"]) == ("foss", parent_id)
    request_id = response.headers["X-Request-ID"]
    entry = json.loads(wait_for_log_line(traced.gateway.log, f'"request_id":"{request_id}"'))
    assert entry["trace_id"] == trace_id


def test_keep_client_request_id_beside_new_trace(traced: TracedStack) -> None:
    response = traced.client.get("/foss", headers={"X-Request-ID": "my-request-1"})
    assert response.headers["X-Request-ID"] == "my-request-1"
    entry = json.loads(wait_for_log_line(traced.gateway.log, '"request_id":"my-request-1"'))
    trace_id = entry["trace_id"]
    assert len(trace_id) == 32
    spans = traced.spans(trace_id, until=has_server_span)
    assert [
        span["attributes"]["flusk.request_id"] for span in spans if span["kind"] == "server"
    ] == ["my-request-1"]


def readme_lines(heading: str) -> list[str]:
    """The commands of the README's first ```sh block under ``heading``, comments left out."""
    lines = (line.split("#", 1)[0].strip() for line in readme_block(heading).splitlines())
    return [line for line in lines if line]


@needs_curl
@pytest.mark.skipif(shutil.which("jq") is None, reason="the README's example uses jq")
def test_follow_request_as_the_readme_shows(local_run: LocalRun) -> None:
    """`make run traces=1`, then the README's curl, jq and grep lines, as written."""
    make_run, curl, jq, grep = readme_lines("## Following a request")
    assert make_run == "make run traces=1"
    local_run.env["OTEL_TRACES_EXPORTER"] = "jsonl"  # what traces=1 sets (see the Makefile)
    local_run.start_serving()
    var = Path(local_run.env["FLUSK_VAR_DIR"])
    assert f"traces   {var / 'traces'}/<service>.jsonl" in local_run.output("stdout")

    def shell(line: str) -> subprocess.CompletedProcess[str]:
        line = line.replace(README_PORT, f"localhost:{local_run.env['GATEWAY_PORT']}")
        return subprocess.run(  # the README's line, in a folder whose var/ is the run's
            line, shell=True, cwd=var.parent, capture_output=True, text=True, check=False
        )

    headers = shell(curl).stdout
    assert headers.startswith("HTTP/1.1 201"), headers
    (trace_id,) = re.findall(r"(?im)^x-request-id: ([0-9a-f]{32})\r?$", headers)

    def both_traced() -> bool:
        spans = shell(jq.replace("<id>", trace_id))  # fails until the first file is written
        rows = (
            [json.loads(row) for row in spans.stdout.splitlines()] if not spans.returncode else []
        )
        kinds = {(service, kind) for service, kind, _name, _duration in rows}
        return {("foss", "server"), ("foss", "client"), ("licenses", "server")} <= kinds

    wait_for("both services' spans", both_traced, local_run.report)
    logged = shell(grep.replace("<id>", trace_id)).stdout.splitlines()
    assert any(f"trace_id={trace_id}" in line for line in logged), logged  # the services'
    assert any(f'"trace_id":"{trace_id}"' in line for line in logged), logged  # the gateway's


def test_export_spans_held_by_a_worker_when_it_stops(
    make_service: Callable[..., ServiceProcess], tmp_path: Path
) -> None:
    """gunicorn's worker_exit flushes the worker's spans: none waits for the next batch."""
    service = make_service(
        "licenses",
        OTEL_TRACES_EXPORTER="jsonl",
        FLUSK_TRACES_DIR=str(tmp_path / "traces"),
        OTEL_BSP_SCHEDULE_DELAY="600000",  # ten minutes: only the flush at exit exports
    )
    trace_id = secrets.token_hex(16)
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
    assert httpx.get(f"{service.url}/licenses", headers={"traceparent": traceparent}).is_success
    traces = tmp_path / "traces" / "licenses.jsonl"
    assert not traces.exists() or trace_id not in traces.read_text()

    assert service.stop() == 0
    spans = [json.loads(line) for line in traces.read_text().splitlines()]
    assert {span["kind"] for span in spans if span["trace_id"] == trace_id} == {"server", "client"}
