"""Validation of edits on save, with Hydra itself as the oracle.

Every case that validation accepts must also compose with Hydra (the trainer app's config
directory), and every key/type case it refuses must make Hydra fail or change a field's type.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from hydratrack.edits.overrides import hydra_section_overrides, override_text, parse_allow_edit
from hydratrack.edits.validate import EditProblem, validate_configuration, validate_hyperparams

APP = Path(__file__).resolve().parents[1] / "e2e" / "apps" / "trainer"
CHOICES = {"db": "mysql", "hydra/launcher": "basic", "hydra/sweeper": "basic"}


def recorded_yaml() -> str:
    """What the SDK records: the composed job config, as `--cfg job` prints it."""
    out = subprocess.run(
        [sys.executable, str(APP / "app.py"), "--cfg", "job"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


@pytest.fixture(scope="module")
def config_yaml() -> str:
    return recorded_yaml()


def hydra_composes(overrides: list[str]) -> bool:
    with initialize_config_dir(config_dir=str(APP / "conf"), version_base="1.3"):
        try:
            compose(config_name="config", overrides=overrides)
        except (HydraException, OmegaConfBaseException):
            return False
    return True


def problems(entries: dict[str, str | None], config_yaml: str) -> list[EditProblem]:
    return validate_hyperparams("Hydra", entries, config_yaml=config_yaml, choices=CHOICES)


ACCEPTED = [
    ("dataset.main.number", "90"),
    ("dataset.main.rate", "3"),  # int fits a float field
    ("dataset.main.name", "other"),
    ("db", "postgresql"),
    ("db.port", "1234"),
    ("+new.key", "1"),
    ("++dataset.main.number", "7"),
    ("++brand.new", "x"),
    ("~db.pass", ""),
    ("dataset.derived", "${dataset.main.number}"),
    ("dataset.main.number", "null"),
    ("train.fail", "true"),
]


@pytest.mark.parametrize(("key", "value"), ACCEPTED)
def test_accepted_entries_compose_with_hydra(key: str, value: str, config_yaml: str) -> None:
    assert problems({key: value}, config_yaml) == []
    assert hydra_composes([override_text(key, value)])


REFUSED_BY_HYDRA = [
    ("dataset.main.numbr", "3", "dataset.main.numbr does not exist"),
    ("+dataset.main.number", "3", "already exists"),
    ("bad", "a==3", "not a valid Hydra override"),
    ("dataset.main.number", "[1", "not a valid Hydra override"),
]


@pytest.mark.parametrize(("key", "value", "message"), REFUSED_BY_HYDRA)
def test_refused_entries_also_fail_in_hydra(
    key: str, value: str, message: str, config_yaml: str
) -> None:
    found = problems({key: value}, config_yaml)
    assert [p.name for p in found] == [key]
    assert found[0].section == "Hydra"
    assert message in found[0].message
    assert not hydra_composes([override_text(key, value)])


TYPE_MISMATCHES = [
    ("dataset.main.number", "abc", "int field"),
    ("dataset.main.number", "1.5", "int field"),
    ("train.fail", "yes", "bool field"),
    ("dataset.main", "5", "mapping field"),
    ("db.port", "[1,2]", "int field"),
]


@pytest.mark.parametrize(("key", "value", "message"), TYPE_MISMATCHES)
def test_wrong_type_for_a_recorded_field_is_refused(
    key: str, value: str, message: str, config_yaml: str
) -> None:
    found = problems({key: value}, config_yaml)
    assert len(found) == 1 and found[0].name == key
    assert message in found[0].message and key in found[0].message
    # Hydra itself would silently change the field's type: that is what the check prevents.
    with initialize_config_dir(config_dir=str(APP / "conf"), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[override_text(key, value)])
    recorded = OmegaConf.select(OmegaConf.create(config_yaml), key)
    assert type(OmegaConf.select(cfg, key)) is not type(recorded)


def test_every_problem_is_reported_once_and_deleted_entries_are_skipped(config_yaml: str) -> None:
    entries = {
        "dataset.main.numbr": "1",
        "db": "postgresql",
        "train.epochs": "many",
        "_allow_omegaconf_edit_": "maybe",
        "whatever.removed": None,
    }
    found = problems(entries, config_yaml)
    assert sorted(p.name for p in found) == [
        "_allow_omegaconf_edit_",
        "dataset.main.numbr",
        "train.epochs",
    ]
    assert found[0].as_detail().keys() == {"section", "name", "message"}


@pytest.mark.parametrize("flag", ["True", "False", "true", "false"])
def test_allow_edit_flag_accepts_booleans(flag: str, config_yaml: str) -> None:
    assert problems({"_allow_omegaconf_edit_": flag}, config_yaml) == []
    assert parse_allow_edit(flag) is (flag.lower() == "true")


def test_other_sections_are_free_form(config_yaml: str) -> None:
    entries = {"dataset.main.numbr": "a==b", "_allow_omegaconf_edit_": "x"}
    assert validate_hyperparams("General", entries, config_yaml=config_yaml, choices=CHOICES) == []


def test_without_recorded_config_only_grammar_is_checked() -> None:
    assert validate_hyperparams("Hydra", {"any.key": "1"}, config_yaml=None, choices=None) == []
    found = validate_hyperparams("Hydra", {"any.key": "a==1"}, config_yaml=None, choices=None)
    assert [p.name for p in found] == ["any.key"]


def test_nested_config_group_is_a_group() -> None:
    found = validate_hyperparams(
        "Hydra",
        {"db/nested": "fast"},
        config_yaml="db:\n  x: 1\n",
        choices={"db": "a", "db/nested": "slow"},
    )
    assert found == []


def test_section_overrides_in_order_without_the_flag() -> None:
    section = {
        "_allow_omegaconf_edit_": "False",
        "db": "postgresql",
        "~db.pass": "",
        "+a.b": "1",
        "gone": None,
    }
    assert hydra_section_overrides(section) == ["db=postgresql", "~db.pass", "+a.b=1"]


# -- configuration objects ------------------------------------------------------------------
def test_good_yaml_passes(config_yaml: str) -> None:
    assert validate_configuration("OmegaConf", "OmegaConf", config_yaml) == []
    assert validate_configuration("OmegaConf", "yaml", "") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [1\nb: 2\n", "line 2"),
        ("a: 1\na: 2\n", "line 2"),
        ("a:\n  b: 1\n c: 2\n", "line 3"),
        ("- 1\n- 2\n", "must be a mapping"),
        ("just text", "must be a mapping"),
        ("a: ${b\n", "interpolation"),
    ],
)
def test_bad_yaml_is_refused_with_a_line(text: str, message: str) -> None:
    found = validate_configuration("OmegaConf", "OmegaConf", text)
    assert len(found) == 1
    assert found[0].section == "configuration" and found[0].name == "OmegaConf"
    assert message in found[0].message


def test_non_yaml_configuration_types_are_free_form() -> None:
    assert validate_configuration("notes", "text", "a: [1") == []


def test_validation_module_does_not_import_the_server_stack() -> None:
    code = (
        "import sys, hydratrack.edits.validate as v;"
        "v.validate_configuration('c','yaml','a: 1');"
        "bad=[m for m in sys.modules if m.split('.')[0] in ('sqlalchemy','fastapi')"
        " or m.startswith('hydratrack.server')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
