"""JSON Schemas: loaded from a service's package, checked, and compiled once.

Schemas are JSON Schema 2020-12 files in the ``schemas/`` folder of a service's package.
Patterns are matched as ECMA-262 matches them (JSON Schema's dialect), and ``email`` is a
checked format.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

import email_validator
import jsonschema
import referencing
import regress

from ._errors import ConfigurationError

Validator = jsonschema.Draft202012Validator

format_checker = jsonschema.FormatChecker()


@functools.lru_cache(maxsize=512)
def ecma_regex(pattern: str) -> regress.Regex:
    """``pattern`` compiled as ECMA-262 reads it, which is JSON Schema's dialect.

    Python's ``re`` differs: its ``$`` also matches before a final newline, and its ``\\s``,
    ``\\d`` and ``\\w`` match more characters (``\\x85``, other scripts' digits).
    """
    return regress.Regex(pattern)


def _pattern(
    validator: jsonschema.protocols.Validator, pattern: str, instance: Any, schema: Any
) -> Iterator[jsonschema.ValidationError]:
    if validator.is_type(instance, "string") and ecma_regex(pattern).find(instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


# jsonschema's own way to replace one keyword (its extend() is untyped).
_SchemaValidator = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    Validator, {"pattern": _pattern}
)


def check_email(address: str) -> email_validator.ValidatedEmail:
    """``address`` checked as an email address, by its syntax alone (no DNS look-up).

    ``.test`` domains are accepted; other special-use names (``.local``, ``.invalid``,
    ``localhost``) are not addresses anyone can be reached at, and are refused.
    """
    return email_validator.validate_email(
        address, check_deliverability=False, test_environment=True
    )


def _is_email(instance: object) -> bool:
    if isinstance(instance, str):
        check_email(instance)
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
