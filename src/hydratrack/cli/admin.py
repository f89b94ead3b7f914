"""``hydratrack users add|set-role``, ``keys create [--agent]``, ``projects grant|revoke``,
``queues grant|revoke|access`` and ``login-link``: accounts, roles, API keys, permissions
and UI login links over the REST API.

Both use the caller's credentials (env over ~/.hydratrack/config.toml); adding users needs
an admin's key pair. Secrets are printed once: the server keeps only hashes.
"""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from hydratrack.cli.output import print_json
from hydratrack.cli.tasks import projects_app  # (grant and revoke join its list)

users_app = typer.Typer(help="Manage users (admin only).", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API key pairs of the calling user.", no_args_is_help=True)
queues_app = typer.Typer(help="Who may enqueue to a queue.", no_args_is_help=True)

MIN_PASSWORD = 8


def register(app: typer.Typer) -> None:
    """Add ``users``, ``keys`` and ``login-link`` to the main app."""
    app.add_typer(users_app, name="users")
    app.add_typer(keys_app, name="keys")
    app.add_typer(queues_app, name="queues")
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


@projects_app.command("grant")
def projects_grant(
    project: Annotated[str, typer.Argument(help="Project name (or id).")],
    user: Annotated[str, typer.Argument(help="User name (or id).")],
    level: Annotated[str, typer.Argument(help="read, edit or manage.")],
) -> None:
    """Give a user a level on a project (its owner, a manager or an admin)."""
    from hydratrack.client.api import ApiClient

    with ApiClient() as api:
        api.grant_project(project, user, _choice(level, LEVELS, "LEVEL"))
    print(f"{user} may {level} project {project}")


@projects_app.command("revoke")
def projects_revoke(
    project: Annotated[str, typer.Argument(help="Project name (or id).")],
    user: Annotated[str, typer.Argument(help="User name (or id).")],
) -> None:
    """Take a user's granted level on a project away (the server default still applies)."""
    from hydratrack.client.api import ApiClient

    with ApiClient() as api:
        api.revoke_project(project, user)
    print(f"{user} has no grant on project {project}")


@queues_app.command("grant")
def queues_grant(
    queue: Annotated[str, typer.Argument(help="Queue name (or id).")],
    user: Annotated[str, typer.Argument(help="User name (or id).")],
) -> None:
    """Let a user enqueue to a queue whose access is `granted`."""
    from hydratrack.client.api import ApiClient

    with ApiClient() as api:
        api.grant_queue(queue, user)
    print(f"{user} may enqueue to {queue}")


@queues_app.command("revoke")
def queues_revoke(
    queue: Annotated[str, typer.Argument(help="Queue name (or id).")],
    user: Annotated[str, typer.Argument(help="User name (or id).")],
) -> None:
    """Take a user's grant on a queue away."""
    from hydratrack.client.api import ApiClient

    with ApiClient() as api:
        api.revoke_queue(queue, user)
    print(f"{user} has no grant on {queue}")


@queues_app.command("access")
def queues_access(
    queue: Annotated[str, typer.Argument(help="Queue name (or id).")],
    access: Annotated[str, typer.Argument(help="members (any member) or granted.")],
) -> None:
    """Who may enqueue: every member, or only its owner, admins and granted users."""
    from hydratrack.client.api import ApiClient

    with ApiClient() as api:
        api.set_queue_access(queue, _choice(access, ("members", "granted"), "ACCESS"))
    print(f"queue {queue}: access {access}")
