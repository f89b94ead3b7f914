"""The client's errors: one for error answers, one for no answer at all.

Both wire backends (:mod:`hydratrack.client.wire`) raise :class:`ServerUnreachable` when
the connection fails; :class:`hydratrack.client.api.ApiClient` turns every error answer
(the server's one error shape, ``{"error": {"code", "message", "details"}}``) into
:class:`ApiError`, whichever backend carried it.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer (or no answer) from the server."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{message} ({code}, HTTP {status})" if status else message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class ServerUnreachable(ApiError):
    """No answer: connection refused or dropped, name not resolved, timed out."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(0, "unreachable", f"cannot reach hydratrack server at {url}: {reason}")
