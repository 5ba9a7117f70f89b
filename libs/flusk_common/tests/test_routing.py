"""Routing: a path routes as sent or is a 404; the app never redirects, whatever the Host."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flusk_common._app import MAX_RECORD_ID
from flusk_common.testing import assert_problem

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Werkzeug would redirect each of these: merged slashes, a slash added or dropped.
UNCANONICAL_PATHS = [
    "//widgets",
    "/widgets//1",
    "/widgets/1//parts",
    "/widgets/1/",
    "/widgets/",
    "/widgets/search/",
    "//healthz",
    "/healthz/",
]
OUT_OF_RANGE_IDS = ["0", "00", "01", str(MAX_RECORD_ID + 1), "9" * 10, "9" * 40, "%D9%A1", "-1"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", UNCANONICAL_PATHS)
def test_answer_404_without_redirect(client: FlaskClient, path: str, method: str) -> None:
    response = client.open(
        path, method=method, headers={"Host": "evil.example"}, json={} if method != "GET" else None
    )
    assert "Location" not in response.headers
    if method == "HEAD":
        assert response.status_code == 404
    else:
        assert_problem(response, 404, "not_found")


def test_answer_404_for_missing_trailing_slash(app: Flask) -> None:
    """A rule that ends in a slash does not redirect the path without it."""
    app.add_url_rule("/slashed/", "slashed", lambda: {"ok": True})
    client = app.test_client()
    assert client.get("/slashed/").status_code == 200
    response = client.get("/slashed", headers={"Host": "evil.example"})
    assert "Location" not in response.headers
    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("record_id", OUT_OF_RANGE_IDS)
def test_answer_404_for_out_of_range_id(client: FlaskClient, record_id: str, method: str) -> None:
    response = client.open(f"/widgets/{record_id}", method=method, json={})
    assert "Allow" not in response.headers
    if method == "HEAD":
        assert response.status_code == 404
    else:
        assert_problem(response, 404, "not_found")


@pytest.mark.parametrize("record_id", ["1", "9", "10", "2147483647", "1999999999", "2147483639"])
def test_route_every_id_in_range(client: FlaskClient, record_id: str) -> None:
    """In range, the view runs: a missing record is the view's own 404, not the router's."""
    assert_problem(client.get(f"/widgets/{record_id}"), 404, "record_not_found")


def test_answer_405_with_allow_for_id_in_range(client: FlaskClient) -> None:
    response = client.delete("/widgets/1")
    assert_problem(response, 405, "method_not_allowed")
    assert set(response.allow) == {"GET", "HEAD", "OPTIONS", "PATCH"}
