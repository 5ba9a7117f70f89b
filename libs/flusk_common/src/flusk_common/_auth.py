"""Optional API keys: with ``API_KEYS`` set, every public route needs a matching ``X-API-Key``."""

from __future__ import annotations

import hmac

from flask import Flask, current_app, request

from ._cors import is_preflight
from ._errors import Unauthorized
from ._openapi import DOCUMENT_ENDPOINT
from ._probes import INTERNAL_ENDPOINTS

# The probes and metrics answer orchestrators and scrapers, and the API document tells a
# client how to authenticate.
_OPEN_ENDPOINTS = frozenset({*INTERNAL_ENDPOINTS, DOCUMENT_ENDPOINT})

HEADER = "X-API-Key"


def _key_matches(given: str, keys: tuple[str, ...]) -> bool:
    # Compare against every key, in constant time each, so timing tells nothing.
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given.encode(), key.encode())
    return matched


def _require_api_key() -> None:
    keys: tuple[str, ...] = current_app.config["API_KEYS"]
    if not keys or request.endpoint in _OPEN_ENDPOINTS or is_preflight():
        return
    given = request.headers.get(HEADER)
    if given is None:
        raise Unauthorized(f"Send an API key in the {HEADER} header.")
    if not _key_matches(given, keys):
        raise Unauthorized("The API key is not valid.")


def init_api_keys(app: Flask) -> None:
    app.before_request(_require_api_key)
