"""Logging to stdout as text or JSON lines, each line stamped with its request's id."""

from __future__ import annotations

import json
import logging
import logging.config
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from flusk_common import configure_logging
from flusk_common._errors import ConfigurationError
from flusk_common._logging import logging_config

log = logging.getLogger("flusk_tests.logging")


@pytest.fixture
def stdout_logging(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """Let a test configure logging to (captured) stdout; put the root logger back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield capsys
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def logged_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


def json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in logged_lines(capsys)]


def test_log_json_lines_with_request_id(
    app: Flask, stdout_logging: pytest.CaptureFixture[str]
) -> None:
    logging.config.dictConfig(logging_config("DEBUG", "json"))
    with app.test_request_context(headers={"X-Request-ID": "req-42"}):
        log.debug("hello %s", "world")
    log.info("outside")
    inside, outside = json_lines(stdout_logging)
    assert {"level", "logger", "message", "request_id", "time"} <= set(inside)
    assert (inside["level"], inside["logger"]) == ("DEBUG", "flusk_tests.logging")
    assert (inside["message"], inside["request_id"]) == ("hello world", "req-42")
    assert (outside["message"], outside["request_id"]) == ("outside", "-")


def test_log_request_id_of_failed_request(
    app: Flask, stdout_logging: pytest.CaptureFixture[str]
) -> None:
    logging.config.dictConfig(logging_config("INFO", "json"))
    app.test_client().get("/widgets/boom", headers={"X-Request-ID": "boom-7"})
    (line,) = json_lines(stdout_logging)
    assert (line["level"], line["request_id"]) == ("ERROR", "boom-7")
    assert "RuntimeError" in line["exc_info"]


def test_log_text_with_request_id(app: Flask, stdout_logging: pytest.CaptureFixture[str]) -> None:
    logging.config.dictConfig(logging_config("INFO", "text"))
    with app.test_request_context(headers={"X-Request-ID": "req-42"}):
        log.info("inside")
    log.info("outside")
    inside, outside = logged_lines(stdout_logging)
    assert inside.endswith(" INFO [req-42] flusk_tests.logging: inside")
    assert outside.endswith(" INFO [-] flusk_tests.logging: outside")


def test_configure_logging_from_environment(stdout_logging: pytest.CaptureFixture[str]) -> None:
    configure_logging({"LOG_LEVEL": "warning", "LOG_FORMAT": "json"})
    log.info("dropped")
    log.warning("kept")
    assert [line["message"] for line in json_lines(stdout_logging)] == ["kept"]


@pytest.mark.parametrize(
    ("level", "fmt", "message"),
    [("LOUD", "text", "LOG_LEVEL='LOUD'"), ("INFO", "xml", "LOG_FORMAT='xml'")],
)
def test_refuse_bad_logging_setting(level: str, fmt: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        logging_config(level, fmt)
