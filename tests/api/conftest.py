"""Helpers for the API tests: raw HTTP clients and small factories (real server process)."""

from __future__ import annotations

import secrets
from typing import Any, Callable, Iterator

import httpx
import pytest

from hydratrack.client import ApiClient
from tests.support.servers import ServerProcess


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def assert_error(resp: httpx.Response, status: int, code: str, *words: str) -> dict[str, Any]:
    """The answer is the one error shape with this status/code and a message naming words."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert err["code"] == code, body
    assert isinstance(err["message"], str) and err["message"], body
    assert set(err) <= {"code", "message", "details"}, body
    for word in words:
        assert word in err["message"], (word, err["message"])
    return dict(err)


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    """Basic-auth client on /api/v1 that does not raise on error answers."""
    with httpx.Client(
        base_url=server.url + "/api/v1", auth=(server.access_key, server.secret_key), timeout=30
    ) as client:
        yield client


@pytest.fixture
def anon(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url + "/api/v1", timeout=30) as client:
        yield client


@pytest.fixture
def make_task(api: ApiClient) -> Callable[..., dict[str, Any]]:
    def make(**body: Any) -> dict[str, Any]:
        body.setdefault("name", unique("task"))
        body.setdefault("project", unique("proj"))
        return api.create_task(body)

    return make
