"""``OTEL_TRACES_EXPORTER=jsonl``: spans as JSON lines in a file, to read with jq or grep.

Each span is one line: ``{"trace_id", "span_id", "parent_span_id", "name", "kind",
"service", "start", "duration_ms", "status", "attributes"}``. Several processes (gunicorn's
workers) append to the same file: each batch is one ``write`` to a file opened with
``O_APPEND``, which the kernel never interleaves with another's.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import format_span_id, format_trace_id


def span_record(span: ReadableSpan) -> dict[str, Any]:
    """The JSON object of one finished span."""
    context = span.context
    start = span.start_time or 0
    end = span.end_time or start
    return {
        "trace_id": format_trace_id(context.trace_id) if context else None,
        "span_id": format_span_id(context.span_id) if context else None,
        "parent_span_id": format_span_id(span.parent.span_id) if span.parent else None,
        "name": span.name,
        "kind": span.kind.name.lower(),
        "service": span.resource.attributes.get("service.name"),
        "start": datetime.fromtimestamp(start / 1e9, UTC).isoformat(timespec="microseconds"),
        "duration_ms": round((end - start) / 1e6, 3),
        "status": span.status.status_code.name.lower(),
        "attributes": dict(span.attributes or {}),
    }


class JsonLinesSpanExporter(SpanExporter):
    """Appends each span to ``path`` as one JSON line (the folder is made if needed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        data = b"".join(orjson.dumps(span_record(span), default=str) + b"\n" for span in spans)
        try:
            with self._lock:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._file(), view) :]
        except OSError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def _file(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        return self._fd

    def shutdown(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
