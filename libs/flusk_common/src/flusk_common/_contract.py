"""Flusk's HTTP contract, checked for every endpoint of a service: the contract-test kit.

A service turns it on with one class in its tests::

    from flusk_common.testing import ContractTests

    class TestContract(ContractTests):
        pass

The checks are read off the app itself (its routes, resource operations and schemas):
bodies (415, 400, 413, no query parameters), 405 with ``Allow``, 401 with API keys, the
probes, problem+json 404 for unknown routes and keys, 503 with ``Retry-After`` while the
database is down, a create → read → list → update → replace → delete round trip whose
every answer matches its schema, the schema against the model, the WSGI entry point
(``<package>.wsgi``), and the migrations (no drift; upgrade → downgrade → upgrade).
The service's own tests keep only its own rules.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openapi_spec_validator
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from ._assertions import assert_problem, send_raw
from ._database import get_database
from ._openapi import DOCUMENT_ENDPOINT, DOCUMENT_EXTENSION
from ._probes import INTERNAL_ENDPOINTS
from ._resource_check import model_mismatches
from ._resources import KeyConverter, Operation, Resource, operation_of
from ._schemas import compile_schema

MakeApp = Callable[..., Flask]
UNREACHABLE_DATABASE = "postgresql+psycopg://flusk@127.0.0.1:1/unreachable"
CONTRACT_API_KEY = "contract-test-key"
_PROBES = ("/healthz", "/readyz")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_WRONG_MEDIA_TYPES = (
    None,
    "text/plain",
    "application/problem+json",
    "application/json; charset=latin-1",
)
_MALFORMED_BODIES = (b"", b'{"a": ', b"[]", b"null", b'{"a": NaN}', b'{"a": "\xff"}')
_UNKNOWN_RECORD_KINDS = frozenset({"read", "update", "replace", "delete"})


@dataclass(frozen=True)
class Endpoint:
    """One method of one route, with a URL that routes to it and naming no existing record."""

    method: str
    rule: Rule
    url: str
    operation: Operation | None

    def __str__(self) -> str:
        return f"{self.method} {self.rule.rule}"

    @property
    def takes_body(self) -> bool:
        return self.method in {"POST", "PUT", "PATCH"}

    def valid_body(self) -> dict[str, Any] | None:
        """A body the endpoint accepts: from the resource's first example."""
        if self.operation is None or not self.operation.takes_body:
            return None
        resource = self.operation.resource
        example = resource.examples[0] if resource.examples else {}
        if self.operation.kind == "create":
            return example
        return {name: value for name, value in example.items() if name in resource.mutable}


def _load_app(config: pytest.Config) -> Flask:
    target = str(config.getini("flusk_app"))
    module, _, attribute = target.partition(":")
    factory = getattr(importlib.import_module(module), attribute)
    app: Flask = factory({"TESTING": True, "DATABASE_URL": "sqlite://"})
    return app


def _sample_value(app: Flask, rule: Rule, argument: str) -> Any:
    """A value of a path argument that routes, and names no record in an empty database."""
    converter = rule._converters[argument]
    if isinstance(converter, KeyConverter):
        return sample_key(converter.resource)
    maximum = getattr(converter, "max", None)
    return maximum if maximum is not None else "x"


def sample_key(resource: Resource) -> Any:
    """A key the resource's schema allows: its largest id, or its first example's key."""
    field = resource.fields[resource.key]
    if "maximum" in field:
        return field["maximum"]
    examples = resource.examples
    if examples and resource.key in examples[0]:
        return examples[0][resource.key]
    raise LookupError(f"{resource.where}: give {resource.key!r} a maximum or an example")


def endpoints(app: Flask) -> list[Endpoint]:
    """Every method of every public route of ``app``."""
    found: list[Endpoint] = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in {"static", DOCUMENT_ENDPOINT, *INTERNAL_ENDPOINTS}:
            continue
        values = {argument: _sample_value(app, rule, argument) for argument in rule.arguments}
        with app.test_request_context():
            url = app.url_map.bind("localhost").build(rule.endpoint, values)
        operation = operation_of(app.view_functions[rule.endpoint])
        for method in sorted(set(rule.methods or ()) & set(_METHODS)):
            found.append(Endpoint(method, rule, url, operation))
    return found


def resources_of(app: Flask) -> list[Resource]:
    found: dict[int, Resource] = {}
    for view in app.view_functions.values():
        operation = operation_of(view)
        if operation is not None:
            found.setdefault(id(operation.resource), operation.resource)
    return list(found.values())


def _allowed_methods(app: Flask, rule: Rule) -> set[str]:
    return {
        method
        for other in app.url_map.iter_rules()
        if other.rule == rule.rule
        for method in other.methods or ()
    }


def assert_matches(instance: Any, schema: dict[str, Any], what: str) -> None:
    """Fail, listing every violation, unless ``instance`` is valid against ``schema``."""
    errors = [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in compile_schema(schema).iter_errors(instance)
    ]
    assert not errors, f"{what} does not match its schema:\n" + "\n".join(errors)


