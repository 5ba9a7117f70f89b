"""foss asks the licenses service about a record's license, through a fake of that service.

The fake's every answer is checked against licenses' own OpenAPI document (the
``fake_service`` fixture), so a change of licenses' contract fails these tests. The real
call, with both services running, is covered by the gateway suite.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from conftest import foss_payload, new_foss
from flusk_common.testing import assert_problem, error_pointers, get_database
from foss.models import Foss

CATALOGUE = {"MIT", "Apache-2.0", "GPL-3.0-only"}
HEADERS = {"X-Request-ID": "from-licenses"}


def license_record(spdx_id: str) -> dict[str, Any]:
    """A license as licenses answers it."""
    return {
        "spdx_id": spdx_id,
        "name": f"The {spdx_id} license",
        "osi_approved": True,
        "url": f"https://spdx.org/licenses/{spdx_id}.html",
        "created_at": "2026-11-24T09:00:00Z",
        "updated_at": "2026-11-24T09:00:00Z",
    }


def problem(status: int, code: str) -> httpx.Response:
    """Problem details as licenses answers them."""
    body = {
        "type": f"urn:flusk:problem:{code}",
        "title": code.replace("_", " ").title(),
        "status": status,
        "detail": f"licenses says {code}",
        "code": code,
        "request_id": HEADERS["X-Request-ID"],
    }
    headers = {**HEADERS, "Content-Type": "application/problem+json"}
    if status == 503:
        headers["Retry-After"] = "5"
    return httpx.Response(status, json=body, headers=headers)


class FakeLicenses:
    """The licenses service as foss sees it: the catalogue, or a failure, and every call."""

    def __init__(self) -> None:
        self.calls: list[httpx.Request] = []
        self.failure: Exception | httpx.Response | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        if isinstance(self.failure, Exception):
            raise self.failure
        if self.failure is not None:
            return self.failure
        spdx_id = request.url.path.removeprefix("/licenses/")
        if spdx_id in CATALOGUE:
            return httpx.Response(200, json=license_record(spdx_id), headers=HEADERS)
        return problem(404, "record_not_found")


@pytest.fixture
def licenses() -> FakeLicenses:
    return FakeLicenses()


@pytest.fixture
def client(
    make_app: Callable[..., Flask], fake_service: Any, licenses: FakeLicenses
) -> FlaskClient:
    app = make_app(SERVICE_TRANSPORTS={"licenses": fake_service("licenses", licenses)})
    return app.test_client()


def stored_emails(db_session: Session) -> list[str]:
    return list(db_session.scalars(sa.select(Foss.email)))


def test_create_foss_with_known_license(client: FlaskClient, licenses: FakeLicenses) -> None:
    response = client.post(
        "/foss", json=foss_payload(license="MIT"), headers={"X-Request-ID": "with-license"}
    )
    assert response.status_code == 201
    assert response.json["license"] == "MIT"
    [call] = licenses.calls
    assert (call.method, str(call.url)) == ("GET", "http://licenses:8000/licenses/MIT")
    assert call.headers["X-Request-ID"] == "with-license"


def test_create_foss_refuses_unknown_license(
    client: FlaskClient, db_session: Session, licenses: FakeLicenses
) -> None:
    response = client.post("/foss", json=foss_payload(license="mit"))
    assert error_pointers(response, 409) == ["/license"]
    assert stored_emails(db_session) == []


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        problem(503, "database_unavailable"),
    ],
)
def test_create_foss_while_licenses_unavailable(
    client: FlaskClient, db_session: Session, licenses: FakeLicenses, failure: Any
) -> None:
    licenses.failure = failure
    response = client.post("/foss", json=foss_payload(license="MIT"))
    assert_problem(response, 503, "upstream_unavailable")
    assert response.headers["Retry-After"] == "5"
    assert stored_emails(db_session) == []


def test_report_licenses_error_as_bad_gateway(
    client: FlaskClient, db_session: Session, licenses: FakeLicenses
) -> None:
    licenses.failure = problem(500, "internal_error")
    assert_problem(client.post("/foss", json=foss_payload(license="MIT")), 502, "upstream_error")
    assert stored_emails(db_session) == []


@pytest.mark.parametrize("body", [foss_payload(), foss_payload(license=None)])
def test_create_foss_without_license_never_asks(
    client: FlaskClient, licenses: FakeLicenses, body: dict[str, Any]
) -> None:
    licenses.failure = httpx.ConnectError("down")
    assert client.post("/foss", json=body).status_code == 201
    assert licenses.calls == []


def test_update_foss_checks_new_license_only(client: FlaskClient, licenses: FakeLicenses) -> None:
    foss = new_foss(client)
    renamed = client.patch(f"/foss/{foss['id']}", json={"name": "Renamed"})
    assert (renamed.status_code, licenses.calls) == (200, [])
    licensed = client.patch(f"/foss/{foss['id']}", json={"license": "Apache-2.0"})
    assert licensed.json["license"] == "Apache-2.0"
    unknown = client.patch(f"/foss/{foss['id']}", json={"license": "Nope"})
    assert error_pointers(unknown, 409) == ["/license"]
    assert [call.url.path for call in licenses.calls] == ["/licenses/Apache-2.0", "/licenses/Nope"]


def test_replace_foss_license(client: FlaskClient, licenses: FakeLicenses) -> None:
    foss = new_foss(client, license="MIT")
    body = {"name": foss["name"], "email": foss["email"]}
    assert client.put(f"/foss/{foss['id']}", json=body).json["license"] is None
    replaced = client.put(f"/foss/{foss['id']}", json={**body, "license": "GPL-3.0-only"})
    assert replaced.json["license"] == "GPL-3.0-only"
    licenses.failure = httpx.ConnectError("down")
    assert_problem(
        client.put(f"/foss/{foss['id']}", json={**body, "license": "MIT"}),
        503,
        "upstream_unavailable",
    )
    assert client.get(f"/foss/{foss['id']}").json["license"] == "GPL-3.0-only"


def test_list_foss_by_license(client: FlaskClient) -> None:
    mit = [new_foss(client, license="MIT")["id"] for _ in range(3)]
    new_foss(client, license="Apache-2.0")
    new_foss(client)
    listed = client.get("/foss?license=MIT&limit=2")
    assert [item["id"] for item in listed.json["items"]] == mit[:2]
    rest = client.get(f"/foss?license=MIT&cursor={listed.json['next_cursor']}")
    assert [item["id"] for item in rest.json["items"]] == mit[2:]
    assert rest.json["next_cursor"] is None
    assert client.get("/foss?license=BSD-2-Clause").json["items"] == []


@pytest.mark.parametrize("query", ["license=", "license=not%20valid", "license=a&license=b"])
def test_list_foss_refuses_bad_license(client: FlaskClient, query: str) -> None:
    assert error_pointers(client.get(f"/foss?{query}")) == ["/license"]


@pytest.mark.parametrize("spdx_id", ["", "has space", "MIT\n", "x" * 65, 7])
def test_create_foss_refuses_malformed_license(
    client: FlaskClient, licenses: FakeLicenses, spdx_id: Any
) -> None:
    assert error_pointers(client.post("/foss", json=foss_payload(license=spdx_id))) == ["/license"]
    assert licenses.calls == []


def test_report_other_not_found_as_bad_gateway(client: FlaskClient, licenses: FakeLicenses) -> None:
    """A 404 that is not about the license (a wrong LICENSES_URL, say) is licenses' fault."""
    licenses.failure = problem(404, "not_found")
    assert_problem(client.post("/foss", json=foss_payload(license="MIT")), 502, "upstream_error")


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/foss"), ("PATCH", "/foss/1"), ("PUT", "/foss/1")]
)
def test_hold_no_database_connection_while_asking_licenses(
    make_app: Callable[..., Flask],
    fake_service: Any,
    migrated_database_url: str,
    method: str,
    path: str,
) -> None:
    """A slow licenses service must not keep foss's database (or SQLite's lock) busy."""
    held: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        held.append(get_database(app).engine.pool.checkedout())
        return httpx.Response(200, json=license_record("MIT"), headers=HEADERS)

    app = make_app(
        DATABASE_URL=migrated_database_url,
        isolated=False,
        SERVICE_TRANSPORTS={"licenses": fake_service("licenses", answer)},
    )
    client = app.test_client()
    assert client.post("/foss", json=foss_payload()).status_code == 201
    response = client.open(path, method=method, json=foss_payload(license="MIT"))
    assert response.status_code in {200, 201}
    assert held == [0]


def test_report_answer_about_another_license_as_bad_gateway(
    client: FlaskClient, db_session: Session, licenses: FakeLicenses
) -> None:
    """GET /licenses/<id> must be about that id (no other document answers in its place)."""
    licenses.failure = httpx.Response(200, json=license_record("MIT"), headers=HEADERS)
    response = client.post("/foss", json=foss_payload(license="Apache-2.0"))
    assert_problem(response, 502, "upstream_error")
    assert stored_emails(db_session) == []
