"""Command construction: the built command line run through the real trainer app."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from hydratrack.agent.command import CALLBACK_OVERRIDE, CommandError, build_run_spec, hydra_flags

APP_DIR = Path(__file__).resolve().parents[1] / "e2e" / "apps" / "trainer"
RECORDED = subprocess.run(
    [sys.executable, str(APP_DIR / "app.py"), "--cfg", "job"],
    capture_output=True,
    text=True,
    check=True,
).stdout


def task(
    section: dict[str, str],
    *,
    allow: str = "False",
    config: str | None = RECORDED,
    hydra_overrides: list[str] | None = None,
    argv: list[str] | None = None,
) -> dict[str, Any]:
    params = {k: {"value": v, "type": "str", "description": ""} for k, v in section.items()}
    params["_allow_omegaconf_edit_"] = {"value": allow}
    out: dict[str, Any] = {
        "id": "t" * 32,
        "script": {"entry_point": "app.py", "argv": argv or [], "working_dir": str(APP_DIR)},
        "runtime": {
            "hydra": {
                "overrides": {"hydra": hydra_overrides or ["hydra.mode=RUN"], "task": []},
                "choices": {"db": "mysql"},
            }
        },
        "hyperparams": {"Hydra": params},
        "configuration": {},
    }
    if config is not None:
        out["configuration"]["OmegaConf"] = {"value": config, "type": "OmegaConf"}
    return out


def spec_for(t: dict[str, Any], tmp_path: Path):  # type: ignore[no-untyped-def]
    return build_run_spec(
        t,
        cwd=APP_DIR,
        python=sys.executable,
        base_env={"PATH": "/usr/bin:/bin"},
        client_env={"HYDRATRACK_API_HOST": "http://x"},
        edit_file=tmp_path / "edit.yaml",
    )


def run(spec, *extra: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**spec.env, "HYDRATRACK_TEST_NO_SDK": "1"}
    return subprocess.run(
        [*spec.argv, *extra], cwd=spec.cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_override_mode_passes_each_entry_and_beats_a_hard_coded_value(tmp_path: Path) -> None:
    t = task(
        {"db": "postgresql", "dataset.main.number": "90", "+new.key": "1", "~db.pass": ""},
        hydra_overrides=[
            "hydra.mode=RUN",
            f"hydra.run.dir={tmp_path}/out",
            "+hydra.callbacks.hydratrack_x._target_=nowhere.Callback",
        ],
    )
    spec = spec_for(t, tmp_path)
    assert spec.mode == "overrides"
    assert spec.argv[-4:] == ["db=postgresql", "dataset.main.number=90", "+new.key=1", "~db.pass"]
    assert not any("hydratrack_x" in a or a.startswith("hydra.mode") for a in spec.argv)
    assert spec.env["HYDRATRACK_TASK_ID"] == "t" * 32
    assert spec.env["HYDRATRACK_CONSOLE_BY_AGENT"] == "1"
    assert spec.env["HYDRATRACK_API_HOST"] == "http://x"
    done = run(spec, "--cfg", "job")  # Hydra itself composes what the job would get
    assert done.returncode == 0, done.stderr
    cfg = yaml.safe_load(done.stdout)
    assert cfg["dataset"]["main"]["number"] == 90
    assert cfg["db"]["driver"] == "postgresql" and "pass" not in cfg["db"]
    assert cfg["new"] == {"key": 1}


def test_omegaconf_mode_runs_the_edited_text(tmp_path: Path) -> None:
    edited = RECORDED.replace("number: 10", "number: 55").replace("port: 3306", "port: 1111")
    t = task(
        {"db": "mysql"},
        allow="True",
        config=edited,
        hydra_overrides=[f"hydra.run.dir={tmp_path}/out"],
    )
    spec = spec_for(t, tmp_path)
    assert spec.mode == "omegaconf" and spec.argv[-1] == CALLBACK_OVERRIDE
    assert spec.edit_text == edited
    (tmp_path / "edit.yaml").write_text(spec.edit_text)
    done = run(spec)
    assert done.returncode == 0, done.stderr
    assert "SAW number=55 derived=55 db=mysql port=1111" in done.stdout


def test_hydra_flags_are_kept_and_overrides_of_argv_are_not() -> None:
    argv = ["--config-name", "other", "-cp=conf", "db=mysql", "dataset.main.number=1", "-m"]
    assert hydra_flags(argv) == ["--config-name", "other", "-cp=conf"]


def test_plain_script_runs_its_recorded_argv(tmp_path: Path) -> None:
    t = {"id": "a" * 32, "script": {"entry_point": "-m mypkg.train", "argv": ["--lr", "0.1"]}}
    spec = spec_for(t, tmp_path)
    assert spec.mode == "plain"
    assert spec.argv == [sys.executable, "-m", "mypkg.train", "--lr", "0.1"]


@pytest.mark.parametrize(
    ("t", "message"),
    [
        (task({"dataset.main.number": "a==b"}), "not a valid Hydra override"),
        (task({}, allow="maybe"), "must be True or False"),
        (task({}, allow="True", config=None), "no OmegaConf configuration"),
        ({"id": "b" * 32, "script": {}}, "no recorded entry point"),
    ],
)
def test_unusable_records_are_refused_with_a_reason(
    t: dict[str, Any], message: str, tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match=message):
        spec_for(t, tmp_path)


def test_every_agent_setting_is_a_flag_and_documented() -> None:
    from hydratrack.agent.settings import SETTINGS

    docs = (Path(__file__).resolve().parents[2] / "docs" / "agent.md").read_text()
    shown = subprocess.run(
        [sys.executable, "-m", "hydratrack", "agent", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    ).stdout
    for setting in SETTINGS:
        assert setting.flag in docs, f"{setting.flag} missing from docs/agent.md"
        assert setting.flag in shown and setting.env in shown


@pytest.mark.parametrize(
    ("values", "message"),
    [({"queue": []}, "at least one --queue"), ({"heartbeat_seconds": 0}, "--heartbeat-seconds")],
)
def test_bad_agent_settings_are_refused(values: dict[str, Any], message: str) -> None:
    from hydratrack.agent.settings import AgentSettings

    with pytest.raises(ValueError, match=message):
        AgentSettings(**values)


def test_hydra_runs_with_full_errors(tmp_path: Path) -> None:
    """So the console has the whole traceback and its exception line is the reason."""
    spec = build_run_spec(
        task({"+msg": '"pa ss; word"', "dataset.main.name": "${now:%H-%M}"}),
        cwd=APP_DIR,
        python=sys.executable,
        base_env={},
        client_env={},
        edit_file=tmp_path / "edit.yaml",
    )
    assert spec.env["HYDRA_FULL_ERROR"] == "1"
    assert '+msg="pa ss; word"' in spec.argv and "dataset.main.name=${now:%H-%M}" in spec.argv
    kept = build_run_spec(
        task({}),
        cwd=APP_DIR,
        python=sys.executable,
        base_env={"HYDRA_FULL_ERROR": "0"},
        client_env={},
        edit_file=tmp_path / "edit.yaml",
    )
    assert kept.env["HYDRA_FULL_ERROR"] == "0"  # the agent's own setting wins
