"""Traces: off (nothing imported) unless OTEL_* asks; then spans for requests, SQL and calls."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from flask import Flask

from flusk_common._errors import ConfigurationError
from flusk_common._logging import RequestIdFilter
from flusk_common._tracing import (
    SPAN_ID_KEY,
    TRACE_ID_KEY,
    exporter_names,
    service_of_app,
    shutdown_tracing,
    tracer_provider,
)

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"

Spans = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Spans]:
    """Tracing on, to JSON lines under ``tmp_path``; returns a reader of the exported spans."""
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "jsonl")
    monkeypatch.setenv("FLUSK_TRACES_DIR", str(tmp_path))

    def spans() -> list[dict[str, Any]]:
        provider = tracer_provider("sample_app")
        assert provider is not None
        provider.force_flush()
        file = tmp_path / "sample_app.jsonl"
        return [json.loads(line) for line in file.read_text().splitlines()] if file.exists() else []

    shutdown_tracing()
    yield spans
    shutdown_tracing()


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({}, ()),
        ({"OTEL_TRACES_EXPORTER": "none"}, ()),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, ()),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, ("otlp",)),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, ("otlp",)),
        ({"OTEL_TRACES_EXPORTER": " OTLP, jsonl,otlp"}, ("otlp", "jsonl")),
        ({"OTEL_TRACES_EXPORTER": "console"}, ("console",)),
    ],
)
def test_read_exporters_from_environment(environ: dict[str, str], names: tuple[str, ...]) -> None:
    assert exporter_names(environ) == names


@pytest.mark.parametrize(
    "environ",
    [
        {"OTEL_TRACES_EXPORTER": "zipkin"},
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"},
    ],
)
def test_refuse_unknown_exporter_or_protocol(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="OTEL_"):
        exporter_names(environ)


@pytest.mark.parametrize(
    ("wsgi_app", "service"),
    [("foss.wsgi:app", "foss"), ("licenses.wsgi", "licenses"), ("", None), (None, None)],
)
def test_name_service_of_gunicorn_app(wsgi_app: str | None, service: str | None) -> None:
    assert service_of_app(wsgi_app) == service


def _modules_after_request(environ: dict[str, str]) -> set[str]:
    """The OpenTelemetry modules a fresh process has imported after serving one request."""
    script = (
        "import sys\n"
        "from sample_app import create_app\n"
        "app = create_app({'DATABASE_URL': 'sqlite://'})\n"
        "assert app.test_client().get('/healthz').status_code == 200\n"
        "print(' '.join(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    tests = str(Path(__file__).parent)
    variables = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "FLUSK_TRACES"))
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**variables, "PYTHONPATH": tests, **environ},
        capture_output=True,
        text=True,
        check=True,
    )
    return set(result.stdout.split())


def test_import_nothing_of_opentelemetry_when_off() -> None:
    assert _modules_after_request({}) == set()
    assert _modules_after_request({"OTEL_TRACES_EXPORTER": "none"}) == set()


def test_import_opentelemetry_when_on(tmp_path: Path) -> None:
    modules = _modules_after_request(
        {"OTEL_TRACES_EXPORTER": "jsonl", "FLUSK_TRACES_DIR": str(tmp_path)}
    )
    assert {"opentelemetry.sdk.trace", "opentelemetry.instrumentation.flask"} <= modules


def test_no_provider_when_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    shutdown_tracing()
    assert tracer_provider("sample_app") is None


def test_continue_incoming_trace_with_sql_spans(
    traced: Spans, make_app: Callable[..., Flask], migrated_database_url: str
) -> None:
    app = make_app(DATABASE_URL=migrated_database_url, isolated=False)
    response = app.test_client().post(
        "/gadgets",
        json={"name": "lamp", "colour": "red"},
        headers={"traceparent": TRACEPARENT, "X-Request-ID": "traced-1"},
    )
    assert response.status_code == 201, response.json

    spans = [span for span in traced() if span["trace_id"] == TRACE_ID]
    (server,) = [span for span in spans if span["kind"] == "server"]
    assert server["parent_span_id"] == PARENT_ID
    assert server["name"] == "POST /gadgets"
    assert server["service"] == "sample_app"
    assert server["attributes"]["flusk.request_id"] == "traced-1"
    sql = [span for span in spans if span["kind"] == "client"]
    assert any(span["name"].startswith("INSERT") for span in sql), sql
    assert {span["parent_span_id"] for span in sql} == {server["span_id"]}


def test_start_trace_without_traceparent_and_skip_probes(
    traced: Spans, make_app: Callable[..., Flask]
) -> None:
    client = make_app().test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/healthz?probe=1").status_code == 200
    assert client.get("/gadgets").status_code == 200
    servers = [span for span in traced() if span["kind"] == "server"]
    assert [span["name"] for span in servers] == ["GET /gadgets"]
    assert servers[0]["parent_span_id"] is None
    assert len(servers[0]["trace_id"]) == 32


@pytest.mark.parametrize(
    ("request_args", "status"),
    [
        ({"method": "GET"}, 401),  # the API key hook refuses it
        ({"method": "POST", "data": "x", "content_type": "text/plain"}, 415),  # the body hook
    ],
    ids=["401", "415"],
)
def test_trace_request_refused_by_hook(
    traced: Spans,
    make_app: Callable[..., Flask],
    caplog: pytest.LogCaptureFixture,
    request_args: dict[str, Any],
    status: int,
) -> None:
    """The server span wraps every hook: a request one refuses is traced and logged as such."""
    app = make_app(API_KEYS="secret" if status == 401 else "")
    environs: list[dict[str, Any]] = []
    wsgi_app = app.wsgi_app

    def keep_environ(environ: dict[str, Any], start_response: Any) -> Any:
        environs.append(environ)
        return wsgi_app(environ, start_response)

    app.wsgi_app = keep_environ  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING):
        response = app.test_client().open(
            "/gadgets", headers={"traceparent": TRACEPARENT}, **request_args
        )
    assert response.status_code == status
    (server,) = [span for span in traced() if span["kind"] == "server"]
    assert (server["trace_id"], server["parent_span_id"]) == (TRACE_ID, PARENT_ID)
    assert server["attributes"]["http.status_code"] == status
    # What gunicorn's access line reads its trace ids from.
    (environ,) = environs
    assert (environ[TRACE_ID_KEY], environ[SPAN_ID_KEY]) == (TRACE_ID, server["span_id"])
    assert not [record for record in caplog.records if "span missing" in record.getMessage()]


def test_trace_request_naming_a_probe_in_its_query(
    traced: Spans, make_app: Callable[..., Flask]
) -> None:
    """Probes are left out by their path alone, never by what the query string says."""
    client = make_app().test_client()
    client.get("/gadgets?cursor=/healthz")
    client.get("/gadgets/metrics")
    servers = [span for span in traced() if span["kind"] == "server"]
    assert [span["attributes"]["http.target"] for span in servers] == [
        "/gadgets?cursor=/healthz",
        "/gadgets/metrics",
    ]


def test_carry_trace_to_called_service(traced: Spans, make_app: Callable[..., Flask]) -> None:
    sent: list[httpx.Request] = []

    def peer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"ok": True})

    app = make_app(SERVICE_TRANSPORTS={"peer": httpx.MockTransport(peer)})
    response = app.test_client().post(
        "/widgets/relay",
        json={"method": "GET", "path": "/things"},
        headers={"traceparent": TRACEPARENT},
    )
    assert response.status_code == 200

    version, trace_id, parent_id, flags = sent[0].headers["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", TRACE_ID, "01")
    spans = {span["span_id"]: span for span in traced()}
    call = spans[parent_id]  # the called service's parent is the client span
    assert (call["kind"], call["trace_id"]) == ("client", TRACE_ID)
    assert spans[call["parent_span_id"]]["kind"] == "server"


Relay = Callable[[dict[str, str]], httpx.Request]


@pytest.fixture
def relay_untraced(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> Relay:
    """Tracing off; sends a request with the given headers through an app that calls ``peer``
    and returns the call as the peer received it (the request answered 200)."""
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    shutdown_tracing()
    sent: list[httpx.Request] = []

    def peer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    app = make_app(SERVICE_TRANSPORTS={"peer": httpx.MockTransport(peer)})

    def relay(headers: dict[str, str]) -> httpx.Request:
        response = app.test_client().post(
            "/widgets/relay", json={"method": "GET", "path": "/things"}, headers=headers
        )
        assert response.status_code == 200
        assert tracer_provider("sample_app") is None
        return sent.pop()

    return relay


def test_pass_trace_on_as_it_came_when_off(relay_untraced: Relay) -> None:
    """A service that does not trace keeps its callers' and callees' spans in one trace."""
    sent = relay_untraced({"traceparent": TRACEPARENT, "tracestate": "vendor=1"})
    assert (sent.headers["traceparent"], sent.headers["tracestate"]) == (TRACEPARENT, "vendor=1")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("traceparent", f"00-{TRACE_ID}-{PARENT_ID}-01\xe9"),
        ("traceparent", f"00-{'0' * 32}-{PARENT_ID}-01"),
        ("traceparent", f"00-{TRACE_ID}-{PARENT_ID}-01-extra"),
        ("traceparent", f"ff-{TRACE_ID}-{PARENT_ID}-01"),
        ("tracestate", "vendor=\xe9t\xe9"),
        ("tracestate", "vendor=" + "x" * 510),
    ],
)
def test_drop_unusable_trace_header_when_off(name: str, value: str, relay_untraced: Relay) -> None:
    """A header httpx cannot send (not ASCII) or the W3C refuses is not passed on: no 500."""
    headers = {"traceparent": TRACEPARENT, "tracestate": "vendor=1", name: value}
    sent = relay_untraced(headers)
    assert name not in sent.headers
    kept = "tracestate" if name == "traceparent" else "traceparent"
    assert sent.headers[kept] == headers[kept]


def test_pass_later_traceparent_version_on_when_off(relay_untraced: Relay) -> None:
    """A later version's first four fields are those of 00 (W3C): it goes on as it came."""
    later = f"01-{TRACE_ID}-{PARENT_ID}-01-future"
    assert relay_untraced({"traceparent": later}).headers["traceparent"] == later


