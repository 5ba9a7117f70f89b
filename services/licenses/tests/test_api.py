"""licenses's own rules over HTTP: SPDX ids as keys, their order, and the catalogue's fields.

The generic contract (media types, methods, auth, probes, 404s, the database down, the
round trip, migrations) is checked by test_contract.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conftest import new_license, new_spdx_id
from flusk_common.testing import assert_problem, error_pointers

APACHE = {"spdx_id": "Apache-2.0", "name": "Apache License 2.0"}


def list_ids(client: FlaskClient, **params: Any) -> tuple[list[str], str | None]:
    response = client.get("/licenses", query_string=params)
    assert response.status_code == 200, response.json
    return [item["spdx_id"] for item in response.json["items"]], response.json["next_cursor"]


def test_create_license(client: FlaskClient) -> None:
    response = client.post("/licenses", json=APACHE)
    assert response.status_code == 201
    assert response.headers["Location"] == "/licenses/Apache-2.0"
    body = response.json
    assert {key: body[key] for key in ("spdx_id", "name", "osi_approved", "url")} == {
        **APACHE,
        "osi_approved": False,
        "url": None,
    }


@pytest.mark.parametrize("spdx_id", ["GPL-2.0+", "0BSD", "a", "x" * 64, "LicenseRef-My.License"])
def test_create_license_spdx_ids(client: FlaskClient, spdx_id: str) -> None:
    created = new_license(client, spdx_id=spdx_id)
    assert client.get(f"/licenses/{quote(spdx_id)}").json == created


@pytest.mark.parametrize(
    ("overrides", "pointers"),
    [
        ({"spdx_id": "not valid!"}, ["/spdx_id"]),
        ({"spdx_id": "-MIT"}, ["/spdx_id"]),
        ({"spdx_id": "MIT\n"}, ["/spdx_id"]),
        ({"spdx_id": "x" * 65}, ["/spdx_id"]),
        ({"name": ""}, ["/name"]),
        ({"name": "x" * 201}, ["/name"]),
        ({"osi_approved": "yes"}, ["/osi_approved"]),
        ({"url": "ftp://example.org"}, ["/url"]),
        ({"url": "https://exa mple.org"}, ["/url"]),
        ({"created_at": "2020-01-01T00:00:00Z"}, ["/created_at"]),
    ],
)
def test_create_license_invalid(
    client: FlaskClient, overrides: dict[str, Any], pointers: list[str]
) -> None:
    body = {"spdx_id": new_spdx_id(), "name": "A license"} | overrides
    assert error_pointers(client.post("/licenses", json=body)) == pointers


def test_create_license_duplicate_spdx_id(client: FlaskClient) -> None:
    license_ = new_license(client, spdx_id="MIT", name="MIT License")
    response = client.post("/licenses", json={"spdx_id": "MIT", "name": "Another MIT"})
    assert error_pointers(response, 409) == ["/spdx_id"]
    assert client.get("/licenses/MIT").json == license_


def test_create_license_seeded_conflict(
    make_app: Callable[..., Flask], migrated_database_url: str
) -> None:
    """On a migrated database the common licenses are there, and their ids are taken."""
    client = make_app(DATABASE_URL=migrated_database_url, isolated=False).test_client()
    response = client.post("/licenses", json={"spdx_id": "MIT", "name": "Another MIT"})
    assert error_pointers(response, 409) == ["/spdx_id"]


# SPDX ids as keys: order, cursors, routing


def test_list_licenses_in_spdx_id_order(client: FlaskClient) -> None:
    for spdx_id in ["MIT", "Apache-2.0", "Zlib", "0BSD"]:
        new_license(client, spdx_id=spdx_id)
    assert list_ids(client) == (["0BSD", "Apache-2.0", "MIT", "Zlib"], None)


def test_list_licenses_follows_cursors(client: FlaskClient) -> None:
    created = [new_license(client)["spdx_id"] for _ in range(7)]
    seen, cursor = list_ids(client, limit=3)
    while cursor is not None:
        ids, cursor = list_ids(client, limit=3, cursor=cursor)
        seen += ids
    assert seen == created


def test_list_licenses_cursor_after_deleted_license(client: FlaskClient) -> None:
    created = [new_license(client)["spdx_id"] for _ in range(3)]
    _, cursor = list_ids(client, limit=1)
    assert client.delete(f"/licenses/{created[0]}").status_code == 204
    assert list_ids(client, cursor=cursor) == (created[1:], None)


@pytest.mark.parametrize("cursor", ["-MIT", "x" * 65, "has space", "MIT\x00"])
def test_list_licenses_bad_cursor(client: FlaskClient, cursor: str) -> None:
    assert set(error_pointers(client.get("/licenses", query_string={"cursor": cursor}))) == {
        "/cursor"
    }


@pytest.mark.parametrize(
    "spdx_id", ["not valid!", "a" * 65, "x\x00", "-MIT", "MIT\n", "Apache 2.0", "\u00e9"]
)
@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
def test_send_license_malformed_id(client: FlaskClient, method: str, spdx_id: str) -> None:
    """No SPDX id looks like these: the path does not route, whatever the method."""
    response = client.open(f"/licenses/{quote(spdx_id)}", method=method, json={"name": "x"})
    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize("path", ["/licenses/MIT/text", "/licenses/GPL/2.0"])
def test_get_unknown_route(client: FlaskClient, path: str) -> None:
    assert_problem(client.get(path), 404, "not_found")


# Changing a license: the SPDX id is its name and stays


def test_update_license_one_field(client: FlaskClient) -> None:
    license_ = new_license(client, **APACHE, url="https://apache.org")
    response = client.patch("/licenses/Apache-2.0", json={"url": None})
    assert response.json == license_ | {"url": None, "updated_at": response.json["updated_at"]}


def test_replace_license_absent_fields_to_defaults(client: FlaskClient) -> None:
    new_license(client, **APACHE, osi_approved=True, url="https://apache.org")
    response = client.put("/licenses/Apache-2.0", json={"name": "Apache 2"})
    assert response.status_code == 200
    body = response.json
    assert (body["spdx_id"], body["name"], body["osi_approved"], body["url"]) == (
        "Apache-2.0",
        "Apache 2",
        False,
        None,
    )


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_change_license_spdx_id_refused(client: FlaskClient, method: str) -> None:
    license_ = new_license(client, **APACHE)
    response = client.open(
        "/licenses/Apache-2.0", method=method, json={"name": "x", "spdx_id": "Other"}
    )
    assert error_pointers(response) == ["/spdx_id"]
    assert client.get("/licenses/Apache-2.0").json == license_


def test_refuse_the_document_s_name_as_spdx_id(client: FlaskClient) -> None:
    """/licenses/openapi.json is the API document: no license can live there."""
    response = client.post("/licenses", json={"spdx_id": "openapi.json", "name": "x"})
    assert error_pointers(response) == ["/spdx_id"]
    assert client.get("/licenses/openapi.json").json["openapi"] == "3.1.0"
    for method in ("PATCH", "PUT", "DELETE"):
        response = client.open("/licenses/openapi.json", method=method, json={"name": "x"})
        assert response.status_code in {404, 405}
