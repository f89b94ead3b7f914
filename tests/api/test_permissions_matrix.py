"""Every route × every kind of caller, against a table: a route missing from the table,
or a table entry for a route that is gone, fails the test.

Callers: ``admin``; ``owner`` (the member who made the project, task and queue);
``other`` (another member); ``viewer``; ``agent`` (an agent key whose worker runs the
task); ``token`` (that task's own token, as its process gets it); ``anon`` (no
credentials). Each (route, caller) pair that changes something gets a world of its own
(project, task running on the agent's worker, queue, artifact), so a delete by one caller
cannot hide a refusal to the next; reads share one. Allowed: any answer but 401/403. Refused: 401 (anonymous) or 403.
"""

from __future__ import annotations

from typing import Any, Iterator

import httpx
import pytest
from fastapi import FastAPI

from tests.api.conftest import unique
from tests.api.people import admin_client, person, token_client
from tests.support.servers import ServerProcess

ALL = frozenset({"admin", "owner", "other", "viewer", "agent", "token", "anon"})
PEOPLE = frozenset({"admin", "owner", "other", "viewer"})
WRITERS = frozenset({"admin", "owner", "other"})
OWNER = frozenset({"admin", "owner"})
READ_TASK = PEOPLE | {"agent", "token"}  # members read every project by default
WRITE_TASK = OWNER | {"agent", "token"}  # a run's outputs
SERVE = frozenset({"admin", "agent"})

