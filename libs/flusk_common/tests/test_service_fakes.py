"""Fakes of other services are held to the faked service's own document."""

from __future__ import annotations

import httpx
import pytest

from flusk_common._service_fakes import ServiceFake

GADGET = {
    "id": 1,
    "name": "Sprocket",
    "quantity": 1,
    "colour": None,
    "created_at": "2026-11-24T09:00:00Z",
    "updated_at": "2026-11-24T09:00:00Z",
}
HEADERS = {"X-Request-ID": "fake"}


def ask(fake: ServiceFake, path: str) -> httpx.Response:
    with httpx.Client(transport=fake.transport, base_url="http://sample_app") as client:
        return client.get(path)


def test_pass_an_answer_the_document_allows() -> None:
    fake = ServiceFake(
        "sample_app", lambda request: httpx.Response(200, json=GADGET, headers=HEADERS)
    )
    assert ask(fake, "/gadgets/1").status_code == 200
    assert fake.problems == []


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (httpx.Response(200, json={**GADGET, "quantity": "one"}, headers=HEADERS), "'one' is not"),
        (httpx.Response(200, json=GADGET), "without its X-Request-ID header"),
        (httpx.Response(418, json=GADGET, headers=HEADERS), "does not declare"),
        (httpx.Response(404, json={"error": "gone"}, headers=HEADERS), "as application/json"),
    ],
)
def test_name_what_the_document_does_not_allow(answer: httpx.Response, expected: str) -> None:
    fake = ServiceFake("sample_app", lambda request: answer)
    ask(fake, "/gadgets/1")
    assert len(fake.problems) == 1
    assert expected in fake.problems[0]


def test_refuse_a_service_that_is_not_installed() -> None:
    with pytest.raises(LookupError, match="not installed"):
        ServiceFake("no_such_service", lambda request: httpx.Response(200))
