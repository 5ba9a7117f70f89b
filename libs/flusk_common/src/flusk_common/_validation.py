"""JSON Schema validation of every endpoint's input, compiled once at app creation.

By convention the schema of endpoint ``<blueprint>.<name>`` is ``schemas/<name>.json`` in
the service's package. For endpoints that take a body (POST, PUT, PATCH) it describes
the body and is required; for the others it describes the query string, and an endpoint
without one accepts no query parameters. Violations answer 422, listing each one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from typing import Any, cast

import email_validator
import jsonschema
from flask import Flask, current_app, g, request
from werkzeug.datastructures import MultiDict

from ._body import BODY_METHODS, request_body, takes_body
from ._exceptions import ConfigurationError, FieldError, ValidationFailed

_EXTENSION = "flusk.validators"
_NO_PARAMETERS: dict[str, Any] = {"type": "object", "additionalProperties": False}
# Probes answer load balancers and orchestrators, which may add query strings of their own.
_UNVALIDATED_ENDPOINTS = frozenset({"static", "probes.healthz", "probes.readyz"})

format_checker = jsonschema.FormatChecker()


def ecma_anchors(pattern: str) -> str:
    """``pattern`` with each ``$`` anchor ending the string, as in JSON Schema's ECMA-262.

    Python's ``$`` also matches before a final newline: ``^[a-z]+$`` would accept "mit\n".
    """
    translated: list[str] = []
    escaped = in_class = False
    for index, character in enumerate(pattern):
        if escaped:
            escaped = False
        elif character == "\\":
            escaped = True
        elif character == "[" and not in_class:
            in_class = True
        elif character == "]" and in_class and not _opens_class(pattern, index):
            in_class = False
        elif character == "$" and not in_class:
            translated.append(r"\Z")
            continue
        translated.append(character)
    return "".join(translated)


def _opens_class(pattern: str, index: int) -> bool:
    """Whether the ``]`` at ``index`` is literal, being the first of its class ("[]", "[^]")."""
    return pattern[index - 1] == "[" or pattern[max(index - 2, 0) : index] == "[^"


def _pattern(
    validator: jsonschema.protocols.Validator, pattern: str, instance: Any, schema: Any
) -> Iterator[jsonschema.ValidationError]:
    if validator.is_type(instance, "string") and not re.search(ecma_anchors(pattern), instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


# jsonschema's own way to replace one keyword (its extend() is untyped).
SchemaValidator = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    jsonschema.Draft202012Validator, {"pattern": _pattern}
)


def _is_email(instance: object) -> bool:
    if isinstance(instance, str):
        email_validator.validate_email(instance, check_deliverability=False)
    return True


format_checker.checks("email", raises=email_validator.EmailNotValidError)(_is_email)


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
        known = set(cast(Mapping[str, Any], error.schema).get("properties", {}))
        for name in instance:
            if name not in known:
                yield FieldError(_pointer([*path, name]), "is not a known field")
        return
    yield FieldError(_pointer(path), _describe(error))


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


def validation_errors(
    validator: jsonschema.Draft202012Validator, instance: Any
) -> list[FieldError]:
    """Every violation of ``instance``, NUL characters included, in a stable order."""
    found: dict[FieldError, None] = {}
    for error in validator.iter_errors(instance):
        found.update(dict.fromkeys(_field_errors(error)))
    found.update(dict.fromkeys(_strings_with_nul(instance)))
    return sorted(found, key=lambda field_error: (field_error.pointer, field_error.detail))


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
    """The validated, typed query parameters of the current request."""
    params: dict[str, Any] = g.flusk_query
    return params


def _load_schema(package: str, name: str) -> dict[str, Any] | None:
    resource = resources.files(package).joinpath("schemas", f"{name}.json")
    if not resource.is_file():
        return None
    try:
        schema: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigurationError(
            f"{package}/schemas/{name}.json is not valid JSON: {exc}"
        ) from None
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ConfigurationError(
            f"{package}/schemas/{name}.json is not a valid JSON Schema: {exc.message}"
        ) from None
    return schema


def compile_validators(app: Flask, package: str) -> dict[str, jsonschema.Draft202012Validator]:
    """A validator per endpoint of ``app``; a body-taking endpoint without a schema fails."""
    validators: dict[str, jsonschema.Draft202012Validator] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in _UNVALIDATED_ENDPOINTS or rule.endpoint in validators:
            continue
        name = rule.endpoint.rsplit(".", 1)[-1]
        schema = _load_schema(package, name)
        if schema is None:
            if BODY_METHODS & set(rule.methods or ()):
                raise ConfigurationError(
                    f"endpoint {rule.endpoint!r} ({rule.rule}) takes a JSON body but has no "
                    f"schema: add {package}/schemas/{name}.json"
                )
            schema = _NO_PARAMETERS
        validators[rule.endpoint] = SchemaValidator(schema, format_checker=format_checker)
    return validators


def _validate_request() -> None:
    if request.url_rule is None or request.method == "OPTIONS":
        return
    validators: dict[str, jsonschema.Draft202012Validator] = current_app.extensions[_EXTENSION]
    validator = validators.get(str(request.url_rule.endpoint))
    if validator is None:
        return
    if takes_body():
        if request.args:
            names = ", ".join(sorted(request.args))
            raise ValidationFailed(f"This endpoint takes no query parameters (got {names}).")
        errors = validation_errors(validator, request_body())
    else:
        instance = query_instance(request.args, cast(Mapping[str, Any], validator.schema))
        errors = validation_errors(validator, instance)
        g.flusk_query = instance
    if errors:
        raise ValidationFailed("The request has invalid fields; see errors.", errors=errors)


def init_validation(app: Flask, package: str) -> None:
    """Compile every endpoint's schema now, and validate each request before its view."""
    app.extensions[_EXTENSION] = compile_validators(app, package)
    app.before_request(_validate_request)
