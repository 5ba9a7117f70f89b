"""The app factory helper every service's ``create_app()`` calls."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

import sqlalchemy as sa
from flask import Blueprint, Flask, Request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, RequestRedirect

from ._auth import init_api_keys
from ._body import init_json_body
from ._client import init_service_clients
from ._config import check_settings, load_settings
from ._cors import init_cors
from ._database import Database, commit_session
from ._json import OrjsonProvider
from ._probes import probes
from ._problems import init_problems
from ._request_id import init_request_id
from ._validation import init_validation

MAX_RECORD_ID = 2**31 - 1


def digits_up_to(maximum: int) -> str:
    """A regex of the decimal numbers 1..``maximum``, ASCII digits, no leading zero.

    Range checks in a converter run after Werkzeug has matched the path and its methods,
    so an out-of-range id would answer 405 for the methods of the rule it looked like;
    a regex that cannot match it makes it a plain 404 for every method.
    """
    top = str(maximum)
    shorter = [rf"[1-9][0-9]{{0,{len(top) - 2}}}"] if len(top) > 1 else []
    same_length = []
    for position, digit in enumerate(top):
        lowest = 1 if position == 0 else 0
        below = int(digit) - 1
        if below >= lowest:
            rest = len(top) - position - 1
            lower = f"[{lowest}-{below}]" if below > lowest else str(lowest)
            tail = f"[0-9]{{{rest}}}" if rest else ""
            same_length.append(f"{top[:position]}{lower}{tail}")
    return "(?:" + "|".join([*shorter, *same_length, top]) + ")"


class RecordIdConverter(IntegerConverter):
    """``<id:name>``: a positive id that fits a 32-bit column; anything else is a 404."""

    # ASCII digits in range only: Werkzeug's \d also matches other scripts' digits.
    regex = digits_up_to(MAX_RECORD_ID)

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        super().__init__(map, min=1, max=MAX_RECORD_ID)


class ServiceApp(Flask):
    """A Flask app whose request session is committed once, right after a successful view.

    Committing inside dispatch means a failed commit goes through the same error handlers
    as any other error (409, 503, ...), so a 2xx always stands for a committed write. The
    response is built first, so a view whose answer cannot be encoded commits nothing.
    """

    json_provider_class = OrjsonProvider

    def raise_routing_exception(self, request: Request) -> NoReturn:
        """A path routes as it is sent or not at all: never a redirect.

        Werkzeug redirects merged or missing slashes to an absolute URL built from the
        client's Host header; here such a path is a 404 like any other unknown path.
        """
        if isinstance(request.routing_exception, RequestRedirect):
            raise NotFound()
        super().raise_routing_exception(request)

    def dispatch_request(self) -> ResponseReturnValue:
        response = self.make_response(super().dispatch_request())
        commit_session()
        return response


def create_service_app(
    import_name: str,
    *,
    blueprints: Iterable[Blueprint],
    metadata: sa.MetaData,
    calls: Iterable[str] = (),
    test_config: Mapping[str, Any] | None = None,
) -> ServiceApp:
    """A service app: settings, middleware, error handlers, database, probes and schemas.

    Settings come from defaults, then the environment, then ``test_config``. Schemas are
    loaded from the ``schemas`` folder of the ``import_name`` package. ``calls`` names the
    services this one calls (see ``service_client()``).
    """
    service = import_name.partition(".")[0]
    calls = tuple(calls)
    app = ServiceApp(import_name)
    app.config.update(load_settings(service, os.environ, calls=calls))
    app.config.update(test_config or {})
    app.config["SERVICE_CALLS"] = calls
    check_settings(app.config)
    app.url_map.converters["id"] = RecordIdConverter
    # A path with doubled slashes is not another spelling of a route: it is unknown.
    app.url_map.merge_slashes = False
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        # Flask's documented way to trust exactly `hops` proxies' X-Forwarded-* headers.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )

    init_request_id(app)
    init_cors(app)
    init_api_keys(app)
    init_json_body(app)
    init_problems(app)
    Database(app, metadata=metadata)
    init_service_clients(app, calls)

    app.register_blueprint(probes)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    init_validation(app, import_name)
    return app
