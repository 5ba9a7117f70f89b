"""foss's own rules over HTTP: its fields' limits and one record per email address.

The generic contract (media types, methods, auth, probes, 404s, the database down, the
round trip, migrations) is checked by test_contract.py; licenses by test_licenses.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from conftest import foss_payload, new_foss
from flusk_common.testing import error_pointers, parse_time


def test_create_foss(client: FlaskClient) -> None:
    response = client.post("/foss", json=foss_payload(name="Ada Lovelace", email="Ada@Example.ORG"))
    assert response.status_code == 201
    body = response.json
    assert body.keys() == {"id", "name", "email", "license", "created_at", "updated_at"}
    assert (body["name"], body["email"], body["license"]) == (
        "Ada Lovelace",
        "ada@example.org",
        None,
    )
    assert parse_time(body["created_at"]) <= parse_time(body["updated_at"])
    assert response.headers["Location"] == f"/foss/{body['id']}"


@pytest.mark.parametrize("name", ["Al", "x" * 200])
def test_create_foss_name_length_limits(client: FlaskClient, name: str) -> None:
    assert new_foss(client, name=name)["name"] == name


@pytest.mark.parametrize(
    ("overrides", "pointers"),
    [
        ({"name": "A"}, ["/name"]),
        ({"name": "x" * 201}, ["/name"]),
        ({"email": "not-an-email"}, ["/email"]),
        ({"email": "a@"}, ["/email"]),
        ({"email": "a@" + "x" * 320 + ".org"}, ["/email", "/email"]),  # format and length
        ({"id": 7}, ["/id"]),
        ({"created_at": "2020-01-01T00:00:00Z"}, ["/created_at"]),
        ({"name": None, "email": ["a@x.org"]}, ["/email", "/name"]),
    ],
)
def test_create_foss_invalid(
    client: FlaskClient, overrides: dict[str, Any], pointers: list[str]
) -> None:
    assert error_pointers(client.post("/foss", json=foss_payload(**overrides))) == pointers


@pytest.mark.parametrize("missing", ["name", "email"])
def test_replace_foss_needs_every_required_field(client: FlaskClient, missing: str) -> None:
    foss = new_foss(client)
    data = {"name": "Grace", "email": "g@x.org"}
    del data[missing]
    assert error_pointers(client.put(f"/foss/{foss['id']}", json=data)) == [f"/{missing}"]


# One record per email address, however it is spelt


@pytest.mark.parametrize(
    ("stored", "again"),
    [
        ("ada@example.org", "ADA@Example.Org"),
        ("ad\u00e9@example.org", "ade\u0301@example.org"),  # composed and decomposed é
        ("ada@example.org", "ada@\uff45xample.org"),  # a full-width letter in the domain
        ("ada@b\u00fccher.de", "ada@xn--bcher-kva.de"),  # a Unicode domain and its IDNA form
    ],
)
def test_create_foss_same_email_spelt_otherwise(
    client: FlaskClient, stored: str, again: str
) -> None:
    first = new_foss(client, email=stored)
    assert error_pointers(client.post("/foss", json=foss_payload(email=again)), 409) == ["/email"]
    assert client.get("/foss").json["items"] == [first]


def test_store_emails_in_one_spelling(client: FlaskClient) -> None:
    assert (
        new_foss(client, email="Ade\u0301@XN--BCHER-KVA.de")["email"] == "ad\u00e9@b\u00fccher.de"
    )


def test_update_foss_own_email_other_case(client: FlaskClient) -> None:
    foss = new_foss(client, email="ada@example.org")
    response = client.patch(f"/foss/{foss['id']}", json={"email": "ADA@example.org"})
    assert (response.status_code, response.json["email"]) == (200, "ada@example.org")


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_change_foss_to_a_taken_email(client: FlaskClient, method: str) -> None:
    new_foss(client, email="ada@example.org")
    foss = new_foss(client)
    response = client.open(
        f"/foss/{foss['id']}", method=method, json=foss_payload(email="Ada@example.org")
    )
    assert error_pointers(response, 409) == ["/email"]
    assert client.get(f"/foss/{foss['id']}").json == foss


def test_refuse_email_that_lower_case_makes_invalid(client: FlaskClient) -> None:
    """Lower case lengthens some letters (İ is two): the stored spelling must still be valid."""
    response = client.post("/foss", json=foss_payload(email="\u0130" * 100 + "@example.org"))
    assert error_pointers(response) == ["/email"]
