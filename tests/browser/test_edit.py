"""Clone, edit a draft (Hydra section table, OmegaConf text), validation errors, enqueue."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import UiSession
from tests.browser.runs import hydra_run

pytestmark = pytest.mark.browser


@pytest.fixture
def source(server: Any) -> dict[str, Any]:
    with server.client() as api:
        return hydra_run(
            api, f"edit-{uuid.uuid4().hex[:6]}", "train-src", driver="mysql", number=10
        )


def clone_in_ui(ui: UiSession, task_id: str, name: str) -> str:
    ui.goto(f"/tasks/{task_id}")
    ui.page.get_by_role("button", name="Clone").click()
    ui.page.get_by_label("Name of the clone").fill(name)
    ui.page.get_by_role("dialog").get_by_role("button", name="Clone").click()
    ui.page.wait_for_url(re.compile(r"/tasks/[0-9a-f]{32}#configuration"))
    expect(ui.page.get_by_role("heading", name=name)).to_be_visible()
    return ui.page.url.split("/tasks/")[1].split("#")[0]


def add_hydra_entry(page: Page, name: str, value: str) -> None:
    page.get_by_role("button", name="Add Hydra parameter").click()
    page.get_by_label("Hydra parameter name").last.fill(name)
    page.get_by_label("Hydra parameter value").last.fill(value)


def test_clone_add_override_save_and_enqueue(
    logged_in: UiSession, source: dict[str, Any], server: Any
) -> None:
    ui = logged_in
    clone_id = clone_in_ui(ui, source["id"], "train-90")
    ui.page.get_by_role("button", name="Edit configuration").click()
    add_hydra_entry(ui.page, "dataset.main.number", "90")
    ui.screenshot("editing")
    ui.page.get_by_role("button", name="Save").click()
    expect(ui.page.locator(".notice-ok")).to_contain_text("Configuration saved")
    # back in the read-only view, with the new entry
    row = ui.page.locator("#section-Hydra tr[data-name='dataset.main.number']")
    expect(row.locator("td").nth(1)).to_have_text("90")
    ui.screenshot("saved")
    with server.client() as api:
        hydra = api.get_hyperparams(clone_id)["Hydra"]
        assert hydra["dataset.main.number"]["value"] == "90"
        assert hydra["db"]["value"] == "mysql"
        assert api.get_task(source["id"])["hyperparams"]["Hydra"].get("dataset.main.number") is None
    ui.page.get_by_role("button", name="Enqueue").click()
    dialog = ui.page.get_by_role("dialog")
    dialog.get_by_label("Queue").select_option("default")
    dialog.get_by_role("button", name="Enqueue").click()
    expect(ui.page.locator(".title-row .status")).to_have_text("queued")
    expect(ui.page.get_by_role("button", name="Dequeue")).to_be_visible()
    ui.screenshot("queued")
    with server.client() as api:
        task = api.get_task(clone_id)
        assert task["status"] == "queued"
    # dequeue from the page: back to draft, editable again
    ui.page.get_by_role("button", name="Dequeue").click()
    expect(ui.page.locator(".title-row .status")).to_have_text("draft")
    with server.client() as api:
        assert api.get_task(clone_id)["status"] == "draft"


def test_change_and_remove_entries_and_edit_omegaconf_text(
    logged_in: UiSession, source: dict[str, Any], server: Any
) -> None:
    ui = logged_in
    clone_id = clone_in_ui(ui, source["id"], "train-edited")
    ui.page.get_by_role("button", name="Edit configuration").click()
    names = ui.page.get_by_label("Hydra parameter name")
    values = ui.page.get_by_label("Hydra parameter value")
    db_index = names.evaluate_all("els => els.findIndex(e => e.value === 'db')")
    values.nth(db_index).fill("postgresql")
    ui.page.get_by_role("button", name="Remove optim.lr").click()
    editor = ui.page.get_by_label("OmegaConf configuration text")
    editor.fill(editor.input_value().replace("epochs: 10", "epochs: 3"))
    ui.page.get_by_role("button", name="Save").click()
    # (saved with a warning: this run recorded no config groups to check `db` against)
    expect(ui.page.locator(".notice")).to_contain_text("Configuration saved")
    expect(ui.page.get_by_label("OmegaConf configuration")).to_contain_text("epochs: 3")
    with server.client() as api:
        task = api.get_task(clone_id)
        assert task["hyperparams"]["Hydra"]["db"]["value"] == "postgresql"
        assert "optim.lr" not in task["hyperparams"]["Hydra"]
        assert "epochs: 3" in task["configuration"]["OmegaConf"]["value"]


def test_bad_entry_shows_the_servers_message_next_to_it_and_saves_nothing(
    logged_in: UiSession, source: dict[str, Any], server: Any
) -> None:
    ui = logged_in
    clone_id = clone_in_ui(ui, source["id"], "train-bad")
    ui.page.get_by_role("button", name="Edit configuration").click()
    add_hydra_entry(ui.page, "dataset.main.numbr", "90")
    ui.page.get_by_role("button", name="Save").click()
    expect(ui.page.locator("#edit-errors")).to_contain_text("Not saved")
    bad_row = ui.page.locator("#section-Hydra tr:has(input[aria-invalid=true])")
    expect(bad_row).to_have_count(1)
    expect(bad_row.get_by_label("Hydra parameter name")).to_have_value("dataset.main.numbr")
    expect(bad_row.locator(".field-error")).to_contain_text("dataset.main.numbr")
    ui.screenshot("invalid-entry")
    with server.client() as api:
        assert "dataset.main.numbr" not in api.get_hyperparams(clone_id)["Hydra"]
    # the form keeps what was typed; fixing the name saves it
    bad_row.get_by_label("Hydra parameter name").fill("+dataset.main.extra")
    ui.page.get_by_role("button", name="Save").click()
    expect(ui.page.locator(".notice-ok")).to_contain_text("Configuration saved")
    with server.client() as api:
        assert api.get_hyperparams(clone_id)["Hydra"]["+dataset.main.extra"]["value"] == "90"


def test_bad_yaml_is_shown_next_to_the_editor(
    logged_in: UiSession, source: dict[str, Any], server: Any
) -> None:
    ui = logged_in
    clone_id = clone_in_ui(ui, source["id"], "train-bad-yaml")
    ui.page.get_by_role("button", name="Edit configuration").click()
    ui.page.get_by_label("OmegaConf configuration text").fill("db: [unclosed\n  driver: mysql\n")
    ui.page.get_by_role("button", name="Save").click()
    expect(ui.page.locator("#editor-error-OmegaConf")).not_to_be_empty()
    ui.screenshot("invalid-yaml")
    with server.client() as api:
        assert "driver: mysql" in api.get_configuration(clone_id)["OmegaConf"]["value"]
        assert "unclosed" not in api.get_configuration(clone_id)["OmegaConf"]["value"]


def test_client_side_checks_before_sending(logged_in: UiSession, source: dict[str, Any]) -> None:
    ui = logged_in
    clone_in_ui(ui, source["id"], "train-dupe")
    ui.page.get_by_role("button", name="Edit configuration").click()
    add_hydra_entry(ui.page, "db", "postgresql")
    ui.page.get_by_role("button", name="Save").click()
    expect(ui.page.locator(".field-error", has_text="“db” is listed twice.")).to_be_visible()
    add_hydra_entry(ui.page, "", "7")
    ui.page.get_by_role("button", name="Save").click()
    expect(ui.page.locator(".field-error", has_text="A parameter needs a name.")).to_be_visible()


def test_leaving_the_tab_with_unsaved_edits_asks_first(
    logged_in: UiSession, source: dict[str, Any]
) -> None:
    ui = logged_in
    clone_in_ui(ui, source["id"], "train-unsaved")
    ui.page.get_by_role("button", name="Edit configuration").click()
    add_hydra_entry(ui.page, "+extra", "1")
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss() if len(asked) == 1 else dialog.accept()

    ui.page.on("dialog", answer)
    ui.page.get_by_role("tab", name="INFO").click()  # dismissed: stay, edits kept
    expect(ui.page.get_by_label("Hydra parameter name").last).to_have_value("+extra")
    ui.page.get_by_role("tab", name="INFO").click()  # accepted: leave
    expect(ui.page.locator("#info-facts")).to_be_visible()
    assert asked == ["Discard the unsaved configuration changes?"] * 2


def test_omegaconf_edit_mode_switch_and_hint(
    logged_in: UiSession, source: dict[str, Any], server: Any
) -> None:
    ui = logged_in
    clone_id = clone_in_ui(ui, source["id"], "train-yaml-mode")
    ui.page.get_by_role("button", name="Edit configuration").click()
    flag = ui.page.locator("#allow-omegaconf-edit")
    expect(flag).to_have_value("False")
    hint = ui.page.locator("#editor-hint-OmegaConf")
    expect(hint).to_be_hidden()
    editor = ui.page.get_by_label("OmegaConf configuration text")
    editor.fill(editor.input_value().replace("number: 10", "number: 77"))
    expect(hint).to_be_visible()  # the text would be ignored while the flag is False
    ui.screenshot("yaml-hint")
    flag.select_option("True")
    expect(hint).to_be_hidden()
    ui.page.get_by_role("button", name="Save").click()
    expect(ui.page.locator(".notice-ok")).to_contain_text("Configuration saved")
    with server.client() as api:
        task = api.get_task(clone_id)
    assert task["hyperparams"]["Hydra"]["_allow_omegaconf_edit_"]["value"] == "True"
    assert "number: 77" in task["configuration"]["OmegaConf"]["value"]


def test_session_ending_while_editing_loses_nothing(
    logged_in: UiSession, source: dict[str, Any], server: Any
) -> None:
    ui = logged_in
    clone_id = clone_in_ui(ui, source["id"], "train-session")
    ui.page.get_by_role("button", name="Edit configuration").click()
    add_hydra_entry(ui.page, "dataset.main.number", "91")
    ui.page.context.clear_cookies()  # the session ends (signed out elsewhere, or expired)
    ui.page.get_by_role("button", name="Save").click()
    expect(ui.page.locator("#edit-errors")).to_contain_text("Your session has ended")
    expect(ui.page.locator("#sign-in-again")).to_be_visible()
    assert f"/tasks/{clone_id}" in ui.page.url  # still here, with what was typed
    expect(ui.page.get_by_label("Hydra parameter value").last).to_have_value("91")
    ui.screenshot("session-ended")
    # sign in again in another tab of the same browser, come back, save
    other = ui.page.context.new_page()
    other.goto(ui.url("/login"))
    other.get_by_label("Username").fill("admin")
    other.get_by_label("Password").fill(server.admin_password)
    other.get_by_role("button", name="Sign in").click()
    other.wait_for_url(ui.url("/"))
    other.close()
    ui.page.get_by_role("button", name="Save").click()
    expect(ui.page.locator(".notice-ok")).to_contain_text("Configuration saved")
    with server.client() as api:
        assert api.get_hyperparams(clone_id)["Hydra"]["dataset.main.number"]["value"] == "91"


def test_an_action_with_unsaved_edits_asks_first(
    logged_in: UiSession, source: dict[str, Any], server: Any
) -> None:
    ui = logged_in
    clone_id = clone_in_ui(ui, source["id"], "train-unsaved-action")
    ui.page.get_by_role("button", name="Edit configuration").click()
    add_hydra_entry(ui.page, "+later", "1")
    ui.page.once("dialog", lambda d: d.dismiss())
    ui.page.get_by_role("button", name="Archive").click()
    expect(ui.page.get_by_label("Hydra parameter name").last).to_have_value("+later")
    with server.client() as api:
        assert api.get_task(clone_id)["archived"] is False


def test_partly_saved_edit_says_what_was_saved(
    logged_in: UiSession, source: dict[str, Any], server: Any
) -> None:
    ui = logged_in
    clone_id = clone_in_ui(ui, source["id"], "train-partial")
    ui.page.get_by_role("button", name="Edit configuration").click()
    add_hydra_entry(ui.page, "dataset.main.number", "92")
    editor = ui.page.get_by_label("OmegaConf configuration text")
    good_yaml = editor.input_value()
    editor.fill("db: [broken\n")
    ui.page.get_by_role("button", name="Save").click()
    expect(ui.page.locator("#edit-errors")).to_contain_text(
        "The hyperparameters were saved; the configuration object was not"
    )
    expect(ui.page.locator("#editor-error-OmegaConf")).not_to_be_empty()
    with server.client() as api:
        assert api.get_hyperparams(clone_id)["Hydra"]["dataset.main.number"]["value"] == "92"
    editor.fill(good_yaml.replace("epochs: 10", "epochs: 5"))
    ui.page.get_by_role("button", name="Save").click()
    expect(ui.page.locator(".notice-ok")).to_contain_text("Configuration saved")
    with server.client() as api:
        task = api.get_task(clone_id)
    assert task["hyperparams"]["Hydra"]["dataset.main.number"]["value"] == "92"
    assert "epochs: 5" in task["configuration"]["OmegaConf"]["value"]


def test_a_group_choice_the_server_cannot_list_is_saved_with_a_warning(
    logged_in: UiSession, source: dict[str, Any], server: Any
) -> None:
    """A run recorded without its config groups: a group choice is accepted, and the page
    says that Hydra, not the save, checks the option (issue #13)."""
    ui = logged_in
    assert "config_groups" not in source["runtime"]["hydra"]
    clone_id = clone_in_ui(ui, source["id"], "train-other-db")
    ui.page.get_by_role("button", name="Edit configuration").click()
    names = ui.page.get_by_label("Hydra parameter name")
    db_index = names.evaluate_all("els => els.findIndex(e => e.value === 'db')")
    ui.page.get_by_label("Hydra parameter value").nth(db_index).fill("postgresql")
    add_hydra_entry(ui.page, "+extra.note", "x")
    ui.page.get_by_role("button", name="Save").click()
    warning = ui.page.locator(".notice-warn")
    expect(warning).to_contain_text("Not checked: the option of db")
    expect(warning).to_contain_text("Hydra checks it when the task runs")
    expect(warning).not_to_contain_text("extra.note")
    with server.client() as api:
        assert api.get_hyperparams(clone_id)["Hydra"]["db"]["value"] == "postgresql"
