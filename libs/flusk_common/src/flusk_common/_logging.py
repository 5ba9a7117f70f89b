"""Process-wide logging: ``dictConfig`` to stdout, text or JSON lines, with the request id."""

from __future__ import annotations

import logging
import logging.config
import os
from collections.abc import Mapping
from typing import Any

from ._errors import ConfigurationError
from ._request_id import current_request_id

_TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
_JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"


# gunicorn logs each request after the app has answered, with the response's headers
# among the record's arguments: the id is the one the app echoed.
_ACCESS_LOG_REQUEST_ID = "{x-request-id}o"


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request it was logged in (``-`` outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        answered = (
            record.args.get(_ACCESS_LOG_REQUEST_ID) if isinstance(record.args, Mapping) else None
        )
        record.request_id = current_request_id() or answered or "-"
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
        "filters": {"request_id": {"()": RequestIdFilter}},
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