def _send(client: FlaskClient, endpoint: Endpoint, **kwargs: Any) -> Any:
    return client.open(endpoint.url, method=endpoint.method, **kwargs)


def _by_kind(app: Flask, resource: Resource) -> dict[str, Endpoint]:
    return {
        endpoint.operation.kind: endpoint
        for endpoint in endpoints(app)
        if endpoint.operation is not None and endpoint.operation.resource is resource
    }


class ContractTests:
    """The generic HTTP contract for every endpoint of the service under test."""

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        app = _load_app(metafunc.config)
        every = endpoints(app)
        choices: dict[str, list[Any]] = {
            "endpoint": every,
            "body_endpoint": [endpoint for endpoint in every if endpoint.takes_body],
            "record_endpoint": [
                endpoint
                for endpoint in every
                if endpoint.operation is not None
                and endpoint.operation.kind in _UNKNOWN_RECORD_KINDS
            ],
            "resource_endpoint": [endpoint for endpoint in every if endpoint.operation],
            "resource": resources_of(app),
        }
        for name, values in choices.items():
            if name in metafunc.fixturenames:
                metafunc.parametrize(name, values, ids=str)

    # Bodies

    @pytest.mark.parametrize("content_type", _WRONG_MEDIA_TYPES)
    def test_body_needs_json_media_type(
        self, client: FlaskClient, body_endpoint: Endpoint, content_type: str | None
    ) -> None:
        response = send_raw(client, body_endpoint.method, body_endpoint.url, b"{}", content_type)
        assert_problem(response, 415, "unsupported_media_type")

    @pytest.mark.parametrize("body", _MALFORMED_BODIES)
    def test_body_must_be_a_json_object(
        self, client: FlaskClient, body_endpoint: Endpoint, body: bytes
    ) -> None:
        response = send_raw(client, body_endpoint.method, body_endpoint.url, body)
        assert_problem(response, 400, "malformed_json")

    def test_body_too_large(self, app: Flask, client: FlaskClient, body_endpoint: Endpoint) -> None:
        limit: int = app.config["MAX_CONTENT_LENGTH"]
        body = b'{"a": "' + b"x" * limit + b'"}'
        response = send_raw(client, body_endpoint.method, body_endpoint.url, body)
        assert_problem(response, 413, "request_entity_too_large")

    def test_body_endpoint_takes_no_query(
        self, client: FlaskClient, body_endpoint: Endpoint
    ) -> None:
        url = body_endpoint.url + "?unexpected=1"
        response = send_raw(client, body_endpoint.method, url, b"{}")
        assert_problem(response, 422, "validation_failed")

    # Routing, methods, auth

    def test_wrong_method(self, app: Flask, client: FlaskClient, endpoint: Endpoint) -> None:
        allowed = _allowed_methods(app, endpoint.rule)
        for method in sorted(set(_METHODS) - allowed):
            response = client.open(endpoint.url, method=method, json={})
            assert_problem(response, 405, "method_not_allowed")
            assert set(response.headers["Allow"].split(", ")) == allowed

    def test_unknown_route(self, client: FlaskClient, endpoint: Endpoint) -> None:
        response = client.get(endpoint.url.rstrip("/") + "/no/such/route")
        assert_problem(response, 404, "not_found")

    def test_api_key_required(self, make_app: MakeApp, endpoint: Endpoint) -> None:
        client = make_app(API_KEYS=(CONTRACT_API_KEY,)).test_client()
        for headers in ({}, {"X-API-Key": "wrong"}):
            response = _send(client, endpoint, json=endpoint.valid_body(), headers=headers)
            assert_problem(response, 401, "unauthorized")

    @pytest.mark.parametrize("path", _PROBES)
    def test_probe_needs_no_api_key(self, make_app: MakeApp, path: str) -> None:
        response = make_app(API_KEYS=(CONTRACT_API_KEY,)).test_client().get(path)
        assert response.status_code == 200
        assert response.get_json()["status"] == "ok"

    # Records and the database

    def test_unknown_record(self, client: FlaskClient, record_endpoint: Endpoint) -> None:
        response = _send(client, record_endpoint, json=record_endpoint.valid_body())
        assert_problem(response, 404, "record_not_found")

    def test_database_down(self, make_app: MakeApp, resource_endpoint: Endpoint) -> None:
        app = make_app(
            DATABASE_URL=UNREACHABLE_DATABASE, DATABASE_CONNECT_TIMEOUT=1, isolated=False
        )
        response = _send(app.test_client(), resource_endpoint, json=resource_endpoint.valid_body())
        assert_problem(response, 503, "database_unavailable")
        assert response.headers["Retry-After"] == str(app.config["RETRY_AFTER"])
        assert "127.0.0.1" not in response.get_data(as_text=True)

    # The resource

    def test_resource_matches_model(self, resource: Resource) -> None:
        mismatches = model_mismatches(resource)
        assert not mismatches, f"{resource!r} and its model disagree:\n" + "\n".join(mismatches)

    def test_keys_never_reused(
        self, make_app: MakeApp, migrated_database_url: str, resource: Resource
    ) -> None:
        """A deleted record's key is never handed out again, not even the newest one's.

        On the migrated tables (SQLite reuses the newest key unless the table says not to).
        """
        app = make_app(DATABASE_URL=migrated_database_url, isolated=False)
        endpoint = _by_kind(app, resource)
        if not {"create", "delete"} <= endpoint.keys() or resource.key in resource.writable:
            pytest.skip(f"{resource!r}: its records are not created and deleted with made keys")
        client = app.test_client()
        first = client.post(endpoint["create"].url, json=resource.examples[0])
        assert first.status_code == 201, first.get_data(as_text=True)
        assert client.delete(first.headers["Location"]).status_code == 204
        second = client.post(endpoint["create"].url, json=resource.examples[0])
        assert second.status_code == 201, second.get_data(as_text=True)
        assert first.json is not None
        assert second.json is not None
        assert second.json[resource.key] != first.json[resource.key]

    def test_resource_examples_are_valid(self, resource: Resource) -> None:
        assert resource.examples, f"{resource.where}: add an example create body (examples)"
        for example in resource.examples:
            assert_matches(example, resource.create_schema, f"the example {example}")

    def test_round_trip(self, app: Flask, client: FlaskClient, resource: Resource) -> None:
        """Create → read → list → update → replace → delete, every answer as its schema says."""
        round_trip(app, client, resource)

    # The API document

    def test_openapi_document_is_valid(self, app: Flask) -> None:
        """OpenAPI 3.1, as openapi-spec-validator reads the standard."""
        openapi_spec_validator.validate(app.extensions[DOCUMENT_EXTENSION])

    def test_openapi_document_served_without_api_key(
        self, make_app: MakeApp, pytestconfig: pytest.Config
    ) -> None:
        app = make_app(API_KEYS=(CONTRACT_API_KEY,))
        [url] = [
            rule.rule for rule in app.url_map.iter_rules() if rule.endpoint == DOCUMENT_ENDPOINT
        ]
        response = app.test_client().get(url)
        assert response.status_code == 200
        assert response.get_json()["security"] == [{"apiKey": []}]

    # Running it

    def test_wsgi_entry_point(
        self, pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """``<package>.wsgi`` builds the app from the environment, as gunicorn imports it."""
        package = str(pytestconfig.getini("flusk_app")).partition(":")[0]
        url = f"sqlite:///{tmp_path / 'wsgi.db'}"
        monkeypatch.setenv(f"{package.upper()}_DATABASE_URL", url)
        root = logging.getLogger()
        monkeypatch.setattr(root, "handlers", root.handlers[:])
        monkeypatch.setattr(root, "level", root.level)
        monkeypatch.delitem(sys.modules, f"{package}.wsgi", raising=False)
        app = importlib.import_module(f"{package}.wsgi").app
        try:
            assert app.config["DATABASE_URL"] == url
            assert app.test_client().get("/readyz").status_code == 200
        finally:
            get_database(app).engine.dispose()
            sys.modules.pop(f"{package}.wsgi", None)

    # Migrations

    def test_migrations_match_models(self, migrations: Any, migrated_database_url: str) -> None:
        assert migrations.drift(migrated_database_url) == []

    def test_migrations_round_trip(self, migrations: Any, fresh_database_url: str) -> None:
        migrations.upgrade(fresh_database_url)
        migrations.downgrade(fresh_database_url)
        migrations.upgrade(fresh_database_url)
        assert migrations.drift(fresh_database_url) == []


def round_trip(app: Flask, client: FlaskClient, resource: Resource) -> None:
    """Each operation the resource has, in turn, on its first example."""
    endpoint = _by_kind(app, resource)
    assert "create" in endpoint, f"{resource!r} has no create operation"
    created = client.post(endpoint["create"].url, json=resource.examples[0])
    assert created.status_code == 201, created.get_data(as_text=True)
    record = created.json
    assert_matches(record, resource.item_schema, "the created record")
    location = created.headers["Location"]
    if "read" in endpoint:
        read = client.get(location)
        assert (read.status_code, read.json) == (200, record)
    if "list" in endpoint:
        listed = client.get(endpoint["list"].url)
        assert listed.status_code == 200
        page = listed.get_json()
        assert_matches(page, resource.page_schema, "the list page")
        assert record in page["items"]
    body = {name: value for name, value in resource.examples[0].items() if name in resource.mutable}
    for kind, method in (("update", "PATCH"), ("replace", "PUT")):
        if kind in endpoint:
            changed = client.open(location, method=method, json=body)
            assert changed.status_code == 200, changed.get_data(as_text=True)
            assert_matches(changed.json, resource.item_schema, f"the record after {method}")
    if "delete" in endpoint:
        deleted = client.delete(location)
        assert (deleted.status_code, deleted.data) == (204, b"")
        assert "Content-Type" not in deleted.headers
        assert_problem(client.delete(location), 404, "record_not_found")