def _record(args: Any = None) -> logging.LogRecord:
    return logging.LogRecord("test", logging.INFO, __file__, 1, "message", args, None)


@pytest.mark.usefixtures("traced")
def test_stamp_log_records_with_trace_ids(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    text, as_json = RequestIdFilter("text"), RequestIdFilter("json")
    records: list[logging.LogRecord] = []

    @app.get("/logged")
    def logged() -> dict[str, Any]:
        records.extend([_record(), _record()])
        text.filter(records[0])
        as_json.filter(records[1])
        return {}

    app.test_client().get("/logged", headers={"traceparent": TRACEPARENT})
    assert records[0].trace_ids.startswith(f" trace_id={TRACE_ID} span_id=")
    assert records[1].trace_id == TRACE_ID  # type: ignore[attr-defined]
    assert len(records[1].span_id) == 16  # type: ignore[attr-defined]
    assert records[0].trace_ids.endswith(records[1].span_id)  # type: ignore[attr-defined]


def test_stamp_access_log_record_from_environ() -> None:
    """gunicorn's access line is logged after the span ended: its ids are in its atoms."""
    atoms = {f"{{{TRACE_ID_KEY}}}e": TRACE_ID, f"{{{SPAN_ID_KEY}}}e": PARENT_ID}
    record = _record(atoms)
    RequestIdFilter("text").filter(record)
    assert record.trace_ids == f" trace_id={TRACE_ID} span_id={PARENT_ID}"
    record = _record(atoms)
    RequestIdFilter("json").filter(record)
    assert (record.trace_id, record.span_id) == (TRACE_ID, PARENT_ID)  # type: ignore[attr-defined]


def test_leave_log_records_alone_without_trace() -> None:
    record = _record()
    RequestIdFilter("text").filter(record)
    assert record.trace_ids == ""
    record = _record()
    RequestIdFilter("json").filter(record)
    assert not hasattr(record, "trace_id")


class _Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver: keeps each export request's path, type and body."""

    received: ClassVar[list[tuple[str, str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return None


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, bytes]]]:
    """A collector on a loopback port, which OTEL_EXPORTER_OTLP_ENDPOINT names (alone)."""
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "widgets")
    _Collector.received = []
    shutdown_tracing()
    yield _Collector.received
    shutdown_tracing()
    server.shutdown()
    server.server_close()
    thread.join()


def test_export_over_otlp_http(
    collector: list[tuple[str, str, bytes]], make_app: Callable[..., Flask]
) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    app = make_app()
    assert (
        app.test_client().get("/gadgets", headers={"traceparent": TRACEPARENT}).status_code == 200
    )
    provider = tracer_provider("sample_app")
    assert provider is not None
    assert provider.force_flush()

    (path, content_type, body), *_ = collector
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    export = ExportTraceServiceRequest.FromString(body)
    resource = export.resource_spans[0].resource
    names = {a.key: a.value.string_value for a in resource.attributes}
    assert names["service.name"] == "widgets"  # OTEL_SERVICE_NAME over the service's name
    spans = [span for scope in export.resource_spans[0].scope_spans for span in scope.spans]
    assert {span.trace_id.hex() for span in spans} == {TRACE_ID}
    assert "GET /gadgets" in {span.name for span in spans}
