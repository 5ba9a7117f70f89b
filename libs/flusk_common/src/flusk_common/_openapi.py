"""The service's OpenAPI 3.1 document, made at start-up from its routes and schemas.

Nothing is kept by hand: paths and methods come from the URL map, path parameters from
their converters (a resource key's own schema), query parameters and request bodies from
the endpoint's schema, answers from the resource operation (item, page, 201 with
``Location`` and links to what a create made, 204). Every error is the one ``Problem``
component, ``application/problem+json``, with the statuses the operation can answer. It
is served at ``GET <prefix>/openapi.json`` (the first blueprint's prefix), where the
gateway routes it, and needs no API key.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Flask, current_app
from werkzeug.routing import Rule

from ._probes import INTERNAL_ENDPOINTS
from ._resources import DOCUMENT_NAME, KeyConverter, Operation, Resource, operation_of

DOCUMENT_ENDPOINT = "openapi.document"
DOCUMENT_EXTENSION = "flusk.openapi"
_SKIPPED_ENDPOINTS = frozenset({"static", *INTERNAL_ENDPOINTS, DOCUMENT_ENDPOINT})
_METHODS = ("get", "post", "put", "patch", "delete")
_PARAMETER = re.compile(r"<(?:[a-zA-Z_][a-zA-Z0-9_]*(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_SCHEMAS = "#/components/schemas/"
# What the gateway in front answers by itself, on any path: a malformed or too slow
# request, a body without a length, a request line or headers too large, the rate limit,
# an unknown transfer coding or HTTP version, the service down or too slow.
GATEWAY_STATUSES = frozenset({400, 408, 411, 414, 429, 431, 501, 502, 504, 505})
_RESPONSES = "#/components/responses/"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; code is a stable machine name.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {"type": "array", "minItems": 1, "items": {"$ref": _SCHEMAS + "FieldError"}},
    },
    "required": ["type", "title", "status", "detail", "code", "request_id"],
}
FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"pointer": {"type": "string"}, "detail": {"type": "string"}},
    "required": ["pointer", "detail"],
    "additionalProperties": False,
}
_REQUEST_ID = {
    "description": "The request's id, from the request or made for it; it is in every log line.",
    "required": True,
    "schema": {"type": "string"},
}


def _inline_defs(schema: Any, defs: Mapping[str, Any]) -> Any:
    """``schema`` with each local ``#/$defs/`` reference replaced by what it names."""
    if isinstance(schema, dict):
        reference = schema.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            target = copy.deepcopy(defs[reference.removeprefix("#/$defs/")])
            rest = {key: value for key, value in schema.items() if key != "$ref"}
            return _inline_defs({**target, **rest}, defs)
        return {key: _inline_defs(value, defs) for key, value in schema.items() if key != "$defs"}
    if isinstance(schema, list):
        return [_inline_defs(item, defs) for item in schema]
    return schema


def _portable(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A schema that stands in a document: local ``$defs`` inlined, no ``$schema``."""
    inlined: dict[str, Any] = _inline_defs(schema, schema.get("$defs", {}))
    inlined.pop("$schema", None)
    return inlined


def openapi_path(rule: Rule) -> str:
    return _PARAMETER.sub(r"{\1}", rule.rule)


def _path_parameter(rule: Rule, name: str) -> dict[str, Any]:
    converter = rule._converters[name]
    schema: dict[str, Any] = {"type": "string"}
    if isinstance(converter, KeyConverter):
        resource = converter.resource
        field = resource.fields[resource.key]
        schema = {key: value for key, value in _portable(field).items() if key != "readOnly"}
    elif getattr(converter, "num_convert", None) is int:
        schema = {"type": "integer"}
        for bound, keyword in (("min", "minimum"), ("max", "maximum")):
            if getattr(converter, bound, None) is not None:
                schema[keyword] = getattr(converter, bound)
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query_parameters(schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", ()))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": field}
        for name, field in schema.get("properties", {}).items()
    ]


def _problem(status: int) -> dict[str, Any]:
    return {"$ref": f"{_RESPONSES}{status}"}


def _problem_responses(statuses: set[int]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status in sorted(statuses):
        headers: dict[str, Any] = {"X-Request-ID": _REQUEST_ID}
        if status in {429, 503}:
            headers["Retry-After"] = {
                "description": "Seconds to wait before retrying.",
                "required": True,
                "schema": {"type": "string", "pattern": "^[0-9]+$"},
            }
        if status == 405:
            headers["Allow"] = {"required": True, "schema": {"type": "string"}}
        responses[str(status)] = {
            "description": HTTPStatus(status).phrase,
            "headers": headers,
            "content": {"application/problem+json": {"schema": {"$ref": _SCHEMAS + "Problem"}}},
        }
    return responses


class _DocumentBuilder:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA, "FieldError": FIELD_ERROR_SCHEMA}
        self.error_statuses: set[int] = set()
        self.secured = bool(app.config["API_KEYS"])

    def _component(self, name: str, schema: Mapping[str, Any]) -> dict[str, str]:
        self.schemas[name] = _portable(schema)
        return {"$ref": _SCHEMAS + name}

    def _json(self, description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "description": description,
            "headers": {"X-Request-ID": _REQUEST_ID},
            "content": {"application/json": {"schema": schema}},
        }

    def _errors(self, method: str, rule: Rule, operation: Operation | None) -> set[int]:
        statuses = {422, 500, 503} | GATEWAY_STATUSES
        if method in _BODY_METHODS:
            statuses |= {400, 409, 413, 415}
        if rule.arguments:
            statuses |= {404}
        if operation is not None and operation.kind == "delete":
            statuses |= {409}
        if self.secured:
            statuses |= {401}
        return statuses

    def _success(self, operation: Operation | None, rule: Rule) -> dict[str, Any]:
        if operation is None:  # its answers are its own: the view says what they are
            return {"default": {"description": "The view's answer"}}
        resource = operation.resource
        name = resource.model.__name__
        item = self._component(name, resource.item_schema)
        if operation.kind == "list":
            page_schema = {
                **resource.page_schema,
                "properties": {**resource.page_schema["properties"]},
            }
            page_schema["properties"]["items"] = {"type": "array", "items": item}
            page = self._component(f"{name}Page", page_schema)
            return {"200": self._json(f"One page of {name} records", page)}
        if operation.kind == "delete":
            return {"204": {"description": "Deleted", "headers": {"X-Request-ID": _REQUEST_ID}}}
        if operation.kind == "create":
            created = self._json(f"The {name} created", item)
            created["headers"]["Location"] = {
                "description": f"The path of the {name} created",
                "required": True,
                "schema": {"type": "string"},
            }
            created["links"] = self._links(resource)
            return {"201": created}
        return {"200": self._json(f"The {name}", item)}

    def _links(self, resource: Resource) -> dict[str, Any]:
        """From a create to every operation on the record it made, by its key."""
        links: dict[str, Any] = {}
        for rule in self.app.url_map.iter_rules():
            operation = operation_of(self.app.view_functions[rule.endpoint])
            if operation is None or operation.resource is not resource or not rule.arguments:
                continue
            [argument] = rule.arguments
            operation_id = rule.endpoint.rsplit(".", 1)[-1]
            links[operation_id] = {
                "operationId": operation_id,
                "parameters": {argument: f"$response.body#/{resource.key}"},
            }
        return links

    def _request_body(self, operation: Operation | None, schema: Mapping[str, Any]) -> Any:
        if operation is not None:
            name = operation.resource.model.__name__ + operation.kind.capitalize()
            reference: Mapping[str, Any] = self._component(name, schema)
        else:
            reference = _portable(schema)
        return {"required": True, "content": {"application/json": {"schema": reference}}}

    def operation(self, rule: Rule, method: str, schema: Mapping[str, Any]) -> dict[str, Any]:
        view = self.app.view_functions[rule.endpoint]
        resource_operation = operation_of(view)
        summary, _, description = (view.__doc__ or "").strip().partition("\n")
        document: dict[str, Any] = {
            "operationId": rule.endpoint.rsplit(".", 1)[-1],
            "tags": [rule.endpoint.partition(".")[0]],
            "summary": summary.strip() or rule.endpoint,
        }
        if description.strip():
            document["description"] = " ".join(description.split())
        parameters = [_path_parameter(rule, name) for name in sorted(rule.arguments)]
        if method in _BODY_METHODS:
            document["requestBody"] = self._request_body(resource_operation, schema)
        else:
            parameters += _query_parameters(_portable(schema))
        if parameters:
            document["parameters"] = parameters
        errors = self._errors(method, rule, resource_operation)
        self.error_statuses |= errors
        document["responses"] = self._success(resource_operation, rule) | {
            str(status): _problem(status) for status in sorted(errors)
        }
        return document

    def build(self, schemas: Mapping[str, Mapping[str, Any]], title: str) -> dict[str, Any]:
        paths: dict[str, Any] = {}
        for rule in sorted(self.app.url_map.iter_rules(), key=lambda rule: rule.rule):
            if rule.endpoint in _SKIPPED_ENDPOINTS or rule.endpoint not in schemas:
                continue
            item = paths.setdefault(openapi_path(rule), {})
            for method in sorted(rule.methods or (), key=str.lower):
                if method.lower() in _METHODS:
                    item[method.lower()] = self.operation(rule, method, schemas[rule.endpoint])
        components: dict[str, Any] = {
            "schemas": self.schemas,
            "responses": _problem_responses(self.error_statuses),
        }
        document: dict[str, Any] = {
            "openapi": "3.1.0",
            "info": {"title": title, "version": "1"},
            "paths": paths,
            "components": components,
        }
        if self.secured:
            components["securitySchemes"] = {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
            }
            document["security"] = [{"apiKey": []}]
        return document


def openapi_document(app: Flask, schemas: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``, whose endpoints' request schemas are ``schemas``."""
    service = app.import_name.partition(".")[0]
    return _DocumentBuilder(app).build(schemas, title=service)


def _serve_document() -> dict[str, Any]:
    document: dict[str, Any] = current_app.extensions[DOCUMENT_EXTENSION]
    return document


def init_openapi(app: Flask, schemas: Mapping[str, Mapping[str, Any]], prefix: str) -> None:
    """Make the document now, and serve it at ``<prefix>/openapi.json``."""
    app.extensions[DOCUMENT_EXTENSION] = openapi_document(app, schemas)
    blueprint = Blueprint("openapi", __name__)
    blueprint.add_url_rule(f"{prefix}/{DOCUMENT_NAME}", "document", _serve_document)
    app.register_blueprint(blueprint)
