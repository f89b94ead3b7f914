"""Validation of edits on save (docs/editing.md, "What is checked when you save").

The server calls these before it stores an edited hyperparameter section or configuration
object; each problem found is one :class:`EditProblem` naming the entry, so the UI can show
it next to the field. Only Hydra, OmegaConf and PyYAML are imported here (no server stack).

Each entry of the ``Hydra`` section is judged the way Hydra will judge it when the agent
replays the section: against the config composed *from the files* with the entries before
it applied, not against the recorded result (which already holds what the recorded ``+``
overrides added). The server has the recorded composed config, the recorded overrides
(``runtime.hydra.overrides.task``) and the recorded config groups, so:

* a key is *in the files* when the recorded config has it and no recorded ``+key``
  override (of it or a parent) added it; a recorded ``~key`` means it is in the files; a
  recorded ``++key`` leaves it unknown (accepted either way);
* the section's entries then apply in order: ``+k``/``++k`` add ``k``, ``~k`` removes it;
* ``k=v`` needs ``k`` there, ``+k=v`` needs it absent, ``++k`` and ``~k`` pass;
* a config-group path (``db``, ``server/site``, ``db@backup``, list values, ``+group=``,
  ``~group``) is a defaults-list choice, never a key: its options are checked against the
  groups recorded from the run's config sources (``runtime.hydra.config_groups``); when
  none were recorded, a known group (``/``, ``@package``, or in ``runtime.hydra.choices``)
  passes and Hydra checks the option at run time;
* the value must fit the field where the recorded config shows its type and the type came
  from the files (an ``int`` field takes an int, a mapping takes a mapping, ...);
  interpolations, ``null`` and sweeps pass; ``_allow_omegaconf_edit_`` is True or False.

Other sections (``General``, ``Args``, ...) are free-form and not checked.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from hydratrack.edits.overrides import override_text, parse_allow_edit, parse_override
from hydratrack.names import ALLOW_EDIT_KEY, HYDRA_SECTION

if TYPE_CHECKING:  # pragma: no cover
    from hydra.core.override_parser.types import Override

YAML_TYPES = frozenset({"omegaconf", "yaml"})
_ABSENT = object()
PRESENT, ABSENT, UNKNOWN = "present", "absent", "unknown"


@dataclasses.dataclass
class EditProblem:
    section: str
    name: str
    message: str

    def as_detail(self) -> dict[str, str]:
        """The ``details`` entry of a 422 ``invalid_edit`` answer."""
        return {"section": self.section, "name": self.name, "message": self.message}


@dataclasses.dataclass(frozen=True)
class Recorded:
    """What the server knows of the run a draft was cloned from."""

    config: Any  # the composed job config as plain containers, or None
    overrides: tuple["Override", ...]  # recorded task overrides, parsed
    choices: frozenset[str]  # groups in runtime.hydra.choices
    groups: Mapping[str, tuple[str, ...]] | None  # group path -> options, when recorded
    swapped: tuple[tuple[str, ...], ...] = ()  # packages whose group choice the draft changes


@dataclasses.dataclass(frozen=True)
class _Entry:
    name: str
    text: str
    override: "Override"
    group: bool


# -- hyperparameters ---------------------------------------------------------------------
def validate_hyperparams(
    section: str,
    entries: Mapping[str, str | None],
    *,
    config_yaml: str | None,
    choices: Mapping[str, Any] | None,
    overrides: Iterable[str] | None = None,
    groups: Mapping[str, Iterable[str]] | None = None,
    judge: Iterable[str] | None = None,
) -> list[EditProblem]:
    """Problems of the edited ``entries`` of one hyperparameter section.

    ``entries`` is the section as it will be stored, in its order (value None = deleted);
    ``judge`` names the entries to check (default: all). ``overrides`` and ``groups`` are
    the recorded task overrides and config groups (``runtime.hydra``)."""
    if section != HYDRA_SECTION:
        return []
    recorded = Recorded(
        config=_recorded_config(config_yaml),
        overrides=tuple(_parsed(overrides or ())),
        choices=frozenset(choices or {}),
        groups=None if groups is None else {str(g): tuple(o) for g, o in groups.items()},
    )
    recorded = dataclasses.replace(recorded, swapped=_swapped_packages(entries, recorded))
    wanted = None if judge is None else set(judge)
    problems: list[EditProblem] = []
    before: list[_Entry] = []
    for name, value in entries.items():
        if value is None:
            continue
        message, entry = _check_entry(name, value, recorded, before)
        if message and (wanted is None or name in wanted):
            problems.append(EditProblem(section, name, message))
        if entry is not None:
            before.append(entry)
    return problems


@functools.lru_cache(maxsize=2048)
def _parse(text: str) -> "Override":
    """Hydra's parse of one override (cached: a draft's recorded overrides are parsed on
    every save of it; the result is only read)."""
    return parse_override(text)


def _parsed(texts: Iterable[str]) -> Iterable["Override"]:
    for text in texts:
        try:
            yield _parse(str(text))
        except ValueError:  # recorded by Hydra, so this does not happen; skip it if it does
            continue


def _swapped_packages(
    entries: Mapping[str, str | None], recorded: Recorded
) -> tuple[tuple[str, ...], ...]:
    """Where the keys of a group choice the draft changes land (``db`` -> ``db``,
    ``server/site`` -> ``server.site``, ``db@backup`` -> ``backup``; ``_global_`` -> the
    root): keys there come from config files the recorded run did not load, so whether
    they exist is unknown here. Hydra applies group choices before key overrides, so every
    entry of the section counts, wherever it stands."""
    kept = {ov.input_line for ov in recorded.overrides}
    out = []
    for name, value in entries.items():
        if value is None or name == ALLOW_EDIT_KEY:
            continue
        try:
            ov = _parse(override_text(name, value))
        except ValueError:
            continue
        if ov.input_line in kept or not _is_group(ov, recorded):
            continue
        package = ov.package if ov.package is not None else ov.key_or_group.replace("/", ".")
        path = package.split(".")
        out.append(() if path[0] == "_global_" else tuple(p for p in path if p))
    return tuple(out)


def _check_entry(
    name: str, value: str, recorded: Recorded, before: list[_Entry]
) -> tuple[str | None, _Entry | None]:
    if name == ALLOW_EDIT_KEY:
        if parse_allow_edit(value) is None:
            return f"{ALLOW_EDIT_KEY} must be True or False, not {value!r}", None
        return None, None
    if not isinstance(value, str):
        return f"value of {name} must be text, not {type(value).__name__}", None
    text = override_text(name, value)
    try:
        override = _parse(text)
    except ValueError as exc:
        return f"{text!r} is not a valid Hydra override: {exc}", None
    entry = _Entry(name, text, override, _is_group(override, recorded))
    if entry.group:
        return _group_problem(override, recorded), entry
    key = override.key_or_group
    if key == "hydra" or key.startswith(("hydra.", "hydra/")):
        return None, entry  # Hydra's own settings: Hydra checks them
    if recorded.config is None:  # no recorded config to check keys and types against
        return None, entry
    return _key_problem(entry, recorded, before), entry


# -- config groups ------------------------------------------------------------------------
def _is_group(override: "Override", recorded: Recorded) -> bool:
    """A defaults-list choice (Hydra decides by the config groups that exist)."""
    key = override.key_or_group
    if "/" in key or override.package is not None:
        return True
    if recorded.groups is not None and key in recorded.groups:
        return True
    if key in recorded.choices:
        return True
    # A list of names for a recorded override of a key the config holds as a mapping (or
    # not at all): a list-valued group choice, which runtime.hydra.choices leaves out.
    if recorded.groups is None and not override.is_sweep_override():
        value = override.value() if override.value_type is not None else None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            node = _lookup(recorded.config, key) if recorded.config is not None else _ABSENT
            return node is _ABSENT or isinstance(node, dict)
    return False


def _group_problem(override: "Override", recorded: Recorded) -> str | None:
    group = override.key_or_group
    if recorded.groups is None or group == "hydra" or group.startswith("hydra/"):
        return None  # cannot be listed here: Hydra checks the option at run time
    options = recorded.groups.get(group)
    if options is None:
        known = ", ".join(sorted(recorded.groups)) or "none"
        return f"{group} is not a config group of this app (groups: {known})"
    if override.is_delete() or override.is_sweep_override() or override.value_type is None:
        return None
    value = override.value()
    names = value if isinstance(value, list) else [value]
    for name in names:
        if name is None or name == "":
            continue
        if not isinstance(name, str) or name not in options:
            return (
                f"{group}: no config {str(name)!r} in config group {group} "
                f"(options: {', '.join(options) or 'none'})"
            )
    return None


# -- keys ---------------------------------------------------------------------------------
Key = tuple[str, ...]


def _under(key: Key, prefix: Key) -> bool:
    return key[: len(prefix)] == prefix


def _key_problem(entry: _Entry, recorded: Recorded, before: list[_Entry]) -> str | None:
    override = entry.override
    key = override.key_or_group
    parts = tuple(key.split("."))
    state, typed, added_by = _state_in_files(parts, recorded)
    state, earlier = _after_entries(parts, state, before)
    if earlier is not None:
        typed = False
    if earlier is None and any(_under(parts, p) for p in recorded.swapped):
        state, typed = UNKNOWN, False  # from a group option the recorded run did not load
    if override.is_force_add():
        return None
    if override.is_delete():
        if state == ABSENT:
            return f"~{key}: {key} does not exist in the config, so it cannot be deleted"
        return None
    if override.is_add():
        if state != PRESENT:
            return None
        if earlier is not None:
            return (
                f"+{key}: {key} is already added by the entry {earlier!r} above; "
                "drop the '+' to change it (or use '++')"
            )
        return (
            f"+{key}: {key} already exists in the config files; "
            "drop the '+' to change it (or use '++')"
        )
    if state == ABSENT:
        if added_by is not None:
            return (
                f"{key} is not in the config files: the recorded run added it with "
                f"{added_by!r}; keep the '+' (+{key}=...) or use '++{key}'"
            )
        return f"{key} does not exist in the recorded config (add it with '+' in front of the key)"
    if override.is_sweep_override() or not typed or state != PRESENT:
        return None
    return _type_problem(key, _lookup(recorded.config, key), override.value())


def _state_in_files(parts: Key, recorded: Recorded) -> tuple[str, bool, str | None]:
    """Whether ``parts`` is in the config composed from the files (the recorded group
    choices kept), whether the recorded value's type is the files', and the recorded
    ``+`` override that added it."""
    adds: list[Key] = []
    for ov in recorded.overrides:
        if _is_group(ov, recorded):
            continue
        path = tuple(ov.key_or_group.split("."))
        if ov.is_add() and _under(parts, path):
            return ABSENT, False, ov.input_line or f"+{ov.key_or_group}"
        if ov.is_force_add() and _under(parts, path):
            return UNKNOWN, False, None
        if ov.is_delete() and _under(parts, path):
            return (PRESENT if parts == path else UNKNOWN), False, None
        if ov.is_add():
            adds.append(path)
    node = _lookup(recorded.config, ".".join(parts))
    if node is _ABSENT:
        return ABSENT, False, None
    if _made_by_adds(parts, node, adds):  # e.g. ``a`` when only ``+a.b=1`` made it
        return ABSENT, False, None
    return PRESENT, True, None


def _made_by_adds(parts: Key, node: Any, adds: list[Key]) -> bool:
    if any(_under(parts, a) for a in adds):
        return True
    if not isinstance(node, dict) or not node or not any(_under(a, parts) for a in adds):
        return False
    return all(_made_by_adds(parts + (str(k),), v, adds) for k, v in node.items())


def _after_entries(parts: Key, state: str, before: list[_Entry]) -> tuple[str, str | None]:
    """The state once the entries above apply (Hydra applies key overrides in order), and
    the entry that added the key, if one did."""
    earlier = None
    for entry in before:
        ov = entry.override
        if entry.group:
            continue
        path = tuple(ov.key_or_group.split("."))
        if ov.is_add() or ov.is_force_add():
            if parts == path or _under(path, parts):
                state, earlier = PRESENT, entry.text
            elif _under(parts, path):
                value = ov.value() if ov.value_type is not None else None
                inside = _lookup(value, ".".join(parts[len(path) :]))
                state, earlier = (ABSENT if inside is _ABSENT else PRESENT), entry.text
        elif ov.is_delete() and _under(parts, path):
            state, earlier = ABSENT, None
        elif _under(parts, path) and parts != path:  # a parent replaced: unknown content
            state = UNKNOWN
    return state, earlier


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
    if key == "":
        return node
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
