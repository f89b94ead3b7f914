"""Applying an edited ``OmegaConf`` text to the config Hydra composed (OmegaConf-edit mode).

The agent replays the task's recorded overrides, so Hydra composes the config from the
same files, defaults and schemas as the recorded run; :func:`apply_config_edit` then makes
the job keys (all but ``hydra``) equal to the edited text, in place:

* values are assigned through OmegaConf, so typed (dataclass) fields validate: a wrong
  type raises :class:`ConfigEditError` naming the key, never runs the old value;
* struct mode stays on; keys the edit adds or removes are allowed in plain (YAML) nodes
  and refused in structured (dataclass) nodes, whose schema is fixed;
* interpolations are assigned as text, so they resolve against the edited config.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException


class ConfigEditError(Exception):
    """An edited configuration that cannot apply; the message names the key."""


def load_edit(text: str) -> dict[str, Any]:
    """The edited YAML as plain containers, interpolations kept as text."""
    try:
        edited = OmegaConf.create(text or "{}")
    except Exception as exc:  # yaml or OmegaConf error: report it as the edit's problem
        raise ConfigEditError(f"edited configuration does not load: {exc}") from None
    if not isinstance(edited, DictConfig):
        raise ConfigEditError("edited configuration must be a mapping at the top level")
    data = OmegaConf.to_container(edited, resolve=False)
    assert isinstance(data, dict)
    if "hydra" in data:
        raise ConfigEditError(
            "edited configuration may not set 'hydra' (Hydra's own settings are replayed)"
        )
    return {str(k): v for k, v in data.items()}


def apply_config_edit(cfg: DictConfig, edited: dict[str, Any]) -> None:
    """Make every job key of ``cfg`` (all but ``hydra``) equal to ``edited``, in place."""
    keep = {"hydra"}
    _replace(cfg, edited, "", keep)


def _is_structured(node: DictConfig) -> bool:
    return OmegaConf.get_type(node) not in (dict, None)


def _replace(target: DictConfig, source: dict[str, Any], path: str, keep: set[str]) -> None:
    for key in [k for k in target.keys() if k not in source and k not in keep]:
        where = _join(path, str(key))
        if _is_structured(target):
            schema = getattr(OmegaConf.get_type(target), "__name__", "its schema")
            raise ConfigEditError(f"{where}: cannot remove a field of {schema}")
        with open_dict(target):
            del target[key]
    for key, value in source.items():
        where = _join(path, str(key))
        current = _child(target, key)
        try:
            if (
                isinstance(value, dict)
                and isinstance(current, DictConfig)
                and not current._is_none()
            ):
                _replace(current, value, where, set())
                continue
            if current is _MISSING_CHILD and not _is_structured(target):
                with open_dict(target):
                    target[key] = value
            else:
                target[key] = value
        except ConfigEditError:
            raise
        except OmegaConfBaseException as exc:
            raise ConfigEditError(f"{where}: {_first_line(exc)}") from None


_MISSING_CHILD = object()


def _child(target: DictConfig, key: Any) -> Any:
    if key not in target.keys():
        return _MISSING_CHILD
    node = target._get_node(key)
    return node if isinstance(node, (DictConfig, ListConfig)) else None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
