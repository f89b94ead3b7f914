"""The audit log (real server): who did what and when, for admins only, nothing secret."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from hydratrack.server.audit import API_PREFIX, DATA, ROUTES, SAFE_METHODS
from hydratrack.server.secrets import SecretMask
from hydratrack.server.settings import ServerSettings
from tests.api.conftest import assert_error, unique
from tests.api.test_users import PASSWORD, signed_in
from tests.support.servers import ServerProcess, running_server


def _member(server: ServerProcess, http: httpx.Client) -> tuple[dict[str, Any], httpx.Client]:
    """A new non-admin user and a Basic-auth client with one of its key pairs."""
    user = http.post("/users", json={"name": unique("bob"), "password": PASSWORD}).json()
    with signed_in(server, user["name"], PASSWORD) as c:
        made = c.post("/auth/keys", json={"label": "laptop"}).json()
    client = httpx.Client(
        base_url=server.url + "/api/v1", auth=(made["access_key"], made["secret_key"]), timeout=30
    )
    user["access_key"] = made["access_key"]
    return user, client


def _audit(http: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    resp = http.get("/audit", params={"limit": 1000, **params})
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


def _one(items: list[dict[str, Any]], action: str, target: str | None) -> dict[str, Any]:
    found = [i for i in items if i["action"] == action and i["target_id"] == target]
    assert len(found) == 1, (action, target, items)
    return found[0]


def _recent(entry: dict[str, Any], before: dt.datetime) -> None:
    when = dt.datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))
    assert before - dt.timedelta(seconds=1) <= when <= dt.datetime.now(dt.timezone.utc)


def test_every_state_changing_route_is_audited_or_listed_as_data(http: httpx.Client) -> None:
    """A new route must be added to server/audit.py ROUTES (an action, or DATA)."""
    spec = http.get("/openapi.json").json()
    routes = {
        (method.upper(), path.removeprefix(API_PREFIX))
        for path, ops in spec["paths"].items()
        for method in ops
        if method.upper() not in SAFE_METHODS
    }
    assert len(routes) > 30
    assert sorted(routes - set(ROUTES)) == [], "state-changing routes missing from ROUTES"
    assert sorted(set(ROUTES) - routes) == [], "ROUTES names routes that do not exist"
    assert ROUTES[("POST", "/tasks/{task_id}/events")] is DATA
    mask = SecretMask(ServerSettings().secret_pattern)
    for key, action in ROUTES.items():  # no value of a secret-looking field is shown
        for name in action.show if action else ():
            assert not mask.is_secret(name) and "password" not in name, (key, name)


def test_bobs_task_actions_are_recorded_with_who_what_when(
    server: ServerProcess, http: httpx.Client
) -> None:
    before = dt.datetime.now(dt.timezone.utc)
    bob, as_bob = _member(server, http)
    with as_bob:
        task = as_bob.post("/tasks", json={"name": unique("t"), "project": unique("p")}).json()
        new_name = unique("renamed")
        assert as_bob.patch(f"/tasks/{task['id']}", json={"name": new_name}).status_code == 200
        assert as_bob.post(f"/tasks/{task['id']}/enqueue", json={"queue": "default"}).is_success
        assert as_bob.post(f"/tasks/{task['id']}/dequeue").is_success
        copy = as_bob.post(f"/tasks/{task['id']}/clone", json={"name": "copy"}).json()
        ev = {"events": [{"type": "scalar", "metric": "m", "variant": "v", "iter": 0, "value": 1}]}
        as_bob.post(f"/tasks/{task['id']}/events", json=ev)  # data: not audited
        assert as_bob.delete(f"/tasks/{task['id']}").status_code == 204
        assert as_bob.delete(f"/tasks/{task['id']}").status_code == 404  # refused: not recorded
    items = _audit(http, target=task["id"])
    assert [i["action"] for i in items] == [
        "task.delete",
        "task.clone",
        "task.dequeue",
        "task.enqueue",
        "task.edit",
        "task.create",
    ]
    for item in items:
        assert (item["user_id"], item["user_name"]) == (bob["id"], bob["name"])
        assert (item["via"], item["access_key"]) == ("key", bob["access_key"])
        assert item["address"] == "127.0.0.1" and item["target_type"] == "task"
        _recent(item, before)
    edit = _one(items, "task.edit", task["id"])
    assert edit["detail"] == {"fields": ["name"], "name": new_name}
    assert _one(items, "task.enqueue", task["id"])["detail"]["queue"] == "default"
    clone = _one(items, "task.clone", task["id"])["detail"]
    assert clone == {"fields": ["name"], "name": "copy", "new_id": copy["id"]}
    assert _one(items, "task.create", task["id"])["detail"]["name"] == task["name"]
    assert [i["id"] for i in _audit(http, user=bob["name"], action="task.*")] == [
        i["id"] for i in items
    ]


def test_admin_disables_bob_and_revokes_a_key_from_a_session(
    server: ServerProcess, http: httpx.Client
) -> None:
    bob, as_bob = _member(server, http)
    as_bob.close()
    admin = http.get("/auth/me").json()["user"]
    with signed_in(server, admin["name"], server.admin_password) as ui:
        assert ui.patch(f"/users/{bob['name']}", json={"disabled": True}).is_success
        assert ui.patch(f"/users/{bob['name']}", json={"disabled": False}).is_success
        assert ui.delete(f"/users/keys/{bob['access_key']}").status_code == 204
    disabled = _audit(http, action="user.disable", target=bob["id"])  # named by name
    assert len(disabled) == 1
    entry = disabled[0]
    assert (entry["user_name"], entry["via"], entry["access_key"]) == (
        admin["name"],
        "session",
        None,
    )
    assert entry["target_type"] == "user" and entry["detail"] == {
        "fields": ["disabled"],
        "disabled": True,
    }
    assert len(_audit(http, action="user.enable", target=bob["id"])) == 1
    revoked = _one(_audit(http, action="key.revoke"), "key.revoke", bob["access_key"])
    assert revoked["user_name"] == admin["name"] and revoked["target_type"] == "key"
    created = _one(_audit(http, action="key.create"), "key.create", bob["access_key"])
    assert created["user_name"] == bob["name"] and created["via"] == "session"


def test_logins_are_recorded_and_a_failed_one_without_its_password(
    server: ServerProcess, http: httpx.Client, anon: httpx.Client
) -> None:
    name, wrong = unique("nobody"), unique("Wr0ng-pw")
    resp = anon.post("/auth/login", json={"username": name, "password": wrong})
    assert_error(resp, 401, "unauthorized")
    failed = _audit(http, user=name, action="login.failed")
    assert len(failed) == 1
    assert failed[0]["user_id"] is None and failed[0]["address"] == "127.0.0.1"
    assert wrong not in json.dumps(_audit(http))
    assert anon.post("/auth/logout").status_code == 204  # no session: nothing happened
    assert [i for i in _audit(http, action="logout") if i["user_id"] is None] == []
    bob, as_bob = _member(server, http)
    as_bob.close()
    ok = _audit(http, user=bob["name"], action="login")
    assert len(ok) == 1 and ok[0]["user_id"] == bob["id"] and ok[0]["via"] == "session"


def test_nothing_secret_is_recorded(server: ServerProcess, http: httpx.Client) -> None:
    """Passwords, key secrets and config values: never in the log, whatever the route."""
    first, second = unique("First-pw"), unique("Second-pw")
    user = http.post("/users", json={"name": unique("carol"), "password": first}).json()
    assert http.put(f"/users/{user['id']}/password", json={"password": second}).is_success
    made = http.post("/auth/keys", json={"label": "ci"}).json()
    task = http.post("/tasks", json={"name": unique("t"), "project": unique("p")}).json()
    value = unique("hunter")
    config = {"value": f"db:\n  host: x\n  pass: {value}\n", "type": "yaml"}
    assert http.put(f"/tasks/{task['id']}/configuration/General", json=config).is_success
    http.delete(f"/auth/keys/{made['access_key']}")
    dump = json.dumps(_audit(http))
    for secret in (first, second, made["secret_key"], value):
        assert secret not in dump
    assert _one(_audit(http), "user.password_reset", user["id"])["detail"] == {
        "fields": ["password"]
    }
    put = _one(_audit(http, target=task["id"]), "task.configuration", task["id"])
    assert put["detail"] == {"fields": ["type", "value"], "name": "General"}


def test_only_admins_read_the_log(
    server: ServerProcess, http: httpx.Client, anon: httpx.Client
) -> None:
    bob, as_bob = _member(server, http)
    with as_bob:
        assert_error(as_bob.get("/audit"), 403, "forbidden", "admin")
    with signed_in(server, bob["name"], PASSWORD) as ui:
        assert_error(ui.get("/audit"), 403, "forbidden")
    assert_error(anon.get("/audit"), 401, "unauthorized")


def test_filters_and_paging(server: ServerProcess, http: httpx.Client) -> None:
    project = unique("p")
    ids = [
        http.post("/tasks", json={"name": f"t{i}", "project": project}).json()["id"]
        for i in range(3)
    ]
    mine = [i for i in _audit(http, action="task.create") if i["target_id"] in ids]
    assert [i["target_id"] for i in mine] == ids[::-1]  # newest first
    since = mine[-1]["time"]
    page = http.get(
        "/audit", params={"action": "task.create", "since": since, "limit": 2, "offset": 1}
    ).json()
    assert page["total"] >= 3 and len(page["items"]) == 2
    assert [i["target_id"] for i in page["items"]] == [ids[1], ids[0]]
    until = http.get("/audit", params={"action": "task.create", "until": since}).json()
    assert not {i["target_id"] for i in until["items"]} & set(ids)
    assert_error(http.get("/audit", params={"since": "yesterday"}), 400, "bad_request", "since")
    assert_error(http.get("/audit", params={"limit": 0}), 400, "bad_request", "limit")


@pytest.mark.parametrize(("proxies", "seen"), [("", "127.0.0.1"), ("127.0.0.1", "203.0.113.9")])
def test_forwarded_for_is_believed_only_from_named_proxies(
    tmp_path: Path, proxies: str, seen: str
) -> None:
    """By default no client can forge the address that throttling and the audit log see;
    behind a proxy named with --forwarded-allow-ips, its header gives the real client."""
    extra = ["--forwarded-allow-ips", proxies] if proxies else []
    for srv in running_server(tmp_path, extra_args=extra):
        with httpx.Client(base_url=srv.url + "/api/v1", timeout=30) as anon:
            name = unique("nobody")
            forged = {"X-Forwarded-For": "203.0.113.9"}
            resp = anon.post(
                "/auth/login", json={"username": name, "password": "x"}, headers=forged
            )
            assert resp.status_code == 401
        with srv.client() as api:
            items = api.request("GET", "/audit", params={"user": name}).json()["items"]
        assert [i["address"] for i in items] == [seen]
