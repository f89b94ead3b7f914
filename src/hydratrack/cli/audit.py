"""``hydratrack audit``: the server's audit log, newest first (admin only)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

import typer

from hydratrack.cli.output import print_json, print_table, short_time

_AGO = re.compile(r"^(\d+)\s*([smhdw])$")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
TIME_HELP = "ISO 8601 time (UTC unless it names a zone) or an age such as 30m, 12h, 7d."


def when(text: str, now: dt.datetime | None = None) -> str:
    """``7d`` -> the UTC time 7 days before ``now``; an ISO time is checked and kept."""
    text = text.strip()
    ago = _AGO.match(text)
    if ago:
        now = now or dt.datetime.now(dt.timezone.utc)
        delta = dt.timedelta(**{_UNIT[ago.group(2)]: int(ago.group(1))})
        return (now - delta).isoformat()
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is neither a time nor an age. {TIME_HELP}") from None
    return text


def _target(item: dict[str, Any]) -> str:
    kind, ident = item.get("target_type"), item.get("target_id")
    return f"{kind} {ident}" if kind and ident else kind or ident or ""


def _detail(detail: dict[str, Any]) -> str:
    shown = [f"{k}={v}" for k, v in detail.items() if k != "fields"]
    if detail.get("fields") and not shown:
        shown.append("fields: " + ", ".join(detail["fields"]))
    return " ".join(shown)


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


def audit(
    user: Annotated[
        str | None, typer.Option("--user", help="Only this user's (name or id).")
    ] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="Only this action, e.g. task.delete or task.*.")
    ] = None,
    target: Annotated[str | None, typer.Option("--target", help="Only this object's id.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From this time. " + TIME_HELP)
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="Before this time.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="At most this many.")] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many.")] = 0,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Who did what, when: actions on tasks, queues, users, keys and sessions, and logins
    (admin only)."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    for name, value in (("user", user), ("action", action), ("target", target)):
        if value:
            params[name] = value
    if since:
        params["since"] = when(since)
    if until:
        params["until"] = when(until)
    from hydratrack.client.api import ApiClient

    with ApiClient() as api:
        page = api.request("GET", "/audit", params=params).json()
    if json_out:
        print_json(page)
        return
    print_table(
        f"audit log: {len(page['items'])} of {page['total']}",
        ["time", "user", "action", "target", "from", "detail"],
        [
            [
                short_time(i["time"]),
                i.get("user_name") or "",
                i["action"],
                _target(i),
                i.get("address") or "",
                _detail(i.get("detail") or {}),
            ]
            for i in page["items"]
        ],
    )
