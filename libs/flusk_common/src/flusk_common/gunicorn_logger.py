"""gunicorn's logger, building for each access log line only the fields its format names.

gunicorn's ``Logger.access`` makes a dict of some twenty fields, every request header,
every response header and every WSGI environ entry, for each request, and the format
reads five of them. ``AccessLogger`` reads the format once and builds those alone, with
the same values and escaping, so the lines are the ones gunicorn writes. A format naming
a field it does not build gets gunicorn's own dict. ``gunicorn_conf`` selects it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from gunicorn.glogging import Logger

from ._tracing import SPAN_ID_KEY, TRACE_ID_KEY

_FIELD = re.compile(r"%\((?P<name>[^)]*)\)")
_HEADER_OR_ENVIRON = re.compile(r"\{(?P<name>[^}]*)\}(?P<source>[ioe])")
# The plain fields built here; any other in the format means gunicorn's full dict.
_BUILT = frozenset({"h", "r", "s", "b", "M"})
# Built whatever the format: the ids a traced request's span left in the WSGI environ, which
# the log filter adds to the line (flusk_common._logging).
_TRACE_IDS = frozenset({TRACE_ID_KEY, SPAN_ID_KEY})


def _format_fields(access_log_format: str) -> tuple[str, ...] | None:
    """The fields ``access_log_format`` names (``None``: one that is not built here)."""
    names = dict.fromkeys(_FIELD.findall(access_log_format))
    fields = [name.lower() if name.startswith("{") else name for name in names]
    if all(name in _BUILT or _HEADER_OR_ENVIRON.fullmatch(name) for name in fields):
        return tuple(fields)
    return None


def _last_by_name(pairs: Iterable[tuple[str, Any]], names: set[str]) -> dict[str, Any]:
    """The last value of each pair whose lower-cased name is one of ``names``."""
    found: dict[str, Any] = {}
    for name, value in pairs:
        lowered = name.lower()
        if lowered in names:
            found[lowered] = value
    return found


class AccessLogger(Logger):
    """gunicorn's logger, whose access log lines cost only the fields they show."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self._fields = _format_fields(cfg.access_log_format)

    def atoms(self, resp: Any, req: Any, environ: Mapping[str, Any], request_time: Any) -> Any:
        fields = self._fields
        if fields is None:
            return super().atoms(resp, req, environ, request_time)
        atoms: dict[str, Any] = {}
        wanted: dict[str, set[str]] = {"i": set(), "o": set(), "e": set(_TRACE_IDS)}
        for field in fields:
            braced = _HEADER_OR_ENVIRON.fullmatch(field)
            if braced:
                wanted[braced["source"]].add(braced["name"])
            elif field == "h":
                atoms["h"] = environ.get("REMOTE_ADDR", "-")
            elif field == "r":
                atoms["r"] = (
                    f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}"
                )
            elif field == "s":
                status = resp.status
                atoms["s"] = status.split(None, 1)[0] if isinstance(status, str) else status
            elif field == "b":
                sent = getattr(resp, "sent", None)
                atoms["b"] = "-" if sent is None else str(sent)
            else:  # "M"
                atoms["M"] = request_time.seconds * 1000 + int(request_time.microseconds / 1000)
        request_headers = getattr(req, "headers", req)
        sources = {
            "i": request_headers.items() if hasattr(request_headers, "items") else request_headers,
            "o": resp.headers.items() if hasattr(resp.headers, "items") else resp.headers,
            "e": environ.items(),
        }
        for source, names in wanted.items():
            if names:
                for name, value in _last_by_name(sources[source], names).items():
                    atoms[f"{{{name}}}{source}"] = value
        return atoms
