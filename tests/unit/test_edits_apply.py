"""Applying an edited OmegaConf text: in-process on composed configs and in real Hydra apps."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from hydratrack.edits.config_edit import ConfigEditError, apply_config_edit, load_edit
from hydratrack.names import EDIT_FILE_ENV

APPS = Path(__file__).resolve().parents[1] / "e2e" / "apps"
CALLBACK = "+hydra.callbacks.hydratrack_edit._target_=hydratrack.edits.callback.ApplyConfigEdit"


def composed_trainer():
    with initialize_config_dir(config_dir=str(APPS / "trainer" / "conf"), version_base="1.3"):
        return compose(config_name="config", return_hydra_config=True)


def test_edited_text_replaces_job_keys_and_keeps_hydra() -> None:
    cfg = composed_trainer()
    hydra_before = OmegaConf.to_container(cfg.hydra, resolve=False)
    job = OmegaConf.to_container(cfg, resolve=False)
    del job["hydra"]
    job["dataset"]["main"]["number"] = 90
    del job["db"]["pass"]
    job["added"] = {"k": "v"}
    apply_config_edit(cfg, load_edit(OmegaConf.to_yaml(OmegaConf.create(job))))
    assert cfg.dataset.main.number == 90
    assert cfg.dataset.derived == 90  # interpolation resolves against the edited text
    assert "pass" not in cfg.db and cfg.added.k == "v"
    assert OmegaConf.is_struct(cfg)
    assert OmegaConf.to_container(cfg.hydra, resolve=False) == hydra_before
    after = OmegaConf.to_container(cfg, resolve=False)
    del after["hydra"]
    assert after == job


def test_removed_top_level_keys_are_removed() -> None:
    cfg = composed_trainer()
    apply_config_edit(cfg, load_edit("only: 1\n"))
    assert set(cfg.keys()) == {"only", "hydra"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- 1\n", "mapping"),
        ("a: [1\n", "does not load"),
        ("hydra:\n  job:\n    name: x\n", "may not set 'hydra'"),
    ],
)
def test_bad_edit_texts_are_refused(text: str, message: str) -> None:
    with pytest.raises(ConfigEditError, match=message):
        load_edit(text)


def structured_cfg():
    import importlib.util

    # loading the typed app stores its schema ("typed") in Hydra's ConfigStore
    spec = importlib.util.spec_from_file_location("typed_app", APPS / "typed" / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("typed_app", module)  # dataclasses look their module up there
    if sys.modules["typed_app"] is module:
        spec.loader.exec_module(module)
    with initialize_config_dir(config_dir=str(APPS / "typed"), version_base="1.3"):
        return compose(config_name="typed")


def test_structured_types_hold() -> None:
    cfg = structured_cfg()
    apply_config_edit(
        cfg, load_edit("optim:\n  lr: 2\n  steps: '7'\nname: n\ntotal: ${optim.steps}\n")
    )
    assert cfg.optim.lr == 2.0 and isinstance(cfg.optim.lr, float)
    assert cfg.optim.steps == 7 and cfg.total == 7
    assert OmegaConf.get_type(cfg.optim).__name__ == "Optim"
    with pytest.raises(ConfigEditError, match="optim.steps"):
        apply_config_edit(cfg, load_edit("optim:\n  lr: 2\n  steps: abc\nname: n\ntotal: 1\n"))
    with pytest.raises(ConfigEditError, match="optim.extra"):
        apply_config_edit(
            cfg, load_edit("optim:\n  lr: 2\n  steps: 1\n  extra: 1\nname: n\ntotal: 1\n")
        )
    with pytest.raises(ConfigEditError, match="cannot remove"):
        apply_config_edit(cfg, load_edit("optim:\n  lr: 2\nname: n\ntotal: 1\n"))


def run_app(app: str, edit: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "edit.yaml"
    path.write_text(edit)
    env = {**os.environ, EDIT_FILE_ENV: str(path), "HYDRATRACK_TEST_NO_SDK": "1"}
    args = [
        sys.executable,
        str(APPS / app / "app.py"),
        f"hydra.run.dir={tmp_path / 'out'}",
        CALLBACK,
    ]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)


def test_callback_in_a_real_app_runs_the_edit(tmp_path: Path) -> None:
    edit = "optim:\n  lr: 0.5\n  steps: 3\nname: x\ntotal: ${optim.steps}\n"
    done = run_app("typed", edit, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "SAW lr=0.5 steps=3 total=3 name=x" in done.stdout
    assert "TYPE optim=Optim struct=True" in done.stdout


def test_callback_fails_loudly_on_a_type_error(tmp_path: Path) -> None:
    done = run_app("typed", "optim:\n  lr: 0.5\n  steps: abc\nname: x\ntotal: 1\n", tmp_path)
    assert done.returncode != 0
    assert "SAW" not in done.stdout  # the job never ran with the old values
    assert "optim.steps" in done.stderr and "abc" in done.stderr


def test_callback_without_an_edit_file_fails(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != EDIT_FILE_ENV}
    env["HYDRATRACK_TEST_NO_SDK"] = "1"
    args = [sys.executable, str(APPS / "trainer" / "app.py"), f"hydra.run.dir={tmp_path}", CALLBACK]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and EDIT_FILE_ENV in done.stderr and "SAW" not in done.stdout
