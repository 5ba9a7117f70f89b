"""Hostile JSON bodies and Unicode-equivalent identifiers, through the gateway.

The corpus is generated from a fixed seed, so every run sends the same bodies and a
failure names the one that failed.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from conftest import upstream_of
from helpers import assert_problem, foss_body
from stack import GatewayProcess, ServiceProcess

SEED = 20_261_124
CORPUS_SIZE = 150
# Answers a hostile body may get: created (it was valid after all) or a client error.
CLIENT_ERRORS = {400, 404, 409, 413, 415, 422}

SCALARS: list[object] = [
    None,
    True,
    0,
    -0.0,
    2**63,
    -(2**64),
    10**400,
    1e308,
    "",
    "\x00",
    "\ud800",
    "\u202e",
    "\ufeff",
    "e\u0301",
    "\uff21",
    "x" * 10_000,
    "<script>",
    "'; DROP TABLE foss; --",
    "${jndi:ldap://x}",
    "../../etc/passwd",
]
RAW_BODIES = [
    b"",
    b"{",
    b"}",
    b"[]",
    b"null",
    b"\xef\xbb\xbf{}",
    b'{"name": NaN}',
    b'{"name": Infinity}',
    b'{"name": 1e99999}',
    b'{"name": "\xff\xfe"}',
    b'{"name": "a", "name": "b"}',
    b'{"email": "\\ud800@example.org", "name": "A"}',
    b"{}" * 1000,
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    b"\x00" * 64,
    b'{"name": "A"} trailing',
    b'{"name":"A","email":"a@example.org"}\x00',
]


def hostile_value(rng: random.Random, depth: int = 0) -> object:
    """A JSON value made of edge cases: odd scalars, deep or wide containers, wrong types."""
    choice = rng.randrange(6 if depth < 4 else 1)
    if choice == 0:
        return rng.choice(SCALARS)
    if choice == 1:
        return [hostile_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if choice == 2:
        return {
            rng.choice(["name", "email", "license", "id", "", "\x00"]): hostile_value(
                rng, depth + 1
            )
        }
    if choice == 3:
        nested: object = 1
        for _ in range(rng.choice([10, 100, 300])):
            nested = [nested]
        return nested
    if choice == 4:
        return {f"k{n}": n for n in range(rng.choice([10, 1000, 20_000]))}
    return rng.choice(["x" * 300, "a@" + "b" * 300 + ".org", "@", "a@b", " a@example.org "])


def hostile_bodies() -> Iterator[bytes]:
    rng = random.Random(SEED)
    yield from RAW_BODIES
    for _ in range(CORPUS_SIZE):
        document = foss_body() if rng.random() < 0.5 else {}
        for _ in range(rng.randrange(1, 4)):
            document[rng.choice(["name", "email", "license", "id", "extra"])] = hostile_value(rng)
        text = json.dumps(document) if rng.random() < 0.9 else json.dumps(hostile_value(rng))
        yield text.encode("utf-8", "surrogatepass")


@pytest.fixture
def unlimited_client(
    foss_service: ServiceProcess, make_gateway: Callable[..., GatewayProcess]
) -> Iterator[httpx.Client]:
    """A client of a gateway whose rate limit the corpus cannot reach."""
    gateway = make_gateway([upstream_of(foss_service)], rate_limit=100_000, rate_burst=100_000)
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        yield client


def test_answer_hostile_json_corpus_with_client_errors(unlimited_client: httpx.Client) -> None:
    target = unlimited_client.post("/foss", json=foss_body()).json()["id"]
    headers = {"Content-Type": "application/json"}
    for number, body in enumerate(hostile_bodies()):
        for method, path in [
            ("POST", "/foss"),
            ("PATCH", f"/foss/{target}"),
            ("PUT", f"/foss/{target}"),
        ]:
            response = unlimited_client.request(method, path, content=body, headers=headers)
            context = f"body #{number} {method}: {body[:120]!r} -> {response.text[:200]}"
            if response.status_code in (200, 201):
                continue
            assert response.status_code in CLIENT_ERRORS, context
            assert response.headers["Content-Type"].startswith("application/problem+json"), context
            assert response.json()["status"] == response.status_code, context
        assert unlimited_client.get("/healthz").status_code == 200


EQUIVALENT_EMAILS = {
    "composed-vs-decomposed": ["jos\u00e9-{tag}@example.org", "jose\u0301-{tag}@example.org"],
    "full-width-domain": [
        "ada-{tag}@example.org",
        "ada-{tag}@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.org",
    ],
    "idna-domain": ["ada-{tag}@b\u00fccher.example", "ada-{tag}@xn--bcher-kva.example"],
}


@pytest.mark.parametrize("emails", list(EQUIVALENT_EMAILS.values()), ids=list(EQUIVALENT_EMAILS))
def test_refuse_unicode_equivalent_email(client: httpx.Client, emails: list[str]) -> None:
    tag = uuid.uuid4().hex
    first, *others = (email.format(tag=tag) for email in emails)
    assert client.post("/foss", json=foss_body(email=first)).status_code == 201
    for other in others:
        response = client.post("/foss", json=foss_body(email=other))
        assert response.status_code != 201, f"{other!r} stored beside {first!r}"
        assert_problem(response, response.status_code, response.json()["code"])
