"""``hydratrack users ...``, ``keys ...``, ``sessions ...``, ``projects grant|revoke``,
``queues grant|revoke|access`` and ``login-link``: accounts, their lifecycle and roles, API
keys (``--agent``), UI sessions, permissions and login links over the REST API.

All use the caller's credentials (env over ~/.hydratrack/config.toml); managing users and
other users' keys or sessions needs an admin's key pair. Secrets are printed once: the
server keeps only hashes.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import typer

from hydratrack.cli.output import print_json, print_table, short_time
from hydratrack.cli.queues import queues_app  # (grant, revoke and access join its list)
from hydratrack.cli.tasks import projects_app  # (grant and revoke join its list)

users_app = typer.Typer(help="Manage users (admin only).", no_args_is_help=True)
keys_app = typer.Typer(
    help="API key pairs: your own, or everyone's with --all (admin).", no_args_is_help=True
)
sessions_app = typer.Typer(
    help="Web UI sessions: your own, or everyone's with --all (admin).", no_args_is_help=True
)
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON.")]
AllUsers = Annotated[bool, typer.Option("--all", help="Every user's (admin only).")]
UserName = Annotated[str, typer.Argument(help="User name (or id).")]

MIN_PASSWORD = 8


def register(app: typer.Typer) -> None:
    """Add ``users``, ``keys`` and ``login-link`` to the main app."""
    app.add_typer(users_app, name="users")
    app.add_typer(keys_app, name="keys")
    app.add_typer(sessions_app, name="sessions")
    app.command("login-link")(login_link)


def login_link() -> None:
    """Print a new one-click login link to the web UI (single use, valid 24 h) for the
    owner of the configured key pair."""
    from hydratrack.client.api import ApiClient

    with ApiClient() as api:
        print(api.create_login_link())
    print("(single use, valid 24 h)")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name (used to sign in to the web UI).")],
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an administrator.")] = False,
    role: Annotated[
        str | None, typer.Option("--role", help="admin, member (default) or viewer.")
    ] = None,
    prompt: Annotated[
        bool,
        typer.Option(
            "--prompt", help="Ask for the password (typed twice) instead of generating one."
        ),
    ] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print JSON (includes the password).")
    ] = False,
) -> None:
    """Add a user; prints the generated (or typed) password once."""
    if not name.strip():
        raise typer.BadParameter("the user name must not be empty", param_hint="NAME")
    if prompt:
        password = typer.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True)
        if len(password) < MIN_PASSWORD:
            raise typer.BadParameter(
                f"the password must have at least {MIN_PASSWORD} characters", param_hint="--prompt"
            )
    else:
        password = secrets.token_urlsafe(15)
    from hydratrack.client.api import ApiClient

    with ApiClient() as api:
        user = api.create_user(name, password, is_admin=admin, role=role)
    if json_out:
        print_json({"user": user, "password": password})
        return
    role_name = user.get("role") or ("admin" if user.get("is_admin") else "member")
    print(f"added user {user.get('name', name)} ({role_name})")
    if not prompt:
        print(f"password: {password}")
        print("(shown once; the user can sign in to the web UI with it)")


@keys_app.command("create")
def keys_create(
    label: Annotated[str | None, typer.Option("--label", help="A note to tell keys apart.")] = None,
    agent: Annotated[
        bool,
        typer.Option(
            "--agent",
            help="A key for `hydratrack agent`: it can only serve queues (claim, report, "
            "heartbeat), nothing else in your name.",
        ),
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create an API key pair for the calling user; prints the secret once."""
    from hydratrack.client.api import ApiClient

    with ApiClient() as api:
        key = api.create_key(label, agent=agent)
    if json_out:
        print_json(key)
        return
    print(f"access_key = {key['access_key']}")
    print(f"secret_key = {key['secret_key']}")
    print(
        "(the secret is shown once; use them as HYDRATRACK_ACCESS_KEY / HYDRATRACK_SECRET_KEY "
        "or in ~/.hydratrack/config.toml on another machine)"
    )


