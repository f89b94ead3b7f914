"""A setting declared once as data: name, default, type, help.

The server's and the agent's settings tables (``server/settings.py``, ``agent/settings.py``)
use this one class; their CLI flags, ``--help``, environment variables and docs all come
from those tables.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    type: Any
    help: str

    #: prefix of the environment variable that sets it when the flag is not given
    env_prefix: ClassVar[str] = "HYDRATRACK_"

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        """Environment variable that sets it when the flag is not given."""
        return self.env_prefix + self.name.upper()
