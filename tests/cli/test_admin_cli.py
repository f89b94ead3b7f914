"""``hydratrack users add`` / ``keys create``: the real command against a real server.

Each printed secret is proven by using it: passwords sign in to the API, key pairs list tasks.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import httpx

from tests.cli.runner import run_cli
from tests.support.servers import ServerProcess


def _login(server: ServerProcess, name: str, password: str) -> httpx.Response:
    return httpx.post(
        server.url + "/api/v1/auth/login", json={"username": name, "password": password}, timeout=30
    )


def _key_of(server: ServerProcess, name: str, password: str) -> tuple[str, str]:
    """An API key pair made by a user through the UI's way in (session + CSRF)."""
    with httpx.Client(base_url=server.url + "/api/v1", timeout=30) as http:
        resp = http.post("/auth/login", json={"username": name, "password": password})
        assert resp.status_code == 200, resp.text
        resp = http.post(
            "/auth/keys", json={"label": "t"}, headers={"X-CSRF-Token": resp.json()["csrf_token"]}
        )
        assert resp.status_code == 201, resp.text
        return resp.json()["access_key"], resp.json()["secret_key"]


def test_users_add_prints_a_working_password(server: ServerProcess) -> None:
    name = "u-" + secrets.token_hex(4)
    out = run_cli(["users", "add", name], server.env()).ok().stdout
    assert f"added user {name}" in out
    password = re.search(r"^password: (\S+)$", out, re.M)
    assert password, out
    resp = _login(server, name, password.group(1))
    assert resp.status_code == 200 and resp.json()["user"]["is_admin"] is False
    assert _login(server, name, password.group(1) + "x").status_code == 401


def test_users_add_admin_json(server: ServerProcess) -> None:
    name = "a-" + secrets.token_hex(4)
    data = run_cli(["users", "add", name, "--admin", "--json"], server.env()).json()
    assert data["user"]["name"] == name and data["user"]["is_admin"] is True
    resp = _login(server, name, data["password"])
    assert resp.status_code == 200 and resp.json()["user"]["is_admin"] is True


def test_users_add_prompted_password(server: ServerProcess) -> None:
    name = "p-" + secrets.token_hex(4)
    password = "correct horse " + secrets.token_hex(4)
    run = run_cli(
        ["users", "add", name, "--prompt"], server.env(), input=f"{password}\n{password}\n"
    ).ok()
    assert password not in run.stdout  # a typed password is not echoed back
    assert _login(server, name, password).status_code == 200


def test_users_add_short_prompted_password_refused(server: ServerProcess) -> None:
    name = "s-" + secrets.token_hex(4)
    run = run_cli(["users", "add", name, "--prompt"], server.env(), input="short\nshort\n")
    assert run.returncode == 2 and "at least 8 characters" in run.stderr, run.explain()
    assert _login(server, name, "short").status_code == 401  # nobody was created


def test_users_add_duplicate_is_one_line(server: ServerProcess) -> None:
    name = "d-" + secrets.token_hex(4)
    run_cli(["users", "add", name], server.env()).ok()
    run_cli(["users", "add", name], server.env()).one_line_error(name, "409")


def test_users_add_needs_admin(server: ServerProcess) -> None:
    name = "n-" + secrets.token_hex(4)
    password = run_cli(["users", "add", name, "--json"], server.env()).json()["password"]
    access, secret = _key_of(server, name, password)
    env = server.env(HYDRATRACK_ACCESS_KEY=access, HYDRATRACK_SECRET_KEY=secret)
    other = "x-" + secrets.token_hex(4)
    run_cli(["users", "add", other], env).one_line_error("403")
    assert run_cli(["tasks", "list", "--json"], env).json()["items"] is not None


