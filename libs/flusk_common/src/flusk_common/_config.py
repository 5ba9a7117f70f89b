"""Settings of a service: defaults, then the environment, then test overrides.

Each setting is read from ``<SERVICE>_<NAME>`` first (``FOSS_DATABASE_URL``), then from
``<NAME>`` (``DATABASE_URL``), so one environment can hold settings for many services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import ConfigurationError

SERVICE_PORT = 8000  # where every service listens in its container


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def _positive_number(raw: str) -> float:
    value = float(raw)
    if not value > 0 or value == float("inf"):
        raise ValueError("must be a positive number")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be zero or a positive integer")
    return value


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _boolean(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("must be true or false")


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[str], Any]
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        None,
        str,
        "SQLAlchemy URL; default sqlite:///var/<service>.db (relative to the working directory)",
    ),
    Setting("DATABASE_CONNECT_TIMEOUT", 3, _positive_int, "seconds to wait for a connection"),
    Setting(
        "DATABASE_STATEMENT_TIMEOUT",
        15_000,
        _positive_int,
        "milliseconds a PostgreSQL statement may run",
    ),
    Setting("DATABASE_POOL_SIZE", 5, _positive_int, "connections kept per process"),
    Setting("SQLITE_BUSY_TIMEOUT", 5_000, _positive_int, "milliseconds SQLite waits for a lock"),
    Setting("RETRY_AFTER", 5, _positive_int, "seconds in Retry-After when a dependency is down"),
    Setting("MAX_CONTENT_LENGTH", 1024 * 1024, _positive_int, "largest request body in bytes"),
    Setting("JSON_MAX_DEPTH", 32, _positive_int, "deepest nesting accepted in a request body"),
    Setting("CORS_ORIGINS", (), _csv, "comma-separated origins allowed to call from a browser"),
    Setting("CORS_ALLOW_CREDENTIALS", False, _boolean, "send Access-Control-Allow-Credentials"),
    Setting("API_KEYS", (), _csv, "comma-separated accepted X-API-Key values; empty: no auth"),
    Setting(
        "TRUSTED_PROXY_HOPS",
        0,
        _non_negative_int,
        "proxies in front whose X-Forwarded-* headers are believed (1 behind the gateway)",
    ),
    Setting("SERVICE_CONNECT_TIMEOUT", 2.0, _positive_number, "seconds to reach another service"),
    Setting("SERVICE_READ_TIMEOUT", 5.0, _positive_number, "seconds another service may take"),
    Setting("SERVICE_RETRIES", 2, _non_negative_int, "retries of an idempotent call to a service"),
    Setting(
        "SERVICE_MAX_CONCURRENT_CALLS",
        4,
        _positive_int,
        "calls in flight to one service per process; more are refused at once with a 503",
    ),
    Setting(
        "SERVICE_BREAKER_FAILURES",
        5,
        _positive_int,
        "failed calls in a row after which calls to that service fail fast with a 503",
    ),
    Setting(
        "SERVICE_BREAKER_RESET",
        10.0,
        _positive_number,
        "seconds a tripped breaker fails fast before it lets a probing call through",
    ),
    Setting("METRICS", True, _boolean, "record Prometheus metrics and serve them at /metrics"),
    Setting(
        "REQUEST_DEADLINE",
        20.0,
        _positive_number,
        "seconds a request may wait on the database and other services; below GUNICORN_TIMEOUT",
    ),
)


def call_settings(calls: Iterable[str]) -> tuple[Setting, ...]:
    """The settings for calling each of ``calls``: its base URL and the API key to send."""
    settings: list[Setting] = []
    for service in calls:
        name = service.upper()
        settings += [
            Setting(
                f"{name}_URL",
                f"http://{service}:{SERVICE_PORT}",
                _base_url,
                f"base URL of the {service} service",
            ),
            Setting(f"{name}_API_KEY", None, str, f"X-API-Key to send to {service}"),
        ]
    return tuple(settings)


def _base_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return raw.rstrip("/")


def load_settings(
    service: str, environ: Mapping[str, str], *, calls: Iterable[str] = ()
) -> dict[str, Any]:
    """Return every setting for ``service``: its default, overridden by the environment."""
    values: dict[str, Any] = {}
    prefix = service.upper() + "_"
    for setting in (*SETTINGS, *call_settings(calls)):
        variable = prefix + setting.name if prefix + setting.name in environ else setting.name
        raw = environ.get(variable)
        if raw is None:
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigurationError(f"{variable}={raw!r} is invalid: {exc}") from None
    if values["DATABASE_URL"] is None:
        values["DATABASE_URL"] = f"sqlite:///var/{service}.db"
    return values


def check_settings(config: Mapping[str, Any]) -> None:
    """Refuse combinations that are unsafe whatever their source."""
    origins = config["CORS_ORIGINS"]
    if "null" in origins:
        raise ConfigurationError("CORS_ORIGINS must not contain 'null'")
    if "*" in origins and (len(origins) > 1 or config["CORS_ALLOW_CREDENTIALS"]):
        raise ConfigurationError(
            "CORS_ORIGINS='*' must stand alone and cannot be combined with CORS_ALLOW_CREDENTIALS"
        )
