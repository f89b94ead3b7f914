"""Talking to a hydratrack server over its public REST API (used by the SDK, agent, CLI)."""

from hydratrack.client.api import ApiClient, ApiError
from hydratrack.client.config import ClientConfig, load_client_config

__all__ = ["ApiClient", "ApiError", "ClientConfig", "load_client_config"]