# (method, path) -> (who may, request body: json dict, or ("files", form, files))
TABLE: dict[tuple[str, str], tuple[frozenset[str], Any]] = {
    ("GET", "/api/v1/tasks"): (PEOPLE, None),
    ("POST", "/api/v1/tasks"): (OWNER, {"name": "t", "project": "{project_name}"}),
    ("GET", "/api/v1/tasks/{task_id}"): (READ_TASK, None),
    ("PATCH", "/api/v1/tasks/{task_id}"): (WRITE_TASK, {"comment": "c"}),
    ("DELETE", "/api/v1/tasks/{task_id}"): (OWNER, None),
    ("POST", "/api/v1/tasks/{task_id}/events"): (WRITE_TASK, {"scalars": []}),
    ("GET", "/api/v1/tasks/{task_id}/scalars"): (READ_TASK, None),
    ("GET", "/api/v1/tasks/{task_id}/scalars/last"): (READ_TASK, None),
    ("GET", "/api/v1/tasks/{task_id}/console"): (READ_TASK, None),
    ("GET", "/api/v1/tasks/{task_id}/texts"): (READ_TASK, None),
    ("POST", "/api/v1/tasks/{task_id}/clone"): (OWNER, {}),
    ("POST", "/api/v1/tasks/{task_id}/enqueue"): (OWNER, {"queue": "{queue}"}),
    ("POST", "/api/v1/tasks/{task_id}/dequeue"): (OWNER, None),
    ("POST", "/api/v1/tasks/{task_id}/abort"): (OWNER, None),
    ("POST", "/api/v1/tasks/{task_id}/reset"): (OWNER, None),
    ("POST", "/api/v1/tasks/{task_id}/publish"): (OWNER, None),
    ("POST", "/api/v1/tasks/{task_id}/archive"): (OWNER, None),
    ("POST", "/api/v1/tasks/{task_id}/status"): (WRITE_TASK, {"status": "completed"}),
    ("POST", "/api/v1/tasks/{task_id}/token"): (SERVE | OWNER, None),
    ("GET", "/api/v1/tasks/{task_id}/hyperparams"): (READ_TASK, None),
    ("PATCH", "/api/v1/tasks/{task_id}/hyperparams"): (OWNER, {"S": {"a": {"value": "1"}}}),
    ("PUT", "/api/v1/tasks/{task_id}/hyperparams/{section}"): (WRITE_TASK, {}),
    ("GET", "/api/v1/tasks/{task_id}/configuration"): (READ_TASK, None),
    ("PUT", "/api/v1/tasks/{task_id}/configuration/{name}"): (
        WRITE_TASK,
        {"value": "a: 1", "type": "OmegaConf"},
    ),
    ("DELETE", "/api/v1/tasks/{task_id}/configuration/{name}"): (OWNER, None),
    ("GET", "/api/v1/tasks/{task_id}/artifacts"): (READ_TASK, None),
    ("POST", "/api/v1/tasks/{task_id}/artifacts"): (
        WRITE_TASK,
        ("files", {"name": "model"}, {"file": b"x"}),
    ),
    ("GET", "/api/v1/tasks/{task_id}/artifacts/{name}/file"): (READ_TASK, None),
    ("GET", "/api/v1/workers"): (PEOPLE | {"agent"}, None),
    # serving a queue: its owner, admins and granted users (the agent's user is granted)
    ("POST", "/api/v1/workers"): (OWNER | {"agent"}, {"name": "{new}", "queues": ["{queue}"]}),
    ("POST", "/api/v1/workers/{worker_id}/heartbeat"): (SERVE, {}),
    ("POST", "/api/v1/workers/{worker_id}/claim"): (SERVE, {"timeout": 0}),
    ("DELETE", "/api/v1/workers/{worker_id}"): (SERVE, None),
    ("GET", "/api/v1/queues"): (PEOPLE | {"agent"}, None),
    ("POST", "/api/v1/queues"): (WRITERS, {"name": "{new}"}),
    ("GET", "/api/v1/queues/{id_or_name}"): (PEOPLE | {"agent"}, None),
    ("PATCH", "/api/v1/queues/{id_or_name}"): (OWNER, {"access": "granted"}),
    ("DELETE", "/api/v1/queues/{id_or_name}"): (OWNER, None),
    ("GET", "/api/v1/queues/{id_or_name}/permissions"): (PEOPLE | {"agent"}, None),
    ("PUT", "/api/v1/queues/{id_or_name}/permissions/{user}"): (OWNER, None),
    ("DELETE", "/api/v1/queues/{id_or_name}/permissions/{user}"): (OWNER, None),
    ("GET", "/api/v1/projects"): (PEOPLE, None),
    ("POST", "/api/v1/projects"): (WRITERS, {"name": "{new}"}),
    ("GET", "/api/v1/projects/{project_id}"): (PEOPLE, None),
    ("PATCH", "/api/v1/projects/{project_id}"): (OWNER, {"description": "d"}),
    ("GET", "/api/v1/projects/{project_id}/permissions"): (PEOPLE, None),
    ("PUT", "/api/v1/projects/{project_id}/permissions/{user}"): (OWNER, {"level": "read"}),
    ("DELETE", "/api/v1/projects/{project_id}/permissions/{user}"): (OWNER, None),
    ("POST", "/api/v1/auth/login"): (ALL, {}),
    ("POST", "/api/v1/auth/logout"): (ALL, None),
    ("POST", "/api/v1/auth/login-link"): (PEOPLE, None),
    ("GET", "/api/v1/auth/me"): (ALL - {"anon"}, None),
    ("GET", "/api/v1/auth/keys"): (PEOPLE, None),
    ("POST", "/api/v1/auth/keys"): (PEOPLE, {"label": "l"}),
    ("DELETE", "/api/v1/auth/keys/{access_key}"): (PEOPLE, None),
    ("GET", "/api/v1/users"): (frozenset({"admin"}), None),
    ("POST", "/api/v1/users"): (frozenset({"admin"}), {"name": "{new}", "password": "pw-12345678"}),
    ("PATCH", "/api/v1/users/{user}"): (frozenset({"admin"}), {"role": "member"}),
    ("DELETE", "/api/v1/users/{user}"): (frozenset({"admin"}), None),
    ("PUT", "/api/v1/users/{user}/password"): (frozenset({"admin"}), {"password": "pw-87654321"}),
    ("GET", "/api/v1/users/keys"): (frozenset({"admin"}), None),
    ("DELETE", "/api/v1/users/keys/{access_key}"): (frozenset({"admin"}), None),
    ("GET", "/api/v1/users/sessions"): (frozenset({"admin"}), None),
    ("DELETE", "/api/v1/users/sessions/{session_id}"): (frozenset({"admin"}), None),
    # a person's own password and sessions (a wrong old password is a 400, not a refusal)
    ("PUT", "/api/v1/auth/password"): (
        PEOPLE,
        {"old_password": "not it", "new_password": "pw-87654321"},
    ),
    ("GET", "/api/v1/auth/sessions"): (PEOPLE, None),
    ("DELETE", "/api/v1/auth/sessions/{session_id}"): (PEOPLE, None),
    ("GET", "/api/v1/audit"): (frozenset({"admin"}), None),
    ("GET", "/api/v1/health"): (ALL, None),
    # not in the OpenAPI document: the API's own description, the web UI's page shells
    # (they hold no data: the pages read it through the API) and its static files
    ("GET", "/api/v1/openapi.json"): (ALL, None),
    ("GET", "/api/v1/docs"): (ALL, None),
    ("GET", "/login"): (ALL, None),
    ("GET", "/"): (ALL, None),
    ("GET", "/projects/{project_id}"): (ALL, None),
    ("GET", "/tasks/{task_id}"): (ALL, None),
    ("GET", "/compare"): (ALL, None),
    ("GET", "/queues"): (ALL, None),
    ("GET", "/admin"): (ALL, None),
    ("GET", "/audit"): (ALL, None),
    ("GET", "/favicon.ico"): (ALL, None),
    ("GET", "/static"): (ALL, None),
}


def _web_routes() -> set[tuple[str, str]]:
    """The web UI's routes, from the app it mounts them on."""
    from hydratrack import web

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    web.mount(app)
    out: set[tuple[str, str]] = set()
    for route in app.routes:
        inner = getattr(route, "original_router", None)
        for r in inner.routes if inner is not None else [route]:
            for method in getattr(r, "methods", None) or {"GET"}:
                if method != "HEAD":
                    out.add((method, str(getattr(r, "path", ""))))
    return out


