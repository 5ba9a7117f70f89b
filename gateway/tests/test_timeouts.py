"""Timeouts are aligned from the inside out.

statement < request deadline < gunicorn worker < gateway read, and a call to another
service times out within the request deadline.
"""

from __future__ import annotations

import importlib

from flusk_common._config import SETTINGS
from flusk_tools.gateway import GatewaySettings


def seconds(nginx_time: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60}
    for suffix in ("ms", "s", "m"):
        if nginx_time.endswith(suffix):
            return float(nginx_time.removesuffix(suffix)) * units[suffix]
    return float(nginx_time)


def test_align_timeouts_by_default() -> None:
    defaults = {setting.name: setting.default for setting in SETTINGS}
    statement = defaults["DATABASE_STATEMENT_TIMEOUT"] / 1000
    deadline = defaults["REQUEST_DEADLINE"]
    worker = importlib.import_module("flusk_common.gunicorn_conf").timeout
    fields = GatewaySettings.__dataclass_fields__
    gateway_read = seconds(str(fields["read_timeout"].default))
    assert statement < deadline < worker < gateway_read
    assert defaults["SERVICE_READ_TIMEOUT"] < deadline
    assert seconds(str(fields["connect_timeout"].default)) < gateway_read
