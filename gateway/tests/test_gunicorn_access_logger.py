"""The services' access logger writes the lines gunicorn's own logger writes, for less."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from flusk_common import gunicorn_conf
from flusk_common.gunicorn_logger import AccessLogger

ENVIRON = {
    "REMOTE_ADDR": "127.0.0.1",
    "REQUEST_METHOD": "GET",
    "RAW_URI": '/foss?name="a"',
    "SERVER_PROTOCOL": "HTTP/1.1",
    "PATH_INFO": "/foss",
    "QUERY_STRING": 'name="a"',
}
# gunicorn's request and response as its access log reads them: header pairs, a status.
REQUEST = SimpleNamespace(
    headers=[
        ("HOST", "example.org"),
        ("X-FORWARDED-FOR", "1.1.1.1"),
        ("X-Forwarded-For", "2.2.2.2"),
    ],
)
RESPONSE = SimpleNamespace(
    status="201 Created",
    headers=[("Content-Type", "application/json"), ("X-Request-ID", "id-1")],
    sent=1234,
)
ELAPSED = timedelta(seconds=1, microseconds=234567)


def _line(logger_class: type[Any], access_log_format: str, response: Any = RESPONSE) -> str:
    config = Config()
    config.set("access_log_format", access_log_format)
    logger = logger_class(config)
    atoms = logger.atoms_wrapper_class(logger.atoms(response, REQUEST, ENVIRON, ELAPSED))
    return access_log_format % atoms


@pytest.mark.parametrize(
    "access_log_format",
    [
        gunicorn_conf.access_log_format,
        '%(h)s "%(r)s" %(s)s %(b)s %(M)sms %({X-Request-ID}o)s %({missing}i)s %({path_info}e)s',
        '%(h)s %(t)s "%(a)s" %(D)s',  # fields gunicorn alone builds: its own dict
    ],
    ids=["services", "headers-and-environ", "other-fields"],
)
def test_write_the_line_gunicorn_writes(access_log_format: str) -> None:
    line = _line(AccessLogger, access_log_format)

    assert line == _line(Logger, access_log_format)


def test_write_dash_for_response_nothing_was_sent_for() -> None:
    unsent = SimpleNamespace(status=502, headers=[], sent=None)

    line = _line(AccessLogger, gunicorn_conf.access_log_format, unsent)

    assert line == _line(Logger, gunicorn_conf.access_log_format, unsent)
    assert "502 - " in line


def test_build_only_the_fields_the_format_shows() -> None:
    config = Config()
    config.set("access_log_format", gunicorn_conf.access_log_format)

    atoms = AccessLogger(config).atoms(RESPONSE, REQUEST, ENVIRON, ELAPSED)

    assert atoms == {
        "h": "127.0.0.1",
        "r": 'GET /foss?name="a" HTTP/1.1',
        "s": "201",
        "b": "1234",
        "M": 1234,
        "{x-request-id}o": "id-1",
        "{x-forwarded-for}i": "2.2.2.2",
    }


def test_services_log_with_access_logger() -> None:
    assert gunicorn_conf.logger_class == "flusk_common.gunicorn_logger.AccessLogger"
