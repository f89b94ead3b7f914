"""Hydra capture: the composed job config, the overrides as typed, Hydra's runtime facts.

Only public Hydra surfaces are used:

- ``HydraConfig.get()`` for the overrides (``hydra.overrides.task`` / ``.hydra``, the
  strings as typed), group choices, config name and sources, mode, job number, output dir;
- ``<output_dir>/<hydra.output_subdir>/config.yaml``, which Hydra writes before the job
  starts as ``OmegaConf.to_yaml`` of the job config (exactly what ``--cfg job`` prints);
  when ``hydra.output_subdir=null`` there is no such file and the job config is composed
  again with ``hydra.compose`` from the same task overrides;
- ``hydra.core.override_parser`` to split each override into its key as typed (with
  ``+``/``++``/``~`` and ``@package``) and its value as typed;
- the config loader of ``GlobalHydra`` (``list_groups``/``get_group_options``) for the
  config groups and their options, so the server can check an edited group choice.

:func:`snapshot` copies what is needed out of ``HydraConfig`` on the calling thread (a
multirun changes it job by job); :func:`capture` turns a snapshot into the task's
``OmegaConf`` object, ``Hydra`` section and ``runtime.hydra`` facts (file reads and
parsing, fine on the background thread).
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

from hydratrack.names import (
    ALLOW_EDIT_KEY,
    CONFIG_OBJECT,
    CONFIG_TYPE,
    HYDRA_SECTION,
    OWN_CALLBACK_PREFIX,
)

ALLOW_EDIT_DESCRIPTION = (
    "How an agent applies edits of a clone of this task: False = every other entry of this "
    "section is passed to the script as a Hydra command-line override (values win over the "
    "config files); True = the edited OmegaConf configuration object is the job config as is."
)


def is_own_override(arg: str) -> bool:
    """An override the agent adds to inject its edit callback (never recorded)."""
    return arg.lstrip("+~").startswith(OWN_CALLBACK_PREFIX)


class Snapshot:
    """Plain-data copy of the Hydra facts of one job. (A plain class: a dataclass costs
    ``Task.init`` its decorator's time; docs/benchmarks.md.)"""

    __slots__ = (
        "task_overrides",
        "hydra_overrides",
        "choices",
        "config_name",
        "config_sources",
        "output_dir",
        "output_subdir",
        "mode",
        "job_num",
        "job_name",
        "version",
        "command_line",
        "config_yaml",
        "warnings",
        "config_loader",
    )

    def __init__(
        self,
        *,
        task_overrides: list[str],
        hydra_overrides: list[str],
        choices: dict[str, Any],
        config_name: str | None,
        config_sources: list[dict[str, Any]],
        output_dir: str,
        output_subdir: str | None,
        mode: str | None,
        job_num: int | None,
        job_name: str | None,
        version: str,
        command_line: str,
    ) -> None:
        self.task_overrides = task_overrides
        self.hydra_overrides = hydra_overrides
        self.choices = choices
        self.config_name = config_name
        self.config_sources = config_sources
        self.output_dir = output_dir
        self.output_subdir = output_subdir
        self.mode = mode
        self.job_num = job_num
        self.job_name = job_name
        self.version = version
        self.command_line = command_line
        self.config_yaml: str | None = None  # set when composed on the calling thread
        self.warnings: list[str] = []
        self.config_loader: Any = None  # Hydra's, to list the config groups later


def job_running() -> bool:
    """True inside a Hydra job (cheap; never imports Hydra)."""
    mod = sys.modules.get("hydra.core.hydra_config")
    if mod is None:
        return False
    try:
        return bool(mod.HydraConfig.initialized())
    except Exception:  # noqa: BLE001
        return False


def snapshot(compose_if_needed: bool = True) -> Snapshot:
    """Copy the facts of the running job out of ``HydraConfig`` (call inside the job)."""
    import hydra
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    hc: Any = HydraConfig.get()  # a DictConfig at run time, typed as the dataclass
    rt = hc.runtime
    mode = OmegaConf.select(hc, "mode", default=None)
    snap = Snapshot(
        # unresolved: an override may itself contain ${...} (as typed, not its value)
        task_overrides=[str(o) for o in _container(hc.overrides.task) or []],
        hydra_overrides=[str(o) for o in _container(hc.overrides.hydra) or []],
        choices=_container(rt.choices),
        config_name=OmegaConf.select(hc, "job.config_name", default=None),
        config_sources=_container(rt.config_sources) or [],
        output_dir=str(OmegaConf.select(hc, "runtime.output_dir", default="") or ""),
        output_subdir=OmegaConf.select(hc, "output_subdir", default=None),
        mode=None if mode is None else getattr(mode, "name", str(mode)),
        job_num=OmegaConf.select(hc, "job.num", default=None),
        job_name=OmegaConf.select(hc, "job.name", default=None),
        version=str(getattr(hydra, "__version__", "")),
        command_line=shlex.join([a for a in sys.argv if not is_own_override(a)]),
    )
    if snap.output_subdir is None and compose_if_needed:
        snap.config_yaml = compose_job_config(snap)
    snap.config_loader = _config_loader()
    return snap


def _config_loader() -> Any:
    """The running Hydra's config loader (a reference: the listing is made later, off the
    calling thread; the object outlives Hydra's global state)."""
    try:
        from hydra.core.global_hydra import GlobalHydra

        gh = GlobalHydra.instance()
        return gh.config_loader() if gh.is_initialized() else None
    except Exception:  # noqa: BLE001
        return None


def job_owner() -> Any:
    """A cheap test that the running job is still running: Hydra's ``run_job`` puts the
    launcher's config back into ``HydraConfig`` when a job ends, before the launcher
    announces the next one (``#1 : lr=0.2``). For a multirun job's console."""
    from hydra.core.hydra_config import HydraConfig

    holder = HydraConfig.instance()
    job_cfg = holder.cfg
    return lambda: holder.cfg is job_cfg


def _container(node: Any) -> Any:
    from omegaconf import OmegaConf

    if node is None:
        return None
    return OmegaConf.to_container(node, resolve=False, enum_to_str=True)


def compose_job_config(snap: Snapshot) -> str | None:
    """The job config composed again (for ``hydra.output_subdir=null``), as YAML."""
    from hydra import compose
    from omegaconf import OmegaConf

    try:
        cfg = compose(config_name=snap.config_name, overrides=list(snap.task_overrides))
    except Exception as exc:  # noqa: BLE001
        snap.warnings.append(
            "Hydra capture: hydra.output_subdir=null and composing the config again failed "
            f"({type(exc).__name__}: {exc}); the OmegaConf configuration object is not recorded"
        )
        return None
    return OmegaConf.to_yaml(cfg)


def wait_for_job_files(output_dir: str, subdir: str, not_before: float, timeout: float) -> bool:
    """Wait until Hydra wrote ``overrides.yaml`` (its last file) of this run."""
    path = Path(output_dir) / subdir / "overrides.yaml"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if path.stat().st_mtime >= not_before:
                return True
        except FileNotFoundError:
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)


