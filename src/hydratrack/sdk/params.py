"""Turning user objects into hyperparameter entries and configuration text."""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
from pathlib import Path
from typing import Any

from hydratrack.names import CONFIG_TYPE

_CONFIG_SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}


def _as_mapping(obj: Any) -> dict[str, Any]:
    if isinstance(obj, argparse.Namespace):
        return dict(vars(obj))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return dict(obj)
    mod = type(obj).__module__
    if mod.startswith("omegaconf"):
        from omegaconf import OmegaConf

        container = OmegaConf.to_container(obj, resolve=False, enum_to_str=True)
        if isinstance(container, dict):
            return {str(k): v for k, v in container.items()}
    raise TypeError(
        f"connect() takes a dict, argparse.Namespace, dataclass instance or "
        f"OmegaConf DictConfig, not {type(obj).__name__}"
    )


def _text(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return str(value.name)
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value), default=str, ensure_ascii=False)
    return str(value)


def flatten_params(obj: Any, prefix: str = "") -> dict[str, dict[str, str]]:
    """``{"lr": {"value": "0.1", "type": "float", "description": ""}, "opt.name": ...}``."""
    out: dict[str, dict[str, str]] = {}
    for key, value in _as_mapping(obj).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) or (
            dataclasses.is_dataclass(value) and not isinstance(value, type)
        ):
            out.update(flatten_params(value, name + "."))
            continue
        out[name] = {"value": _text(value), "type": type(value).__name__, "description": ""}
    return out


def configuration_text(obj: Any) -> tuple[str, str]:
    """``(text, type)`` of a configuration object given as dict, file path or OmegaConf."""
    if isinstance(obj, (str, Path)):
        path = Path(obj)
        if not path.is_file():
            raise FileNotFoundError(f"connect_configuration: no such file: {path}")
        return path.read_text(encoding="utf-8"), _CONFIG_SUFFIXES.get(path.suffix.lower(), "text")
    if type(obj).__module__.startswith("omegaconf"):
        from omegaconf import OmegaConf

        return OmegaConf.to_yaml(obj), CONFIG_TYPE
    if isinstance(obj, (dict, argparse.Namespace)) or (
        dataclasses.is_dataclass(obj) and not isinstance(obj, type)
    ):
        import yaml  # type: ignore[import-untyped]

        data = json.loads(json.dumps(_plain(obj), default=str))
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "yaml"
    raise TypeError(
        f"connect_configuration() takes a dict, a file path or an OmegaConf "
        f"object, not {type(obj).__name__}"
    )


def _plain(obj: Any) -> Any:
    if isinstance(obj, enum.Enum):
        return obj.name
    if isinstance(obj, (dict, argparse.Namespace)) or (
        dataclasses.is_dataclass(obj) and not isinstance(obj, type)
    ):
        return {str(k): _plain(v) for k, v in _as_mapping(obj).items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj
