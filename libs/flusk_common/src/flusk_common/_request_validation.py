"""Every request checked against its endpoint's schema before the view, and errors worded.

An endpoint's schema comes from its resource operation (``@foss.create``; see
``_resources``), or else from ``schemas/<name>.json`` for endpoint ``<blueprint>.<name>``.
For endpoints that take a body (POST, PUT, PATCH) it describes the body and is required;
for the others it describes the query string, and an endpoint without one accepts no query
parameters. Violations answer 422, listing each one (the first ``MAX_LISTED_ERRORS``).
Absent fields whose schema has a ``default`` take it, in bodies and query strings alike.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

import jsonschema
from flask import Flask, current_app, g, request
from werkzeug.datastructures import MultiDict

from ._body import BODY_METHODS, takes_body
from ._errors import ConfigurationError, FieldError, ValidationFailed
from ._probes import INTERNAL_ENDPOINTS
from ._resources import operation_of
from ._schemas import Validator, compile_schema, load_schema

_EXTENSION = "flusk.validators"
_NO_PARAMETERS: dict[str, Any] = {"type": "object", "additionalProperties": False}
# Probes answer load balancers and orchestrators, which may add query strings of their own.
_UNVALIDATED_ENDPOINTS = frozenset({"static", *INTERNAL_ENDPOINTS})
# At most this many errors are listed: a body of many thousand unknown fields gets a short answer.
MAX_LISTED_ERRORS = 50


def _pointer(path: Iterable[str | int]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _field_errors(error: jsonschema.ValidationError) -> Iterator[FieldError]:
    path = list(error.absolute_path)
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        required = cast(list[str], error.validator_value)
        for name in required:
            if name not in instance:
                yield FieldError(_pointer([*path, name]), "is required")
        return
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = list(cast(Mapping[str, Any], error.schema).get("properties", {}))
        detail = _unknown_field(known)
        for name in instance:
            if name not in known:
                yield FieldError(_pointer([*path, name]), detail)
        return
    if error.validator == "minProperties" and isinstance(instance, dict) and not instance:
        known = list(cast(Mapping[str, Any], error.schema).get("properties", {}))
        yield FieldError(_pointer(path), "must have at least one of the fields " + ", ".join(known))
        return
    yield FieldError(_pointer(path), _describe(error))


def _unknown_field(known: list[str]) -> str:
    if not known:
        return "is not a known field (there are none here)"
    return "is not a known field; the known fields are " + ", ".join(known)


_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object",
    "array": "an array",
    "null": "null",
}
_MESSAGE_LIMIT = 200


def _describe(error: jsonschema.ValidationError) -> str:
    """A short message that never echoes the (possibly huge) value that broke the rule."""
    rule, limit = error.validator, error.validator_value
    if rule == "type":
        kinds = [limit] if isinstance(limit, str) else list(cast(list[str], limit))
        return "must be " + " or ".join(_TYPE_NAMES.get(kind, kind) for kind in kinds)
    messages = {
        "minLength": f"must be at least {limit} characters long",
        "maxLength": f"must be at most {limit} characters long",
        "minimum": f"must be at least {limit}",
        "maximum": f"must be at most {limit}",
        "exclusiveMinimum": f"must be greater than {limit}",
        "exclusiveMaximum": f"must be less than {limit}",
        "minItems": f"must have at least {limit} items",
        "maxItems": f"must have at most {limit} items",
        "minProperties": f"must have at least {limit} fields",
        "maxProperties": f"must have at most {limit} fields",
        "format": f"must be a valid {limit}",
        "pattern": "has the wrong format",
        "enum": "must be one of the allowed values",
        "const": "must be the allowed value",
    }
    message = messages.get(str(rule), error.message)
    return message if len(message) <= _MESSAGE_LIMIT else message[: _MESSAGE_LIMIT - 1] + "…"


def _strings_with_nul(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[FieldError]:
    """NUL characters: valid JSON, but no database text column can hold them."""
    pending: list[tuple[Any, tuple[str | int, ...]]] = [(value, path)]
    while pending:
        current, where = pending.pop()
        if isinstance(current, str) and "\x00" in current:
            yield FieldError(_pointer(where), "must not contain NUL characters")
        elif isinstance(current, dict):
            for key, child in current.items():
                if "\x00" in key:
                    yield FieldError(_pointer(where), "field names must not contain NUL characters")
                pending.append((child, (*where, key)))
        elif isinstance(current, list):
            pending.extend((child, (*where, index)) for index, child in enumerate(current))


def validation_errors(validator: Validator, instance: Any) -> list[FieldError]:
    """Every violation of ``instance``, NUL characters included, in a stable order."""
    found: dict[FieldError, None] = {}
    for error in validator.iter_errors(instance):
        found.update(dict.fromkeys(_field_errors(error)))
    found.update(dict.fromkeys(_strings_with_nul(instance)))
    return sorted(found, key=lambda field_error: (field_error.pointer, field_error.detail))


def raise_if_invalid(errors: list[FieldError]) -> None:
    """A 422 listing ``errors`` (the first ``MAX_LISTED_ERRORS`` of them), if there are any."""
    if not errors:
        return
    detail = "The request has invalid fields; see errors."
    if len(errors) > MAX_LISTED_ERRORS:
        detail = (
            f"The request has {len(errors)} invalid fields; errors lists the first "
            f"{MAX_LISTED_ERRORS}."
        )
    raise ValidationFailed(detail, errors=errors[:MAX_LISTED_ERRORS])


def with_defaults(instance: dict[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """``instance`` with each absent property that has a ``default`` in ``schema`` set to it."""
    for name, field in schema.get("properties", {}).items():
        if name not in instance and isinstance(field, dict) and "default" in field:
            instance[name] = copy.deepcopy(field["default"])  # never shared between requests
    return instance


# JSON's own number syntax: no "1_0", " 1", "nan" or "inf", which int() and float() accept.
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_NUMBER_FRACTION = re.compile(r"[.eE]")


def _coerce(raw: str, schema: Mapping[str, Any]) -> Any:
    """A query-string value as the type its schema asks for, left as text if it is not one."""
    kind = schema.get("type")
    if kind == "integer" and _INTEGER.fullmatch(raw):
        return int(raw)
    if kind == "number" and _NUMBER.fullmatch(raw):
        return float(raw) if _NUMBER_FRACTION.search(raw) else int(raw)
    if kind == "boolean" and raw in {"true", "false"}:
        return raw == "true"
    return raw


def query_instance(args: MultiDict[str, str], schema: Mapping[str, Any]) -> dict[str, Any]:
    """The query string as a JSON object typed by ``schema``, ready to validate."""
    properties: Mapping[str, Any] = schema.get("properties", {})
    instance: dict[str, Any] = {}
    for name in args:
        property_schema = properties.get(name, {})
        values = args.getlist(name)
        if property_schema.get("type") == "array":
            items = property_schema.get("items", {})
            instance[name] = [_coerce(value, items) for value in values]
        elif len(values) > 1:
            instance[name] = values  # a list where one value is expected: the schema says so
        else:
            instance[name] = _coerce(values[0], property_schema)
    return instance


def query_params() -> dict[str, Any]:
    """The validated, typed query parameters of the current request (empty if none)."""
    params: dict[str, Any] = g.get("flusk_query", {})
    return params


def _endpoint_schema(app: Flask, endpoint: str, methods: set[str], package: str) -> dict[str, Any]:
    operation = operation_of(app.view_functions[endpoint])
    if operation is not None:
        return operation.request_schema()
    name = endpoint.rsplit(".", 1)[-1]
    schema = load_schema(package, f"{name}.json")
    if schema is not None:
        return schema
    if BODY_METHODS & methods:
        raise ConfigurationError(
            f"endpoint {endpoint!r} takes a JSON body but has no schema: declare its resource "
            f"operation, or add {package}/schemas/{name}.json"
        )
    return _NO_PARAMETERS


def endpoint_schemas(app: Flask, package: str) -> dict[str, dict[str, Any]]:
    """The request schema of every endpoint of ``app``; a body-taking one without one fails."""
    schemas: dict[str, dict[str, Any]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in _UNVALIDATED_ENDPOINTS or rule.endpoint in schemas:
            continue
        schemas[rule.endpoint] = _endpoint_schema(
            app, rule.endpoint, set(rule.methods or ()), package
        )
    return schemas


@dataclass(frozen=True)
class _EndpointCheck:
    validator: Validator
    empty_query: dict[str, Any] | None  # what no query string means, if that is valid


def _endpoint_check(schema: dict[str, Any]) -> _EndpointCheck:
    validator = compile_schema(schema)
    empty = with_defaults({}, schema) if validator.is_valid({}) else None
    return _EndpointCheck(validator, empty)


def _validate_request() -> None:
    if request.url_rule is None or request.method == "OPTIONS":
        return
    checks: dict[str, _EndpointCheck] = current_app.extensions[_EXTENSION]
    check = checks.get(str(request.url_rule.endpoint))
    if check is None:
        return
    if not request.args and check.empty_query is not None and not takes_body():
        g.flusk_query = dict(check.empty_query)  # nothing to check: no schema run per request
        return
    validator = check.validator
    schema = cast(Mapping[str, Any], validator.schema)
    if takes_body():
        if request.args:
            names = ", ".join(sorted(request.args))
            raise ValidationFailed(f"This endpoint takes no query parameters (got {names}).")
        body: dict[str, Any] = g.flusk_body
        raise_if_invalid(validation_errors(validator, body))
        with_defaults(body, schema)
    else:
        instance = query_instance(request.args, schema)
        raise_if_invalid(validation_errors(validator, instance))
        g.flusk_query = with_defaults(instance, schema)


def init_validation(app: Flask, schemas: Mapping[str, dict[str, Any]]) -> None:
    """Compile every endpoint's schema now, and validate each request before its view."""
    app.extensions[_EXTENSION] = {
        endpoint: _endpoint_check(schema) for endpoint, schema in schemas.items()
    }
    app.before_request(_validate_request)
