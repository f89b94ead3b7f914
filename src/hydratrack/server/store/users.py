"""Users, API keys, UI sessions and one-click login tokens.

Passwords are hashed with scrypt; API secrets and session/login tokens are long random
strings, so a SHA-256 of them is stored (fast to check on every request, useless to a
reader of the database).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import types
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hydratrack.server import limits
from hydratrack.server.errors import Conflict, NotFound
from hydratrack.server.store.clock import iso, new_id, utcnow
from hydratrack.server.store.models import api_keys, login_tokens, sessions, tasks, users
from hydratrack.status import TaskStatus

LOGIN_TOKEN_HOURS = 24
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
ROLES = ("admin", "member", "viewer")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(
        password.encode(), salt=bytes.fromhex(salt), dklen=32, n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(got.hex(), digest)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "role": row.role,
        "is_admin": row.role == "admin",
        "disabled": bool(getattr(row, "disabled", False)),
        "created": iso(row.created),
    }


# -- users ---------------------------------------------------------------------------
def count_users(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


def create_user(conn: Connection, name: str, password: str, role: str = "member") -> dict[str, Any]:
    if conn.execute(select(users.c.id).where(users.c.name == name)).first():
        raise Conflict(f"user {name} already exists")
    row = {
        "id": new_id(),
        "name": name,
        "password_hash": hash_password(password),
        "is_admin": role == "admin",
        "role": role,
        "created": utcnow(),
    }
    try:
        with conn.begin_nested():
            conn.execute(users.insert().values(**row))
    except IntegrityError:
        raise Conflict(f"user {name} already exists") from None
    return user_view(types.SimpleNamespace(**row))


def list_users(conn: Connection) -> list[dict[str, Any]]:
    return [user_view(r) for r in conn.execute(select(users).order_by(users.c.name))]


def get_user(conn: Connection, user_id: str) -> Any:
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound("user", user_id)
    return row


def set_role(conn: Connection, id_or_name: str, role: str) -> dict[str, Any]:
    row = find_user(conn, id_or_name)
    if row.role == "admin" and role != "admin":
        admins = conn.execute(
            select(func.count()).select_from(users).where(users.c.role == "admin")
        ).scalar_one()
        if admins <= 1:
            raise Conflict(f"user {row.name} is the last admin")
    conn.execute(
        update(users).where(users.c.id == row.id).values(role=role, is_admin=role == "admin")
    )
    return user_view(get_user(conn, row.id))


def user_by_password(conn: Connection, name: str, password: str) -> Any | None:
    if limits.text_problem(name) is not None:  # cannot be stored: no such user
        hash_password(password)
        return None
    row = conn.execute(select(users).where(users.c.name == name)).first()
    if row is None:
        hash_password(password)  # same work either way: no user-name oracle by timing
        return None
    if not check_password(password, row.password_hash):
        return None
    return None if row.disabled else row


def user_by_name(conn: Connection, name: str) -> Any:
    row = conn.execute(select(users).where(users.c.name == name)).first()
    if row is None:
        raise NotFound("user", name)
    return row


def find_user(conn: Connection, id_or_name: str) -> Any:
    """A user by id or, failing that, by name."""
    row = conn.execute(select(users).where(users.c.id == id_or_name)).first()
    return row if row is not None else user_by_name(conn, id_or_name)


def _enabled_admins(conn: Connection) -> int:
    q = select(func.count()).select_from(users).where(users.c.is_admin, users.c.disabled.is_(False))
    return int(conn.execute(q).scalar_one())


def _keep_an_admin(conn: Connection, row: Any, doing: str) -> None:
    if row.is_admin and not row.disabled and _enabled_admins(conn) <= 1:
        raise Conflict(f"cannot {doing} {row.name}: it is the last enabled admin")


def end_access(conn: Connection, user_id: str, *, keys: bool) -> list[str]:
    """End a user's sessions and unused login links (and, with ``keys``, delete its API
    keys); returns the access keys deleted, for the caller to drop from its key cache."""
    conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
    conn.execute(delete(login_tokens).where(login_tokens.c.user_id == user_id))
    if not keys:
        return []
    gone = [
        r.access_key
        for r in conn.execute(select(api_keys.c.access_key).where(api_keys.c.user_id == user_id))
    ]
    conn.execute(delete(api_keys).where(api_keys.c.user_id == user_id))
    return gone


def access_keys_of(conn: Connection, user_id: str) -> list[str]:
    q = select(api_keys.c.access_key).where(api_keys.c.user_id == user_id)
    return [r.access_key for r in conn.execute(q)]


def set_disabled(conn: Connection, id_or_name: str, disabled: bool) -> dict[str, Any]:
    """Disable (sessions and login links end; its keys are refused while disabled) or
    enable a user. The last enabled admin cannot be disabled."""
    row = find_user(conn, id_or_name)
    if disabled:
        _keep_an_admin(conn, row, "disable")
        end_access(conn, row.id, keys=False)
    conn.execute(update(users).where(users.c.id == row.id).values(disabled=disabled))
    return user_view(find_user(conn, row.id))


def delete_user(conn: Connection, id_or_name: str) -> Any:
    """Delete a user with its keys, sessions and links; its tasks stay (owner unset)."""
    row = find_user(conn, id_or_name)
    _keep_an_admin(conn, row, "delete")
    end_access(conn, row.id, keys=True)
    conn.execute(delete(users).where(users.c.id == row.id))
    return row


def set_password(conn: Connection, user_id: str, password: str) -> list[str]:
    """A new password; every session, login link and API key of the user ends. Returns
    the deleted access keys."""
    conn.execute(
        update(users).where(users.c.id == user_id).values(password_hash=hash_password(password))
    )
    return end_access(conn, user_id, keys=True)


# -- API keys ------------------------------------------------------------------------
def create_key(
    conn: Connection,
    user_id: str,
    label: str = "",
    scope: str = "user",
    task_id: str | None = None,
) -> dict[str, str]:
    """A new key pair: ``scope`` "user" (the person's), "agent" (serves queues only) or
    "task" (a token for ``task_id`` alone, see :func:`create_task_token`)."""
    access = ("T" if scope == "task" else "") + secrets.token_hex(12).upper()
    secret = secrets.token_urlsafe(32)
    conn.execute(
        api_keys.insert().values(
            access_key=access,
            secret_hash=token_hash(secret),
            user_id=user_id,
            label=label or "",
            created=utcnow(),
            scope=scope,
            task_id=task_id,
        )
    )
    return {"access_key": access, "secret_key": secret}


def create_task_token(conn: Connection, task_id: str, owner_id: str) -> dict[str, str]:
    """A key pair acting as the task's owner on that task alone, until it ends."""
    return create_key(conn, owner_id, f"task {task_id}", scope="task", task_id=task_id)


def revoke_task_tokens(conn: Connection, task_id: str) -> list[str]:
    """Delete the task's tokens; returns their access keys (to drop from key caches)."""
    keys = [
        r.access_key
        for r in conn.execute(select(api_keys.c.access_key).where(api_keys.c.task_id == task_id))
    ]
    if keys:
        conn.execute(delete(api_keys).where(api_keys.c.task_id == task_id))
    return keys


def list_keys(conn: Connection, user_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(api_keys)
        .where(api_keys.c.user_id == user_id, api_keys.c.scope != "task")
        .order_by(api_keys.c.created)
    )
    return [
        {
            "access_key": r.access_key,
            "label": r.label,
            "scope": r.scope,
            "created": iso(r.created),
            "last_used": iso(r.last_used),
        }
        for r in rows
    ]


def list_all_keys(conn: Connection, user_id: str | None = None) -> list[dict[str, Any]]:
    """Every API key (of one user, if given) with its owner's name; never the secret."""
    q = (
        select(api_keys, users.c.name.label("user_name"))
        .join(users, users.c.id == api_keys.c.user_id)
        .order_by(users.c.name, api_keys.c.created)
    )
    if user_id:
        q = q.where(api_keys.c.user_id == user_id)
    return [
        {
            "access_key": r.access_key,
            "label": r.label,
            "user": {"id": r.user_id, "name": r.user_name},
            "created": iso(r.created),
            "last_used": iso(r.last_used),
        }
        for r in conn.execute(q)
    ]


def revoke_key(conn: Connection, access_key: str) -> None:
    """Delete any user's key (admins)."""
    if conn.execute(delete(api_keys).where(api_keys.c.access_key == access_key)).rowcount == 0:
        raise NotFound("API key", access_key)


def delete_key(conn: Connection, user_id: str, access_key: str) -> None:
    res = conn.execute(
        delete(api_keys).where(api_keys.c.access_key == access_key, api_keys.c.user_id == user_id)
    )
    if res.rowcount == 0:
        raise NotFound("API key", access_key)


def revoke_ended_task_tokens(conn: Connection) -> list[str]:
    """Delete the tokens of tasks no longer running (or gone); returns their keys."""
    running = select(tasks.c.id).where(tasks.c.status == TaskStatus.IN_PROGRESS.value)
    stale = (api_keys.c.scope == "task") & api_keys.c.task_id.not_in(running)
    keys = [r.access_key for r in conn.execute(select(api_keys.c.access_key).where(stale))]
    if keys:
        conn.execute(delete(api_keys).where(api_keys.c.access_key.in_(keys)))
    return keys


def user_by_key(conn: Connection, access_key: str, secret: str) -> Any | None:
    if limits.text_problem(access_key) is not None:  # cannot be stored: no such key
        return None
    row = conn.execute(
        select(users, api_keys.c.secret_hash, api_keys.c.scope, api_keys.c.task_id)
        .join(api_keys, api_keys.c.user_id == users.c.id)
        .where(api_keys.c.access_key == access_key)
    ).first()
    if row is None or not hmac.compare_digest(row.secret_hash, token_hash(secret)):
        return None
    return None if row.disabled else row


def touch_key(conn: Connection, access_key: str) -> None:
    conn.execute(
        update(api_keys).where(api_keys.c.access_key == access_key).values(last_used=utcnow())
    )


# -- sessions ------------------------------------------------------------------------
def create_session(conn: Connection, user_id: str, max_age: dt.timedelta) -> tuple[str, str]:
    """A new session ending after ``max_age`` at the latest; returns (cookie token, CSRF)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = utcnow()
    conn.execute(
        sessions.insert().values(
            token_hash=token_hash(token),
            user_id=user_id,
            csrf_token=csrf,
            created=now,
            expires=now + max_age,
            last_seen=now,
        )
    )
    return token, csrf


def session_alive(row: Any, now: dt.datetime, idle: dt.timedelta, max_age: dt.timedelta) -> bool:
    """A session is alive before its expiry, before ``max_age`` from its creation (a
    shorter setting applies to older sessions too) and while used within ``idle``."""
    seen = row.last_seen or row.created
    return bool(now < row.expires and now < row.created + max_age and now < seen + idle)


def session_user(
    conn: Connection,
    token: str,
    idle: dt.timedelta,
    max_age: dt.timedelta,
) -> tuple[Any, str, dt.datetime] | None:
    """(user row, CSRF token, last seen) of a live session of an enabled user, or None."""
    row = conn.execute(
        select(
            users,
            sessions.c.csrf_token,
            sessions.c.expires,
            sessions.c.last_seen,
            sessions.c.created.label("session_created"),
        )
        .join(sessions, sessions.c.user_id == users.c.id)
        .where(sessions.c.token_hash == token_hash(token))
    ).first()
    if row is None or row.disabled:
        return None
    view = types.SimpleNamespace(
        expires=row.expires, created=row.session_created, last_seen=row.last_seen
    )
    if not session_alive(view, utcnow(), idle, max_age):
        return None
    return row, row.csrf_token, row.last_seen or row.session_created


def touch_session(conn: Connection, token: str) -> None:
    conn.execute(
        update(sessions)
        .where(sessions.c.token_hash == token_hash(token))
        .values(last_seen=utcnow())
    )


def session_view(row: Any, user_name: str) -> dict[str, Any]:
    return {
        "id": row.token_hash,  # a digest of the cookie: names the session, opens nothing
        "user": {"id": row.user_id, "name": user_name},
        "created": iso(row.created),
        "last_seen": iso(row.last_seen or row.created),
        "expires": iso(row.expires),
    }


def list_sessions(
    conn: Connection,
    user_id: str | None,
    idle: dt.timedelta,
    max_age: dt.timedelta,
) -> list[dict[str, Any]]:
    """Live sessions (of one user, if given), newest first."""
    q = (
        select(sessions, users.c.name.label("user_name"))
        .join(users, users.c.id == sessions.c.user_id)
        .order_by(sessions.c.created.desc())
    )
    if user_id:
        q = q.where(sessions.c.user_id == user_id)
    now = utcnow()
    return [
        session_view(r, r.user_name)
        for r in conn.execute(q)
        if session_alive(r, now, idle, max_age)
    ]


def revoke_session(conn: Connection, session_id: str, user_id: str | None = None) -> None:
    """End a session by its id (the digest); ``user_id`` limits it to that user's."""
    q = delete(sessions).where(sessions.c.token_hash == session_id)
    if user_id:
        q = q.where(sessions.c.user_id == user_id)
    if conn.execute(q).rowcount == 0:
        raise NotFound("session", session_id[:12])


def delete_session(conn: Connection, token: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash(token)))


