"""Reset, publish, archive and delete from the experiment page, each asking where it should."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from hydratrack.client import ApiError
from tests.browser.conftest import UiSession
from tests.browser.runs import hydra_run

pytestmark = pytest.mark.browser


@pytest.fixture
def finished(server: Any) -> dict[str, Any]:
    with server.client() as api:
        return hydra_run(api, f"actions-{uuid.uuid4().hex[:6]}", "finished-run")


def test_reset_asks_then_clears_outputs(
    logged_in: UiSession, finished: dict[str, Any], server: Any
) -> None:
    ui = logged_in
    ui.goto(f"/tasks/{finished['id']}#console")
    expect(ui.page.locator("#console")).to_contain_text("epoch 0")
    ui.page.get_by_role("button", name="Reset").click()
    dialog = ui.page.get_by_role("dialog")
    expect(dialog).to_contain_text("console, scalars and artifacts are deleted")
    dialog.get_by_role("button", name="Cancel").click()
    expect(ui.page.locator(".title-row .status")).to_have_text("completed")
    ui.page.get_by_role("button", name="Reset").click()
    ui.page.get_by_role("dialog").get_by_role("button", name="Reset").click()
    expect(ui.page.locator(".title-row .status")).to_have_text("draft")
    expect(ui.page.locator("#console-empty")).to_be_visible()
    with server.client() as api:
        assert api.get_task(finished["id"])["status"] == "draft"
        assert api.get_console(finished["id"])["items"] == []


def test_publish_locks_the_task(
    logged_in: UiSession, finished: dict[str, Any], server: Any
) -> None:
    ui = logged_in
    ui.goto(f"/tasks/{finished['id']}#info")
    ui.page.get_by_role("button", name="Publish").click()
    ui.page.get_by_role("dialog").get_by_role("button", name="Publish").click()
    expect(ui.page.locator(".title-row .status")).to_have_text("published")
    for gone in ("Reset", "Publish", "Edit name, comment, tags"):
        expect(ui.page.get_by_role("button", name=gone)).to_have_count(0)
    expect(ui.page.get_by_role("button", name="Clone")).to_be_visible()
    with server.client() as api:
        assert api.get_task(finished["id"])["status"] == "published"


def test_archive_then_delete_with_confirmation(
    logged_in: UiSession, finished: dict[str, Any], server: Any
) -> None:
    ui = logged_in
    ui.goto(f"/tasks/{finished['id']}")
    ui.page.get_by_role("button", name="Archive").click()
    expect(ui.page.locator(".title-row .tag")).to_have_text("archived")
    expect(ui.page.get_by_role("button", name="Unarchive")).to_be_visible()
    ui.page.get_by_role("button", name="Delete").click()
    dialog = ui.page.get_by_role("dialog")
    expect(dialog).to_contain_text("cannot be undone")
    ui.screenshot("delete-confirm")
    dialog.press("Escape")
    expect(ui.page.get_by_role("dialog")).to_have_count(0)
    with server.client() as api:
        assert api.get_task(finished["id"])["archived"] is True
    ui.page.get_by_role("button", name="Delete").click()
    ui.page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    ui.page.wait_for_url(ui.url(f"/projects/{finished['project']['id']}"))
    with server.client() as api, pytest.raises(ApiError) as info:
        api.get_task(finished["id"])
    assert info.value.status == 404


def test_refused_action_shows_the_servers_reason(logged_in: UiSession, server: Any) -> None:
    ui = logged_in
    with server.client() as api:
        run = hydra_run(api, f"refuse-{uuid.uuid4().hex[:6]}", "racing-run")
        draft = api.clone_task(run["id"], name="racing clone")
    ui.goto(f"/tasks/{draft['id']}")
    expect(ui.page.get_by_role("button", name="Enqueue")).to_be_visible()
    with server.client() as api:  # someone else enqueues it meanwhile
        api.enqueue_task(draft["id"])
    ui.page.get_by_role("button", name="Enqueue").click()
    ui.page.get_by_role("dialog").get_by_role("button", name="Enqueue").click()
    expect(ui.page.locator(".notice-error")).to_contain_text("is queued; enqueue needs draft")
    with server.client() as api:
        api.dequeue_task(draft["id"])
