"""A small synchronous client of the REST API (docs/api.md).

One method per endpoint; errors become :class:`ApiError` carrying the server's error
code and message. The SDK, the agent and the CLI all use this class, so nothing of
theirs reaches the store except through the public API, and what each endpoint takes
and answers is written down here only.

How requests travel is a pluggable backend (:mod:`hydratrack.client.wire`): httpx by
default, or a keep-alive socket speaking HTTP/1.1 with the standard library only
(``backend="stdlib"``, what the SDK's background sender uses: it imports nothing a Hydra
app has not loaded already). Both raise the same
:class:`ServerUnreachable` and :class:`ApiError`. Importing this module imports neither.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from hydratrack.client.config import ClientConfig, load_client_config
from hydratrack.client.errors import ApiError, ServerUnreachable
from hydratrack.client.wire import Backend, Files, Params, Response, Wire, open_wire
from hydratrack.names import CONFIG_TYPE

if TYPE_CHECKING:  # pragma: no cover
    import httpx

__all__ = ["ApiClient", "ApiError", "ServerUnreachable"]

JSON = dict[str, Any]


class ApiClient:
    def __init__(
        self,
        api_host: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        *,
        config: ClientConfig | None = None,
        timeout: float = 30.0,
        backend: Backend = "httpx",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``transport`` (httpx backend only) replaces httpx's network transport."""
        cfg = config or load_client_config()
        self.api_host = (api_host or cfg.api_host).rstrip("/")
        key = access_key or cfg.access_key
        secret = secret_key or cfg.secret_key
        auth = (key, secret) if key and secret else None
        options = {} if transport is None else {"transport": transport}
        self.backend = backend
        self.wire: Wire = open_wire(backend, self.api_host, auth, timeout, **options)

    # -- plumbing -------------------------------------------------------------
    def close(self) -> None:
        self.wire.close()

    def __enter__(self) -> "ApiClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Params | None = None,
        files: Files | None = None,
        data: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Response:
        """One request to ``/api/v1`` + ``path``; an error answer raises :class:`ApiError`
        (no answer: :class:`ServerUnreachable`)."""
        resp = self.wire.request(
            method, path, json=json, params=params, files=files, data=data, timeout=timeout
        )
        if resp.status_code >= 400:
            try:
                err = resp.json()["error"]
                raise ApiError(
                    resp.status_code,
                    err.get("code", "error"),
                    err.get("message", ""),
                    err.get("details"),
                )
            except (ValueError, KeyError, TypeError, AttributeError):
                raise ApiError(
                    resp.status_code, "http_error", resp.text[:500] or resp.reason_phrase
                ) from None
        return resp

    def _json(self, method: str, path: str, **kwargs: Any) -> JSON:
        """The answer's JSON object (``{}`` for an empty answer such as 204)."""
        resp = self.request(method, path, **kwargs)
        if resp.status_code == 204 or not resp.content:
            return {}
        try:
            data = resp.json()
        except ValueError as exc:  # (a proxy's page, a cut answer): not our server's answer
            raise ServerUnreachable(self.api_host, f"the answer to {path} is not JSON") from exc
        if not isinstance(data, dict):
            raise ApiError(resp.status_code, "bad_answer", f"expected a JSON object from {path}")
        return data

    # -- health and auth --------------------------------------------------------
    def health(self) -> JSON:
        return self._json("GET", "/health")

    def me(self) -> JSON:
        return self._json("GET", "/auth/me")

    def create_key(self, label: str | None = None, agent: bool = False) -> JSON:
        """A new key pair of the caller's; ``agent``: one that can only serve queues."""
        body: dict[str, Any] = {"label": label}
        if agent:
            body["agent"] = True
        return self._json("POST", "/auth/keys", json=body)

    def task_token(self, task_id: str) -> JSON:
        """A key pair for the running task's own process (that task alone, until it ends)."""
        return self._json("POST", f"/tasks/{task_id}/token")

    def create_login_link(self) -> str:
        """A new single-use, 24 h login URL of the web UI for the caller."""
        return self.api_host + str(self._json("POST", "/auth/login-link")["path"])

    def create_user(
        self, name: str, password: str, is_admin: bool = False, role: str | None = None
    ) -> JSON:
        body: dict[str, Any] = {"name": name, "password": password, "is_admin": is_admin}
        if role:
            body["role"] = role
        return self._json("POST", "/users", json=body)

    def set_role(self, user: str, role: str) -> JSON:
        return self._json("PATCH", f"/users/{user}", json={"role": role})

    # -- permissions ------------------------------------------------------------
    def project_id(self, name_or_id: str) -> str:
        """The id of the project with this name (or id)."""
        for item in self.list_projects(q=name_or_id, limit=1000).get("items", []):
            if name_or_id in (item["name"], item["id"]):
                return str(item["id"])
        raise ApiError(404, "not_found", f"no project {name_or_id}")

    def grant_project(self, project: str, user: str, level: str) -> JSON:
        pid = self.project_id(project)
        return self._json("PUT", f"/projects/{pid}/permissions/{user}", json={"level": level})

    def revoke_project(self, project: str, user: str) -> JSON:
        return self._json("DELETE", f"/projects/{self.project_id(project)}/permissions/{user}")

    def grant_queue(self, queue: str, user: str) -> JSON:
        return self._json("PUT", f"/queues/{queue}/permissions/{user}")

    def revoke_queue(self, queue: str, user: str) -> JSON:
        return self._json("DELETE", f"/queues/{queue}/permissions/{user}")

    def set_queue_access(self, queue: str, access: str) -> JSON:
        return self._json("PATCH", f"/queues/{queue}", json={"access": access})

    # -- projects ---------------------------------------------------------------
    def list_projects(self, **query: Any) -> JSON:
        return self._json("GET", "/projects", params=_params(query))

    def create_project(self, name: str, description: str = "") -> JSON:
        return self._json("POST", "/projects", json={"name": name, "description": description})

    # -- tasks ------------------------------------------------------------------
    def list_tasks(self, **query: Any) -> JSON:
        """Query keys as in docs/api.md; list values repeat the parameter."""
        return self._json("GET", "/tasks", params=_params(query))

    def create_task(self, body: Mapping[str, Any]) -> JSON:
        return self._json("POST", "/tasks", json=dict(body))

    def get_task(self, task_id: str, *, unmasked: bool = False) -> JSON:
        """The task; secret values read ``********`` unless ``unmasked`` (allowed only to
        the process running the task, see docs/server.md "Secrets")."""
        if unmasked:
            return self._json("GET", f"/tasks/{task_id}", params={"unmasked": "true"})
        return self._json("GET", f"/tasks/{task_id}")

    def update_task(self, task_id: str, **fields: Any) -> JSON:
        return self._json("PATCH", f"/tasks/{task_id}", json=fields)

    def delete_task(self, task_id: str) -> None:
        self._json("DELETE", f"/tasks/{task_id}")

    def get_hyperparams(self, task_id: str) -> JSON:
        return self._json("GET", f"/tasks/{task_id}/hyperparams")

    def patch_hyperparams(self, task_id: str, changes: Mapping[str, Mapping[str, Any]]) -> JSON:
        return self._json("PATCH", f"/tasks/{task_id}/hyperparams", json=dict(changes))

    def put_hyperparam_section(self, task_id: str, section: str, params: Mapping[str, Any]) -> JSON:
        return self._json("PUT", f"/tasks/{task_id}/hyperparams/{section}", json=dict(params))

    def get_configuration(self, task_id: str) -> JSON:
        return self._json("GET", f"/tasks/{task_id}/configuration")

    def put_configuration(
        self, task_id: str, name: str, value: str, type: str = CONFIG_TYPE, description: str = ""
    ) -> JSON:
        body = {"value": value, "type": type, "description": description}
        return self._json("PUT", f"/tasks/{task_id}/configuration/{name}", json=body)

    def post_events(self, task_id: str, batch_id: str, events: Iterable[Mapping[str, Any]]) -> JSON:
        body = {"batch_id": batch_id, "events": list(events)}
        return self._json("POST", f"/tasks/{task_id}/events", json=body)

    def get_scalars(self, task_id: str, **query: Any) -> JSON:
        """``{metric: {variant: {"x": [...], "y": [...]}}}``; values the JSON answer spells
        ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` come back as those floats."""
        out = self._json("GET", f"/tasks/{task_id}/scalars", params=_params(query))
        for variants in out.values():
            for series in variants.values():
                series["y"] = [_number(v) for v in series.get("y") or []]
        return out

    def get_console(self, task_id: str, after: int = -1, limit: int = 1000) -> JSON:
        return self._json(
            "GET", f"/tasks/{task_id}/console", params={"after": after, "limit": limit}
        )

    def list_artifacts(self, task_id: str) -> JSON:
        return self._json("GET", f"/tasks/{task_id}/artifacts")

    def upload_artifact(
        self, task_id: str, name: str, path: Path, metadata: Mapping[str, Any] | None = None
    ) -> JSON:
        with open(path, "rb") as fh:
            files = {"file": (Path(path).name, fh, "application/octet-stream")}
            data = {"name": name, "metadata": json.dumps(dict(metadata or {}))}
            return self._json("POST", f"/tasks/{task_id}/artifacts", files=files, data=data)

    def download_artifact(self, task_id: str, name: str) -> bytes:
        return self.request("GET", f"/tasks/{task_id}/artifacts/{name}/file").content

    # actions
    def clone_task(self, task_id: str, name: str | None = None, **extra: Any) -> JSON:
        return self._json("POST", f"/tasks/{task_id}/clone", json={"name": name, **extra})

    def enqueue_task(self, task_id: str, queue: str = "default") -> JSON:
        return self._json("POST", f"/tasks/{task_id}/enqueue", json={"queue": queue})

    def dequeue_task(self, task_id: str) -> JSON:
        return self._json("POST", f"/tasks/{task_id}/dequeue", json={})

    def abort_task(self, task_id: str, reason: str | None = None) -> JSON:
        return self._json("POST", f"/tasks/{task_id}/abort", json={"reason": reason})

    def reset_task(self, task_id: str) -> JSON:
        return self._json("POST", f"/tasks/{task_id}/reset", json={})

    def publish_task(self, task_id: str) -> JSON:
        return self._json("POST", f"/tasks/{task_id}/publish", json={})

    def archive_task(self, task_id: str, archived: bool = True) -> JSON:
        return self._json("POST", f"/tasks/{task_id}/archive", json={"archived": archived})

    def set_status(
        self,
        task_id: str,
        status: str,
        message: str = "",
        reason: str = "",
        ended: float | None = None,
    ) -> JSON:
        """A runner's transition; ``ended`` (epoch seconds): when a final status happened,
        if not now (a spooled run replayed later keeps its real end time)."""
        body: dict[str, Any] = {"status": status, "message": message, "reason": reason}
        if ended is not None:
            body["ended"] = ended
        return self._json("POST", f"/tasks/{task_id}/status", json=body)

    # -- queues and workers -----------------------------------------------------
    def list_queues(self) -> JSON:
        return self._json("GET", "/queues")

    def create_queue(self, name: str, **policy: Any) -> JSON:
        """``policy``: ``lost_worker_policy`` ("fail" | "requeue"), ``lost_worker_retries``."""
        return self._json("POST", "/queues", json={"name": name, **policy})

    def update_queue(self, id_or_name: str, **policy: Any) -> JSON:
        return self._json("PATCH", f"/queues/{id_or_name}", json=policy)

    def delete_queue(self, id_or_name: str) -> None:
        self._json("DELETE", f"/queues/{id_or_name}")

    def get_queue(self, id_or_name: str) -> JSON:
        return self._json("GET", f"/queues/{id_or_name}")

    def list_workers(self) -> JSON:
        return self._json("GET", "/workers")

    def register_worker(
        self,
        name: str,
        queues: list[str],
        users: list[str] | None = None,
        projects: list[str] | None = None,
    ) -> JSON:
        """Register (``users``/``projects``: take only those users' / projects' tasks)."""
        body: dict[str, Any] = {"name": name, "queues": queues}
        if users:
            body["users"] = users
        if projects:
            body["projects"] = projects
        return self._json("POST", "/workers", json=body)

    def heartbeat(self, worker_id: str, task_id: str | None = None) -> JSON:
        return self._json("POST", f"/workers/{worker_id}/heartbeat", json={"task_id": task_id})

    def claim(self, worker_id: str, timeout: float = 20.0) -> JSON | None:
        """Long-poll for a task; None when nothing came within ``timeout`` seconds."""
        resp = self.request(
            "POST",
            f"/workers/{worker_id}/claim",
            json={"timeout": timeout},
            timeout=timeout + 15.0,
        )
        return None if resp.status_code == 204 else resp.json()

    def unregister_worker(self, worker_id: str) -> None:
        self._json("DELETE", f"/workers/{worker_id}")


def _params(query: Mapping[str, Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in query.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            out.extend((key, v) for v in value)
        elif isinstance(value, bool):
            out.append((key, "true" if value else "false"))
        else:
            out.append((key, value))
    return out


_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _number(value: Any) -> Any:
    """A scalar value as the API spells it, back as a float (docs/api.md, non-finite values)."""
    return _NON_FINITE.get(value, value) if isinstance(value, str) else value
