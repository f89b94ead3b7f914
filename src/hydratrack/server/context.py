"""What every route needs: settings, database, file store, claim wake-ups, key cache."""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from fastapi import Request

from hydratrack.server.files import FileStore
from hydratrack.server.secrets import SecretMask
from hydratrack.server.settings import ServerSettings
from hydratrack.server.store.db import Database
from hydratrack.server.throttle import LoginThrottle
from hydratrack.server.wakeup import WakeUp


@dataclasses.dataclass
class Caller:
    """Who is calling. ``role`` is the user's (admin, member, viewer); ``scope`` narrows a
    credential: ``user`` (a person's key or session), ``agent`` (an agent's key: serves
    queues only) or ``task`` (one task's token; ``task_id`` is that task)."""

    id: str
    name: str
    role: str
    via: str  # "key" or "session"
    csrf_token: str | None = None
    access_key: str | None = None
    scope: str = "user"
    task_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin" and self.scope == "user"


class KeyCache:
    """Verified (access key, SHA-256 of the secret) -> caller, for ``ttl`` seconds.

    Keyed by the exact credential: another secret for the same key is a miss and is
    checked against the database. Deleting a key drops it here at once (this process);
    other processes sharing the database see the deletion when the entry expires. At most
    10 000 entries (then it starts afresh); ``ttl`` 0 turns the cache off."""

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._items: dict[tuple[str, str], tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> Caller | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] < time.monotonic():
                return None
            return hit[1]

    def put(self, key: tuple[str, str], caller: Caller) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[key] = (time.monotonic() + self.ttl, caller)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def drop(self, access_key: str) -> None:
        with self._lock:
            for k in [k for k in self._items if k[0] == access_key]:
                del self._items[k]


class Granted:
    """Permission decisions that said yes, for ``ttl`` seconds (a member's requests on
    their own task skip the database read of its facts). Refusals are never kept; a
    grant, revoke or role change clears it in this process."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._items: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def __contains__(self, key: tuple[str, ...]) -> bool:
        expires = self._items.get(key)
        return expires is not None and expires > time.monotonic()

    def add(self, key: tuple[str, ...]) -> None:
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[key] = time.monotonic() + self.ttl

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@dataclasses.dataclass
class ServerContext:
    settings: ServerSettings
    db: Database
    files: FileStore
    wakeup: WakeUp = dataclasses.field(default_factory=WakeUp)
    keys: KeyCache = dataclasses.field(default_factory=KeyCache)
    key_last_touch: dict[str, float] = dataclasses.field(default_factory=dict)
    mask: SecretMask = dataclasses.field(
        default_factory=lambda: SecretMask(ServerSettings().secret_pattern)
    )
    logins: LoginThrottle = dataclasses.field(default_factory=LoginThrottle)
    secrets: LoginThrottle = dataclasses.field(default_factory=LoginThrottle)  # Basic pairs
    granted: Granted = dataclasses.field(default_factory=Granted)


async def get_ctx(request: Request) -> ServerContext:
    """(async: FastAPI runs a plain function dependency in a worker thread, a hop per
    request for a lookup.)"""
    ctx: Any = request.app.state.ctx
    assert isinstance(ctx, ServerContext)
    return ctx
