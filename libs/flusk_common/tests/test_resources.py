"""A resource defined once: the schemas that follow from it, its routes, and its model check."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from flusk_common import Resource
from flusk_common._errors import ConfigurationError
from flusk_common._resource_check import model_mismatches
from flusk_common.testing import assert_problem, error_pointers
from sample_app.drifted import DriftedGadget
from sample_app.models import Gadget, Widget
from sample_app.views import gadget

WRITABLE = ["name", "quantity", "colour"]


def new_gadget(client: FlaskClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/gadgets", json={"name": "Sprocket", **fields})
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


# The schemas that follow from the definition


def test_derive_create_schema() -> None:
    schema = gadget.create_schema
    assert list(schema["properties"]) == WRITABLE
    assert schema["required"] == ["name"]
    assert schema["additionalProperties"] is False
    assert schema["examples"] == [{"name": "Sprocket", "quantity": 3, "colour": "red"}]
    assert all("readOnly" not in field for field in schema["properties"].values())


def test_derive_update_schema_without_defaults() -> None:
    schema = gadget.update_schema
    assert list(schema["properties"]) == WRITABLE
    assert schema["minProperties"] == 1
    assert "required" not in schema
    assert all("default" not in field for field in schema["properties"].values())


def test_derive_item_schema_with_every_field() -> None:
    schema = gadget.item_schema
    assert schema["required"] == ["id", *WRITABLE, "created_at", "updated_at"]
    assert schema["properties"]["id"]["readOnly"] is True


def test_derive_list_query_with_filters() -> None:
    schema = gadget.list_query_schema(["colour"])
    assert list(schema["properties"]) == ["limit", "cursor", "colour"]
    assert schema["properties"]["colour"]["type"] == "string"
    assert schema["properties"]["limit"]["default"] == 20


def test_leave_immutable_fields_out_of_replacements() -> None:
    licence = Resource(Gadget, schema="immutable_gadget.json")
    assert "name" in licence.create_schema["properties"]
    assert "name" not in licence.replace_schema["properties"]
    assert "name" not in licence.update_schema["properties"]
    assert licence.replace_schema.get("required", []) == []


# Defaults, over HTTP


def test_fill_defaults_on_create(client: FlaskClient) -> None:
    body = new_gadget(client)
    assert (body["quantity"], body["colour"]) == (1, None)


def test_fill_defaults_on_replace_only(client: FlaskClient) -> None:
    record = new_gadget(client, quantity=5, colour="blue")
    patched = client.patch(f"/gadgets/{record['id']}", json={"name": "Cog"}).get_json()
    assert (patched["quantity"], patched["colour"]) == (5, "blue")
    replaced = client.put(f"/gadgets/{record['id']}", json={"name": "Cog"}).get_json()
    assert (replaced["quantity"], replaced["colour"]) == (1, None)


def test_fill_default_page_size(client: FlaskClient) -> None:
    for index in range(21):
        new_gadget(client, name=f"g{index}")
    assert len(client.get("/gadgets").get_json()["items"]) == 20


def test_filter_list(client: FlaskClient) -> None:
    red = new_gadget(client, name="a", colour="red")
    new_gadget(client, name="b", colour="blue")
    assert client.get("/gadgets?colour=red").get_json()["items"] == [red]


def test_refuse_null_filter(client: FlaskClient) -> None:
    assert error_pointers(client.get("/gadgets?colour=")) == ["/colour"]


def test_name_known_fields_of_unknown_one(client: FlaskClient) -> None:
    response = client.post("/gadgets", json={"name": "x", "weight": 3})
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"] == [
        {
            "pointer": "/weight",
            "detail": "is not a known field; the known fields are name, quantity, colour",
        }
    ]


def test_name_fields_of_an_empty_update(client: FlaskClient) -> None:
    record = new_gadget(client)
    body = assert_problem(client.patch(f"/gadgets/{record['id']}", json={}), 422)
    assert body["errors"] == [
        {"pointer": "", "detail": "must have at least one of the fields name, quantity, colour"}
    ]


def test_list_at_most_fifty_errors(client: FlaskClient) -> None:
    fields = {f"unknown{index}": index for index in range(5000)}
    response = client.post("/gadgets", json={"name": "x", **fields})
    body = assert_problem(response, 422, "validation_failed")
    assert len(body["errors"]) == 50
    assert "5000 invalid fields" in body["detail"]


# Routing by the key's schema


@pytest.mark.parametrize("key", ["0", "01", "2147483648", "-1", "1.0", "abc", "\u0663", "9" * 5000])
@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
def test_route_only_keys_the_schema_allows(client: FlaskClient, method: str, key: str) -> None:
    response = client.open(f"/gadgets/{key}", method=method, json={"name": "x"})
    assert_problem(response, 404, "not_found")


def test_build_urls_with_the_key_converter(client: FlaskClient) -> None:
    record = new_gadget(client)
    assert client.get(f"/gadgets/{record['id']}").get_json() == record


# Definitions refused at start-up


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ("missing.json", "does not exist"),
        ("required_read_only.json", "required field 'id' is not a writable field"),
        ("keyless_gadget.json", "the key of Gadget \\(id\\) must be one column"),
    ],
)
def test_refuse_broken_definition(schema: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Resource(Gadget, schema=schema)


def test_refuse_unknown_filter() -> None:
    with pytest.raises(ConfigurationError, match="cannot filter by 'weight'"):
        gadget.list(filters=["weight"])


# The model check


def test_agree_with_the_model() -> None:
    assert model_mismatches(gadget) == []


def test_name_each_drifted_field() -> None:
    found = model_mismatches(Resource(DriftedGadget, schema="gadget.json"))
    assert [line.partition(":")[0] for line in found] == [
        "colour",
        "colour",
        "id",
        "name",
        "quantity",
        "weight",
    ]
    assert any("holds at most 50 characters" in line for line in found)
    assert any("list it in required" in line for line in found)
    assert any("drifted_gadget" in line and "sqlite_autoincrement" in line for line in found)


def test_name_a_new_column_the_schema_lacks() -> None:
    found = model_mismatches(Resource(Widget, schema="gadget.json"))
    assert (
        "price: Widget.price is a column, but sample_app/schemas/gadget.json does not define it"
        in found
    )
