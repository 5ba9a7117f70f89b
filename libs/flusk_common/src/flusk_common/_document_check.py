"""Every answer a test receives, checked against the app's own OpenAPI document.

The pytest plugin's apps use ``DocumentedClient``: after each request it finds the
operation the request was routed to, and fails the test unless the status is declared,
the content type is the declared one, the declared headers are there, and the body
matches the declared schema. A request that routed nowhere (404, 405) must answer
problem details. So the document cannot drift from what the service does.
"""

from __future__ import annotations

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


def check_response(app: Flask, response: TestResponse) -> None:
    """Fail unless ``response`` is what the app's document says it answers."""
    document: dict[str, Any] | None = app.extensions.get(DOCUMENT_EXTENSION)
    request = response.request
    if document is None:
        return
    method = "GET" if request.method == "HEAD" else request.method
    what = f"{request.method} {request.path} answered {response.status_code}"
    operation = _operation(app, document, method, request.path)
    if operation is None:
        if response.status_code >= 400 and request.method != "HEAD":
            assert response.mimetype == _PROBLEM, f"{what} as {response.mimetype}"
        return
    responses = operation["responses"]
    declared = responses.get(str(response.status_code))
    if declared is None:
        assert "default" in responses, f"{what}, which the document does not declare"
        return  # an endpoint that is no resource operation: its answers are its own
    declared = _resolve(document, declared)
    for name, header in declared.get("headers", {}).items():
        if header.get("required"):
            assert name in response.headers, f"{what} without its {name} header"
    content = declared.get("content")
    if not content or request.method == "HEAD":
        assert not response.data, f"{what} with a body the document does not declare"
        return
    assert response.mimetype in content, f"{what} as {response.mimetype}, not {list(content)}"
    schema = content[response.mimetype].get("schema", {})
    registry = app.extensions.setdefault(_REGISTRY, document_registry(document))
    mismatches = _mismatches(registry, response.get_json(), schema)
    assert not mismatches, f"{what} with a body the document does not describe:\n" + "\n".join(
        mismatches
    )


class DocumentedClient(FlaskClient):
    """A test client that checks every answer against the app's OpenAPI document."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        check_response(self.application, response)
        return response
