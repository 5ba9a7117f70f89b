"""The HTTP contract of /licenses and the probes, through the Flask test client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conftest import MALFORMED_IDS, URL, create_license, license_payload, new_license
from flusk_common import encode_cursor
from flusk_common.testing import assert_problem, error_pointers, parse_time, send_raw

MakeApp = Callable[..., Flask]
UNREACHABLE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/x"
UNKNOWN = f"{URL}/NoSuch-1.0"
APACHE = {
    "spdx_id": "Apache-2.0",
    "name": "Apache License 2.0",
    "osi_approved": True,
    "url": "https://spdx.org/licenses/Apache-2.0.html",
}


def license_url(client: FlaskClient, **overrides: Any) -> str:
    """The URL of a license created through the API."""
    return f"{URL}/{new_license(client, **overrides)['spdx_id']}"


def body_url(client: FlaskClient, method: str) -> str:
    """Where ``method`` sends a body: the collection for POST, a new license otherwise."""
    return URL if method == "POST" else license_url(client)


def list_ids(client: FlaskClient, **params: Any) -> tuple[list[str], str | None]:
    response = client.get(URL, query_string=params)
    assert response.status_code == 200, response.json
    assert response.json.keys() == {"items", "next_cursor"}
    body = response.json
    return [license_["spdx_id"] for license_ in body["items"]], body["next_cursor"]


def without_timestamps(license_: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in license_.items() if not key.endswith("_at")}


# POST /licenses


def test_create_license(client: FlaskClient) -> None:
    response = client.post(URL, json=APACHE)
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    body = response.json
    assert without_timestamps(body) == APACHE
    assert body.keys() == APACHE.keys() | {"created_at", "updated_at"}
    assert parse_time(body["created_at"]) <= parse_time(body["updated_at"])
    assert response.headers["Location"] == "/licenses/Apache-2.0"
    assert client.get(response.headers["Location"]).json == body


def test_create_license_defaults(client: FlaskClient) -> None:
    body = new_license(client, spdx_id="MIT", name="MIT License")
    assert without_timestamps(body) == {
        "spdx_id": "MIT",
        "name": "MIT License",
        "osi_approved": False,
        "url": None,
    }


@pytest.mark.parametrize("spdx_id", ["GPL-2.0+", "LicenseRef-my.license", "0BSD", "a" * 64])
def test_create_license_location(client: FlaskClient, spdx_id: str) -> None:
    response = create_license(client, spdx_id=spdx_id)
    assert response.status_code == 201
    assert response.headers["Location"] == f"{URL}/{spdx_id}"
    assert client.get(response.headers["Location"]).json == response.json


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "x"),
        ("name", "x" * 200),
        ("url", "http://example.org"),
        ("url", "https://" + "x" * 492),
        ("url", None),
        ("osi_approved", True),
    ],
)
def test_create_license_limits(client: FlaskClient, field: str, value: Any) -> None:
    assert new_license(client, **{field: value})[field] == value


def test_create_license_json_with_charset(client: FlaskClient) -> None:
    response = send_raw(
        client, "POST", URL, b'{"spdx_id": "MIT", "name": "MIT"}', "application/json; charset=utf-8"
    )
    assert response.status_code == 201


def test_create_license_commits(make_app: MakeApp, migrated_database_url: str) -> None:
    config = {"DATABASE_URL": migrated_database_url, "isolated": False}
    license_ = new_license(make_app(**config).test_client())
    location = f"{URL}/{license_['spdx_id']}"
    assert make_app(**config).test_client().get(location).json == license_


def test_create_license_seeded_conflict(make_app: MakeApp, migrated_database_url: str) -> None:
    """On a migrated database the common licenses are there, and their ids are taken."""
    client = make_app(DATABASE_URL=migrated_database_url, isolated=False).test_client()
    assert error_pointers(create_license(client, spdx_id="MIT"), 409) == ["/spdx_id"]


# GET /licenses


def test_list_licenses_empty(client: FlaskClient) -> None:
    assert client.get(URL).json == {"items": [], "next_cursor": None}


def test_list_licenses_default_limit(client: FlaskClient) -> None:
    created = [new_license(client)["spdx_id"] for _ in range(21)]
    ids, cursor = list_ids(client)
    assert ids == created[:20]
    assert cursor == encode_cursor(created[19])


@pytest.mark.parametrize("limit", [1, 100])
def test_list_licenses_limit(client: FlaskClient, limit: int) -> None:
    created = [new_license(client)["spdx_id"] for _ in range(2)]
    ids, cursor = list_ids(client, limit=limit)
    assert ids == created[:limit]
    assert (cursor is None) == (limit == 100)


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
    assert client.delete(f"{URL}/{created[0]}").status_code == 204
    assert list_ids(client, cursor=cursor) == (created[1:], None)


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", ""])
def test_list_licenses_bad_limit(client: FlaskClient, limit: str) -> None:
    assert error_pointers(client.get(f"{URL}?limit={limit}")) == ["/limit"]


@pytest.mark.parametrize(
    "cursor",
    [
        "abc",
        "%21%21",
        "e30",
        encode_cursor(1),
        encode_cursor("x\x00"),
        encode_cursor("not valid!"),
        "x" * 201,
    ],
)
def test_list_licenses_bad_cursor(client: FlaskClient, cursor: str) -> None:
    assert error_pointers(client.get(f"{URL}?cursor={cursor}")) == ["/cursor"]


def test_list_licenses_unknown_parameter(client: FlaskClient) -> None:
    assert error_pointers(client.get(f"{URL}?page=2")) == ["/page"]


# GET /licenses/<spdx_id>


def test_get_license(client: FlaskClient) -> None:
    license_ = new_license(client, **APACHE)
    response = client.get(f"{URL}/Apache-2.0")
    assert response.status_code == 200
    assert response.json == license_


def test_get_license_unknown(client: FlaskClient) -> None:
    new_license(client, spdx_id="MIT")
    assert_problem(client.get(UNKNOWN), 404, "record_not_found")
    assert_problem(client.get(f"{URL}/mit"), 404, "record_not_found")


@pytest.mark.parametrize("spdx_id", MALFORMED_IDS)
def test_get_license_malformed_id(client: FlaskClient, spdx_id: str) -> None:
    response = client.get(f"{URL}/{quote(spdx_id)}")
    assert_problem(response, 404, "record_not_found")


def test_get_license_nul_id(client: FlaskClient) -> None:
    assert_problem(client.get(f"{URL}/%00"), 404, "record_not_found")


@pytest.mark.parametrize("path", ["/nowhere", f"{URL}/MIT/text", f"{URL}/GPL/2.0"])
def test_get_unknown_route(client: FlaskClient, path: str) -> None:
    assert_problem(client.get(path), 404, "not_found")


# PATCH /licenses/<spdx_id>


def test_update_license(client: FlaskClient) -> None:
    license_ = new_license(client, **APACHE)
    response = client.patch(f"{URL}/Apache-2.0", json={"name": "Apache License, Version 2.0"})
    assert response.status_code == 200
    body = response.json
    assert body == license_ | {
        "name": "Apache License, Version 2.0",
        "updated_at": body["updated_at"],
    }
    assert parse_time(body["updated_at"]) >= parse_time(license_["updated_at"])
    assert client.get(f"{URL}/Apache-2.0").json == body


@pytest.mark.parametrize(
    "changes", [{"osi_approved": False}, {"url": None}, {"url": "https://apache.org/licenses/"}]
)
def test_update_license_one_field(client: FlaskClient, changes: dict[str, Any]) -> None:
    new_license(client, **APACHE)
    response = client.patch(f"{URL}/Apache-2.0", json=changes)
    assert without_timestamps(response.json) == APACHE | changes


def test_update_license_empty(client: FlaskClient) -> None:
    url = license_url(client)
    assert_problem(client.patch(url, json={}), 422, "validation_failed")


@pytest.mark.parametrize(
    ("changes", "pointers"),
    [
        ({"spdx_id": "Other"}, ["/spdx_id"]),
        ({"name": ""}, ["/name"]),
        ({"name": None}, ["/name"]),
        ({"osi_approved": None}, ["/osi_approved"]),
        ({"url": "ftp://example.org"}, ["/url"]),
        ({"created_at": "2020-01-01T00:00:00Z"}, ["/created_at"]),
    ],
)
def test_update_license_invalid(
    client: FlaskClient, changes: dict[str, Any], pointers: list[str]
) -> None:
    license_ = new_license(client)
    url = f"{URL}/{license_['spdx_id']}"
    assert error_pointers(client.patch(url, json=changes)) == pointers
    assert client.get(url).json == license_


def test_update_license_unknown(client: FlaskClient) -> None:
    assert_problem(client.patch(UNKNOWN, json={"name": "x"}), 404, "record_not_found")


# PUT /licenses/<spdx_id>


def test_replace_license(client: FlaskClient) -> None:
    license_ = new_license(client, **APACHE)
    data = {"name": "Apache 2", "osi_approved": False, "url": "https://apache.org/licenses/"}
    response = client.put(f"{URL}/Apache-2.0", json=data)
    assert response.status_code == 200
    assert response.json == license_ | data | {"updated_at": response.json["updated_at"]}


def test_replace_license_absent_fields_to_defaults(client: FlaskClient) -> None:
    new_license(client, **APACHE)
    response = client.put(f"{URL}/Apache-2.0", json={"name": "Apache 2"})
    assert response.status_code == 200
    assert without_timestamps(response.json) == {
        "spdx_id": "Apache-2.0",
        "name": "Apache 2",
        "osi_approved": False,
        "url": None,
    }
    assert client.get(f"{URL}/Apache-2.0").json == response.json


@pytest.mark.parametrize(
    ("data", "pointers"),
    [
        ({}, ["/name"]),
        ({"osi_approved": True, "url": None}, ["/name"]),
        ({"name": "x", "spdx_id": "Other"}, ["/spdx_id"]),
        ({"name": "x", "url": "no url"}, ["/url"]),
    ],
)
def test_replace_license_invalid(
    client: FlaskClient, data: dict[str, Any], pointers: list[str]
) -> None:
    url = license_url(client)
    assert error_pointers(client.put(url, json=data)) == pointers


def test_replace_license_unknown(client: FlaskClient) -> None:
    assert_problem(client.put(UNKNOWN, json={"name": "x"}), 404, "record_not_found")


# DELETE /licenses/<spdx_id>


def test_delete_license(client: FlaskClient) -> None:
    url = license_url(client)
    kept = new_license(client)
    response = client.delete(url)
    assert response.status_code == 204
    assert response.data == b""
    assert_problem(client.get(url), 404, "record_not_found")
    assert_problem(client.delete(url), 404, "record_not_found")
    assert list_ids(client) == ([kept["spdx_id"]], None)


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
@pytest.mark.parametrize("path", [f"{URL}/%00", f"{URL}/not%20valid!", f"{URL}/{'a' * 65}"])
def test_send_license_malformed_id(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path, method=method, json={"name": "x"})
    assert_problem(response, 404, "record_not_found")


# 400, 405, 409, 413, 415, 422


@pytest.mark.parametrize(
    "body",
    [
        b'{"spdx_id": "MIT"',
        b"[]",
        b'"MIT"',
        b"1",
        b"null",
        b'{"spdx_id": "MIT", "name": NaN}',
        b'{"spdx_id": "MIT", "name": "\xff\xfe"}',
        b"",
        b"   ",
    ],
)
@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT"])
def test_send_license_malformed_json(client: FlaskClient, method: str, body: bytes) -> None:
    url = body_url(client, method)
    assert_problem(send_raw(client, method, url, body), 400, "malformed_json")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", f"{URL}/MIT", {"GET", "HEAD", "OPTIONS", "PATCH", "PUT", "DELETE"}),
        ("DELETE", URL, {"GET", "HEAD", "OPTIONS", "POST"}),
        ("PUT", URL, {"GET", "HEAD", "OPTIONS", "POST"}),
        ("PATCH", URL, {"GET", "HEAD", "OPTIONS", "POST"}),
        ("POST", "/readyz", {"GET", "HEAD", "OPTIONS"}),
    ],
)
def test_send_license_wrong_method(
    client: FlaskClient, method: str, path: str, allowed: set[str]
) -> None:
    response = client.open(path, method=method, json=license_payload())
    assert_problem(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) == allowed


def test_create_license_duplicate_spdx_id(client: FlaskClient) -> None:
    license_ = new_license(client, spdx_id="MIT", name="MIT License")
    response = create_license(client, spdx_id="MIT", name="Another MIT")
    assert error_pointers(response, 409) == ["/spdx_id"]
    assert client.get(f"{URL}/MIT").json == license_
    assert list_ids(client) == (["MIT"], None)


def test_create_license_too_large(client: FlaskClient) -> None:
    response = create_license(client, name="x" * (1024 * 1024))
    assert_problem(response, 413, "request_entity_too_large")


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/problem+json",
        "application/json; charset=latin-1",
    ],
)
@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT"])
def test_send_license_wrong_content_type(
    client: FlaskClient, method: str, content_type: str | None
) -> None:
    url = body_url(client, method)
    body = b'{"spdx_id": "MIT", "name": "MIT License"}'
    response = send_raw(client, method, url, body, content_type)
    assert_problem(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("overrides", "pointers"),
    [
        ({"spdx_id": "not valid!"}, ["/spdx_id"]),
        ({"spdx_id": "Apache 2.0"}, ["/spdx_id"]),
        ({"spdx_id": "-MIT"}, ["/spdx_id"]),
        ({"spdx_id": "GPL/2.0"}, ["/spdx_id"]),
        ({"spdx_id": "MIT\n"}, ["/spdx_id"]),
        ({"spdx_id": "é"}, ["/spdx_id"]),
        ({"spdx_id": ""}, ["/spdx_id"]),
        ({"spdx_id": "a" * 65}, ["/spdx_id"]),
        ({"spdx_id": "MIT\u0000"}, ["/spdx_id", "/spdx_id"]),  # pattern, NUL
        ({"name": ""}, ["/name"]),
        ({"name": "x" * 201}, ["/name"]),
        ({"url": "https://" + "x" * 493}, ["/url"]),
        ({"url": "ftp://example.org/license"}, ["/url"]),
        ({"url": "example.org"}, ["/url"]),
        ({"url": "https://"}, ["/url"]),
        ({"url": "https://example.org/a license"}, ["/url"]),
        ({"url": " https://example.org"}, ["/url"]),
        ({"url": "https://example.org\n"}, ["/url"]),
        ({"spdx_id": 42}, ["/spdx_id"]),
        ({"name": 12}, ["/name"]),
        ({"osi_approved": "yes"}, ["/osi_approved"]),
        ({"osi_approved": 1}, ["/osi_approved"]),
        ({"osi_approved": None}, ["/osi_approved"]),
        ({"url": 7}, ["/url"]),
        ({"id": 7}, ["/id"]),
        ({"created_at": "2020-01-01T00:00:00Z"}, ["/created_at"]),
        ({"spdx_id": None, "name": ["MIT"]}, ["/name", "/spdx_id"]),
    ],
)
def test_create_license_invalid(
    client: FlaskClient, overrides: dict[str, Any], pointers: list[str]
) -> None:
    assert error_pointers(create_license(client, **overrides)) == pointers
    assert list_ids(client) == ([], None)


@pytest.mark.parametrize("missing", [["spdx_id"], ["name"], ["spdx_id", "name"]])
def test_create_license_missing_field(client: FlaskClient, missing: list[str]) -> None:
    data = {key: value for key, value in license_payload().items() if key not in missing}
    response = client.post(URL, json=data)
    assert error_pointers(response) == [f"/{name}" for name in sorted(missing)]


def test_create_license_query_parameters(client: FlaskClient) -> None:
    response = client.post(f"{URL}?spdx_id=MIT", json=license_payload())
    assert_problem(response, 422, "validation_failed")


# Problem details, auth, probes, database down


def test_get_license_problem_keeps_request_id(client: FlaskClient) -> None:
    response = client.get(UNKNOWN, headers={"X-Request-ID": "abc-123"})
    assert assert_problem(response, 404, "record_not_found")["request_id"] == "abc-123"


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}])
def test_list_licenses_unauthorized(make_app: MakeApp, headers: dict[str, str]) -> None:
    client = make_app(API_KEYS=("k",)).test_client()
    assert_problem(client.get(URL, headers=headers), 401, "unauthorized")
    assert_problem(create_license(client), 401, "unauthorized")
    assert_problem(client.get(f"{URL}/MIT", headers=headers), 401, "unauthorized")


def test_list_licenses_with_api_key(make_app: MakeApp) -> None:
    client = make_app(API_KEYS=("other", "k")).test_client()
    assert client.get(URL, headers={"X-API-Key": "k"}).status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_get_probe(make_app: MakeApp, path: str) -> None:
    response = make_app(API_KEYS=("k",)).test_client().get(path)
    assert response.status_code == 200
    assert response.json["status"] == "ok"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/readyz"), ("GET", URL), ("POST", URL), ("GET", f"{URL}/MIT")],
)
def test_send_license_database_unavailable(make_app: MakeApp, method: str, path: str) -> None:
    app = make_app(DATABASE_URL=UNREACHABLE_DATABASE, DATABASE_CONNECT_TIMEOUT=1, isolated=False)
    response = app.test_client().open(path, method=method, json=license_payload())
    assert_problem(response, 503, "database_unavailable")
    assert response.headers["Retry-After"] == "5"
    assert "127.0.0.1" not in response.get_data(as_text=True)
