"""Input limits: the one rule for what a client may send, and the request body size.

**JSON values** (every field of every JSON body, and artifact ``metadata``): containers
nested at most ``MAX_DEPTH`` deep, at most ``MAX_VALUES`` values in one body, strings of at
most ``MAX_STRING`` characters without NUL or lone surrogates (PostgreSQL cannot store them;
refused on SQLite too, so both databases behave the same), integers in the int64 range,
finite floats. :func:`check` applies the rule and raises :class:`InputRefused` (422,
naming the field). The request models apply it to their whole raw input once
(``server/api/models.py``); the events batch is fully typed and uses the same rules through
its field types (:func:`identifier`, :func:`output_text`; scalar values may be NaN/inf).

**Program output** (console lines, text reports) is kept, not refused: :func:`output_text`
writes a NUL or a lone surrogate as the visible escape ``\\x00`` / ``\\udc80``.

**Answers** obey the same rule: :func:`answerable` degrades a stored row that would break
it (a field set to null, named in ``degraded``) and logs it, so one bad row never breaks a
list.

**Query strings and paths** may not hold NUL either (400, like every bad query value).

**Body size** (413 ``payload_too_large``): artifact uploads may be larger
(``--max-artifact-mib``) than everything else (``--max-body-mib``). A declared
``Content-Length`` over the limit is refused before reading; a body that grows past it
while streaming is cut off the same way.
"""

from __future__ import annotations

import json
import logging
import math
import re
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl

import pydantic_core

from hydratrack.server.errors import ApiProblem, error_body

log = logging.getLogger("hydratrack.server")

MAX_DEPTH = 32  # containers inside containers, the body itself counting as one
MAX_VALUES = 200_000  # values (strings, numbers, containers ...) in one checked value
MAX_STRING = 4 * 1024 * 1024  # characters (a run's script diff is cut at 2 MiB)
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class InputRefused(ApiProblem):
    """422 ``validation_error`` naming the field (``details``: one ``{field, message}``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(
            422, "validation_error", f"{field}: {message}", [{"field": field, "message": message}]
        )


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored as it is, or None."""
    if len(text) > MAX_STRING:
        return f"longer than {MAX_STRING} characters"
    bad = _UNSTORABLE.search(text)
    if bad is None:
        return None
    if bad.group() == "\x00":
        return "contains a NUL character (\\u0000)"
    return f"contains a lone surrogate (\\u{ord(bad.group()):04x}), not valid Unicode text"


def problem(
    value: Any, path: tuple[Any, ...] = (), *, answer: bool = False
) -> tuple[tuple[Any, ...], str] | None:
    """The first place (path, reason) where ``value`` breaks the rule, or None. With
    ``answer``, only what would break a JSON answer counts (depth, size, lone surrogates,
    non-finite floats). Iterative: any depth is looked at without recursion."""
    todo: list[tuple[Any, tuple[Any, ...], int]] = [(value, path, 0)]
    seen = 0
    while todo:
        v, where, depth = todo.pop()
        seen += 1
        if seen > MAX_VALUES:
            return path, f"more than {MAX_VALUES} values"
        if isinstance(v, str):
            why = text_problem(v)
            if why is not None and (not answer or "surrogate" in why):
                return where, why
        elif isinstance(v, bool) or v is None:
            continue
        elif isinstance(v, int):
            if not INT_MIN <= v <= INT_MAX and not answer:
                return where, "integer outside the 64-bit range [-2^63, 2^63)"
        elif isinstance(v, float):
            if not math.isfinite(v):
                return where, f"{v} is not a finite number"
        elif isinstance(v, (dict, list, tuple)):
            if depth >= MAX_DEPTH:
                return where, f"nested deeper than {MAX_DEPTH} levels"
            if isinstance(v, dict):
                for k, item in v.items():
                    if isinstance(k, str):
                        why = text_problem(k)
                        if why is not None and not answer:
                            return where, f"key {k[:40]!r}: {why}"
                    todo.append((item, (*where, k), depth + 1))
            else:
                todo.extend((item, (*where, i), depth + 1) for i, item in enumerate(v))
    return None