def test_keys_create_gives_a_working_pair(server: ServerProcess, tmp_path: Path) -> None:
    out = run_cli(["keys", "create", "--label", "ci box"], server.env()).ok().stdout
    access = re.search(r"^access_key = (\S+)$", out, re.M)
    secret = re.search(r"^secret_key = (\S+)$", out, re.M)
    assert access and secret, out
    # only the new pair, no config file: it works on its own
    env = server.env(
        HOME=str(tmp_path),
        HYDRATRACK_ACCESS_KEY=access.group(1),
        HYDRATRACK_SECRET_KEY=secret.group(1),
    )
    run_cli(["projects", "list", "--json"], env).json()
    with server.client() as api:
        listed = api.request("GET", "/auth/keys").json()["items"]
    assert {"access_key": access.group(1), "label": "ci box"}.items() <= next(
        k for k in listed if k["access_key"] == access.group(1)
    ).items()


def test_keys_create_json(server: ServerProcess) -> None:
    data = run_cli(["keys", "create", "--json"], server.env()).json()
    assert set(data) >= {"access_key", "secret_key"}
    env = server.env(
        HYDRATRACK_ACCESS_KEY=data["access_key"], HYDRATRACK_SECRET_KEY=data["secret_key"]
    )
    run_cli(["tasks", "list", "--json"], env).json()


def test_login_link_prints_a_link_that_signs_in(server: ServerProcess) -> None:
    out = run_cli(["login-link"], server.env()).ok().stdout
    url = out.splitlines()[0]
    assert url.startswith(server.url + "/login?token=") and "single use" in out
    resp = httpx.post(
        server.url + "/api/v1/auth/login", json={"token": url.split("token=", 1)[1]}, timeout=30
    )
    assert resp.status_code == 200 and resp.json()["user"]["name"] == "admin"


def test_login_link_with_wrong_credentials_is_one_line(server: ServerProcess) -> None:
    res = run_cli(["login-link"], server.env(HYDRATRACK_SECRET_KEY="wrong"))
    assert res.returncode == 1
    assert len(res.stderr.strip().splitlines()) == 1 and "credentials" in res.stderr


def test_users_lifecycle_commands(server: ServerProcess) -> None:
    """list, disable, enable, reset-password, delete: each proven against the API."""
    name = "life-" + secrets.token_hex(4)
    out = run_cli(["users", "add", name], server.env()).ok().stdout
    password = re.search(r"^password: (\S+)$", out, re.M)
    assert password
    key = _key_of(server, name, password.group(1))
    me = server.url + "/api/v1/auth/me"
    listed = run_cli(["users", "list", "--json"], server.env()).json()
    row = next(u for u in listed if u["name"] == name)
    assert row["disabled"] is False and row["is_admin"] is False
    table = run_cli(["users", "list"], server.env()).ok().stdout
    assert name in table and "admin" in table

    assert "disabled" in run_cli(["users", "disable", name], server.env()).ok().stdout
    assert httpx.get(me, auth=key).status_code == 401
    assert _login(server, name, password.group(1)).status_code == 401
    run_cli(["users", "enable", name], server.env()).ok()
    assert httpx.get(me, auth=key).status_code == 200

    out = run_cli(["users", "reset-password", name], server.env()).ok().stdout
    new = re.search(r"^password: (\S+)$", out, re.M)
    assert new and new.group(1) != password.group(1)
    assert httpx.get(me, auth=key).status_code == 401  # keys end with a new password
    assert _login(server, name, password.group(1)).status_code == 401
    assert _login(server, name, new.group(1)).status_code == 200

    run_cli(["users", "delete", name, "--yes"], server.env()).ok()
    assert _login(server, name, new.group(1)).status_code == 401
    run_cli(["users", "delete", name, "--yes"], server.env()).one_line_error("not found")


