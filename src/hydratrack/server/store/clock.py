"""Time and ids as the store keeps them: naive UTC datetimes, 32-char hex ids."""

from __future__ import annotations

import datetime as dt
import uuid

_UTC = dt.timezone.utc


def utcnow() -> dt.datetime:
    return dt.datetime.now(_UTC).replace(tzinfo=None)


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 UTC with a ``Z``, as the API shows times."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(_UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


def new_id() -> str:
    return uuid.uuid4().hex
