"""Fixtures shared by the end-to-end tests. Each module brings its own ``server`` (lease times
differ); ``api`` comes from tests/conftest.py and talks to that module's server."""

from __future__ import annotations

import uuid

import pytest

from hydratrack.client import ApiClient


@pytest.fixture
def queue(api: ApiClient) -> str:
    """A queue of this test's own, so agents of different tests never meet."""
    name = "q" + uuid.uuid4().hex[:8]
    api.create_queue(name)
    return name
