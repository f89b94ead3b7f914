"""Validation of edits on save (docs/api.md, "Validation of edits").

The server calls these before it stores an edited hyperparameter section or configuration
object; each problem found is one :class:`EditProblem` naming the entry, so the UI can show
it next to the field. Only Hydra, OmegaConf and PyYAML are imported here (no server stack).

Rules for the ``Hydra`` section:

* ``_allow_omegaconf_edit_`` must be ``True`` or ``False``;
* every other entry must parse with Hydra's own override parser as ``key=value``
  (``~key`` alone is fine);
* a key without a ``+``/``++``/``~`` prefix must exist in the recorded config (the task's
  ``OmegaConf`` text) or be a config group in ``runtime.hydra.choices``; a ``+key`` must
  not exist there yet (Hydra refuses to add an existing key);
* the value must fit the field where the recorded config shows its type (an ``int`` field
  takes an int, a mapping takes a mapping, ...); interpolations, ``null`` and sweeps pass.

Other sections (``General``, ``Args``, ...) are free-form and not checked.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hydratrack.edits.overrides import (
    ALLOW_EDIT_KEY,
    HYDRA_SECTION,
    override_text,
    parse_allow_edit,
    parse_override,
)

YAML_TYPES = frozenset({"omegaconf", "yaml"})
_ABSENT = object()


@dataclasses.dataclass
class EditProblem:
    section: str
    name: str
    message: str

    def as_detail(self) -> dict[str, str]:
        """The ``details`` entry of a 422 ``invalid_edit`` answer."""
        return {"section": self.section, "name": self.name, "message": self.message}


# -- hyperparameters ---------------------------------------------------------------------
def validate_hyperparams(
    section: str,
    entries: dict[str, str | None],
    *,
    config_yaml: str | None,
    choices: dict[str, str] | None,
) -> list[EditProblem]:
    """Problems of the edited ``entries`` of one hyperparameter section (value None = deleted)."""
    if section != HYDRA_SECTION:
        return []
    recorded = _recorded_config(config_yaml)
    groups = set(choices or {})
    problems: list[EditProblem] = []
    for name, value in entries.items():
        if value is None:
            continue
        message = _check_entry(name, value, recorded, groups)
        if message:
            problems.append(EditProblem(section, name, message))
    return problems


def _check_entry(name: str, value: str, recorded: Any, groups: set[str]) -> str | None:
    if name == ALLOW_EDIT_KEY:
        if parse_allow_edit(value) is None:
            return f"{ALLOW_EDIT_KEY} must be True or False, not {value!r}"
        return None
    if not isinstance(value, str):
        return f"value of {name} must be text, not {type(value).__name__}"
    text = override_text(name, value)
    try:
        override = parse_override(text)
    except ValueError as exc:
        return f"{text!r} is not a valid Hydra override: {exc}"
    key = override.key_or_group
    prefixed = name.strip()[:1] in ("+", "~")
    if key in groups or key.startswith("hydra/"):
        return None  # a config group: the value names an option (Hydra checks it exists)
    if recorded is None:  # no recorded config to check keys and types against
        return None
    node = _lookup(recorded, key)
    if override.is_delete() or override.is_force_add():
        return None
    if override.is_add():
        if node is not _ABSENT:
            return (
                f"+{key}: {key} already exists in the config; "
                "drop the '+' to change it (or use '++')"
            )
        return None
    if node is _ABSENT:
        hint = " (add it with '+' in front of the key)" if not prefixed else ""
        return f"{key} does not exist in the recorded config{hint}"
    if override.is_sweep_override():
        return None
    return _type_problem(key, node, override.value())


def _recorded_config(config_yaml: str | None) -> Any:
    """The recorded config as plain containers (interpolations kept as text), or None."""
    if not config_yaml or not config_yaml.strip():
        return None if config_yaml is None else {}
    from omegaconf import OmegaConf

    try:
        cfg = OmegaConf.create(config_yaml)
        return OmegaConf.to_container(cfg, resolve=False)
    except Exception:  # the recorded text is ours; if it is unreadable, check grammar only
        return None


def _lookup(container: Any, key: str) -> Any:
    node = container
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _ABSENT
    return node


def _kind(value: Any) -> str | None:
    """The type a recorded value shows; None where it says nothing (null, ???, ${...})."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        if value == "???" or "${" in value:
            return None
        return "str"
    return None


_ACCEPTS = {
    "bool": ("bool",),
    "int": ("int",),
    "float": ("float", "int"),
    "str": ("str", "int", "float", "bool"),
    "mapping": ("mapping",),
    "list": ("list",),
}


def _type_problem(key: str, recorded_value: Any, new_value: Any) -> str | None:
    want = _kind(recorded_value)
    got = _kind(new_value)
    if want is None or new_value is None:
        return None
    if isinstance(new_value, str) and "${" in new_value:
        return None  # an interpolation: its type shows only when it resolves
    if got in _ACCEPTS[want]:
        return None
    shown = repr(new_value) if isinstance(new_value, str) else str(new_value)
    recorded = f" (recorded value {recorded_value!r})" if want not in ("mapping", "list") else ""
    return f"{key} is {_article(want)} {want} field{recorded}; got {got} {shown}"


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


# -- configuration objects ----------------------------------------------------------------
def validate_configuration(name: str, type: str, value: str) -> list[EditProblem]:
    """Problems of an edited configuration object; YAML/OmegaConf types must load."""
    if (type or "").strip().lower() not in YAML_TYPES:
        return []
    return [EditProblem("configuration", name, message) for message in _yaml_problems(value)]


def _yaml_problems(text: str) -> list[str]:
    import yaml  # type: ignore[import-untyped]
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    if not isinstance(text, str):
        return [f"value must be YAML text, not {type(text).__name__}"]
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return [_yaml_error(exc)]
    if data is None:
        return []  # an empty config
    if not isinstance(data, dict):
        return [f"YAML must be a mapping at the top level, not {_yaml_kind(data)}"]
    try:
        cfg = OmegaConf.create(text)
    except yaml.YAMLError as exc:  # OmegaConf's loader is stricter (duplicate keys)
        return [_yaml_error(exc)]
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        where = f"{key}: " if key else ""
        kind = (
            "bad interpolation"
            if "${" in text and "input" in first
            else "does not load into OmegaConf"
        )
        return [f"{where}{kind}: {first}"]
    return _interpolation_problems(OmegaConf.to_container(cfg, resolve=False), "")


def _interpolation_problems(node: Any, path: str) -> list[str]:
    from omegaconf import grammar_parser
    from omegaconf.errors import GrammarParseError

    found: list[str] = []
    items: Any = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for k, v in items:
        where = f"{path}.{k}" if path else str(k)
        if isinstance(v, (dict, list)):
            found.extend(_interpolation_problems(v, where))
        elif isinstance(v, str) and "${" in v:
            try:
                grammar_parser.parse(v)
            except GrammarParseError as exc:
                found.append(f"{where}: bad interpolation {v!r}: {exc}")
    return found


def _yaml_error(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    detail = f"{context}; {problem}" if context else problem
    return f"invalid YAML: {where}{detail}"


def _yaml_kind(data: Any) -> str:
    if isinstance(data, list):
        return "a list"
    return f"a {type(data).__name__} ({data!r})"