def job_config_yaml(snap: Snapshot) -> str | None:
    if snap.config_yaml is not None or snap.output_subdir is None:
        return snap.config_yaml
    path = Path(snap.output_dir) / snap.output_subdir / "config.yaml"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        snap.warnings.append(
            f"Hydra capture: cannot read {path} ({exc}); "
            "the OmegaConf configuration object is not recorded"
        )
        return None


def hydra_section(task_overrides: list[str], warnings: list[str]) -> dict[str, dict[str, str]]:
    """One entry per override: key as typed (prefix, ``@package``) -> value as typed."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    section: dict[str, dict[str, str]] = {}
    for line in task_overrides:
        try:
            ov = parser.parse_override(line)
            key = ov.get_key_element()
            value = ov.get_value_string() if "=" in line else ""
        except Exception as exc:  # noqa: BLE001 - Hydra accepted it, so this is unexpected
            warnings.append(
                f"Hydra capture: cannot parse override {line!r} ({exc}); "
                "it is recorded whole as its key"
            )
            key, value = line, ""
        if key in section:
            warnings.append(
                f"Hydra capture: override {key!r} given more than once; "
                "the last one (the one Hydra applied) is recorded"
            )
        section[key] = {"value": value, "type": "str", "description": ""}
    section[ALLOW_EDIT_KEY] = {
        "value": "False",
        "type": "bool",
        "description": ALLOW_EDIT_DESCRIPTION,
    }
    return section


def _config_path(sources: list[dict[str, Any]]) -> str | None:
    for src in sources:
        if src.get("provider") == "main":
            schema, path = src.get("schema"), src.get("path")
            return path if schema == "file" else f"{schema}://{path}"
    return None


def runtime_facts(snap: Snapshot) -> dict[str, Any]:
    hydra_ovs = [o for o in snap.hydra_overrides if not is_own_override(o)]
    facts: dict[str, Any] = {
        "config_name": snap.config_name,
        "config_path": _config_path(snap.config_sources),
        "config_sources": snap.config_sources,
        "choices": snap.choices,
        "version": snap.version,
        "output_dir": snap.output_dir,
        "output_subdir": snap.output_subdir,
        "overrides": {"hydra": hydra_ovs, "task": list(snap.task_overrides)},
        "command_line": snap.command_line,
        "mode": snap.mode,
        "job_name": snap.job_name,
    }
    if snap.mode == "MULTIRUN" and snap.job_num is not None:
        facts["job_num"] = snap.job_num
    return facts


def config_groups(loader: Any = None) -> dict[str, list[str]] | None:
    """Every config group of the app (Hydra's own ``hydra/...`` left out) and its options,
    from Hydra's config loader (default: the running one); None when it cannot be listed."""
    try:
        from hydra.core.object_type import ObjectType

        loader = loader if loader is not None else _config_loader()
        if loader is None:
            return None
        out: dict[str, list[str]] = {}
        todo = [""]
        while todo:
            parent = todo.pop()
            for name in loader.list_groups(parent):
                path = f"{parent}/{name}" if parent else name
                if path == "hydra":
                    continue
                todo.append(path)
                options = loader.get_group_options(path, ObjectType.CONFIG)
                if options:
                    out[path] = sorted(options)
        return dict(sorted(out.items()))
    except Exception:  # noqa: BLE001 - a listing we cannot make: the server checks less
        return None


class Capture(NamedTuple):
    config_yaml: str | None
    section: dict[str, dict[str, str]]
    runtime: dict[str, Any]
    warnings: list[str]


def capture(snap: Snapshot) -> Capture:
    warnings = list(snap.warnings)
    text = job_config_yaml(snap)
    section = hydra_section(snap.task_overrides, warnings)
    facts = runtime_facts(snap)
    groups = config_groups(snap.config_loader) if snap.config_loader is not None else None
    if groups is not None:
        facts["config_groups"] = groups
    return Capture(text, section, {"hydra": facts}, warnings)


def ops_for(cap: Capture, remote: bool) -> list[dict[str, Any]]:
    """Ops that record a capture on an existing task (the remote-run path).

    Order matters for the server's validation: the config and the runtime (choices) first,
    then the Hydra section, whose plain keys must exist in them. In a remote run the stored
    ``_allow_omegaconf_edit_`` is kept.
    """
    ops: list[dict[str, Any]] = []
    if cap.config_yaml is not None:
        ops.append(
            {
                "op": "put_configuration",
                "name": CONFIG_OBJECT,
                "value": cap.config_yaml,
                "type": CONFIG_TYPE,
                "description": "Hydra job config (as --cfg job prints it)",
            }
        )
    ops.append({"op": "update_task", "fields": {"runtime": cap.runtime}})
    ops.append(
        {
            "op": "put_hyperparams",
            "section": HYDRA_SECTION,
            "params": cap.section,
            "keep": [ALLOW_EDIT_KEY] if remote else [],
        }
    )
    return ops


def compose_api_active() -> bool:
    """True while Hydra's global state is set up outside a job (the Compose API)."""
    gh = sys.modules.get("hydra.core.global_hydra")
    if gh is None or job_running():
        return False
    try:
        return bool(gh.GlobalHydra.instance().is_initialized())
    except Exception:  # noqa: BLE001
        return False


COMPOSE_WARNING = (
    "Hydra capture: the Compose API is not captured automatically; record the "
    "config with task.connect_configuration(cfg, name='OmegaConf')"
)
