"""The audit log page (/audit): admins read who did what, filter it and page through it;
members get no page and no data."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import UiSession
from tests.browser.test_accessibility import check
from tests.browser.test_admin import PASSWORD, bob  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def test_admin_reads_and_filters_the_audit_log(
    logged_in: UiSession,
    bob: dict[str, Any],  # noqa: F811
    server: Any,
) -> None:
    name = f"audited-{uuid.uuid4().hex[:6]}"
    with server.client() as api:
        task = api.create_task({"name": name, "project": "audit-ui"})
        api.request("POST", f"/tasks/{task['id']}/enqueue", json={"queue": "default"})
        # an unbroken long value in a detail wraps inside its cell, never widens the page
        api.create_task({"name": "w" * 250, "project": "audit-ui"})
    ui = logged_in
    ui.goto("/admin")
    ui.page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    ui.page.wait_for_url(ui.url("/audit"))
    table = ui.page.get_by_role("table", name="Audit log")
    created = table.locator("tr", has_text=task["id"]).filter(has_text="task.create")
    expect(created).to_contain_text(f"name={name}")
    expect(created.get_by_role("link", name=f"task {task['id']}")).to_have_attribute(
        "href", f"/tasks/{task['id']}"
    )
    expect(table.locator("tr", has_text=bob["name"]).filter(has_text="key.create")).to_have_count(1)
    check(ui)
    ui.screenshot("audit")

    search = ui.page.get_by_role("search", name="Filter the audit log")
    search.get_by_label("Target id").fill(task["id"])
    search.get_by_label("Action").fill("task.*")
    search.get_by_role("button", name="Apply").click()
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").first).to_contain_text("task.enqueue")
    expect(table.locator("tbody tr").first).to_contain_text("queue=default")
    assert f"target={task['id']}" in ui.page.url  # the filter is in the address: a link
    ui.page.reload()
    expect(ui.page.get_by_role("table", name="Audit log").locator("tbody tr")).to_have_count(2)
    assert not ui.errors


def test_members_get_no_audit_page(
    browser: Browser,
    bob: dict[str, Any],  # noqa: F811
    server: Any,
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    try:
        ui = UiSession(context.new_page(), server, "member-audit")
        ui.login(bob["name"], PASSWORD)
        nav = ui.page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Audit log")).to_have_count(0)
        ui.goto("/audit")
        expect(ui.page.get_by_role("alert")).to_contain_text("Admins only")
        resp = ui.page.request.get(ui.url("/api/v1/audit"))
        assert resp.status == 403
        assert not ui.errors
    finally:
        context.close()
