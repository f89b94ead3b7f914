"""User lifecycle (real server): disable, enable, delete, passwords, every key and session."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import assert_error, unique
from tests.api.test_key_cache import two_servers
from tests.support.servers import ServerProcess, running_server

PASSWORD = "correct horse 1"


def _status(server: ServerProcess, auth: tuple[str, str]) -> int:
    return httpx.get(server.url + "/api/v1/auth/me", auth=auth, timeout=10).status_code


@contextlib.contextmanager
def signed_in(server: ServerProcess, name: str, password: str) -> Iterator[httpx.Client]:
    """The UI's way in: a session cookie and the CSRF header."""
    with httpx.Client(base_url=server.url + "/api/v1", timeout=30) as c:
        resp = c.post("/auth/login", json={"username": name, "password": password})
        assert resp.status_code == 200, resp.text
        c.headers["X-CSRF-Token"] = resp.json()["csrf_token"]
        yield c


def _member(server: ServerProcess, http: httpx.Client) -> tuple[dict[str, Any], tuple[str, str]]:
    """A new non-admin user with one API key pair."""
    user = http.post("/users", json={"name": unique("bob"), "password": PASSWORD}).json()
    with signed_in(server, user["name"], PASSWORD) as c:
        made = c.post("/auth/keys", json={"label": "laptop"}).json()
    return user, (made["access_key"], made["secret_key"])


def test_disable_ends_sessions_and_keys_at_once_and_enable_restores_keys(
    server: ServerProcess, http: httpx.Client
) -> None:
    user, key = _member(server, http)
    with signed_in(server, user["name"], PASSWORD) as bob:
        assert bob.get("/auth/me").status_code == 200
        assert _status(server, key) == 200  # verified and cached
        out = http.patch(f"/users/{user['name']}", json={"disabled": True})
        assert out.status_code == 200 and out.json()["disabled"] is True
        assert_error(bob.get("/auth/me"), 401, "unauthorized")
        assert _status(server, key) == 401
    with httpx.Client(base_url=server.url + "/api/v1") as anon:
        login = {"username": user["name"], "password": PASSWORD}
        assert_error(anon.post("/auth/login", json=login), 401, "unauthorized")
    listed = {u["name"]: u for u in http.get("/users").json()["items"]}
    assert listed[user["name"]]["disabled"] is True
    assert http.patch(f"/users/{user['id']}", json={"disabled": False}).json()["disabled"] is False
    assert _status(server, key) == 200
    with signed_in(server, user["name"], PASSWORD) as bob:
        assert bob.get("/auth/me").json()["user"]["name"] == user["name"]


def test_disabled_users_keys_fail_on_another_server_within_the_cache_lifetime(
    tmp_path: Path,
) -> None:
    with two_servers(tmp_path, "1") as (a, b):
        with httpx.Client(base_url=a.url + "/api/v1", auth=(a.access_key, a.secret_key)) as http:
            user, key = _member(a, http)
            assert _status(b, key) == 200  # cached by b
            assert http.patch(f"/users/{user['id']}", json={"disabled": True}).status_code == 200
        done = time.monotonic()
        assert _status(a, key) == 401
        while _status(b, key) == 200:
            assert time.monotonic() - done < 3.0, "a disabled user's key still works after 3 s"
            time.sleep(0.1)


def test_admin_password_reset_ends_sessions_and_keys(
    server: ServerProcess, http: httpx.Client
) -> None:
    user, key = _member(server, http)
    with signed_in(server, user["name"], PASSWORD) as bob:
        resp = http.put(f"/users/{user['name']}/password", json={"password": "new password 2"})
        assert resp.status_code == 204, resp.text
        assert_error(bob.get("/auth/me"), 401, "unauthorized")
    assert _status(server, key) == 401
    assert http.get("/users/keys", params={"user": user["name"]}).json()["items"] == []
    with signed_in(server, user["name"], "new password 2") as bob:
        assert bob.get("/auth/me").status_code == 200
    assert_error(
        http.put(f"/users/{user['id']}/password", json={"password": "short"}),
        422,
        "validation_error",
    )


def test_own_password_change_needs_the_old_one(server: ServerProcess, http: httpx.Client) -> None:
    user, key = _member(server, http)
    with (
        signed_in(server, user["name"], PASSWORD) as other,
        signed_in(server, user["name"], PASSWORD) as bob,
    ):
        wrong = {"old_password": "not it", "new_password": "brand new pw"}
        assert_error(bob.put("/auth/password", json=wrong), 400, "bad_request", "old password")
        assert bob.get("/auth/me").status_code == 200  # a refused change ends nothing
        right = {"old_password": PASSWORD, "new_password": "brand new pw"}
        assert bob.put("/auth/password", json=right).status_code == 204
        assert_error(other.get("/auth/me"), 401, "unauthorized")
        assert_error(bob.get("/auth/me"), 401, "unauthorized")
    assert _status(server, key) == 401
    with signed_in(server, user["name"], "brand new pw"):
        pass


