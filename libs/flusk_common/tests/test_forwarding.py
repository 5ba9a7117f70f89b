"""X-Forwarded-* headers are believed from exactly TRUSTED_PROXY_HOPS proxies, never more."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

FORWARDED = {
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "api.example.org",
}
DIRECT = {"remote_addr": "127.0.0.1", "scheme": "http", "host": "localhost"}


def seen_client(app: Flask, headers: dict[str, str]) -> dict[str, str]:
    response = app.test_client().get(
        "/widgets/client", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    )
    body: dict[str, str] = response.json
    return body


def test_ignore_forwarded_headers_by_default(app: Flask) -> None:
    assert seen_client(app, FORWARDED) == DIRECT


def test_believe_one_trusted_proxy(make_app: Callable[..., Flask]) -> None:
    app = make_app(TRUSTED_PROXY_HOPS=1)
    assert seen_client(app, FORWARDED) == {
        "remote_addr": "203.0.113.9",
        "scheme": "https",
        "host": "api.example.org",
    }


def test_take_only_the_trusted_hop(make_app: Callable[..., Flask]) -> None:
    """A client's own X-Forwarded-For entry, before the proxy's, is not believed."""
    app = make_app(TRUSTED_PROXY_HOPS=1)
    headers = {**FORWARDED, "X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
    assert seen_client(app, headers)["remote_addr"] == "203.0.113.9"
