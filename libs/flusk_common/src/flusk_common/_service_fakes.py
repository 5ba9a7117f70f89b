"""Fakes of other services for a caller's tests, held to the faked service's own contract.

A caller's unit tests may fake a service it calls with an httpx transport. Each answer the
fake gives is checked against that service's OpenAPI document, made by its own app (the
callee's package is installed beside the caller's tests, as the generated tox
environment does), so a change of the callee's contract fails the caller's tests.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import httpx
from flask import Flask

from ._document_check import Answer, mismatches

Handler = Callable[[httpx.Request], httpx.Response]


def _app_of(service: str) -> Flask:
    try:
        module = importlib.import_module(service)
    except ImportError:
        raise LookupError(
            f"the {service} package is not installed beside these tests: a fake of it is "
            f"checked against its document (install services/{service})"
        ) from None
    app: Flask = module.create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    return app


class ServiceFake:
    """A stand-in for ``service``: ``handler`` answers, and each answer is checked."""

    def __init__(self, service: str, handler: Handler) -> None:
        self.service = service
        self.handler = handler
        self.app = _app_of(service)
        self.problems: list[str] = []
        self.transport = httpx.MockTransport(self._answer)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        response = self.handler(request)
        response.read()
        content_type = response.headers.get("Content-Type")
        answer = Answer(
            request.method,
            request.url.path,
            response.status_code,
            frozenset(name.lower() for name in response.headers),
            content_type.partition(";")[0].strip() if content_type else None,
            response.content,
        )
        self.problems += mismatches(self.app, answer)
        return response
