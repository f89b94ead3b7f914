"""``hydratrack audit``: the real command against a real server."""

from __future__ import annotations

import datetime as dt
import secrets

import httpx

from hydratrack.cli.audit import when
from tests.cli.runner import run_cli
from tests.cli.test_admin_cli import _key_of
from tests.support.servers import ServerProcess


def test_audit_lists_who_did_what_with_filters(server: ServerProcess) -> None:
    name = "audited-" + secrets.token_hex(4)
    with server.client() as api:
        task = api.create_task({"name": name, "project": "audit-cli"})
        api.request("DELETE", f"/tasks/{task['id']}")
    page = run_cli(
        ["audit", "--action", "task.*", "--target", task["id"], "--since", "1h", "--json"],
        server.env(),
    ).json()
    assert [i["action"] for i in page["items"]] == ["task.delete", "task.create"]
    assert page["total"] == 2
    admin = page["items"][0]["user_name"]
    out = run_cli(["audit", "--user", admin, "--target", task["id"]], server.env()).ok().stdout
    assert "task.delete" in out and "task.create" in out and f"name={name}" in out
    later = run_cli(
        ["audit", "--target", task["id"], "--since", "2999-01-01", "--json"], server.env()
    )
    assert later.json()["items"] == []


def test_audit_is_for_admins_and_checks_its_times(server: ServerProcess) -> None:
    name, password = "m-" + secrets.token_hex(4), "correct horse " + secrets.token_hex(4)
    httpx.post(
        server.url + "/api/v1/users",
        json={"name": name, "password": password},
        auth=(server.access_key, server.secret_key),
        timeout=30,
    ).raise_for_status()
    key, secret = _key_of(server, name, password)
    member = server.env(HYDRATRACK_ACCESS_KEY=key, HYDRATRACK_SECRET_KEY=secret)
    run_cli(["audit"], member).one_line_error("403", "admin")
    run = run_cli(["audit", "--since", "last tuesday"], server.env())
    assert run.returncode == 2 and "neither a time nor an age" in run.stderr


def test_when_turns_ages_into_utc_times() -> None:
    now = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.timezone.utc)
    assert when("90m", now) == "2026-12-03T06:30:00+00:00"
    assert when("7d", now) == "2026-11-26T08:00:00+00:00"
    assert when("2026-12-01T00:00:00Z") == "2026-12-01T00:00:00Z"
