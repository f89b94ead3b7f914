"""Edits saved into a draft are validated (docs/api.md "Validation of edits")."""

from __future__ import annotations

from typing import Any, Callable

import httpx

from hydratrack.client import ApiClient
from tests.api.conftest import assert_error

Make = Callable[..., dict[str, Any]]
RECORDED = (
    "db:\n  driver: mysql\n  pass: secret\n"
    "dataset:\n  main:\n    number: 10\nextra:\n  flag: true\n"
)


def recorded_draft(api: ApiClient, make_task: Make) -> dict[str, Any]:
    """A finished run (as the SDK records one) cloned into a draft."""
    run = make_task(
        status="in_progress",
        runtime={"hydra": {"choices": {"db": "mysql"}}},
        hyperparams={
            "Hydra": {"db": "mysql", "+extra.flag": "true", "_allow_omegaconf_edit_": "False"}
        },
        configuration={"OmegaConf": {"value": RECORDED, "type": "OmegaConf"}},
    )
    api.set_status(run["id"], "completed")
    return api.clone_task(run["id"])


def test_good_edits_are_stored(api: ApiClient, make_task: Make) -> None:
    d = recorded_draft(api, make_task)
    out = api.patch_hyperparams(
        d["id"],
        {
            "Hydra": {
                "dataset.main.number": "90",
                "db": "postgresql",
                "~db.pass": "",
                "+new.key": "1",
                "_allow_omegaconf_edit_": "True",
            }
        },
    )
    assert out["Hydra"]["dataset.main.number"]["value"] == "90"
    assert out["Hydra"]["+extra.flag"]["value"] == "true"  # untouched entry stays


def test_unknown_key_is_refused_and_nothing_stored(
    api: ApiClient, http: httpx.Client, make_task: Make
) -> None:
    d = recorded_draft(api, make_task)
    before = api.get_hyperparams(d["id"])
    resp = http.patch(
        f"/tasks/{d['id']}/hyperparams",
        json={"Hydra": {"dataset.main.numbr": {"value": "90"}, "db": {"value": "postgresql"}}},
    )
    err = assert_error(resp, 422, "invalid_edit", "dataset.main.numbr")
    assert [(e["section"], e["name"]) for e in err["details"]] == [("Hydra", "dataset.main.numbr")]
    assert "does not exist" in err["details"][0]["message"]
    assert api.get_hyperparams(d["id"]) == before  # the good entry was not stored either


def test_type_grammar_and_flag_problems(
    api: ApiClient, http: httpx.Client, make_task: Make
) -> None:
    d = recorded_draft(api, make_task)
    url = f"/tasks/{d['id']}/hyperparams"
    err = assert_error(
        http.patch(url, json={"Hydra": {"dataset.main.number": "ninety"}}),
        422,
        "invalid_edit",
        "dataset.main.number",
    )
    assert "int" in err["details"][0]["message"]
    err = assert_error(
        http.patch(url, json={"Hydra": {"db.driver": "[unclosed"}}),
        422,
        "invalid_edit",
        "db.driver",
    )
    err = assert_error(
        http.patch(url, json={"Hydra": {"_allow_omegaconf_edit_": "maybe"}}),
        422,
        "invalid_edit",
        "_allow_omegaconf_edit_",
    )
    err = assert_error(
        http.put(url + "/Hydra", json={"nope.key": "1", "db": "x"}), 422, "invalid_edit", "nope.key"
    )
    assert len(err["details"]) == 1
    assert api.get_hyperparams(d["id"])["Hydra"]["db"]["value"] == "mysql"


def test_configuration_must_load(api: ApiClient, http: httpx.Client, make_task: Make) -> None:
    d = recorded_draft(api, make_task)
    url = f"/tasks/{d['id']}/configuration/OmegaConf"
    err = assert_error(
        http.put(url, json={"value": "db: [unclosed\n", "type": "OmegaConf"}),
        422,
        "invalid_edit",
        "OmegaConf",
    )
    assert err["details"][0]["section"] == "configuration"
    assert_error(http.put(url, json={"value": "- just\n- a list\n"}), 422, "invalid_edit")
    shown = RECORDED.replace("pass: secret", "pass: '********'")  # secrets read masked
    assert api.get_configuration(d["id"])["OmegaConf"]["value"] == shown
    ok = api.put_configuration(d["id"], "OmegaConf", "db:\n  driver: sqlite\n")
    assert ok["type"] == "OmegaConf"
    free = http.put(
        f"/tasks/{d['id']}/configuration/notes", json={"value": "[not yaml", "type": "text"}
    )
    assert free.status_code == 200  # only YAML types are parsed


def test_run_writes_are_not_validated(api: ApiClient, make_task: Make) -> None:
    t = make_task(
        status="in_progress", configuration={"OmegaConf": {"value": RECORDED, "type": "OmegaConf"}}
    )
    out = api.patch_hyperparams(t["id"], {"Hydra": {"no.such.entry": "1"}})
    assert out["Hydra"]["no.such.entry"]["value"] == "1"
