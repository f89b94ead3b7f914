"""No secrets in the server's log: request lines are logged with secret query values
(``?token=...`` of a one-click login link, anything the secret pattern names) replaced.

Credentials never travel in URLs otherwise (Basic auth and the session cookie are
headers, which nothing logs), so the request line is the one place to clean.
"""

from __future__ import annotations

import logging
import re
from typing import Callable

from hydratrack.server.secrets import MASK

_PARAM = re.compile(r"([?&])([^=&#\s]+)=([^&#\s]*)")


def redact_query(text: str, is_secret: Callable[[str], bool]) -> str:
    """``text`` with the value of each secret-named query parameter masked."""
    if "?" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        return f"{m.group(1)}{m.group(2)}={MASK}" if is_secret(m.group(2)) else m.group(0)

    return _PARAM.sub(one, text)


class RedactQuery(logging.Filter):
    """Masks secret query values in a record's message arguments (uvicorn's access log
    passes the request path as an argument)."""

    def __init__(self, is_secret: Callable[[str], bool]) -> None:
        super().__init__()
        self.is_secret = is_secret

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_query(a, self.is_secret) if isinstance(a, str) else a for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = redact_query(record.msg, self.is_secret)
        return True


def install(is_secret: Callable[[str], bool]) -> None:
    """Clean the loggers that may see request URLs (call after uvicorn set up logging)."""
    for name in ("uvicorn.access", "uvicorn.error", "hydratrack.server"):
        logging.getLogger(name).addFilter(RedactQuery(is_secret))
