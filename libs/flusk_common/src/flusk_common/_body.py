"""JSON request bodies: media type, size, syntax, encoding and depth checked before any view.

A body-taking request (POST, PUT, PATCH) must be ``application/json`` (415 otherwise),
no larger than ``MAX_CONTENT_LENGTH`` (413), and one JSON object of valid UTF-8, with no
``NaN``/``Infinity`` and nested no deeper than ``JSON_MAX_DEPTH`` (400 otherwise).
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Flask, current_app, g, request

from ._errors import MalformedJSON, UnsupportedMediaType

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def takes_body() -> bool:
    """Whether the current request is routed to a method that carries a JSON body."""
    return request.method in BODY_METHODS and request.url_rule is not None


def request_body() -> dict[str, Any]:
    """The parsed (and, once validation ran, valid) JSON object of the current request."""
    body: dict[str, Any] = g.flusk_body
    return body


def _check_media_type() -> None:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Send the body as application/json.")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in {"utf-8", "utf8"}:
        raise UnsupportedMediaType("A JSON body must be encoded as UTF-8.")


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests containers deeper than ``limit``, checked without recursion."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        children = current.values() if isinstance(current, dict) else current
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                pending.append((child, depth + 1))
    return False


def _parse_body() -> None:
    if not takes_body():
        return
    if "Content-Type" not in request.headers and not request.content_length:
        raise MalformedJSON("The request has no body; send a JSON object as application/json.")
    _check_media_type()
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise MalformedJSON("The request body is empty; send a JSON object.")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedJSON(f"The body is not valid JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise MalformedJSON("The body must be a JSON object.")
    limit: int = current_app.config["JSON_MAX_DEPTH"]
    if _depth_exceeds(body, limit):
        raise MalformedJSON(f"The body is nested deeper than {limit} levels.")
    g.flusk_body = body


def init_json_body(app: Flask) -> None:
    app.before_request(_parse_body)
