"""JSON Schemas: loaded from a service's package, checked, and compiled once.

Schemas are JSON Schema 2020-12 files in the ``schemas/`` folder of a service's package.
Patterns are matched as ECMA-262 matches them (JSON Schema's dialect), and ``email`` is a
checked format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import email_validator
import jsonschema
import referencing

from ._errors import ConfigurationError

Validator = jsonschema.Draft202012Validator

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
_SchemaValidator = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    Validator, {"pattern": _pattern}
)


def _is_email(instance: object) -> bool:
    if isinstance(instance, str):
        email_validator.validate_email(instance, check_deliverability=False)
    return True


format_checker.checks("email", raises=email_validator.EmailNotValidError)(_is_email)


def compile_schema(
    schema: dict[str, Any], *, registry: referencing.Registry[Any] | None = None
) -> Validator:
    """A validator for ``schema``, with ECMA patterns and checked formats.

    ``registry`` holds the documents that ``schema``'s references point into, if any.
    """
    options: dict[str, Any] = {"registry": registry} if registry is not None else {}
    validator: Validator = _SchemaValidator(schema, format_checker=format_checker, **options)
    return validator


def load_schema(package: str, filename: str) -> dict[str, Any] | None:
    """``<package>/schemas/<filename>``, checked as a JSON Schema; ``None`` if there is none."""
    resource = resources.files(package).joinpath("schemas", filename)
    if not resource.is_file():
        return None
    where = f"{package}/schemas/{filename}"
    try:
        schema: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigurationError(f"{where} is not valid JSON: {exc}") from None
    try:
        Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ConfigurationError(f"{where} is not a valid JSON Schema: {exc.message}") from None
    return schema
