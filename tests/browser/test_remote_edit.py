"""End to end in the browser: a real Hydra run recorded by the SDK, cloned and edited in the
UI, enqueued, run by a real agent; the new run shows the edit in its config and console."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import UiSession
from tests.e2e.agents import AgentProcess, copy_trainer, run_locally

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_hydra_run_cloned_edited_in_ui_and_run_by_an_agent(
    logged_in: UiSession, server: Any, tmp_path: Path
) -> None:
    ui = logged_in
    project = f"ui-e2e-{uuid.uuid4().hex[:6]}"
    queue = f"ui-{uuid.uuid4().hex[:6]}"
    with server.client() as api:
        api.create_queue(queue)
    recorded = run_locally(server, copy_trainer(tmp_path / "trainer"), project, "db=postgresql")

    # open the project and the recorded experiment
    ui.goto("/")
    ui.page.get_by_label("Filter projects by name").fill(project)
    ui.page.get_by_role("link", name=project).click()
    ui.page.get_by_role("link", name="trainer").click()
    ui.page.wait_for_url(ui.url(f"/tasks/{recorded['id']}"))
    ui.page.get_by_role("tab", name="CONFIGURATION").click()
    hydra = ui.page.locator("#section-Hydra")
    expect(hydra.locator("tr[data-name='db'] td").nth(1)).to_have_text("postgresql")
    omegaconf = ui.page.get_by_label("OmegaConf configuration")
    expect(omegaconf).to_contain_text("number: 10")
    ui.screenshot("recorded-run")

    # clone, add dataset.main.number = 90 in the Hydra section, save, enqueue
    ui.page.get_by_role("button", name="Clone").click()
    ui.page.get_by_label("Name of the clone").fill("trainer 90")
    ui.page.get_by_role("dialog").get_by_role("button", name="Clone").click()
    ui.page.wait_for_url(re.compile(r"/tasks/[0-9a-f]{32}#configuration"))
    clone_id = ui.page.url.split("/tasks/")[1].split("#")[0]
    ui.page.get_by_role("button", name="Edit configuration").click()
    ui.page.get_by_role("button", name="Add Hydra parameter").click()
    ui.page.get_by_label("Hydra parameter name").last.fill("dataset.main.number")
    ui.page.get_by_label("Hydra parameter value").last.fill("90")
    ui.page.get_by_role("button", name="Save").click()
    expect(
        ui.page.locator("#section-Hydra tr[data-name='dataset.main.number'] td").nth(1)
    ).to_have_text("90")
    ui.page.get_by_role("button", name="Enqueue").click()
    ui.page.get_by_role("dialog").get_by_label("Queue").select_option(queue)
    ui.page.get_by_role("dialog").get_by_role("button", name="Enqueue").click()
    expect(ui.page.locator(".title-row .status")).to_have_text("queued")

    # an agent runs it; the open page follows the run without a reload
    agent = AgentProcess(server, tmp_path / "agent", "--queue", queue, name="ui-agent")
    try:
        expect(ui.page.locator(".title-row .status")).to_have_text("completed", timeout=120_000)
    finally:
        code = agent.stop()
    assert code == 0 or code is None or code < 0, agent.log()
    ui.page.reload()
    expect(ui.page.get_by_label("OmegaConf configuration")).to_contain_text("number: 90")
    ui.screenshot("edited-run-config")
    ui.page.get_by_role("tab", name="CONSOLE").click()
    expect(ui.page.locator("#console")).to_contain_text("SAW number=90")
    ui.page.get_by_role("tab", name="EXECUTION").click()
    expect(ui.page.locator("#execution-facts")).to_contain_text(queue)
    ui.page.get_by_role("tab", name="INFO").click()
    expect(ui.page.locator("#parent-link")).to_have_text("trainer")
    ui.screenshot("edited-run-info")
    with server.client() as api:
        assert api.get_task(clone_id)["status"] == "completed"


def test_omegaconf_mode_run_says_which_config_ran(
    logged_in: UiSession, server: Any, tmp_path: Path
) -> None:
    """After an OmegaConf-mode re-run the page says the edited text ran and marks the
    replayed Hydra entries as not applied (issue #13)."""
    ui = logged_in
    project = f"ui-omegaconf-{uuid.uuid4().hex[:6]}"
    queue = f"ui-{uuid.uuid4().hex[:6]}"
    app = copy_trainer(tmp_path / "trainer")
    recorded = run_locally(server, app, project, "dataset.main.name=admin")
    with server.client() as api:
        api.create_queue(queue)
        clone = api.clone_task(recorded["id"], name="carol by text")
        api.patch_hyperparams(clone["id"], {"Hydra": {"_allow_omegaconf_edit_": {"value": "True"}}})
        text = recorded["configuration"]["OmegaConf"]["value"]
        assert "name: admin" in text
        api.put_configuration(clone["id"], "OmegaConf", text.replace("name: admin", "name: carol"))

    # the draft already says what will run
    ui.goto(f"/tasks/{clone['id']}#configuration")
    expect(ui.page.locator("#omegaconf-mode-note")).to_contain_text("When this experiment runs")
    expect(ui.page.locator("#omegaconf-job-config")).to_have_text("the job config when run")

    with server.client() as api:
        api.enqueue_task(clone["id"], queue)
    ui.page.reload()  # (a draft's page does not poll; a queued one follows the run)
    agent = AgentProcess(server, tmp_path / "agent", "--queue", queue, name="ui-agent")
    try:
        expect(ui.page.locator(".title-row .status")).to_have_text("completed", timeout=120_000)
    finally:
        agent.stop()
    ui.page.reload()
    note = ui.page.locator("#omegaconf-mode-note")
    expect(note).to_contain_text("This run used its edited OmegaConf configuration")
    expect(note).to_contain_text("their values were not applied")
    row = ui.page.locator("#section-Hydra tr[data-name='dataset.main.name']")
    expect(row.locator("td").nth(1)).to_have_text("admin")  # as replayed ...
    expect(row).to_have_class(re.compile(r"\bnot-applied\b"))
    expect(row.locator(".not-applied-tag")).to_have_text("not applied")  # ... and marked
    flag = ui.page.locator("#section-Hydra tr[data-name='_allow_omegaconf_edit_']")
    expect(flag.locator(".not-applied-tag")).to_have_count(0)
    expect(ui.page.locator("#omegaconf-job-config")).to_have_text("the job config this run used")
    expect(ui.page.get_by_label("OmegaConf configuration")).to_contain_text("name: carol")
    ui.screenshot("omegaconf-mode-run")
    ui.page.get_by_role("tab", name="CONSOLE").click()
    expect(ui.page.locator("#console")).to_contain_text("name: carol")
