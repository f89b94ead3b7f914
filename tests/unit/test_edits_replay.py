"""Validation judges each entry the way Hydra will when the agent replays the section.

The recorded run is composed for real (the replay app's config directory, with ``+``
overrides, a list-valued nested group) and Hydra is the oracle: every section accepted
here composes with Hydra, every one refused fails in Hydra (issue #13).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from omegaconf import OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from hydratrack.edits.overrides import hydra_section_overrides
from hydratrack.edits.validate import validate_hyperparams
from hydratrack.sdk.hydra import config_groups, hydra_section

CONF = Path(__file__).resolve().parents[1] / "e2e" / "apps" / "replay" / "conf"
RECORDED = ["+a.b=1", '+msg="hello, world"', "server/site=[a,b]", "+db.user=alice"]


def compose_with(overrides: list[str]) -> Any:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="config", overrides=overrides, return_hydra_config=True)


@pytest.fixture(scope="module")
def record() -> dict[str, Any]:
    """What the SDK records for `app.py` + RECORDED: config text, section, runtime facts."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="config", overrides=RECORDED, return_hydra_config=True)
        groups = config_groups()
    choices = OmegaConf.to_container(cfg.hydra.runtime.choices)
    with open_dict(cfg):
        del cfg["hydra"]
    section = {k: v["value"] for k, v in hydra_section(RECORDED, []).items()}
    return {
        "yaml": OmegaConf.to_yaml(cfg),
        "section": section,
        "choices": choices,
        "groups": groups,
    }


def judge(record: dict[str, Any], section: dict[str, str | None], **kw: Any) -> list[str]:
    found = validate_hyperparams(
        "Hydra",
        section,
        config_yaml=record["yaml"],
        choices=record["choices"],
        overrides=RECORDED,
        groups=kw.get("groups", record["groups"]),
    )
    return [f"{p.name}: {p.message}" for p in found]


def hydra_composes(section: dict[str, str | None]) -> bool:
    GlobalHydra.instance().clear()
    try:
        compose_with(hydra_section_overrides(section))
    except (HydraException, OmegaConfBaseException):
        return False
    return True


def test_the_recorded_groups_are_listed(record: dict[str, Any]) -> None:
    assert record["groups"] == {"db": ["mysql", "postgresql"], "server/site": ["a", "b"]}
    assert "server/site" not in record["choices"]  # why choices alone are not enough


ACCEPTED = [
    {"+a.b": "2"},  # the value of a recorded `+` override
    {"+db.user": "admin"},
    {"+msg": '"bye, world"'},  # a quoted string with a comma
    {"+msg": "'x, y, z'"},
    {"server/site": "[a]"},  # a list-valued nested group
    {"server/site": "[b,a]"},
    {"+a.b": None, "+other": "1"},  # remove a recorded `+key`, add another
    {"+a.b": None, "++a.b": "5"},
    {"db": "postgresql", "+db.user": "root"},
    {"+db@backup": "postgresql"},  # a group with a package
    {"~db.port": ""},
    {"lr": "0.5"},
]


@pytest.mark.parametrize(
    "changes", ACCEPTED, ids=lambda c: " ".join(f"{k}={v}" for k, v in c.items())
)
def test_edits_hydra_accepts_are_accepted(record: dict[str, Any], changes: dict) -> None:
    section = {**record["section"], **changes}
    assert judge(record, section) == []
    assert hydra_composes(section)


REFUSED = [
    ({"+a.b": None, "a.b": "5"}, "a.b", "the recorded run added it with '+a.b=1'; keep the '+'"),
    ({"lr2": "1"}, "lr2", "lr2 does not exist in the recorded config (add it with '+'"),
    ({"+lr": "1"}, "+lr", "lr already exists in the config files; drop the '+'"),
    ({"server/site": "[a,c]"}, "server/site", "no config 'c' in config group server/site"),
    ({"db": "nosuch"}, "db", "no config 'nosuch' in config group db (options: mysql, postgresql)"),
    ({"dbx/site": "a"}, "dbx/site", "dbx/site is not a config group of this app"),
    ({"~nothere": ""}, "~nothere", "nothere does not exist in the config"),
    ({"+db.user": None, "db.user": "admin"}, "db.user", "keep the '+' (+db.user=...)"),
]


@pytest.mark.parametrize(("changes", "name", "message"), REFUSED, ids=lambda c: str(c))
def test_edits_hydra_refuses_are_refused_with_the_reason(
    record: dict[str, Any], changes: dict, name: str, message: str
) -> None:
    section = {**record["section"], **changes}
    found = judge(record, section)
    assert len(found) == 1 and found[0].startswith(f"{name}: "), found
    assert message in found[0]
    assert not hydra_composes(section)


def test_group_options_are_trusted_to_hydra_when_no_groups_were_recorded(
    record: dict[str, Any],
) -> None:
    section = {**record["section"], "server/site": "[a,c]", "db": "postgresql"}
    assert judge(record, section, groups=None) == []  # Hydra checks the options at run time
    # ... and a list value for a key the config holds as a mapping is still a group choice
    found = validate_hyperparams(
        "Hydra",
        {"db": "[mysql,postgresql]"},
        config_yaml=record["yaml"],
        choices={},
        overrides=[],
        groups=None,
    )
    assert found == []


def test_entries_apply_in_order(record: dict[str, Any]) -> None:
    section = {"+extra": "{k: 1}", "extra.k": "2", "+extra.j": "3"}
    assert judge(record, section) == []
    assert hydra_composes(section)
    twice = {"+extra": "{k: 1}", "+extra.k": "2"}
    found = judge(record, twice)
    assert found == [
        "+extra.k: +extra.k: extra.k is already added by the entry '+extra={k: 1}' above; "
        "drop the '+' to change it (or use '++')"
    ]
    assert not hydra_composes(twice)


def test_types_are_checked_where_the_files_give_them(record: dict[str, Any]) -> None:
    assert judge(record, {**record["section"], "lr": "fast"}) == [
        "lr: lr is a float field (recorded value 0.1); got str 'fast'"
    ]
    # a value the recorded run added has no type from the files: any value goes
    assert judge(record, {**record["section"], "+a.b": "text now"}) == []


def test_keys_of_a_newly_chosen_group_option_are_left_to_hydra(record: dict[str, Any]) -> None:
    """`db=postgresql` loads another file: its keys are unknown to the recorded config."""
    section = {**record["section"], "db": "postgresql", "db.port": "5433", "db.extra": "1"}
    assert judge(record, section) == []
    # the same key with the recorded choice is judged against the recorded config
    found = judge(record, {**record["section"], "db.extra": "1"})
    assert found == [
        "db.extra: db.extra does not exist in the recorded config "
        "(add it with '+' in front of the key)"
    ]
