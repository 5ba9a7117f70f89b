"""Helpers shared by licenses's tests; the fixtures come from flusk_common's pytest plugin."""

from __future__ import annotations

import itertools
from typing import Any

from flask.testing import FlaskClient

_numbers = itertools.count(1)


def new_spdx_id() -> str:
    """An SPDX id no other call returns; ids made later sort after ids made earlier."""
    return f"LicenseRef-Test-{next(_numbers):05d}"


def new_license(client: FlaskClient, **overrides: Any) -> dict[str, Any]:
    """A license created through the API (required fields only unless overridden)."""
    spdx_id = new_spdx_id()
    body = {"spdx_id": spdx_id, "name": f"Test License {spdx_id[-5:]}"} | overrides
    response = client.post("/licenses", json=body)
    assert response.status_code == 201, response.json
    created: dict[str, Any] = response.json
    return created
