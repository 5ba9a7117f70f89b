"""The internal probes: /healthz (alive) and /readyz (database reachable), outside any prefix."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from database_helpers import RETRY_AFTER, UNREACHABLE_BACKENDS, MakeApp, unreachable_app
from flusk_common.testing import assert_problem


def test_answer_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_answer_readyz_when_database_answers(client: FlaskClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("backend", UNREACHABLE_BACKENDS)
def test_answer_503_from_readyz_when_database_unreachable(
    make_app: MakeApp, tmp_path: Path, backend: str
) -> None:
    client = unreachable_app(make_app, backend, tmp_path).test_client()

    response = client.get("/readyz")

    assert_problem(response, 503, "database_unavailable")
    assert response.headers["Retry-After"] == str(RETRY_AFTER)


def test_serve_probes_outside_service_prefix(app: Flask, client: FlaskClient) -> None:
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}

    assert (rules["probes.healthz"], rules["probes.readyz"]) == ("/healthz", "/readyz")
    assert client.get("/widgets/healthz").status_code == 404
    assert client.get("/widgets/readyz").status_code == 404
