"""A setting declared once, as a field of a settings dataclass: name, type, default, help.

The server's and the agent's settings (``server/settings.py``, ``agent/settings.py``) are
dataclasses whose fields are made with :func:`option`; :func:`table` reads them back as
:class:`Setting` rows, from which the CLI flags, ``--help``, the environment variables and
the "every setting documented" tests come.
"""

from __future__ import annotations

import copy
import dataclasses
import typing
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")
S = TypeVar("S", bound="Setting")


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


def option(default: T, help: str) -> T:
    """A settings field with its default and help line (a list default is copied per use)."""
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(
            default_factory=lambda: copy.copy(default), metadata={"help": help}
        )
    return dataclasses.field(default=default, metadata={"help": help})


def table(settings: type[Any], row: type[S]) -> tuple[S, ...]:
    """The fields of a settings dataclass as ``row`` objects, in declaration order."""
    hints = typing.get_type_hints(settings)
    out = []
    for f in dataclasses.fields(settings):
        factory = f.default_factory
        default = f.default if factory is dataclasses.MISSING else factory()
        out.append(row(f.name, default, hints[f.name], f.metadata["help"]))
    return tuple(out)