def _api() -> Any:
    from hydratrack.client.api import ApiClient

    return ApiClient()


def _quoted(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


def _new_password(prompt: bool, who: str) -> str:
    if not prompt:
        return secrets.token_urlsafe(15)
    password = str(
        typer.prompt(f"new password for {who}", hide_input=True, confirmation_prompt=True)
    )
    if len(password) < MIN_PASSWORD:
        raise typer.BadParameter(
            f"the password must have at least {MIN_PASSWORD} characters", param_hint="--prompt"
        )
    return password


@users_app.command("list")
def users_list(json_out: JsonOut = False) -> None:
    """List users: name, role, disabled or not, created."""
    with _api() as api:
        items = api.request("GET", "/users").json()["items"]
    if json_out:
        print_json(items)
        return
    print_table(
        None,
        ["name", "role", "state", "created"],
        [
            [
                u["name"],
                u.get("role") or ("admin" if u.get("is_admin") else "user"),
                "disabled" if u.get("disabled") else "active",
                short_time(u.get("created")),
            ]
            for u in items
        ],
    )


def _set_disabled(name: str, disabled: bool) -> None:
    with _api() as api:
        user = api.request("PATCH", f"/users/{_quoted(name)}", json={"disabled": disabled}).json()
    if disabled:
        print(f"disabled {user['name']}: its sessions ended and its API keys are refused")
    else:
        print(f"enabled {user['name']}")


@users_app.command("disable")
def users_disable(name: UserName) -> None:
    """Disable a user: sessions end at once, API keys are refused (on other server
    processes within their --key-cache-seconds), signing in is refused."""
    _set_disabled(name, True)


@users_app.command("enable")
def users_enable(name: UserName) -> None:
    """Enable a disabled user again (its API keys work again; sign in anew)."""
    _set_disabled(name, False)


@users_app.command("delete")
def users_delete(
    name: UserName,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a user with its API keys and sessions (its tasks stay)."""
    if not yes:
        typer.confirm(f"delete user {name}, its API keys and sessions?", abort=True)
    with _api() as api:
        api.request("DELETE", f"/users/{_quoted(name)}")
    print(f"deleted {name}")


@users_app.command("reset-password")
def users_reset_password(
    name: UserName,
    prompt: Annotated[
        bool, typer.Option("--prompt", help="Ask for the password instead of generating one.")
    ] = False,
) -> None:
    """Set a user's password (printed once when generated); its sessions end and its API
    keys are deleted."""
    password = _new_password(prompt, name)
    with _api() as api:
        api.request("PUT", f"/users/{_quoted(name)}/password", json={"password": password})
    print(f"new password set for {name}; its sessions ended and its API keys were deleted")
    if not prompt:
        print(f"password: {password}")
        print("(shown once)")


@keys_app.command("list")
def keys_list(
    all_users: AllUsers = False,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's (admin).")] = None,
    json_out: JsonOut = False,
) -> None:
    """List API keys (never their secrets) with when they were last used."""
    with _api() as api:
        if all_users or user:
            items = api.request("GET", "/users/keys", params={"user": user} if user else None)
        else:
            items = api.request("GET", "/auth/keys")
        items = items.json()["items"]
    if json_out:
        print_json(items)
        return
    print_table(
        None,
        ["access key", "user", "label", "created", "last used"],
        [
            [
                k["access_key"],
                (k.get("user") or {}).get("name", "(you)"),
                k.get("label") or "",
                short_time(k.get("created")),
                short_time(k.get("last_used")),
            ]
            for k in items
        ],
    )


@keys_app.command("revoke")
def keys_revoke(
    access_key: Annotated[str, typer.Argument(help="The access key to delete.")],
    any_user: Annotated[
        bool, typer.Option("--any", help="Any user's key (admin), not only your own.")
    ] = False,
) -> None:
    """Delete an API key pair; it stops working at once on this server process."""
    path = f"/users/keys/{_quoted(access_key)}" if any_user else f"/auth/keys/{_quoted(access_key)}"
    with _api() as api:
        api.request("DELETE", path)
    print(f"revoked {access_key}")


@sessions_app.command("list")
def sessions_list(
    all_users: AllUsers = False,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's (admin).")] = None,
    json_out: JsonOut = False,
) -> None:
    """List live web UI sessions: id, user, signed in, last seen, expiry."""
    with _api() as api:
        if all_users or user:
            resp = api.request("GET", "/users/sessions", params={"user": user} if user else None)
        else:
            resp = api.request("GET", "/auth/sessions")
        items = resp.json()["items"]
    if json_out:
        print_json(items)
        return
    print_table(
        None,
        ["id", "user", "signed in", "last seen", "expires"],
        [
            [
                s["id"],
                s["user"]["name"],
                short_time(s.get("created")),
                short_time(s.get("last_seen")),
                short_time(s.get("expires")),
            ]
            for s in items
        ],
    )


@sessions_app.command("revoke")
def sessions_revoke(
    session_id: Annotated[str, typer.Argument(help="The session id (from sessions list).")],
    any_user: Annotated[
        bool, typer.Option("--any", help="Any user's session (admin), not only your own.")
    ] = False,
) -> None:
    """End a web UI session at once (its browser is asked to sign in again)."""
    sid = _quoted(session_id)
    with _api() as api:
        api.request("DELETE", f"/users/sessions/{sid}" if any_user else f"/auth/sessions/{sid}")
    print(f"ended session {session_id[:12]}")


ROLES = ("admin", "member", "viewer")
LEVELS = ("read", "edit", "manage")


def _choice(value: str, allowed: tuple[str, ...], hint: str) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"must be one of {', '.join(allowed)}", param_hint=hint)
    return value


@users_app.command("set-role")
def users_set_role(
    name: Annotated[str, typer.Argument(help="User name (or id).")],
    role: Annotated[str, typer.Argument(help="admin, member or viewer.")],
) -> None:
    """Set a user's role (admins only; the last admin keeps theirs)."""
    from hydratrack.client.api import ApiClient

    with ApiClient() as api:
        user = api.set_role(name, _choice(role, ROLES, "ROLE"))
    print(f"{user['name']} is now {user['role']}")


ProjectArg = Annotated[str, typer.Argument(help="Project name (or id).")]
QueueArg = Annotated[str, typer.Argument(help="Queue name (or id).")]


@projects_app.command("grant")
def projects_grant(
    project: ProjectArg,
    user: UserName,
    level: Annotated[str, typer.Argument(help="read, edit or manage.")],
) -> None:
    """Give a user a level on a project (its owner, a manager or an admin)."""
    with _api() as api:
        api.grant_project(project, user, _choice(level, LEVELS, "LEVEL"))
    print(f"{user} may {level} project {project}")


@projects_app.command("revoke")
def projects_revoke(project: ProjectArg, user: UserName) -> None:
    """Take a user's granted level on a project away (the server default still applies)."""
    with _api() as api:
        api.revoke_project(project, user)
    print(f"{user} has no grant on project {project}")


@queues_app.command("grant")
def queues_grant(queue: QueueArg, user: UserName) -> None:
    """Let a user enqueue to a queue whose access is `granted`, and serve it (run agents
    that take its tasks)."""
    with _api() as api:
        api.grant_queue(queue, user)
    print(f"{user} may enqueue to and serve {queue}")


@queues_app.command("revoke")
def queues_revoke(queue: QueueArg, user: UserName) -> None:
    """Take a user's grant on a queue away."""
    with _api() as api:
        api.revoke_queue(queue, user)
    print(f"{user} has no grant on {queue}")


@queues_app.command("access")
def queues_access(
    queue: QueueArg,
    access: Annotated[str, typer.Argument(help="members (any member) or granted.")],
) -> None:
    """Who may enqueue: every member, or only its owner, admins and granted users (serving
    always needs ownership or a grant)."""
    with _api() as api:
        api.set_queue_access(queue, _choice(access, ("members", "granted"), "ACCESS"))
    print(f"queue {queue}: access {access}")
