"""The command line and environment that run a task, with its edits applied.

For a Hydra task (one with ``runtime.hydra``) the command is built from the record, not
from the recorded argv, so each override is passed once:

    python <entry_point> [--config-name/--config-path/--config-dir as recorded]
           <recorded overrides of Hydra's own settings (hydra.*), minus our callback>
           <the Hydra section entries, as edited>
           [+hydra.callbacks.hydratrack_edit._target_=...ApplyConfigEdit]   (OmegaConf-edit mode)

``_allow_omegaconf_edit_`` False: every entry of the ``Hydra`` section is one override, so a
value edited in the UI wins over the config files. True: the entries are replayed as
recorded (so defaults and schemas compose the same) and the callback makes the job config
equal to the edited ``OmegaConf`` text (see :mod:`hydratrack.edits.callback`).

A task without Hydra facts runs ``python <entry_point> <recorded argv>``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping

from hydratrack.edits.overrides import hydra_section_overrides, parse_allow_edit, parse_override
from hydratrack.names import (
    ACCESS_KEY_ENV,
    ALLOW_EDIT_KEY,
    API_HOST_ENV,
    CONFIG_FILE_ENV,
    CONFIG_OBJECT,
    CONSOLE_BY_AGENT_ENV,
    EDIT_FILE_ENV,
    HYDRA_SECTION,
    OFFLINE_ENV,
    OWN_CALLBACK_PREFIX,
    SECRET_KEY_ENV,
    TASK_ID_ENV,
)

CALLBACK_OVERRIDE = (
    f"+{OWN_CALLBACK_PREFIX}_edit._target_=hydratrack.edits.callback.ApplyConfigEdit"
)
FULL_ERROR_ENV = "HYDRA_FULL_ERROR"
# the agent's variables a task's process does not get (its credentials above all)
NOT_INHERITED = frozenset(
    {
        OFFLINE_ENV,
        ACCESS_KEY_ENV,
        SECRET_KEY_ENV,
        CONFIG_FILE_ENV,
        API_HOST_ENV,
        EDIT_FILE_ENV,
    }
)
# Hydra's command-line flags that take a value and shape the composition.
_HYDRA_FLAGS = {"--config-name", "-cn", "--config-path", "-cp", "--config-dir", "-cd"}


class CommandError(Exception):
    """The task's record cannot be turned into a command; the message says why."""


@dataclasses.dataclass
class RunSpec:
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    mode: str  # "overrides" | "omegaconf" | "plain"
    edit_text: str | None = None  # the OmegaConf text to write to the edit file


def section_values(task: Mapping[str, Any]) -> dict[str, str | None]:
    section = (task.get("hyperparams") or {}).get(HYDRA_SECTION) or {}
    return {k: (v or {}).get("value") if isinstance(v, dict) else v for k, v in section.items()}


def entry_args(script: Mapping[str, Any]) -> list[str]:
    entry = (script.get("entry_point") or "").strip()
    if not entry:
        raise CommandError("the task has no recorded entry point (script.entry_point)")
    if entry.startswith("-m "):
        return ["-m", entry[3:].strip()]
    return [entry]


def hydra_flags(argv: list[str]) -> list[str]:
    """The ``--config-name``-style flags of a recorded argv, with their values."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        name = arg.split("=", 1)[0]
        if name in _HYDRA_FLAGS:
            if "=" in arg:
                out.append(arg)
            elif i + 1 < len(argv):
                out += [arg, argv[i + 1]]
                i += 1
        i += 1
    return out


def replayed_hydra_overrides(runtime_hydra: Mapping[str, Any]) -> list[str]:
    """Recorded overrides of Hydra's own settings, without our callback or the run mode."""
    recorded = ((runtime_hydra.get("overrides") or {}).get("hydra")) or []
    out = []
    for item in recorded:
        key = str(item).lstrip("+~")
        if key.startswith(OWN_CALLBACK_PREFIX) or key.startswith("hydra.mode="):
            continue
        out.append(str(item))
    return out


def check_overrides(overrides: list[str]) -> None:
    for text in overrides:
        try:
            parse_override(text)
        except ValueError as exc:
            raise CommandError(
                f"edited entry {text!r} is not a valid Hydra override: {exc}"
            ) from None


def build_run_spec(
    task: Mapping[str, Any],
    *,
    cwd: Path,
    python: str,
    base_env: Mapping[str, str],
    client_env: Mapping[str, str],
    edit_file: Path,
) -> RunSpec:
    """The command for ``task``; ``client_env`` carries the API host and the task's own
    token for the child. The agent's own credentials (key pair, config file path) are
    never passed on."""
    script = task.get("script") or {}
    argv = [python, *entry_args(script)]
    env = {k: v for k, v in base_env.items() if k not in NOT_INHERITED}
    env.update(client_env)
    env.update({TASK_ID_ENV: str(task["id"]), CONSOLE_BY_AGENT_ENV: "1", "PYTHONUNBUFFERED": "1"})
    runtime_hydra = (task.get("runtime") or {}).get("hydra")
    if not runtime_hydra:
        return RunSpec(argv + [str(a) for a in script.get("argv") or []], env, cwd, "plain")
    # the whole traceback in the console, its exception line as the failure reason
    env.setdefault(FULL_ERROR_ENV, "1")
    section = section_values(task)
    allow = parse_allow_edit(section.get(ALLOW_EDIT_KEY) or "False")
    if allow is None:
        raise CommandError(
            f"{ALLOW_EDIT_KEY} must be True or False, not {section.get(ALLOW_EDIT_KEY)!r}"
        )
    overrides = hydra_section_overrides(section)
    check_overrides(overrides)
    argv += hydra_flags([str(a) for a in script.get("argv") or []])
    argv += replayed_hydra_overrides(runtime_hydra)
    argv += overrides
    if not allow:
        return RunSpec(argv, env, cwd, "overrides")
    conf = (task.get("configuration") or {}).get(CONFIG_OBJECT) or {}
    text = conf.get("value") if isinstance(conf, dict) else None
    if text is None:
        raise CommandError(
            f"{ALLOW_EDIT_KEY} is True but the task has no OmegaConf configuration to apply"
        )
    env[EDIT_FILE_ENV] = str(edit_file)
    return RunSpec(argv + [CALLBACK_OVERRIDE], env, cwd, "omegaconf", edit_text=text)
