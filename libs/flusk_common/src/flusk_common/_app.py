"""The app factory helper every service's ``create_app()`` calls."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

import sqlalchemy as sa
from flask import Blueprint, Flask, Request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, RequestRedirect, ValidationError

from ._auth import init_api_keys
from ._body import init_json_body
from ._client import init_service_clients
from ._config import check_settings, load_settings
from ._cors import init_cors
from ._database import commit_session, init_database
from ._deadline import init_deadline
from ._errors import ConfigurationError
from ._json import OrjsonProvider
from ._metrics import app_metrics, init_metrics, init_pool_metrics
from ._openapi import init_openapi
from ._probes import probes
from ._problems import init_problems
from ._request_id import init_request_id
from ._request_validation import endpoint_schemas, init_validation
from ._resources import Resource
from ._tracing import init_tracing

MAX_RECORD_ID = 2**31 - 1


class RecordIdConverter(IntegerConverter):
    """``<id:name>``: a positive id that fits a 32-bit column; anything else is a 404."""

    regex = r"[0-9]+"  # ASCII digits only: Werkzeug's \d also matches other scripts' digits

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        super().__init__(map, min=1, max=MAX_RECORD_ID)

    def to_python(self, value: str) -> Any:
        if len(value) > len(str(MAX_RECORD_ID)) or value.startswith("0"):
            raise ValidationError()  # one spelling per id, and no int() of a huge number
        return super().to_python(value)


class ServiceApp(Flask):
    """A Flask app whose request session is committed once, right after a successful view.

    Committing inside dispatch means a failed commit goes through the same error handlers
    as any other error (409, 503, ...), so a 2xx always stands for a committed write. The
    response is built first, so a view whose answer cannot be encoded commits nothing.
    """

    json_provider_class = OrjsonProvider

    def raise_routing_exception(self, request: Request) -> NoReturn:
        """A path routes as it is sent, or it is a 404: never a redirect, nor a misleading 405.

        Werkzeug redirects merged or missing slashes to an absolute URL built from the
        client's Host header; here such a path is unknown like any other. And it picks a
        rule by its pattern before converting the path's values, so ``PATCH /foss/0`` (an
        id no converter takes) would be a 405 while ``GET`` is a 404: a 405 stands only
        where the path routes for another method.
        """
        error = request.routing_exception
        if isinstance(error, RequestRedirect) or (
            isinstance(error, MethodNotAllowed)
            and not self._routes_for(request, error.valid_methods or ())
        ):
            raise NotFound()
        super().raise_routing_exception(request)

    def _routes_for(self, request: Request, methods: Iterable[str]) -> bool:
        adapter = self.url_map.bind_to_environ(request.environ)
        for method in methods:
            try:
                adapter.match(method=method)
            except HTTPException:
                continue
            return True
        return False

    def dispatch_request(self) -> ResponseReturnValue:
        response = self.make_response(super().dispatch_request())
        if response.status_code == 204:
            del response.headers["Content-Type"]  # no content, so no type of content
        commit_session()
        return response


def create_service_app(
    import_name: str,
    *,
    blueprints: Iterable[Blueprint],
    resources: Iterable[Resource] = (),
    metadata: sa.MetaData | None = None,
    calls: Iterable[str] = (),
    test_config: Mapping[str, Any] | None = None,
) -> ServiceApp:
    """A service app: settings, middleware, error handlers, database, probes and schemas.

    Settings come from defaults, then the environment, then ``test_config``. The OpenAPI
    document is served at ``<prefix>/openapi.json``, the first blueprint's prefix. Each of
    ``resources`` gets its path converter, named after it (``/<foss:foss_id>``); the
    models' ``metadata`` is theirs unless given. Other schemas are loaded from the
    ``schemas`` folder of the ``import_name`` package. ``calls`` names the services this
    one calls (see ``service_client()``).
    """
    resources = tuple(resources)
    metadata = metadata if metadata is not None else _metadata_of(resources)
    service = import_name.partition(".")[0]
    calls = tuple(calls)
    app = ServiceApp(import_name, static_folder=None)  # a JSON API serves no files
    app.config.update(load_settings(service, os.environ, calls=calls))
    app.config.update(test_config or {})
    app.config["SERVICE_CALLS"] = calls
    check_settings(app.config)
    app.url_map.converters["id"] = RecordIdConverter
    for resource in resources:
        app.url_map.converters[resource.name] = resource.converter()
    # A path with doubled slashes is not another spelling of a route: it is unknown.
    app.url_map.merge_slashes = False
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        # Flask's documented way to trust exactly `hops` proxies' X-Forwarded-* headers.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )

    init_metrics(app)  # first: its hooks see every request whole (see its docstring)
    init_deadline(app)
    init_request_id(app)
    init_cors(app)
    init_api_keys(app)
    init_json_body(app)
    init_problems(app)
    init_database(app, metadata=metadata)
    init_pool_metrics(app)
    init_service_clients(app, calls, metrics=app_metrics(app))

    app.register_blueprint(probes)
    blueprints = list(blueprints)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    schemas = endpoint_schemas(app, import_name)
    init_validation(app, schemas)
    init_openapi(app, schemas, prefix=(blueprints[0].url_prefix or "") if blueprints else "")
    # Last: the trace's server span wraps the whole app, ProxyFix and every hook above.
    init_tracing(app, service)
    return app


def _metadata_of(resources: tuple[Resource, ...]) -> sa.MetaData:
    metadatas: dict[int, sa.MetaData] = {
        id(resource.model.metadata): resource.model.metadata for resource in resources
    }
    if len(metadatas) != 1:
        raise ConfigurationError(
            "pass metadata=, or resources whose models share one metadata (one Base)"
        )
    return next(iter(metadatas.values()))
