"""Process-wide logging: ``dictConfig`` to stdout, text or JSON lines, with the request id."""

from __future__ import annotations

import logging
import logging.config
import os
from collections.abc import Mapping
from typing import Any

from ._errors import ConfigurationError
from ._request_id import current_request_id
from ._tracing import SPAN_ID_KEY, TRACE_ID_KEY, current_trace_ids

# `trace_ids` is " trace_id=<32 hex> span_id=<16 hex>" in a traced request, empty otherwise.
_TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s%(trace_ids)s] %(name)s: %(message)s"
_JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"


# gunicorn logs each request after the app has answered, with the response's headers
# among the record's arguments: the id is the one the app echoed.
_ACCESS_LOG_REQUEST_ID = "{x-request-id}o"
# ... and the WSGI environ, where the server span left its ids (see _tracing).
_ACCESS_LOG_TRACE_IDS = (f"{{{TRACE_ID_KEY}}}e", f"{{{SPAN_ID_KEY}}}e")


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request it was logged in (``-`` outside one).

    When there is a trace, its trace and span ids too: as ``trace_id`` and ``span_id``
    fields in JSON (``fmt="json"``), as the text line's ``trace_ids``.
    """

    def __init__(self, fmt: str = "text") -> None:
        super().__init__()
        self.text = fmt == "text"

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, Mapping) else None
        answered = args.get(_ACCESS_LOG_REQUEST_ID) if args is not None else None
        record.request_id = current_request_id() or answered or "-"
        ids = current_trace_ids()
        if ids is None and args is not None and _ACCESS_LOG_TRACE_IDS[0] in args:
            ids = (str(args[_ACCESS_LOG_TRACE_IDS[0]]), str(args[_ACCESS_LOG_TRACE_IDS[1]]))
        if self.text:
            record.trace_ids = f" trace_id={ids[0]} span_id={ids[1]}" if ids else ""
        elif ids:
            record.trace_id, record.span_id = ids
        return True


def logging_config(level: str = "INFO", fmt: str = "text") -> dict[str, Any]:
    """The ``dictConfig`` Flusk processes run with."""
    level = level.upper()
    if level not in logging.getLevelNamesMapping():
        raise ConfigurationError(f"LOG_LEVEL={level!r} is not a logging level")
    if fmt not in {"text", "json"}:
        raise ConfigurationError(f"LOG_FORMAT={fmt!r} must be 'text' or 'json'")
    formatter: dict[str, Any] = (
        {"format": _TEXT_FORMAT}
        if fmt == "text"
        else {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": _JSON_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter, "fmt": fmt}},
        "formatters": {"default": formatter},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "filters": ["request_id"],
                "formatter": "default",
            }
        },
        "root": {"level": level, "handlers": ["stdout"]},
    }


def gunicorn_logging_config(environ: Mapping[str, str]) -> dict[str, Any]:
    """`logging_config` for gunicorn's ``logconfig_dict``: its own lines in the same format.

    Start-up, worker timeouts (``gunicorn.error``) and the access log (``gunicorn.access``)
    go to stdout like the app's lines, as text or JSON, with the request id.
    """
    config = logging_config(environ.get("LOG_LEVEL", "INFO"), environ.get("LOG_FORMAT", "text"))
    config["loggers"] = {
        name: {"level": level, "handlers": ["stdout"], "propagate": False}
        for name, level in (
            ("gunicorn.error", config["root"]["level"]),
            ("gunicorn.access", "INFO"),
        )
    }
    return config


def configure_logging(environ: Mapping[str, str] | None = None) -> None:
    """Configure the process's logging from ``LOG_LEVEL`` and ``LOG_FORMAT``; call once."""
    environ = os.environ if environ is None else environ
    logging.config.dictConfig(
        logging_config(environ.get("LOG_LEVEL", "INFO"), environ.get("LOG_FORMAT", "text"))
    )