def test_admin_lists_and_revokes_any_key_and_session(
    server: ServerProcess, http: httpx.Client
) -> None:
    user, key = _member(server, http)
    keys = http.get("/users/keys").json()["items"]
    mine = [k for k in keys if k["user"]["name"] == user["name"]]
    assert [k["access_key"] for k in mine] == [key[0]] and mine[0]["label"] == "laptop"
    assert all("secret" not in k and "secret_key" not in k for k in keys)
    assert _status(server, key) == 200
    assert http.delete(f"/users/keys/{key[0]}").status_code == 204
    assert _status(server, key) == 401
    assert_error(http.delete(f"/users/keys/{key[0]}"), 404, "not_found")
    with signed_in(server, user["name"], PASSWORD) as bob:
        own = bob.get("/auth/sessions").json()["items"]  # this one and _member's
        assert len(own) == 2 and [s["current"] for s in own] == [True, False]
        sessions = http.get("/users/sessions", params={"user": user["name"]}).json()["items"]
        assert [s["id"] for s in sessions] == [s["id"] for s in own]
        assert {s["user"]["name"] for s in sessions} == {user["name"]}
        assert http.delete(f"/users/sessions/{own[0]['id']}").status_code == 204
        assert_error(bob.get("/auth/me"), 401, "unauthorized")


def test_delete_user_keeps_tasks_and_not_the_last_admin(
    server: ServerProcess, http: httpx.Client
) -> None:
    user, key = _member(server, http)
    with httpx.Client(base_url=server.url + "/api/v1", auth=key) as bob:
        task = bob.post("/tasks", json={"name": "by-bob", "project": unique("p")}).json()
    assert http.delete(f"/users/{user['name']}").status_code == 204
    assert _status(server, key) == 401
    assert user["name"] not in [u["name"] for u in http.get("/users").json()["items"]]
    assert http.get(f"/tasks/{task['id']}").status_code == 200
    assert_error(http.delete(f"/users/{user['name']}"), 404, "not_found")
    assert_error(http.delete("/users/admin"), 409, "conflict", "last enabled admin")
    assert_error(http.patch("/users/admin", json={"disabled": True}), 409, "conflict")


def test_members_cannot_manage_users(server: ServerProcess, http: httpx.Client) -> None:
    user, key = _member(server, http)
    with httpx.Client(base_url=server.url + "/api/v1", auth=key) as bob:
        for method, path, body in [
            ("GET", "/users", None),
            ("GET", "/users/keys", None),
            ("GET", "/users/sessions", None),
            ("PATCH", "/users/admin", {"disabled": True}),
            ("DELETE", "/users/admin", None),
            ("PUT", "/users/admin/password", {"password": "takeover123"}),
            ("DELETE", f"/users/keys/{server.access_key}", None),
        ]:
            assert_error(bob.request(method, path, json=body), 403, "forbidden")
    assert _status(server, (server.access_key, server.secret_key)) == 200


@pytest.fixture
def short_sessions(tmp_path: Path) -> Iterator[ServerProcess]:
    args = ["--session-idle-hours", str(1.5 / 3600), "--session-max-days", str(4 / 86400)]
    yield from running_server(tmp_path, extra_args=args)


def test_sessions_end_when_idle_and_at_their_absolute_lifetime(
    short_sessions: ServerProcess,
) -> None:
    server = short_sessions
    url = server.url + "/api/v1/auth/me"

    def session() -> str:
        login = {"username": "admin", "password": server.admin_password}
        resp = httpx.post(server.url + "/api/v1/auth/login", json=login)
        assert 0 < int(resp.headers["set-cookie"].split("Max-Age=")[1].split(";")[0]) <= 4
        return str(resp.cookies["hydratrack_session"])

    def me(token: str) -> int:
        return httpx.get(url, cookies={"hydratrack_session": token}).status_code

    idle = session()
    assert me(idle) == 200
    time.sleep(2.0)
    assert me(idle) == 401  # unused for longer than 1.5 s
    busy = session()
    start = time.monotonic()
    while time.monotonic() - start < 3.5:  # used every 0.5 s: never idle
        assert me(busy) == 200
        time.sleep(0.5)
    time.sleep(max(0.0, 4.2 - (time.monotonic() - start)))
    assert me(busy) == 401  # older than 4 s, however busy
