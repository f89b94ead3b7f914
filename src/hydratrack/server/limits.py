"""Request body limits (413 ``payload_too_large``), as a small ASGI middleware.

Artifact uploads may be larger (``--max-artifact-mib``) than everything else
(``--max-body-mib``). A declared ``Content-Length`` over the limit is refused before
reading; a body that grows past it while streaming is cut off the same way.
"""

from __future__ import annotations

import json
import re
from typing import Any, Awaitable, Callable

from hydratrack.server.errors import error_body

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
    body = json.dumps(
        error_body("payload_too_large", f"request body is larger than {limit} bytes")
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