def field_name(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


def check(value: Any, *path: Any) -> Any:
    """``value`` unchanged, or :class:`InputRefused` naming the first bad field."""
    found = problem(value, path)
    if found is not None:
        raise InputRefused(field_name(found[0]), found[1])
    return value


def identifier(text: str) -> str:
    """A name, key, filter ...: refused (ValueError, so 422 naming the field) when it holds
    a character the databases cannot store."""
    why = text_problem(text)
    if why is not None:
        raise ValueError(why)
    return text


def _escape(m: re.Match[str]) -> str:
    c = m.group()
    return "\\x00" if c == "\x00" else f"\\u{ord(c):04x}"


def output_text(text: str) -> str:
    """Program output kept as it came, except a NUL or a lone surrogate, written as the
    visible escape ``\\x00`` / ``\\udc80`` (the same on both databases)."""
    if _UNSTORABLE.search(text) is None:
        return text
    return _UNSTORABLE.sub(_escape, text)


def answerable(item: dict[str, Any], what: str, fields: tuple[str, ...]) -> dict[str, Any]:
    """``item`` as it is when its free-form ``fields`` (the JSON columns: only they can
    hold what breaks an answer) serialize; else (a row stored before these limits, or
    written around the API) each offending field set to null and listed in
    ``item["degraded"]``, with a warning in the log. The check is the answer's own
    serializer (C speed); the rule's walker only runs to name what failed."""
    try:
        pydantic_core.to_json([item[f] for f in fields])
        return item
    except (ValueError, RecursionError):  # (PydanticSerializationError is a ValueError)
        pass
    out, notes = dict(item), []
    for f in fields:
        try:
            pydantic_core.to_json(item[f])
            continue
        except (ValueError, RecursionError) as exc:
            found = problem(item[f], (f,), answer=True)
            why = f"{field_name(found[0])}: {found[1]}" if found else f"{f}: {exc}"
        out[f] = None
        notes.append(why)
    out["degraded"] = notes
    log.warning("%s %s shown degraded: %s", what, item.get("id", item.get("name")), notes)
    return out


def query_problem(scope: dict[str, Any]) -> tuple[str, str] | None:
    """(parameter, reason) when the path or a query parameter holds a character the
    databases cannot store."""
    if _UNSTORABLE.search(scope.get("path", "")):
        return "path", "contains a NUL character or a lone surrogate"
    raw = scope.get("query_string", b"")
    if b"%00" not in raw and b"\x00" not in raw:
        return None
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name, "contains a NUL character (\\u0000)"
    return None


Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_ARTIFACT_UPLOAD = re.compile(r"^/api/v1/tasks/[^/]+/artifacts/?$")


class BodyLimit:
    def __init__(self, app: ASGIApp, max_body: int, max_artifact: int) -> None:
        self.app, self.max_body, self.max_artifact = app, max_body, max_artifact

    def limit_for(self, scope: Scope) -> int:
        if scope.get("method") == "POST" and _ARTIFACT_UPLOAD.match(scope.get("path", "")):
            return self.max_artifact
        return self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bad = query_problem(scope)
        if bad is not None:
            await _answer(send, 400, "bad_request", f"bad query value: {bad[0]}: {bad[1]}", bad)
            return
        limit = self.limit_for(scope)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        seen = 0
        refused = False
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # we already answered 413; drop what the app says after that
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def counting_receive() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                seen += len(message.get("body", b""))
                if seen > limit and not started:
                    await _refuse(send, limit)
                    refused = True
            if refused:  # the app sees the client go away and stops reading
                return {"type": "http.disconnect"}
            return message

        await self.app(scope, counting_receive, guarded_send)


async def _refuse(send: Send, limit: int) -> None:
    await _answer(send, 413, "payload_too_large", f"request body is larger than {limit} bytes")


async def _answer(
    send: Send, status: int, code: str, message: str, field: tuple[str, str] | None = None
) -> None:
    details = None if field is None else [{"field": field[0], "message": field[1]}]
    body = json.dumps(error_body(code, message, details)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
