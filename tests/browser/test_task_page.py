"""The experiment page: tabs, Hydra section, OmegaConf object, console, scalars, artifacts."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import UiSession
from tests.browser.runs import hydra_run, upload_text_artifact

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def run(server: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    with server.client() as api:
        task = hydra_run(
            api, f"page-{uuid.uuid4().hex[:6]}", "train-page", driver="mysql", number=10
        )
        upload_text_artifact(
            api, task["id"], tmp_path_factory.mktemp("art"), "notes", "hello artifact\n"
        )
        return task


def test_configuration_tab_shows_hydra_section_and_omegaconf_object(
    logged_in: UiSession, run: dict[str, Any]
) -> None:
    ui = logged_in
    ui.goto(f"/tasks/{run['id']}")
    expect(ui.page.get_by_role("heading", name="train-page")).to_be_visible()
    expect(ui.page.locator("#execution-facts")).to_contain_text("train.py")
    expect(ui.page.locator("#command-line")).to_have_text(
        "python3.11 train.py db=mysql optim.lr=0.01"
    )
    expect(ui.page.locator("#hydra-facts")).to_contain_text("db: mysql")
    ui.screenshot("execution")
    ui.page.get_by_role("tab", name="CONFIGURATION").click()
    hydra = ui.page.locator("#section-Hydra")
    expect(hydra.get_by_role("heading", name="Hydra")).to_be_visible()
    expect(hydra.locator("tr[data-name='db'] td").nth(1)).to_have_text("mysql")
    expect(hydra.locator("tr[data-name='optim.lr'] td").nth(1)).to_have_text("0.01")
    expect(hydra.locator("tr[data-name='_allow_omegaconf_edit_'] td").nth(1)).to_have_text("False")
    expect(ui.page.locator("#section-General tr[data-name='seed']")).to_contain_text("random seed")
    yaml = ui.page.get_by_label("OmegaConf configuration")
    expect(yaml).to_contain_text("number: 10")
    expect(yaml.locator(".y-key", has_text="driver")).to_have_count(1)
    expect(yaml.locator(".y-interp")).to_have_text("${db.driver}")
    assert "#configuration" in ui.page.url
    ui.screenshot("configuration")
    # a completed run is not editable: the page says so and offers no edit button
    expect(ui.page.get_by_text("Only drafts can be edited")).to_be_visible()
    expect(ui.page.locator("#edit-config")).to_have_count(0)


def test_console_scalars_artifacts_and_info(logged_in: UiSession, run: dict[str, Any]) -> None:
    ui = logged_in
    ui.goto(f"/tasks/{run['id']}#console")
    console = ui.page.locator("#console")
    expect(console).to_contain_text("epoch 0: loss=1.0000")
    expect(console.locator(".stderr")).to_have_text("warning: this is stderr\n")
    ui.screenshot("console")
    ui.page.get_by_role("tab", name="SCALARS").click()
    charts = ui.page.locator("#charts figure.chart")
    expect(charts).to_have_count(2)
    expect(charts.first.locator("canvas")).to_have_count(1)
    expect(ui.page.locator("#charts .u-title")).to_have_text(["accuracy", "loss"])
    expect(ui.page.locator("#charts figure", has_text="loss").locator(".u-legend")).to_contain_text(
        "val"
    )
    ui.page.get_by_label("X axis").select_option("time")
    expect(ui.page.locator("#charts .u-title")).to_have_text(["accuracy", "loss"])
    ui.screenshot("scalars")
    ui.page.get_by_role("tab", name="ARTIFACTS").click()
    row = ui.page.locator("#artifacts-table tbody tr", has_text="notes")
    expect(row).to_contain_text("15 B")
    with ui.page.expect_download() as info:
        row.get_by_role("link", name="Download notes").click()
    path = info.value.path()
    assert Path(path).read_text() == "hello artifact\n"
    ui.page.get_by_role("tab", name="INFO").click()
    expect(ui.page.locator("#info-facts")).to_contain_text(run["id"])
    expect(ui.page.locator("#info-facts")).to_contain_text("admin")
    ui.screenshot("info")


def test_clone_links_back_to_its_parent(
    logged_in: UiSession, run: dict[str, Any], server: Any
) -> None:
    ui = logged_in
    ui.goto(f"/tasks/{run['id']}")
    ui.page.get_by_role("button", name="Clone").click()
    ui.page.get_by_label("Name of the clone").fill("train-page clone")
    ui.page.get_by_role("dialog").get_by_role("button", name="Clone").click()
    ui.page.wait_for_url(re.compile(r"/tasks/[0-9a-f]{32}#configuration"))
    clone_id = ui.page.url.split("/tasks/")[1].split("#")[0]
    assert clone_id != run["id"]
    expect(ui.page.get_by_role("heading", name="train-page clone")).to_be_visible()
    expect(ui.page.locator(".title-row .status")).to_have_text("draft")
    ui.page.get_by_role("tab", name="INFO").click()
    ui.page.locator("#parent-link").click()
    ui.page.wait_for_url(re.compile(run["id"]))
    with server.client() as api:
        api.delete_task(clone_id)


def test_unknown_and_malformed_ids_say_so(logged_in: UiSession) -> None:
    ui = logged_in
    ui.goto("/tasks/" + "0" * 32)
    expect(ui.page.get_by_role("alert")).to_contain_text("Could not load this experiment")
    ui.goto("/tasks/not-an-id")
    expect(ui.page.get_by_text('"not-an-id" is not a valid id.')).to_be_visible()


def test_long_console_shows_its_newest_part_then_follows(logged_in: UiSession, server: Any) -> None:
    ui = logged_in
    with server.client() as api:
        task = api.create_task(
            {"name": "chatty", "project": f"chatty-{uuid.uuid4().hex[:6]}", "status": "in_progress"}
        )
        lines = [
            {"type": "console", "stream": "stdout", "text": f"line {i}\n", "ts": float(i)}
            for i in range(6000)
        ]
        api.post_events(task["id"], uuid.uuid4().hex, lines)
    ui.goto(f"/tasks/{task['id']}#console")
    console = ui.page.locator("#console")
    expect(console).to_contain_text("line 5999")
    expect(ui.page.locator("#console-truncated")).to_contain_text("last 5000")
    assert console.locator("span").count() == 5000
    assert "line 999\n" not in console.inner_text()
    with server.client() as api:
        api.post_events(
            task["id"],
            uuid.uuid4().hex,
            [{"type": "console", "stream": "stderr", "text": "late line\n", "ts": 7000.0}],
        )
    expect(console.locator(".stderr")).to_have_text("late line\n")
    with server.client() as api:
        api.set_status(task["id"], "completed")
    expect(ui.page.locator(".title-row .status")).to_have_text("completed")


def test_text_reports_and_editing_details(logged_in: UiSession, server: Any) -> None:
    ui = logged_in
    with server.client() as api:
        task = hydra_run(
            api, f"details-{uuid.uuid4().hex[:6]}", "notes-run", status="in_progress", steps=3
        )
        api.post_events(
            task["id"],
            uuid.uuid4().hex,
            [
                {
                    "type": "text",
                    "title": "summary",
                    "text": "best epoch: 2\nlr looks fine",
                    "iter": 2,
                    "ts": 1764392400.0,
                }
            ],
        )
        api.set_status(task["id"], "completed")
    ui.goto(f"/tasks/{task['id']}#scalars")
    report = ui.page.locator("#text-reports .text-report")
    expect(report.get_by_role("heading")).to_contain_text("summary")
    expect(report.locator("pre")).to_have_text("best epoch: 2\nlr looks fine")
    ui.page.get_by_role("tab", name="INFO").click()
    ui.page.get_by_role("button", name="Edit name, comment, tags").click()
    dialog = ui.page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("notes-run renamed")
    dialog.get_by_label("Comment").fill("keep this one")
    dialog.get_by_label("Tags (comma separated)").fill("best, lr-sweep, best")
    dialog.get_by_role("button", name="Save").click()
    expect(ui.page.get_by_role("heading", name="notes-run renamed")).to_be_visible()
    expect(ui.page.locator("#info-facts")).to_contain_text("keep this one")
    with server.client() as api:
        saved = api.get_task(task["id"])
    assert saved["name"] == "notes-run renamed"
    assert saved["comment"] == "keep this one"
    assert saved["tags"] == ["best", "lr-sweep"]
    # an empty name is refused by the server; the dialog stays open with its message
    ui.page.get_by_role("button", name="Edit name, comment, tags").click()
    ui.page.get_by_role("dialog").get_by_label("Name").fill(" ")
    ui.page.get_by_role("dialog").get_by_role("button", name="Save").click()
    expect(ui.page.get_by_role("dialog").locator(".field-error")).not_to_be_empty()
    ui.screenshot("details-error")
