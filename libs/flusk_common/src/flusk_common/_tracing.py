"""Traces with OpenTelemetry: off unless the ``OTEL_*`` variables ask for them, free when off.

Tracing is on when ``OTEL_TRACES_EXPORTER`` names exporters (``otlp``, ``console``, or our
``jsonl``: one JSON line per span in ``FLUSK_TRACES_DIR/<service>.jsonl``), or when only
an OTLP endpoint is given (``OTEL_EXPORTER_OTLP_ENDPOINT``); ``OTEL_SDK_DISABLED=true``
or ``OTEL_TRACES_EXPORTER=none`` turn it off. When off, not one OpenTelemetry module is
imported. When on, each process gets one tracer provider, made in the process that uses
it: a gunicorn worker makes its own after the fork (``gunicorn_conf.post_fork``; a
provider inherited from a parent is never used) and flushes it as it exits
(``worker_exit``). The other standard variables (sampler, batch delays, OTLP endpoint,
headers and timeouts, ``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``,
``OTEL_PROPAGATORS``) are read by OpenTelemetry itself.

An app is instrumented by ``init_tracing``: its requests continue the caller's W3C
``traceparent`` (Flask instrumentation), its SQL statements are spans (SQLAlchemy), and its
calls to other services carry the trace on (httpx). The server span's trace and span ids
are put in the WSGI environ too, where gunicorn's access line finds them after the span
has ended (see ``_logging``).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ._errors import ConfigurationError

if TYPE_CHECKING:
    from types import ModuleType

    from flask import Flask
    from opentelemetry.sdk.trace import TracerProvider
    from werkzeug.datastructures import Headers

EXPORTERS = frozenset({"otlp", "console", "jsonl"})
TRACE_ID_KEY = "flusk.trace_id"  # in the WSGI environ; gunicorn's access log atom {...}e
SPAN_ID_KEY = "flusk.span_id"
DEFAULT_TRACES_DIR = "var/traces"
# Probes are polled every few seconds by orchestrators: no trace each time. OpenTelemetry
# searches the whole URL (query string too) with this: it names the path after the host.
PROBE_URLS = r"^[a-z][a-z0-9+.-]*://[^/?#]+/(?:healthz|readyz|metrics)(?:\?|$)"
# The W3C forms passed on untraced (the gateway's maps say the same): a traceparent of
# version 00 exactly, or of a later version (not ff) whose first four fields are 00's,
# then anything after a dash; a tracestate of printable ASCII, at most 512 characters.
_TRACE_IDS = r"(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}"
_TRACE_HEADER_FORMS = {
    "traceparent": re.compile(f"00-{_TRACE_IDS}|(?!00|ff)[0-9a-f]{{2}}-{_TRACE_IDS}(?:-[!-~]*)?"),
    "tracestate": re.compile(r"[ -~]{1,512}"),
}
_OTLP_PROTOCOLS = frozenset({"http/protobuf"})


class _State:
    pid: int | None = None
    provider: TracerProvider | None = None
    global_set = False


_state = _State()
_lock = threading.Lock()


def exporter_names(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The exporters the environment asks for; none when tracing is off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return ()
    raw = environ.get("OTEL_TRACES_EXPORTER", "")
    names = tuple(dict.fromkeys(name.strip().lower() for name in raw.split(",") if name.strip()))
    if not names:
        endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        return ("otlp",) if endpoint else ()
    if names == ("none",):
        return ()
    unknown = [name for name in names if name not in EXPORTERS]
    if unknown:
        raise ConfigurationError(
            f"OTEL_TRACES_EXPORTER={raw!r}: {', '.join(unknown)} is not one of "
            f"{', '.join(sorted(EXPORTERS))} or none"
        )
    if "otlp" in names:
        for variable in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
            protocol = environ.get(variable)
            if protocol and protocol not in _OTLP_PROTOCOLS:
                raise ConfigurationError(f"{variable}={protocol!r}: only http/protobuf is built in")
    return names


def traces_file(service: str, environ: Mapping[str, str]) -> Path:
    """Where the ``jsonl`` exporter writes ``service``'s spans."""
    return Path(environ.get("FLUSK_TRACES_DIR") or DEFAULT_TRACES_DIR) / f"{service}.jsonl"


def tracer_provider(
    service: str, environ: Mapping[str, str] | None = None
) -> TracerProvider | None:
    """This process's tracer provider, made on first use; ``None`` when tracing is off."""
    pid = os.getpid()
    if _state.pid == pid:
        return _state.provider
    environ = os.environ if environ is None else environ
    with _lock:
        if _state.pid != pid:
            names = exporter_names(environ)
            _state.provider = None
            if names:
                _state.provider = _on().new_provider(
                    service, environ, names, set_global=not _state.global_set
                )
                _state.global_set = True
            _state.pid = pid
    return _state.provider


def tracing_on() -> bool:
    """Whether this process traces (its provider is made, so it is on)."""
    return _state.provider is not None and _state.pid == os.getpid()


def shutdown_tracing() -> None:
    """Export what is left and stop this process's provider; the next use makes a new one."""
    with _lock:
        provider, pid = _state.provider, _state.pid
        _state.provider, _state.pid = None, None
    if provider is not None and pid == os.getpid():
        provider.shutdown()


def init_tracing(app: Flask, service: str) -> None:
    """Instrument ``app``, its database engine and its service clients, if tracing is on."""
    provider = tracer_provider(service)
    if provider is not None:
        _on().instrument_app(app, provider)


def current_trace_ids() -> tuple[str, str] | None:
    """The (trace id, span id) of the span in progress, in hex; ``None`` without one."""
    if not tracing_on():
        return None
    ids: tuple[str, str] | None = _on().current_ids()
    return ids


def forwardable_trace_headers(headers: Headers | Mapping[str, str]) -> dict[str, str]:
    """The W3C trace headers of ``headers`` in their forms: anything else is not sent on."""
    return {
        name: value
        for name, form in _TRACE_HEADER_FORMS.items()
        if (value := headers.get(name)) and form.fullmatch(value)
    }


def _on() -> ModuleType:
    from . import _tracing_on  # noqa: PLC0415 - OpenTelemetry is imported only when tracing is on

    return _tracing_on


def worker_started(service: str | None) -> None:
    """gunicorn's ``post_fork``: the worker's own provider, before its app is loaded."""
    if service:
        tracer_provider(service)


def service_of_app(wsgi_app: str | None) -> str | None:
    """The service of a ``<service>.wsgi:app`` gunicorn loads (``OTEL_SERVICE_NAME`` aside)."""
    return wsgi_app.partition(".")[0].partition(":")[0] or None if wsgi_app else None
