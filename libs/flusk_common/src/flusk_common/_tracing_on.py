"""What tracing does once it is on (see ``_tracing``); importing this imports OpenTelemetry."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import httpx
from flask import Flask
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.instrumentation.sqlalchemy.version import (
    __version__ as sqlalchemy_instrumentation,
)
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Span, format_span_id, format_trace_id
from sqlalchemy.engine import Engine

from ._client import service_clients
from ._database import get_database
from ._request_id import current_request_id
from ._span_file import JsonLinesSpanExporter
from ._tracing import PROBE_URLS, SPAN_ID_KEY, TRACE_ID_KEY, traces_file


def new_provider(
    service: str, environ: Mapping[str, str], names: tuple[str, ...], *, set_global: bool
) -> TracerProvider:
    """A provider exporting through each of ``names``, in batches, from a thread of its own."""
    # OTEL_SERVICE_NAME, when set, names the service instead (Resource.create reads it).
    attributes = {} if environ.get("OTEL_SERVICE_NAME") else {"service.name": service}
    provider = TracerProvider(resource=Resource.create(attributes), shutdown_on_exit=False)
    for name in names:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name, service, environ)))
    if set_global:  # for a service's own spans: trace.get_tracer(__name__)
        trace.set_tracer_provider(provider)
    return provider


def _exporter(name: str, service: str, environ: Mapping[str, str]) -> SpanExporter:
    if name == "otlp":
        return OTLPSpanExporter()  # endpoint, headers, timeout: OTEL_EXPORTER_OTLP_*
    if name == "console":
        return ConsoleSpanExporter()
    return JsonLinesSpanExporter(traces_file(service, environ))


def instrument_app(app: Flask, provider: TracerProvider) -> None:
    """Server spans for ``app``'s requests, SQL spans for its engine, client spans for calls."""
    FlaskInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        request_hook=_on_server_span,
        excluded_urls=None if os.environ.get("OTEL_PYTHON_FLASK_EXCLUDED_URLS") else PROBE_URLS,
        enable_commenter=False,
    )
    # The instrumentation starts the server span in a before_request hook it appends last:
    # a request an earlier hook refuses (401, 415, 400) would get no span, and its log lines
    # no trace ids. Moved first, the span wraps every hook, and the view, error handlers and
    # teardown run inside it. (OpenTelemetry's WSGI middleware would wrap them too, but
    # without Flask's route in the span's name.)
    hooks = app.before_request_funcs[None]
    hooks.insert(0, hooks.pop(hooks.index(app._before_request)))  # type: ignore[attr-defined]
    instrument_engine(get_database(app).engine, provider)
    for client in service_clients(app):
        instrument_client(client.http, provider)


def instrument_engine(engine: Engine, provider: TracerProvider) -> None:
    """One span per SQL statement of ``engine`` (and of its execution-option variants)."""
    tracer = provider.get_tracer(
        "opentelemetry.instrumentation.sqlalchemy", sqlalchemy_instrumentation
    )
    meter = NoOpMeterProvider().get_meter("flusk")
    EngineTracer(tracer, engine, meter.create_up_down_counter("db.client.connections.usage"))


def instrument_client(client: httpx.Client, provider: TracerProvider) -> None:
    """A client span per call, and the trace carried on in ``traceparent``."""
    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)


def _on_server_span(span: Span, environ: dict[str, Any]) -> None:
    context = span.get_span_context()
    if context.is_valid:
        environ[TRACE_ID_KEY] = format_trace_id(context.trace_id)
        environ[SPAN_ID_KEY] = format_span_id(context.span_id)
    request_id = current_request_id()
    if request_id is not None:
        span.set_attribute("flusk.request_id", request_id)


def current_ids() -> tuple[str, str] | None:
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format_trace_id(context.trace_id), format_span_id(context.span_id)
