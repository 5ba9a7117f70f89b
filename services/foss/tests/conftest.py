"""Helpers shared by foss's tests; the fixtures come from flusk_common's pytest plugin."""

from __future__ import annotations

import itertools
from typing import Any

from flask.testing import FlaskClient

_numbers = itertools.count(1)


def foss_payload(**overrides: Any) -> dict[str, Any]:
    """A valid body for POST /foss, with an email no other call returns."""
    number = next(_numbers)
    return {"name": f"Maintainer {number}", "email": f"maintainer{number}@example.org"} | overrides


def new_foss(client: FlaskClient, **overrides: Any) -> dict[str, Any]:
    """A foss record created through the API; its JSON representation."""
    response = client.post("/foss", json=foss_payload(**overrides))
    assert response.status_code == 201, response.json
    body: dict[str, Any] = response.json
    return body
