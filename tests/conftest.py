"""Shared fixtures. Servers are real processes on 127.0.0.1 (see tests/support/servers.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from hydratrack.client import ApiClient
from tests.support.servers import ServerProcess, running_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the whole session (SQLite, or PostgreSQL with HYDRATRACK_TEST_DB)."""
    yield from running_server(tmp_path_factory.mktemp("server"))


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of this test's own, for tests that need an empty store or a first start."""
    yield from running_server(tmp_path)


@pytest.fixture
def api(server: ServerProcess) -> Iterator[ApiClient]:
    client = server.client()
    yield client
    client.close()
