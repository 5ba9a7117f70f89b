"""Every error is RFC 9457 problem details; no internal detail reaches the client."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask.testing import FlaskClient

from flusk_common.testing import assert_problem

SECRET = "hunter2"


ERRORS = [
    pytest.param(
        "POST",
        "/widgets/search",
        {"data": "{", "content_type": "application/json"},
        400,
        "malformed_json",
        id="400",
    ),
    pytest.param("GET", "/nowhere", {}, 404, "not_found", id="404"),
    pytest.param("DELETE", "/widgets/search", {}, 405, "method_not_allowed", id="405"),
    pytest.param(
        "POST",
        "/widgets/search",
        {"data": "x", "content_type": "text/plain"},
        415,
        "unsupported_media_type",
        id="415",
    ),
    pytest.param("POST", "/widgets/search", {"json": {}}, 422, "validation_failed", id="422"),
    pytest.param("GET", "/widgets/boom", {}, 500, "internal_error", id="500"),
]


@pytest.mark.parametrize(("method", "url", "request_args", "status", "code"), ERRORS)
def test_render_error_as_problem(
    client: FlaskClient, method: str, url: str, request_args: dict[str, Any], status: int, code: str
) -> None:
    assert_problem(client.open(url, method=method, **request_args), status, code)


def test_list_field_errors_only_in_validation_problems(client: FlaskClient) -> None:
    assert "errors" in assert_problem(client.post("/widgets/search", json={}), 422)
    assert "errors" not in assert_problem(client.get("/nowhere"), 404)


def test_answer_unknown_route_with_not_found(client: FlaskClient) -> None:
    body = assert_problem(client.get("/widgets/0"), 404, "not_found")
    assert body["title"] == "Not Found"


def test_answer_wrong_method_with_allow_header(client: FlaskClient) -> None:
    response = client.put("/widgets", json={})
    assert_problem(response, 405, "method_not_allowed")
    assert set(response.allow) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_hide_unexpected_error_from_client(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = client.get("/widgets/boom")
    body = assert_problem(response, 500, "internal_error")
    assert body["detail"] == "An unexpected error occurred."
    for leak in (SECRET, "Traceback", "RuntimeError", "views.py"):
        assert leak not in response.text
    assert any(record.exc_info and record.levelno == logging.ERROR for record in caplog.records)
    assert "Traceback" in caplog.text
    assert SECRET in caplog.text


def test_answer_missing_record_with_record_not_found(client: FlaskClient) -> None:
    body = assert_problem(client.get("/widgets/2147483647"), 404, "record_not_found")
    assert body["title"] == "Record Not Found"
    assert body["detail"] == "There is no widget with id 2147483647."


@pytest.mark.parametrize("path", ["/widgets/%D9%A1", "/widgets/0", "/widgets/2147483648"])
def test_answer_404_for_id_out_of_range(client: FlaskClient, path: str) -> None:
    assert_problem(client.get(path), 404, "not_found")


def test_assert_problem_rejects_other_answers(client: FlaskClient) -> None:
    """The shared assertion services use must be able to fail."""
    with pytest.raises(AssertionError):
        assert_problem(client.get("/healthz"), 200)
    with pytest.raises(AssertionError):
        assert_problem(client.get("/nope"), 404, "record_not_found")


@pytest.mark.parametrize("path", ["/gadgets/", "/nowhere", "/gadgets/1/x"])
def test_word_unknown_paths_our_way(client: FlaskClient, path: str) -> None:
    body = assert_problem(client.get(path), 404, "not_found")
    assert body["detail"].startswith("Nothing lives at this URL")
