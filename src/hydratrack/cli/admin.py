"""``hydratrack users add``, ``keys create`` and ``login-link``: accounts, API keys and
UI login links over the REST API.

Both use the caller's credentials (env over ~/.hydratrack/config.toml); adding users needs
an admin's key pair. Secrets are printed once: the server keeps only hashes.
"""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from hydratrack.cli.output import print_json

users_app = typer.Typer(help="Manage users (admin only).", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API key pairs of the calling user.", no_args_is_help=True)

MIN_PASSWORD = 8


def register(app: typer.Typer) -> None:
    """Add ``users``, ``keys`` and ``login-link`` to the main app."""
    app.add_typer(users_app, name="users")
    app.add_typer(keys_app, name="keys")
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
        user = api.create_user(name, password, is_admin=admin)
    if json_out:
        print_json({"user": user, "password": password})
        return
    role = "admin" if user.get("is_admin") else "user"
    print(f"added {role} {user.get('name', name)}")
    if not prompt:
        print(f"password: {password}")
        print("(shown once; the user can sign in to the web UI with it)")


@keys_app.command("create")
def keys_create(
    label: Annotated[str | None, typer.Option("--label", help="A note to tell keys apart.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create an API key pair for the calling user; prints the secret once."""
    from hydratrack.client.api import ApiClient

    with ApiClient() as api:
        key = api.create_key(label)
    if json_out:
        print_json(key)
        return
    print(f"access_key = {key['access_key']}")
    print(f"secret_key = {key['secret_key']}")
    print(
        "(the secret is shown once; use them as HYDRATRACK_ACCESS_KEY / HYDRATRACK_SECRET_KEY "
        "or in ~/.hydratrack/config.toml on another machine)"
    )
