"""Credentials: API key pairs, sessions with CSRF, login (password and one-click token)."""

from __future__ import annotations

import re

import httpx
import pytest

from hydratrack.client import ApiClient, ApiError
from tests.api.conftest import assert_error, unique
from tests.support.servers import ServerProcess


def test_health_needs_no_credentials(anon: httpx.Client) -> None:
    resp = anon.get("/health")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "version": "0.1.0"}


@pytest.mark.parametrize("auth", [None, "wrong-key", "wrong-secret", "garbage-header"])
def test_401_same_message_whichever_part_is_wrong(server: ServerProcess, auth: str | None) -> None:
    headers = {}
    creds: tuple[str, str] | None = None
    if auth == "wrong-key":
        creds = ("NOPE" + server.access_key[4:], server.secret_key)
    elif auth == "wrong-secret":
        creds = (server.access_key, server.secret_key + "x")
    elif auth == "garbage-header":
        headers["Authorization"] = "Basic !!!notbase64"
    with httpx.Client(base_url=server.url + "/api/v1", auth=creds, headers=headers) as c:
        for method, path in [
            ("GET", "/projects"),
            ("GET", "/tasks"),
            ("POST", "/tasks"),
            ("GET", "/auth/me"),
            ("GET", "/queues"),
            ("POST", "/workers"),
        ]:
            err = assert_error(c.request(method, path, json={}), 401, "unauthorized")
            assert err["message"] == "missing or wrong credentials"


def test_me_with_key_pair(api: ApiClient) -> None:
    me = api.me()
    assert me["user"]["name"] == "admin" and me["user"]["is_admin"] is True
    assert me["csrf_token"] is None  # key pairs need no CSRF token


def test_password_login_session_and_csrf(server: ServerProcess, anon: httpx.Client) -> None:
    resp = anon.post("/auth/login", json={"username": "admin", "password": server.admin_password})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["user"]["name"] == "admin" and body["csrf_token"]
    cookie = resp.headers["set-cookie"]
    assert "hydratrack_session=" in cookie and "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    # the cookie now authenticates reads
    me = anon.get("/auth/me")
    assert me.status_code == 200 and me.json()["csrf_token"] == body["csrf_token"]
    # writes need the CSRF header
    name = unique("p")
    assert_error(anon.post("/projects", json={"name": name}), 403, "forbidden", "X-CSRF-Token")
    assert_error(
        anon.post("/projects", json={"name": name}, headers={"X-CSRF-Token": "bad"}),
        403,
        "forbidden",
    )
    ok = anon.post("/projects", json={"name": name}, headers={"X-CSRF-Token": body["csrf_token"]})
    assert ok.status_code == 201, ok.text
    # logout clears the session
    out = anon.post("/auth/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert out.status_code == 204
    anon.cookies.clear()
    anon.cookies.set("hydratrack_session", re.search(r"hydratrack_session=([^;]+)", cookie)[1])
    assert_error(anon.get("/auth/me"), 401, "unauthorized")


def test_wrong_password_and_bad_login_bodies(anon: httpx.Client) -> None:
    assert_error(
        anon.post("/auth/login", json={"username": "admin", "password": "nope"}),
        401,
        "unauthorized",
    )
    assert_error(
        anon.post("/auth/login", json={"username": "ghost", "password": "nope"}),
        401,
        "unauthorized",
    )
    assert_error(anon.post("/auth/login", json={}), 400, "bad_request")
    assert_error(anon.post("/auth/login", json={"token": "made-up"}), 401, "unauthorized")
    assert_error(
        anon.post("/auth/login", json={"username": 3, "password": []}), 422, "validation_error"
    )


def test_a_new_login_link_signs_its_owner_in_once(
    server: ServerProcess, api: ApiClient, anon: httpx.Client
) -> None:
    name = unique("carol")
    api.create_user(name, "a-long-password")
    with httpx.Client(base_url=server.url + "/api/v1", timeout=30) as carol:
        session = carol.post(
            "/auth/login", json={"username": name, "password": "a-long-password"}
        ).json()
        made = carol.post("/auth/keys", headers={"X-CSRF-Token": session["csrf_token"]}).json()
    with ApiClient(server.url, made["access_key"], made["secret_key"]) as own:
        url = own.create_login_link()
    assert url.startswith(server.url + "/login?token=")
    token = url.split("token=", 1)[1]
    first = anon.post("/auth/login", json={"token": token})
    assert first.status_code == 200, first.text
    assert first.json()["user"]["name"] == name  # the key pair's owner, not the admin
    assert anon.get("/auth/me").json()["user"]["name"] == name
    anon.cookies.clear()
    assert_error(
        anon.post("/auth/login", json={"token": token}), 401, "unauthorized", "used or expired"
    )
    assert_error(anon.post("/auth/login-link"), 401, "unauthorized")  # needs credentials


def test_keys_create_list_delete(server: ServerProcess, api: ApiClient, http: httpx.Client) -> None:
    made = api.create_key("ci")
    assert set(made) == {"access_key", "secret_key"}
    listed = http.get("/auth/keys").json()["items"]
    mine = [k for k in listed if k["access_key"] == made["access_key"]]
    assert mine and mine[0]["label"] == "ci" and "secret_key" not in mine[0]
    with ApiClient(server.url, made["access_key"], made["secret_key"]) as other:
        assert other.me()["user"]["name"] == "admin"
        assert http.delete(f"/auth/keys/{made['access_key']}").status_code == 204
        with pytest.raises(ApiError) as exc:
            other.me()
        assert exc.value.status == 401
    assert_error(
        http.delete(f"/auth/keys/{made['access_key']}"), 404, "not_found", made["access_key"]
    )


def test_users_admin_only(server: ServerProcess, api: ApiClient, http: httpx.Client) -> None:
    name = unique("bob")
    user = api.create_user(name, "a-long-password")
    assert user["name"] == name and user["is_admin"] is False
    assert_error(
        http.post("/users", json={"name": name, "password": "another-pass"}), 409, "conflict", name
    )
    assert_error(http.post("/users", json={"name": "x"}), 422, "validation_error")
    assert name in [u["name"] for u in http.get("/users").json()["items"]]
    with httpx.Client(base_url=server.url + "/api/v1") as bob:
        login = bob.post("/auth/login", json={"username": name, "password": "a-long-password"})
        csrf = login.json()["csrf_token"]
        assert bob.get("/auth/me").json()["user"] == {
            "id": user["id"],
            "name": name,
            "role": "member",
            "is_admin": False,
        }
        assert_error(bob.get("/users"), 403, "forbidden", name)
        assert_error(
            bob.post(
                "/users",
                json={"name": unique("eve"), "password": "12345678"},
                headers={"X-CSRF-Token": csrf},
            ),
            403,
            "forbidden",
        )
        key = bob.post("/auth/keys", json={"label": "bob"}, headers={"X-CSRF-Token": csrf})
        assert key.status_code == 201
    with ApiClient(server.url, key.json()["access_key"], key.json()["secret_key"]) as c:
        assert c.me()["user"]["name"] == name
