"""Helpers shared by foss's tests; the fixtures come from flusk_common's pytest plugin."""

from __future__ import annotations

import itertools
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from foss import backend
from foss.models import Foss

_numbers = itertools.count(1)


def foss_payload(**overrides: Any) -> dict[str, Any]:
    """A valid body for POST /foss, with an email no other call returns."""
    number = next(_numbers)
    return {"name": f"Maintainer {number}", "email": f"maintainer{number}@example.org"} | overrides


def create_foss(client: FlaskClient, **overrides: Any) -> TestResponse:
    """POST /foss with a valid body, changed by ``overrides``."""
    return client.post("/foss", json=foss_payload(**overrides))


def new_foss(client: FlaskClient, **overrides: Any) -> dict[str, Any]:
    """A foss record created through the API; its JSON representation."""
    response = create_foss(client, **overrides)
    assert response.status_code == 201, response.json
    body: dict[str, Any] = response.json
    return body


def add_foss(session: Session, **overrides: Any) -> Foss:
    """A foss record created through the backend, flushed in ``session``."""
    return backend.create(session=session, **foss_payload(**overrides))
