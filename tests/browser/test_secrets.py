"""Secret config values read ******** in the UI: task page, compare, experiments table."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import UiSession

pytestmark = pytest.mark.browser
REAL = "s3cr3t-in-the-store"


def _run(api: Any, project: str, name: str, password: str) -> dict[str, Any]:
    return dict(
        api.create_task(
            {
                "name": name,
                "project": project,
                "status": "completed",
                "script": {"entry_point": "train.py", "argv": [f"db.pass={password}", "lr=1"]},
                "runtime": {"hydra": {"overrides": {"hydra": [], "task": [f"db.pass={password}"]}}},
                "hyperparams": {
                    "Hydra": {"db.pass": password, "lr": "1"},
                    "General": {"wandb.token": f"tok-{password}"},
                },
                "configuration": {
                    "OmegaConf": {
                        "value": f"db:\n  driver: mysql\n  pass: {password}\nlr: 1\n",
                        "type": "OmegaConf",
                    }
                },
            }
        )
    )


@pytest.fixture(scope="module")
def runs(server: Any) -> list[dict[str, Any]]:
    project = f"secrets-{uuid.uuid4().hex[:6]}"
    with server.client() as api:
        return [_run(api, project, "sec-a", REAL), _run(api, project, "sec-b", REAL + "-b")]


def _nothing_secret(page: Page) -> None:
    page.wait_for_load_state("networkidle")
    assert REAL not in page.content()


def test_task_page_shows_masks(logged_in: UiSession, runs: list[dict[str, Any]]) -> None:
    ui = logged_in
    ui.goto(f"/tasks/{runs[0]['id']}")
    expect(ui.page.locator("#command-line")).to_contain_text("db.pass=********")
    _nothing_secret(ui.page)
    ui.page.get_by_role("tab", name="CONFIGURATION").click()
    hydra = ui.page.locator("#section-Hydra")
    expect(hydra.locator("tr[data-name='db.pass'] td").nth(1)).to_have_text("********")
    expect(hydra.locator("tr[data-name='lr'] td").nth(1)).to_have_text("1")
    yaml = ui.page.get_by_label("OmegaConf configuration")
    expect(yaml).to_contain_text("pass: '********'")
    expect(yaml).to_contain_text("driver: mysql")
    _nothing_secret(ui.page)
    ui.screenshot("masked-configuration")


def test_compare_and_experiments_show_masks(
    logged_in: UiSession, runs: list[dict[str, Any]]
) -> None:
    ui = logged_in
    ui.goto(f"/compare?ids={runs[0]['id']},{runs[1]['id']}")
    row = ui.page.locator("#compare-params tr[data-key='Hydra/db.pass']")
    expect(row).to_contain_text("********")
    _nothing_secret(ui.page)
    ui.screenshot("masked-compare")
    ui.goto(f"/projects/{runs[0]['project']['id']}")
    expect(ui.page.get_by_text("sec-a")).to_be_visible()
    _nothing_secret(ui.page)
