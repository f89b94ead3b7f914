"""The verified-key cache: exact credential, dropped on delete, expiring across processes."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.support.servers import ServerProcess, running_server, start_server


def _status(url: str, key: str, secret: str) -> int:
    return httpx.get(url + "/api/v1/auth/me", auth=(key, secret), timeout=10).status_code


def _admin(server: ServerProcess) -> httpx.Client:
    return httpx.Client(
        base_url=server.url + "/api/v1", timeout=10, auth=(server.access_key, server.secret_key)
    )


@contextlib.contextmanager
def two_servers(
    tmp_path: Path, cache_seconds: str
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two server processes on one database, with the given key-cache lifetime."""
    args = ["--key-cache-seconds", cache_seconds]
    servers = running_server(tmp_path, extra_args=args)
    a = next(servers)
    b = start_server(tmp_path, db_url=a.db_url, extra_args=args)
    try:
        yield a, b
    finally:
        b.stop()
        servers.close()


def test_deleted_key_stops_working_on_every_server(tmp_path: Path) -> None:
    with two_servers(tmp_path, "1") as (a, b):
        with _admin(a) as admin:
            made = admin.post("/auth/keys", json={"label": "short-lived"}).json()
            key, secret = made["access_key"], made["secret_key"]
            assert _status(b.url, key, secret) == 200  # now cached by b
            assert _status(b.url, key, secret + "x") == 401  # the exact secret, not the key
            assert _status(b.url, key, secret[:-1]) == 401
            assert admin.delete(f"/auth/keys/{key}").status_code == 204
        deleted = time.monotonic()
        assert _status(a.url, key, secret) == 401  # the server that deleted it: at once
        while _status(b.url, key, secret) == 200:  # the other one: within its cache lifetime
            assert time.monotonic() - deleted < 3.0, "deleted key still accepted after 3 s"
            time.sleep(0.1)


def test_cache_off_checks_every_request(tmp_path: Path) -> None:
    with two_servers(tmp_path, "0") as (a, b):
        with _admin(a) as admin:
            made = admin.post("/auth/keys").json()
            key, secret = made["access_key"], made["secret_key"]
            assert _status(b.url, key, secret) == 200
            assert admin.delete(f"/auth/keys/{key}").status_code == 204
        assert _status(b.url, key, secret) == 401