def delete_expired(conn: Connection) -> int:
    """Remove expired sessions and login tokens; returns how many rows went."""
    now = utcnow()
    gone = conn.execute(delete(sessions).where(sessions.c.expires < now)).rowcount
    gone += conn.execute(delete(login_tokens).where(login_tokens.c.expires < now)).rowcount
    return int(gone)


# -- one-click login tokens --------------------------------------------------------------
def create_login_token(conn: Connection, user_id: str) -> str:
    token = secrets.token_urlsafe(32)
    conn.execute(
        login_tokens.insert().values(
            token_hash=token_hash(token),
            user_id=user_id,
            used=False,
            expires=utcnow() + dt.timedelta(hours=LOGIN_TOKEN_HOURS),
        )
    )
    return token


def use_login_token(conn: Connection, token: str) -> Any | None:
    """The user of an unused, unexpired token (marking it used), else None."""
    h = token_hash(token)
    res = conn.execute(
        update(login_tokens)
        .where(
            login_tokens.c.token_hash == h,
            login_tokens.c.used.is_(False),
            login_tokens.c.expires > utcnow(),
        )
        .values(used=True)
    )
    if res.rowcount != 1:
        return None
    user_id = conn.execute(
        select(login_tokens.c.user_id).where(login_tokens.c.token_hash == h)
    ).scalar_one()
    row = get_user(conn, user_id)
    return None if row.disabled else row