def test_every_route_has_a_table_entry(server: ServerProcess) -> None:
    doc = httpx.get(server.url + "/api/v1/openapi.json").json()
    routes = {
        (method.upper(), path)
        for path, ops in doc["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    }
    routes |= _web_routes() | {("GET", "/api/v1/openapi.json"), ("GET", "/api/v1/docs")}
    assert routes - set(TABLE) == set(), "routes without a permission table entry"
    assert set(TABLE) - routes == set(), "table entries for routes that are gone"


class Cast:
    """The callers (made once) and a factory of worlds."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.admin = admin_client(server)
        self.owner = person(server, "member")
        self.other = person(server, "member")
        self.viewer = person(server, "viewer")
        self.agent = person(server, "member", agent=True)
        self.anon = httpx.Client(base_url=server.url + "/api/v1", timeout=30)
        self.other_name = self.other.get("/auth/me").json()["user"]["name"]
        self.agent_name = self.agent.get("/auth/me").json()["user"]["name"]
        self.shared = self.world()

    def world(self) -> dict[str, Any]:
        """A project, queue and artifact of the owner's, and a task of theirs running on
        the agent's worker, with its token."""
        o, a = self.owner, self.agent
        queue = unique("q")
        assert o.post("/queues", json={"name": queue}).status_code == 201
        project = unique("p")
        task = o.post("/tasks", json={"name": "t", "project": project}).json()
        assert o.put(
            f"/tasks/{task['id']}/configuration/OmegaConf", json={"value": "a: 1"}
        ).is_success
        assert o.post(f"/tasks/{task['id']}/enqueue", json={"queue": queue}).is_success
        # serving needs the owner's grant (a queue open to members is open for enqueueing)
        assert o.put(f"/queues/{queue}/permissions/{self.agent_name}").status_code == 204
        worker = a.post("/workers", json={"name": unique("w"), "queues": [queue]}).json()
        claimed = a.post(f"/workers/{worker['id']}/claim", json={"timeout": 5}).json()
        assert claimed["id"] == task["id"]
        up = o.post(f"/tasks/{task['id']}/artifacts", data={"name": "model"}, files={"file": b"x"})
        assert up.status_code == 201, up.text
        token = a.post(f"/tasks/{task['id']}/token").json()
        return {
            "task_id": task["id"],
            "project_id": task["project"]["id"],
            "project_name": project,
            "id_or_name": queue,
            "queue": queue,
            "worker_id": worker["id"],
            "user": self.other_name,
            "section": "Hydra",
            "name": "OmegaConf",
            "access_key": "NOSUCHKEY",
            "session_id": "NOSUCHSESSION",
            "token": token,
        }

    def victim(self) -> str:
        """A new member of no other use: the target of a user deletion or password reset."""
        name = unique("victim")
        body = {"name": name, "password": "pw-12345678"}
        assert self.admin.post("/users", json=body).status_code == 201
        return name

    def client(self, role: str, world: dict[str, Any]) -> httpx.Client:
        if role == "token":
            return token_client(self.server, world["token"])
        return dict(
            admin=self.admin,
            owner=self.owner,
            other=self.other,
            viewer=self.viewer,
            agent=self.agent,
            anon=self.anon,
        )[role]

    def close(self) -> None:
        for c in (self.admin, self.owner, self.other, self.viewer, self.agent, self.anon):
            c.close()


@pytest.fixture(scope="module")
def cast(server: ServerProcess) -> Iterator[Cast]:
    c = Cast(server)
    yield c
    c.close()


def _fill(value: Any, world: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(new=unique("n"), **world)
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


def _call(client: httpx.Client, method: str, path: str, body: Any, root: str) -> httpx.Response:
    url = path if path.startswith("/api/v1") else root + path
    url = url.removeprefix("/api/v1") if url.startswith("/api/v1") else url
    if path == "/api/v1/tasks/{task_id}/artifacts/{name}/file":
        url = url.replace("OmegaConf", "model")
    if isinstance(body, tuple):
        return client.request(method, url, data=body[1], files=body[2])
    return client.request(method, url, json=body)


@pytest.mark.parametrize(("method", "path"), sorted(TABLE), ids=lambda v: str(v))
def test_route_by_caller(cast: Cast, method: str, path: str) -> None:
    who, body = TABLE[(method, path)]
    wrong = []
    for role in sorted(ALL):
        world = cast.shared if method == "GET" else cast.world()
        if method != "GET" and path.startswith("/api/v1/users/{user}"):
            world = {**world, "user": cast.victim()}  # deleted or its password reset
        url = path.format(**{k: v for k, v in world.items() if isinstance(v, str)})
        client = cast.client(role, world)
        try:
            resp = _call(client, method, url, _fill(body, world), cast.server.url)
        finally:
            if role == "token":
                client.close()
        refused = resp.status_code in (401, 403)
        if refused == (role in who):
            wrong.append(f"{role}: {resp.status_code} {resp.text[:200]}")
        elif refused:
            assert resp.status_code == (401 if role == "anon" else 403), (role, resp.text)
    assert not wrong, f"{method} {path}\n" + "\n".join(wrong)
