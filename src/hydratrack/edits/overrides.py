"""Hydra-section entries as Hydra override strings, parsed by Hydra's own parser.

The ``Hydra`` hyperparameter section stores one entry per command-line override, the key
as typed (``db``, ``dataset.main.number``, ``+extra.flag``, ``++x``, ``~db.pass``) and the
value as typed. :func:`override_text` turns an entry back into the argument Hydra gets;
both the validation on save and the agent use it, so what is checked is what runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hydratrack.names import ALLOW_EDIT_KEY

if TYPE_CHECKING:  # pragma: no cover
    from hydra.core.override_parser.types import Override


def override_text(key: str, value: str | None) -> str:
    """The override argument for one entry: ``key=value``, or ``~key`` for a bare delete."""
    key = key.strip()
    if key.startswith("~") and (value is None or value == ""):
        return key
    return f"{key}={'' if value is None else value}"


def parse_override(text: str) -> "Override":
    """Parse one override with Hydra's parser; raises ``ValueError`` with Hydra's message."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        return OverridesParser.create().parse_override(text)
    except HydraException as exc:
        raise ValueError(str(exc).strip()) from None


def parse_allow_edit(value: str | None) -> bool | None:
    """``True``/``False`` (any case) as a bool; anything else is None (invalid)."""
    text = (value or "").strip().lower()
    if text == "true":
        return True
    if text == "false":
        return False
    return None


def hydra_section_overrides(section: dict[str, str | None]) -> list[str]:
    """The override arguments of a ``Hydra`` section, in its order, without the mode flag."""
    return [
        override_text(k, v) for k, v in section.items() if k != ALLOW_EDIT_KEY and v is not None
    ]
