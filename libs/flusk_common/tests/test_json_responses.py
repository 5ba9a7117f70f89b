"""JSON out: RFC 3339 UTC datetimes, UUIDs and Decimals as strings; views' status and headers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient


@pytest.fixture
def values(client: FlaskClient) -> dict[str, str]:
    response = client.get("/widgets/values")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    result: dict[str, str] = response.json
    return result


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("aware", "2026-01-02T01:04:05.678000Z"),
        ("naive", "2026-01-02T03:04:05Z"),
        ("utc", "2026-01-02T03:04:05Z"),
    ],
)
def test_serialize_datetime_as_utc_rfc3339(
    values: dict[str, str], name: str, expected: str
) -> None:
    assert values[name] == expected
    assert datetime.fromisoformat(values[name]).utcoffset() == UTC.utcoffset(None)


def test_serialize_uuid_as_string(values: dict[str, str]) -> None:
    assert values["uuid"] == "12345678-1234-5678-1234-567812345678"


def test_serialize_decimal_as_exact_string(values: dict[str, str]) -> None:
    assert values["decimal"] == "12.30"


def test_honour_status_and_headers_returned_by_view(client: FlaskClient) -> None:
    response = client.post("/widgets", json={"name": "sprocket"})
    assert response.status_code == 201, response.json
    assert response.mimetype == "application/json"
    created = response.json
    assert response.headers["Location"] == f"/widgets/{created['id']}"
    assert created["name"] == "sprocket"
    assert client.get(response.headers["Location"]).json == created
