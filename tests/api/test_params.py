"""Hyperparameters and configuration objects: merge, replace, delete, editability."""

from __future__ import annotations

from typing import Any, Callable

import httpx

from hydratrack.client import ApiClient
from tests.api.conftest import assert_error

Make = Callable[..., dict[str, Any]]
HP = {
    "Hydra": {
        "db": {"value": "mysql"},
        "dataset.main.number": "10",
        "_allow_omegaconf_edit_": "False",
    },
    "General": {"lr": {"value": 0.1, "type": "float", "description": "learning rate"}},
}


def test_patch_merges_and_null_deletes(api: ApiClient, make_task: Make) -> None:
    t = make_task(hyperparams=HP)
    assert api.get_hyperparams(t["id"])["General"]["lr"] == {
        "value": "0.1",
        "type": "float",
        "description": "learning rate",
    }
    out = api.patch_hyperparams(
        t["id"],
        {
            "Hydra": {
                "db": {"value": "postgresql"},
                "+extra.flag": {"value": "true"},
                "dataset.main.number": None,
            },
            "General": {"lr": {"value": "0.2"}},
        },
    )
    assert list(out["Hydra"]) == ["db", "_allow_omegaconf_edit_", "+extra.flag"]
    assert out["Hydra"]["db"]["value"] == "postgresql"
    assert out["General"]["lr"] == {"value": "0.2", "type": "float", "description": "learning rate"}
    assert api.get_task(t["id"])["hyperparams"] == out


def test_put_section_replaces(api: ApiClient, make_task: Make) -> None:
    t = make_task(hyperparams=HP)
    out = api.put_hyperparam_section(t["id"], "Hydra", {"~db.pass": {"value": ""}, "x": "1"})
    assert list(out["Hydra"]) == ["~db.pass", "x"]
    assert out["General"] == api.get_hyperparams(t["id"])["General"]


def test_configuration_put_get_delete(api: ApiClient, http: httpx.Client, make_task: Make) -> None:
    t = make_task()
    obj = api.put_configuration(t["id"], "OmegaConf", "a: 1\n", description="composed")
    assert obj == {"value": "a: 1\n", "type": "OmegaConf", "description": "composed"}
    assert api.get_configuration(t["id"]) == {"OmegaConf": obj}
    assert http.delete(f"/tasks/{t['id']}/configuration/OmegaConf").status_code == 204
    assert api.get_configuration(t["id"]) == {}
    assert_error(
        http.delete(f"/tasks/{t['id']}/configuration/OmegaConf"), 404, "not_found", "OmegaConf"
    )
    assert_error(
        http.put(f"/tasks/{t['id']}/configuration/X", json={"type": "yaml"}),
        422,
        "validation_error",
        "value",
    )


def test_only_draft_or_own_run_is_editable(
    api: ApiClient, http: httpx.Client, make_task: Make
) -> None:
    t = make_task(status="in_progress")
    api.patch_hyperparams(t["id"], {"Hydra": {"db": "x"}})  # the run itself writes
    api.put_configuration(t["id"], "OmegaConf", "not: [valid")  # stored as sent
    api.set_status(t["id"], "completed")
    err = assert_error(
        http.patch(f"/tasks/{t['id']}/hyperparams", json={"Hydra": {"db": "y"}}),
        409,
        "conflict",
        "completed",
    )
    assert "draft" in err["message"]
    assert_error(http.put(f"/tasks/{t['id']}/hyperparams/Hydra", json={}), 409, "conflict")
    assert_error(
        http.put(f"/tasks/{t['id']}/configuration/OmegaConf", json={"value": "a: 1"}),
        409,
        "conflict",
        "completed",
    )
    assert_error(http.delete(f"/tasks/{t['id']}/configuration/OmegaConf"), 409, "conflict")
    assert api.get_hyperparams(t["id"])["Hydra"]["db"]["value"] == "x"


def test_bad_param_bodies(http: httpx.Client, make_task: Make) -> None:
    t = make_task()
    base = f"/tasks/{t['id']}"
    assert_error(
        http.patch(base + "/hyperparams", json={"Hydra": "db=mysql"}),
        422,
        "validation_error",
        "Hydra",
    )
    assert_error(
        http.patch(base + "/hyperparams", json={"Hydra": {"db": {"valu": 1}}}),
        422,
        "validation_error",
    )
    assert_error(http.patch(base + "/hyperparams", json=[1]), 422, "validation_error")
    assert_error(http.put(base + "/hyperparams/Hydra", json={"db": [1]}), 422, "validation_error")
    assert_error(http.patch("/tasks/" + "c" * 32 + "/hyperparams", json={}), 404, "not_found")
    assert_error(http.get("/tasks/" + "c" * 32 + "/configuration"), 404, "not_found")
