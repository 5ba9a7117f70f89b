"""X-Request-ID: kept when sane, made otherwise, on every response and in every problem."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from flusk_common.testing import assert_problem
from test_problems import ERRORS

HEADER = "X-Request-ID"
GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    "request_id",
    ["abc-123", "Root=1-67891233-abcdef012345678912345678", "a/b+c@d:e.f_g", "x" * 128],
)
def test_keep_sane_request_id(client: FlaskClient, request_id: str) -> None:
    assert client.get("/healthz", headers={HEADER: request_id}).headers[HEADER] == request_id


@pytest.mark.parametrize(
    "request_id",
    ["x" * 129, "with space", "semi;colon", "<script>", 'quote"d', "caf\u00e9", ""],
    ids=["too-long", "space", "semicolon", "angle-brackets", "quote", "non-ascii", "empty"],
)
def test_replace_insane_request_id(client: FlaskClient, request_id: str) -> None:
    response = client.get("/healthz", headers={HEADER: request_id})
    assert GENERATED.fullmatch(response.headers[HEADER])


def test_generate_request_id_when_absent(client: FlaskClient) -> None:
    first, second = (client.get("/healthz").headers[HEADER] for _ in range(2))
    assert GENERATED.fullmatch(first)
    assert GENERATED.fullmatch(second)
    assert first != second


@pytest.mark.parametrize(("method", "url", "request_args", "status", "code"), ERRORS)
def test_echo_request_id_on_error(
    client: FlaskClient, method: str, url: str, request_args: dict[str, Any], status: int, code: str
) -> None:
    response = client.open(url, method=method, headers={HEADER: "trace-1"}, **request_args)
    assert response.headers[HEADER] == "trace-1"
    assert assert_problem(response, status, code)["request_id"] == "trace-1"


def test_put_generated_request_id_in_problem(client: FlaskClient) -> None:
    response = client.get("/nowhere")
    assert GENERATED.fullmatch(assert_problem(response, 404)["request_id"])
