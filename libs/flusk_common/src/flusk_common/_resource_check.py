"""Whether a resource's schema and its model agree, field by field.

Each disagreement is one sentence that names the field and says which file to change:
a column the schema leaves out or a field with no column, types, nullability, lengths,
integer ranges, defaults, and optional fields that PUT could not fill.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from ._resources import Resource, field_types

INT16 = (-(2**15), 2**15 - 1)
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


# Column types, most specific first, and how their values are written in JSON.
_JSON_TYPES: tuple[tuple[type[sa.types.TypeEngine[Any]], set[str], str | None], ...] = (
    (sa.Boolean, {"boolean"}, None),
    (sa.Integer, {"integer"}, None),
    (sa.Float, {"number"}, None),
    (sa.Numeric, {"string", "number"}, None),
    (sa.DateTime, {"string"}, "date-time"),
    (sa.Date, {"string"}, "date"),
    (sa.Uuid, {"string"}, "uuid"),
    (sa.JSON, {"object", "array", "string", "number", "integer", "boolean"}, None),
    (sa.String, {"string"}, None),
)


def _json_types(column_type: sa.types.TypeEngine[Any]) -> tuple[set[str], str | None]:
    """The JSON types (and format) a column of ``column_type`` is written as."""
    if isinstance(column_type, sa.TypeDecorator):
        return _json_types(column_type.impl_instance)
    for kind, json_types, json_format in _JSON_TYPES:
        if isinstance(column_type, kind):
            return json_types, json_format
    return set(), None


def _integer_range(column_type: sa.types.TypeEngine[Any]) -> tuple[int, int]:
    if isinstance(column_type, sa.BigInteger):
        return INT64
    if isinstance(column_type, sa.SmallInteger):
        return INT16
    return INT32


def _scalar_default(column: sa.Column[Any]) -> tuple[bool, Any]:
    default = column.default
    if isinstance(default, sa.ColumnDefault) and default.is_scalar:
        return True, default.arg
    return False, None


def _field_mismatches(
    resource: Resource, name: str, field: dict[str, Any], column: sa.Column[Any]
) -> Iterator[str]:
    model, where = resource.model.__name__, resource.where
    json_types, json_format = _json_types(column.type)
    declared = field_types(field) - {"null"}
    if json_types and not declared <= json_types:
        yield (
            f"{name}: {where} says {sorted(declared)} but {model}.{name} is "
            f"{column.type!r}, written as {sorted(json_types)}"
        )
    if json_format and field.get("format") != json_format:
        yield f"{name}: {model}.{name} is {column.type!r}; set format {json_format!r} in {where}"
    if column.nullable != ("null" in field_types(field)):
        yield (
            f"{name}: {model}.{name} is {'' if column.nullable else 'not '}nullable, but {where} "
            f"{'does not allow' if column.nullable else 'allows'} null"
        )
    length = getattr(column.type, "length", None)
    if length is not None and "string" in declared:
        max_length = field.get("maxLength")
        if max_length is None or max_length > length:
            yield (
                f"{name}: {model}.{name} holds at most {length} characters; "
                f"set maxLength to {length} or less in {where}"
            )
    if isinstance(column.type, sa.Integer) and "integer" in declared:
        low, high = _integer_range(column.type)
        if not low <= field.get("minimum", low - 1) or not field.get("maximum", high + 1) <= high:
            yield (
                f"{name}: {model}.{name} holds {low}..{high}; set minimum and maximum "
                f"within them in {where}"
            )
    has_default, default = _scalar_default(column)
    if has_default and "default" in field and field["default"] != default:
        yield (
            f"{name}: {where} gives default {field['default']!r} but {model}.{name} "
            f"defaults to {default!r}"
        )


def _writable_mismatches(resource: Resource, name: str, column: sa.Column[Any]) -> Iterator[str]:
    field, where = resource.fields[name], resource.where
    if name in resource.required:
        return
    if "default" not in field:
        yield (
            f"{name}: an optional field needs a default in {where} (what a create or a PUT "
            "that leaves it out stores), or list it in required"
        )
    if not column.nullable and column.default is None and column.server_default is None:
        yield (
            f"{name}: {resource.model.__name__}.{name} cannot be null and has no default: "
            f"list it in required in {where}, or give the column a default"
        )


def _reused_key(resource: Resource) -> Iterator[str]:
    """A made integer key that SQLite would hand out again once the newest record is gone."""
    table = resource.model.__table__
    key = table.columns[resource.key]
    if isinstance(key.type, sa.Integer) and not table.dialect_options["sqlite"]["autoincrement"]:
        yield (
            f"{resource.key}: on SQLite, table {table.name} gives a deleted newest record's key "
            f"to the next one; set __table_args__ = ({{'sqlite_autoincrement': True}},) on "
            f"{resource.model.__name__}, and migrate"
        )


def model_mismatches(resource: Resource) -> list[str]:
    """Every way ``resource``'s schema and model disagree; empty when they agree."""
    columns = {
        attribute.key: attribute.columns[0] for attribute in sa.inspect(resource.model).column_attrs
    }
    model, where = resource.model.__name__, resource.where
    found: list[str] = list(_reused_key(resource))
    for name in columns.keys() - resource.fields.keys():
        found.append(f"{name}: {model}.{name} is a column, but {where} does not define it")
    for name in resource.fields.keys() - columns.keys():
        found.append(f"{name}: {where} defines it, but {model} has no column {name!r}")
    for name in resource.fields.keys() & columns.keys():
        found += _field_mismatches(resource, name, resource.fields[name], columns[name])
        if name in resource.writable:
            found += _writable_mismatches(resource, name, columns[name])
    return sorted(found)
