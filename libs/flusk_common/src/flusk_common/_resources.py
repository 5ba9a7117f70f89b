"""A resource defined once: one JSON Schema beside one model, and all that follows from it.

A service describes each resource in one JSON Schema (2020-12), a file in the ``schemas/``
folder of its package. It defines every field once: its type, limits and format, plus

- ``readOnly: true`` on what the server sets (the id, the timestamps);
- ``required``: what a create must send;
- ``default``: what an optional field becomes when a create or a replacement leaves it out
  (every optional writable field has one, so a PUT always means the same thing);
- ``x-immutable: true`` on a field a create sets and nothing changes later (a natural key);
- ``examples``: create bodies, used by the contract tests and the API documents.

At start-up the request and response schemas follow from it::

    create     POST body     the writable fields, ``required`` as given
    replace    PUT body      the writable, mutable fields; the required ones among them
    update     PATCH body    the writable, mutable fields, at least one, no defaults
    list       query         limit, cursor, and the filters the view names
    item       response      every field, always present
    page       response      {"items": [item, ...], "next_cursor": string or null}

A view says which operation it is with a decorator (``@foss.create``); validation, the
contract tests and the documents read it from there. The key field's schema makes the
path converter named after the resource: ``/<license:spdx_id>`` routes only keys the
schema allows, so any other path is a 404 before a view runs.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar, overload

import sqlalchemy as sa
from werkzeug.routing import BaseConverter, Map, ValidationError

from ._errors import ConfigurationError
from ._pagination import (
    CURSOR_MAX_LENGTH,
    DEFAULT_PAGE_SIZE,
    INTEGER_CURSOR_PATTERN,
    MAX_PAGE_SIZE,
)
from ._schemas import Validator, compile_schema, load_schema

OperationKind = Literal["create", "list", "read", "update", "replace", "delete"]
BODY_OPERATIONS: frozenset[OperationKind] = frozenset({"create", "update", "replace"})
OPERATION_ATTRIBUTE = "flusk_operation"
IMMUTABLE = "x-immutable"
# The last segment of the service's OpenAPI document's path, beside its keys' paths: a key
# must never be this, or its record could be written but never read.
DOCUMENT_NAME = "openapi.json"
_PAGE_PARAMETERS = ("limit", "cursor")

View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Operation:
    """What a view does to its resource; the request schema follows from it."""

    kind: OperationKind
    resource: Resource
    filters: tuple[str, ...] = ()

    @property
    def takes_body(self) -> bool:
        return self.kind in BODY_OPERATIONS

    def request_schema(self) -> dict[str, Any]:
        """The schema of the body (create, update, replace) or the query string (others)."""
        resource = self.resource
        if self.kind == "create":
            return resource.create_schema
        if self.kind == "replace":
            return resource.replace_schema
        if self.kind == "update":
            return resource.update_schema
        if self.kind == "list":
            return resource.list_query_schema(self.filters)
        return _object({})


def operation_of(view: Callable[..., Any]) -> Operation | None:
    """The operation a view was declared as, if any."""
    operation: Operation | None = getattr(view, OPERATION_ATTRIBUTE, None)
    return operation


def field_types(field: Mapping[str, Any]) -> set[str]:
    kind = field.get("type", ())
    return {kind} if isinstance(kind, str) else set(kind)


def _object(
    properties: Mapping[str, Any], required: Iterable[str] = (), **extra: Any
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": dict(properties),
        "additionalProperties": False,
        **extra,
    }
    if required := list(required):
        schema["required"] = required
    return schema


def _without(field: Mapping[str, Any], *keywords: str) -> dict[str, Any]:
    return {key: value for key, value in field.items() if key not in keywords}


NO_NUL = "^[^\\u0000]*$"


def _without_nul(field: dict[str, Any]) -> dict[str, Any]:
    """``field``, saying what every request's check enforces: its text holds no NUL.

    No database text column can hold one, so requests never carry one; the document says
    so, and a client or fuzzer reading it knows.
    """
    if "string" not in field_types(field):
        return field
    if "pattern" not in field:
        return {**field, "pattern": NO_NUL}
    return {**field, "allOf": [*field.get("allOf", ()), {"pattern": NO_NUL}]}


class Resource:
    """A model and the JSON Schema that defines its fields, loaded and checked once.

    ``Resource(Foss, schema="foss.json")`` reads ``schemas/foss.json`` from the model's
    package. The resource's name (the schema file's stem) names its path converter.
    """

    def __init__(self, model: type[Any], *, schema: str) -> None:
        self.model = model
        self.package = model.__module__.rpartition(".")[0] or model.__module__
        self.schema_file = schema
        self.name = schema.removesuffix(".json")
        loaded = load_schema(self.package, schema)
        if loaded is None:
            raise ConfigurationError(f"{self.package}/schemas/{schema} does not exist")
        self.schema = loaded
        self.where = f"{self.package}/schemas/{schema}"
        self.fields: dict[str, dict[str, Any]] = self._fields()
        self.key = self._key()
        self.writable = [name for name, field in self.fields.items() if not field.get("readOnly")]
        self.mutable = [name for name in self.writable if not self.fields[name].get(IMMUTABLE)]
        self.required = list(self.schema.get("required", ()))
        self._check_required()
        self.key_validator = compile_schema(self._standalone(self.fields[self.key]))

    def __repr__(self) -> str:
        return f"Resource({self.model.__name__}, schema={self.schema_file!r})"

    def _fields(self) -> dict[str, dict[str, Any]]:
        properties = self.schema.get("properties")
        if (
            self.schema.get("type") != "object"
            or not isinstance(properties, dict)
            or not properties
        ):
            raise ConfigurationError(f"{self.where} must describe an object with properties")
        return properties

    def _key(self) -> str:
        keys: list[str] = [column.key for column in sa.inspect(self.model).primary_key]
        if len(keys) != 1 or keys[0] not in self.fields:
            raise ConfigurationError(
                f"{self.where}: the key of {self.model.__name__} ({', '.join(keys)}) must be "
                "one column, defined as a field of the schema"
            )
        return keys[0]

    def _check_required(self) -> None:
        for name in self.required:
            if name not in self.writable:
                raise ConfigurationError(
                    f"{self.where}: required field {name!r} is not a writable field"
                )

    def _standalone(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` with the resource's ``$defs``, so that its ``$ref``s resolve alone."""
        defs = self.schema.get("$defs")
        return {**schema, "$defs": defs} if defs else schema

    # Derived schemas

    def _request_fields(self, names: Iterable[str], *drop: str) -> dict[str, Any]:
        fields = {
            name: _without_nul(_without(self.fields[name], "readOnly", IMMUTABLE, *drop))
            for name in names
        }
        if self.key in fields and "string" in field_types(fields[self.key]):
            fields[self.key] = {**fields[self.key], "not": {"const": DOCUMENT_NAME}}
        return fields

    @functools.cached_property
    def create_schema(self) -> dict[str, Any]:
        extra = {"examples": self.examples} if self.examples else {}
        fields = self._request_fields(self.writable)
        return self._standalone(_object(fields, self.required, **extra))

    @functools.cached_property
    def replace_schema(self) -> dict[str, Any]:
        required = [name for name in self.required if name in self.mutable]
        return self._standalone(_object(self._request_fields(self.mutable), required))

    @functools.cached_property
    def update_schema(self) -> dict[str, Any]:
        fields = self._request_fields(self.mutable, "default")
        return self._standalone(_object(fields, minProperties=1))

    @functools.cached_property
    def item_schema(self) -> dict[str, Any]:
        fields = {name: _without(field, IMMUTABLE) for name, field in self.fields.items()}
        return self._standalone(_object(fields, self.fields))

    @functools.cached_property
    def page_schema(self) -> dict[str, Any]:
        return _object(
            {
                "items": {"type": "array", "items": self.item_schema},
                "next_cursor": {"type": ["string", "null"]},
            },
            ["items", "next_cursor"],
        )

    def list_query_schema(self, filters: Iterable[str] = ()) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_PAGE_SIZE,
                "default": DEFAULT_PAGE_SIZE,
            },
            "cursor": self._cursor_schema(),
        }
        for name in filters:
            if name not in self.fields or name in _PAGE_PARAMETERS:
                raise ConfigurationError(
                    f"{self.where}: cannot filter by {name!r}, which is not a field of the "
                    "resource (or is a page parameter)"
                )
            field = _without(self.fields[name], "readOnly", IMMUTABLE, "default")
            if "type" in field:
                non_null = sorted(field_types(field) - {"null"})
                field["type"] = non_null[0] if len(non_null) == 1 else non_null
            properties[name] = _without_nul(field)
        return self._standalone(_object(properties))

    def _cursor_schema(self) -> dict[str, Any]:
        """The cursors a key can be: any of them is accepted, stored or not."""
        description = {"description": "The next_cursor of the previous page."}
        key = self.fields[self.key]
        if "integer" in field_types(key):
            return {"type": "string", "pattern": INTEGER_CURSOR_PATTERN, **description}
        cursor = _without(key, "readOnly", IMMUTABLE, "default", "description")
        cursor["type"] = "string"
        cursor.setdefault("minLength", 1)
        cursor.setdefault("maxLength", CURSOR_MAX_LENGTH)
        cursor = _without_nul(cursor)  # no key holds a NUL
        return {**cursor, **description}

    @property
    def examples(self) -> list[dict[str, Any]]:
        """Create bodies the schema offers as examples."""
        return copy.deepcopy(list(self.schema.get("examples", ())))

    # Operations: decorators for the views

    def _declare(self, kind: OperationKind, view: View, filters: tuple[str, ...] = ()) -> View:
        setattr(view, OPERATION_ATTRIBUTE, Operation(kind, self, filters))
        return view

    def create(self, view: View) -> View:
        """The view creates a record from the body (201, ``Location``)."""
        return self._declare("create", view)

    @overload
    def list(self, view: View) -> View: ...

    @overload
    def list(self, *, filters: Iterable[str]) -> Callable[[View], View]: ...

    def list(
        self, view: View | None = None, *, filters: Iterable[str] = ()
    ) -> View | Callable[[View], View]:
        """The view answers a page of records; ``filters`` name fields to filter by."""
        names = tuple(filters)
        self.list_query_schema(names)  # refuses unknown filters now, at import

        def declare(view: View) -> View:
            return self._declare("list", view, names)

        return declare if view is None else declare(view)

    def read(self, view: View) -> View:
        """The view answers the record its key names."""
        return self._declare("read", view)

    def update(self, view: View) -> View:
        """The view changes the fields the body gives (PATCH)."""
        return self._declare("update", view)

    def replace(self, view: View) -> View:
        """The view replaces every mutable field (PUT); absent optional ones take their default."""
        return self._declare("replace", view)

    def delete(self, view: View) -> View:
        """The view deletes the record its key names (204)."""
        return self._declare("delete", view)

    # Routing

    def converter(self) -> type[BaseConverter]:
        """The path converter for this resource's key: only keys its schema allows route."""
        return type(f"{self.model.__name__}KeyConverter", (KeyConverter,), {"resource": self})


_DIGITS = "[0-9]+"  # ASCII digits only: \d matches other scripts' digits too
_MAX_DIGITS = 20


class KeyConverter(BaseConverter):
    """A key in the path, valid against its field's schema; anything else does not route."""

    resource: ClassVar[Resource]

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        super().__init__(map, *args, **kwargs)
        if "integer" in field_types(self.resource.fields[self.resource.key]):
            self.regex = _DIGITS

    def to_python(self, value: str) -> Any:
        key: Any = value
        if self.regex == _DIGITS:
            if len(value) > _MAX_DIGITS or (value.startswith("0") and value != "0"):
                raise ValidationError()  # one spelling per key; int() refuses huge numbers
            key = int(value)
        validator: Validator = self.resource.key_validator
        if not validator.is_valid(key) or key == DOCUMENT_NAME:
            raise ValidationError()
        return key