def test_keys_and_sessions_list_and_revoke(server: ServerProcess) -> None:
    name = "ks-" + secrets.token_hex(4)
    out = run_cli(["users", "add", name], server.env()).ok().stdout
    password = re.search(r"^password: (\S+)$", out, re.M)
    assert password
    key = _key_of(server, name, password.group(1))
    mine = run_cli(["keys", "list", "--json"], server.env()).json()
    assert server.access_key in [k["access_key"] for k in mine]
    assert key[0] not in [k["access_key"] for k in mine]
    everyone = run_cli(["keys", "list", "--all", "--json"], server.env()).json()
    assert {"access_key": key[0], "user": name} in [
        {"access_key": k["access_key"], "user": k["user"]["name"]} for k in everyone
    ]
    assert key[0] in run_cli(["keys", "list", "--user", name], server.env()).ok().stdout
    run_cli(["keys", "revoke", key[0]], server.env()).one_line_error("not found")  # not mine
    run_cli(["keys", "revoke", "--any", key[0]], server.env()).ok()
    assert httpx.get(server.url + "/api/v1/auth/me", auth=key).status_code == 401

    with httpx.Client(base_url=server.url + "/api/v1") as ui:
        assert ui.post("/auth/login", json={"username": name, "password": password.group(1)})
        assert ui.get("/auth/me").status_code == 200
        sessions = run_cli(["sessions", "list", "--user", name, "--json"], server.env()).json()
        assert len(sessions) == 2  # _key_of's and this one
        for s in sessions:
            run_cli(["sessions", "revoke", "--any", s["id"]], server.env()).ok()
        assert ui.get("/auth/me").status_code == 401
    assert run_cli(["sessions", "list", "--user", name, "--json"], server.env()).json() == []


def test_roles_grants_and_agent_keys_from_the_command_line(server: ServerProcess) -> None:
    """users set-role, projects grant|revoke, queues access|grant, keys create --agent."""
    name = "m-" + secrets.token_hex(4)
    password = run_cli(["users", "add", name, "--json"], server.env()).json()["password"]
    key, secret = _key_of(server, name, password)
    member_env = server.env(HYDRATRACK_ACCESS_KEY=key, HYDRATRACK_SECRET_KEY=secret)
    admin = httpx.Client(
        base_url=server.url + "/api/v1", auth=(server.access_key, server.secret_key), timeout=30
    )
    member = httpx.Client(base_url=server.url + "/api/v1", auth=(key, secret), timeout=30)
    project = "p-" + secrets.token_hex(4)
    task = admin.post("/tasks", json={"name": "t", "project": project}).json()
    assert member.patch(f"/tasks/{task['id']}", json={"name": "x"}).status_code == 403
    out = run_cli(["projects", "grant", project, name, "edit"], server.env()).ok().stdout
    assert f"{name} may edit project {project}" in out
    assert member.patch(f"/tasks/{task['id']}", json={"name": "x"}).status_code == 200
    run_cli(["projects", "revoke", project, name], server.env()).ok()
    assert member.patch(f"/tasks/{task['id']}", json={"name": "y"}).status_code == 403
    bad = run_cli(["projects", "grant", project, name, "own"], server.env())
    assert bad.returncode != 0 and "read, edit, manage" in bad.stderr

    queue = "q-" + secrets.token_hex(4)
    assert admin.post("/queues", json={"name": queue}).status_code == 201
    run_cli(["queues", "access", queue, "granted"], server.env()).ok()
    mine = member.post("/tasks", json={"name": "t", "project": "own-" + name}).json()
    enqueue = {"queue": queue}
    assert member.post(f"/tasks/{mine['id']}/enqueue", json=enqueue).status_code == 403
    run_cli(["queues", "grant", queue, name], server.env()).ok()
    assert member.post(f"/tasks/{mine['id']}/enqueue", json=enqueue).status_code == 200

    data = run_cli(["keys", "create", "--agent", "--json"], member_env).json()
    with httpx.Client(
        base_url=server.url + "/api/v1", auth=(data["access_key"], data["secret_key"])
    ) as agent:
        assert agent.get("/auth/me").json()["credential"]["scope"] == "agent"
        assert agent.get(f"/tasks/{mine['id']}").status_code == 403

    out = run_cli(["users", "set-role", name, "viewer"], server.env()).ok().stdout
    assert f"{name} is now viewer" in out
    assert member.post("/projects", json={"name": "v-" + name}).status_code == 403
    denied = run_cli(["users", "set-role", name, "admin"], member_env)
    denied.one_line_error("forbidden")
    admin.close()
    member.close()
