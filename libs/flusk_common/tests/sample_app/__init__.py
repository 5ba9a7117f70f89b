"""A small service used to test flusk_common the way a real service uses it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flusk_common import ServiceApp, create_service_app

from .models import Base
from .views import blueprint, gadget, gadgets


def create_app(test_config: Mapping[str, Any] | None = None) -> ServiceApp:
    return create_service_app(
        __name__,
        blueprints=[blueprint, gadgets],
        resources=[gadget],
        metadata=Base.metadata,
        calls=["peer"],
        test_config=test_config,
    )
