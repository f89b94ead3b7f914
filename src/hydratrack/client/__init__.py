"""Talking to a hydratrack server over its public REST API (used by the SDK, agent, CLI).

Names are loaded on first use. Nothing here imports httpx: ``ApiClient`` loads its wire
backend (httpx by default, or the standard-library socket one) when one is made (see ``client.wire``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["ApiClient", "ApiError", "ClientConfig", "load_client_config"]

if TYPE_CHECKING:  # pragma: no cover
    from hydratrack.client.api import ApiClient, ApiError
    from hydratrack.client.config import ClientConfig, load_client_config


def __getattr__(name: str) -> Any:
    if name in ("ApiClient", "ApiError"):
        from hydratrack.client import api

        return getattr(api, name)
    if name in ("ClientConfig", "load_client_config"):
        from hydratrack.client import config

        return getattr(config, name)
    raise AttributeError(f"module 'hydratrack.client' has no attribute {name!r}")
