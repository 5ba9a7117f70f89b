"""foss: a registry of free and open-source software maintainers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flusk_common import ServiceApp, create_service_app

from .views import blueprint, resource


def create_app(test_config: Mapping[str, Any] | None = None) -> ServiceApp:
    """The foss app; settings from the environment, overridden by ``test_config``."""
    return create_service_app(
        __name__,
        blueprints=[blueprint],
        resources=[resource],
        calls=["licenses"],
        test_config=test_config,
    )
