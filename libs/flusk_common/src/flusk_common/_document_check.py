"""Every answer a test receives, checked against the app's own OpenAPI document.

The pytest plugin's apps use ``DocumentedClient``: after each request it finds the
operation the request was routed to, and fails the test unless the status is declared,
the content type is the declared one, the declared headers are there, and the body
matches the declared schema. A request that routed nowhere (404, 405) must answer
problem details. So the document cannot drift from what the service does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import referencing
import referencing.jsonschema
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import HTTPException
from werkzeug.test import TestResponse

from ._openapi import _EXTENSION as DOCUMENT_EXTENSION
from ._openapi import _path
from ._schemas import compile_schema

_DOCUMENT_URI = "urn:flusk:openapi"
_REGISTRY = "flusk.openapi_registry"
_PROBLEM = "application/problem+json"


def _mismatches(registry: referencing.Registry[Any], instance: Any, schema: Any) -> list[str]:
    reference = schema.get("$ref") if isinstance(schema, dict) else None
    if isinstance(reference, str) and reference.startswith("#"):
        schema = {"$ref": _DOCUMENT_URI + reference}  # resolved inside the document
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in compile_schema(schema, registry=registry).iter_errors(instance)
    ]


def document_registry(document: dict[str, Any]) -> referencing.Registry[Any]:
    """A registry holding ``document``, so its ``#/components/...`` references resolve."""
    resource: referencing.Resource[Any] = referencing.Resource.from_contents(
        document, default_specification=referencing.jsonschema.DRAFT202012
    )
    registry: referencing.Registry[Any] = referencing.Registry().with_resource(
        _DOCUMENT_URI, resource
    )
    return registry


def _resolve(document: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    reference = item.get("$ref")
    if not isinstance(reference, str):
        return item
    node: Any = document
    for part in reference.removeprefix("#/").split("/"):
        node = node[part]
    return _resolve(document, node)


def _operation(app: Flask, document: dict[str, Any], method: str, path: str) -> Any:
    adapter = app.url_map.bind("localhost")
    try:
        rule, _ = adapter.match(path, method=method, return_rule=True)
    except HTTPException:
        return None
    return document["paths"].get(_path(rule), {}).get(method.lower())


@dataclass(frozen=True)
class Answer:
    """What a request got, however it was sent (a test client, an httpx transport)."""

    method: str
    path: str
    status: int
    header_names: frozenset[str]  # lower case
    mimetype: str | None
    data: bytes

    @classmethod
    def of(cls, response: TestResponse) -> Answer:
        request = response.request
        names = frozenset(name.lower() for name, _ in response.headers.items())
        return cls(
            request.method,
            request.path,
            response.status_code,
            names,
            response.mimetype,
            response.get_data(),
        )

    def __str__(self) -> str:
        return f"{self.method} {self.path} answered {self.status}"


def _declared(app: Flask, document: dict[str, Any], answer: Answer) -> Any:
    """The document's response for ``answer``; None for none; a list of problems if wrong."""
    head = answer.method == "HEAD"
    operation = _operation(app, document, "GET" if head else answer.method, answer.path)
    if operation is None:  # routed nowhere (404, 405): problem details, or nothing to check
        routed_nowhere = answer.status < 400 or head or answer.mimetype == _PROBLEM
        return None if routed_nowhere else [f"{answer} as {answer.mimetype}, not problem details"]
    responses = operation["responses"]
    declared = responses.get(str(answer.status))
    if declared is None:
        # An endpoint that is no resource operation declares `default`: its answers are its own.
        return (
            None if "default" in responses else [f"{answer}, which the document does not declare"]
        )
    return _resolve(document, declared)


def mismatches(app: Flask, answer: Answer) -> list[str]:
    """How ``answer`` differs from what the app's OpenAPI document says it answers."""
    document: dict[str, Any] | None = app.extensions.get(DOCUMENT_EXTENSION)
    declared = None if document is None else _declared(app, document, answer)
    if declared is None or isinstance(declared, list):
        return declared or []
    found = [
        f"{answer} without its {name} header"
        for name, header in declared.get("headers", {}).items()
        if header.get("required") and name.lower() not in answer.header_names
    ]
    content = declared.get("content")
    if not content or answer.method == "HEAD":
        return found + (
            [f"{answer} with a body the document does not declare"] if answer.data else []
        )
    if answer.mimetype not in content:
        return [*found, f"{answer} as {answer.mimetype}, not {list(content)}"]
    try:
        body = json.loads(answer.data)
    except ValueError:
        return [*found, f"{answer} with a body that is not JSON"]
    assert document is not None
    registry = app.extensions.setdefault(_REGISTRY, document_registry(document))
    schema = content[answer.mimetype].get("schema", {})
    return found + [f"{answer}: {problem}" for problem in _mismatches(registry, body, schema)]


def check_response(app: Flask, response: TestResponse) -> None:
    """Fail unless ``response`` is what the app's document says it answers."""
    found = mismatches(app, Answer.of(response))
    assert not found, "the answer differs from the service's document:\n" + "\n".join(found)


class DocumentedClient(FlaskClient):
    """A test client that checks every answer against the app's OpenAPI document."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        check_response(self.application, response)
        return response
