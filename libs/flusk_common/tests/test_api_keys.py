"""Optional API keys in X-API-Key: off by default, any configured key accepted, probes exempt."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flusk_common.testing import assert_problem

KEYS = ("first-key-5ecret", "second-key-5ecret")
PROTECTED = "/widgets/values"


@pytest.fixture
def keyed_client(make_app: Callable[..., Flask]) -> FlaskClient:
    return make_app(API_KEYS=KEYS).test_client()


def test_accept_request_without_key_when_keys_are_off(client: FlaskClient) -> None:
    assert client.get(PROTECTED).status_code == 200


def test_refuse_missing_api_key(keyed_client: FlaskClient) -> None:
    body = assert_problem(keyed_client.get(PROTECTED), 401, "unauthorized")
    assert "X-API-Key" in body["detail"]


@pytest.mark.parametrize(
    "key", ["wrong", "", KEYS[0][:-1], KEYS[0] + "x", KEYS[0].upper(), ",".join(KEYS)]
)
def test_refuse_wrong_api_key(keyed_client: FlaskClient, key: str) -> None:
    assert_problem(keyed_client.get(PROTECTED, headers={"X-API-Key": key}), 401, "unauthorized")


@pytest.mark.parametrize("key", KEYS)
def test_accept_each_api_key(keyed_client: FlaskClient, key: str) -> None:
    assert keyed_client.get(PROTECTED, headers={"X-API-Key": key}).status_code == 200


@pytest.mark.parametrize("probe", ["/healthz", "/readyz"])
def test_exempt_probe_from_api_key(keyed_client: FlaskClient, probe: str) -> None:
    assert keyed_client.get(probe).status_code == 200


def test_keep_api_key_out_of_logs_and_responses(
    keyed_client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    responses = [
        keyed_client.get("/widgets/boom", headers={"X-API-Key": KEYS[0]}),
        keyed_client.get(PROTECTED, headers={"X-API-Key": KEYS[1] + "x"}),
    ]
    assert [response.status_code for response in responses] == [500, 401]
    assert caplog.records, "the 500 is logged"
    for key in KEYS:
        assert key not in caplog.text
        for response in responses:
            assert key not in response.text
            assert key not in str(response.headers)
