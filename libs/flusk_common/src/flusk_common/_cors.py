"""CORS from an allow-list of origins: preflights answered before auth, headers on errors too."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

from ._request_id import HEADER as REQUEST_ID_HEADER

ALLOWED_HEADERS = ("Content-Type", "X-API-Key", REQUEST_ID_HEADER)
EXPOSED_HEADERS = ("Location", "Retry-After", REQUEST_ID_HEADER)
PREFLIGHT_MAX_AGE = 600


def is_preflight() -> bool:
    return (
        request.method == "OPTIONS"
        and "Origin" in request.headers
        and "Access-Control-Request-Method" in request.headers
    )


def _allowed_origin() -> str | None:
    """The value for ``Access-Control-Allow-Origin``, or ``None`` if the origin is not allowed."""
    origin = request.headers.get("Origin")
    origins: tuple[str, ...] = current_app.config["CORS_ORIGINS"]
    if not origin or origin == "null":
        return None
    if origin in origins:
        return origin
    return "*" if origins == ("*",) else None


def _answer_preflight() -> Response | None:
    if not is_preflight() or request.url_rule is None:
        return None
    response = current_app.response_class(status=204)
    del response.headers["Content-Type"]
    if _allowed_origin() is not None:
        # Every method of the path, not only those of the rule OPTIONS matched first:
        # GET /widgets and POST /widgets are two rules.
        methods = sorted(current_app.make_default_options_response().allow)
        response.headers["Access-Control-Allow-Methods"] = ", ".join(methods)
        response.headers["Access-Control-Allow-Headers"] = ", ".join(ALLOWED_HEADERS)
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    return response


def _add_cors_headers(response: Response) -> Response:
    response.vary.add("Origin")
    origin = _allowed_origin()
    if origin is None:
        return response
    response.headers["Access-Control-Allow-Origin"] = origin
    if current_app.config["CORS_ALLOW_CREDENTIALS"]:
        response.headers["Access-Control-Allow-Credentials"] = "true"
    if not is_preflight():
        response.headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
    return response


def init_cors(app: Flask) -> None:
    app.before_request(_answer_preflight)
    app.after_request(_add_cors_headers)
