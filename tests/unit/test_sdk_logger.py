"""Logger input checks, the console tee, and parameter flattening."""

from __future__ import annotations

import argparse
import dataclasses
import enum
import io
from typing import Any

import pytest

from hydratrack.sdk.console import Tee
from hydratrack.sdk.logger import Logger
from hydratrack.sdk.params import configuration_text, flatten_params


def test_report_scalar_appends_a_tuple() -> None:
    got: list[tuple[Any, ...]] = []
    Logger(got.append, "t").report_scalar("loss", "train", value=1, iteration=2)
    assert got[0][:5] == ("scalar", "loss", "train", 2, 1.0)


@pytest.mark.parametrize(("value", "iteration"), [("abc", 1), (None, 1), (1.0, "x")])
def test_report_scalar_bad_input_is_a_clear_error(value: Any, iteration: Any) -> None:
    got: list[Any] = []
    with pytest.raises(
        TypeError, match=r"report_scalar\('loss', 'train'\): value must be a number"
    ):
        Logger(got.append, "t").report_scalar("loss", "train", value=value, iteration=iteration)
    assert got == []


def test_tee_writes_through_and_reports_whole_lines() -> None:
    target = io.StringIO()
    got: list[tuple[Any, ...]] = []
    tee = Tee(target, "stdout", got.append)
    tee.write("epoch 1")
    assert got == [] and target.getvalue() == "epoch 1"
    tee.write(" done\nepoch 2\npart")
    assert [g[2] for g in got] == ["epoch 1 done\nepoch 2\n"]
    tee.flush_tail()
    assert [g[2] for g in got] == ["epoch 1 done\nepoch 2\n", "part"]
    assert target.getvalue() == "epoch 1 done\nepoch 2\npart"


def test_tee_error_line_finds_the_exception() -> None:
    tee = Tee(io.StringIO(), "stderr", lambda ev: None)
    tee.write("Traceback (most recent call last):\n  File x\nValueError: bad\n\nSet the env...\n")
    assert tee.error_line() == "ValueError: bad"


class Color(enum.Enum):
    RED = 1


@dataclasses.dataclass
class Inner:
    depth: int = 3


@dataclasses.dataclass
class Opts:
    lr: float = 0.1
    color: Color = Color.RED
    inner: Inner = dataclasses.field(default_factory=Inner)
    layers: list[int] = dataclasses.field(default_factory=lambda: [1, 2])
    note: str | None = None


def test_flatten_params_of_dataclass_namespace_dict() -> None:
    flat = flatten_params(Opts())
    assert flat["lr"] == {"value": "0.1", "type": "float", "description": ""}
    assert flat["color"]["value"] == "RED"
    assert flat["inner.depth"]["value"] == "3"
    assert flat["layers"]["value"] == "[1, 2]"
    assert flat["note"]["value"] == "null"
    assert flatten_params(argparse.Namespace(a=1))["a"]["value"] == "1"
    assert flatten_params({"a": {"b": True}})["a.b"] == {
        "value": "True",
        "type": "bool",
        "description": "",
    }
    with pytest.raises(TypeError, match="connect\\(\\) takes a dict"):
        flatten_params(42)


def test_configuration_text(tmp_path: Any) -> None:
    from omegaconf import OmegaConf

    assert configuration_text({"a": {"b": 1}}) == ("a:\n  b: 1\n", "yaml")
    assert configuration_text(OmegaConf.create({"a": "${b}", "b": 1})) == (
        "a: ${b}\nb: 1\n",
        "OmegaConf",
    )
    f = tmp_path / "c.json"
    f.write_text('{"a": 1}')
    assert configuration_text(f) == ('{"a": 1}', "json")
    with pytest.raises(FileNotFoundError, match="no such file"):
        configuration_text(tmp_path / "missing.yaml")


def test_stage_artifact_inputs(tmp_path: Any) -> None:
    from hydratrack.sdk.artifact import stage_artifact

    f = tmp_path / "model.bin"
    f.write_bytes(b"w")
    staged = stage_artifact(tmp_path / "stage", "model", f)
    f.write_bytes(b"changed later")
    assert staged.read_bytes() == b"w"  # a private copy
    assert stage_artifact(tmp_path / "stage", "cfg", {"a": 1}).read_text().startswith("{")
    assert stage_artifact(tmp_path / "stage", "raw", b"\x00").read_bytes() == b"\x00"
    assert stage_artifact(tmp_path / "stage", "obj", {1, 2}).suffix == ".pkl"
    with pytest.raises(FileNotFoundError, match=r"upload_artifact\('m'\): no such file"):
        stage_artifact(tmp_path / "stage", "m", tmp_path / "missing.bin")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        stage_artifact(tmp_path / "stage", "d", tmp_path)
    with pytest.raises(ValueError, match="must be non-empty"):
        stage_artifact(tmp_path / "stage", "a/b", b"x")
