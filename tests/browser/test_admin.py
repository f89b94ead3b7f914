"""The admin page (/admin): users with role and state, every key and session, and the
disable / enable / revoke buttons working through session cookie + CSRF header."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import UiSession
from tests.browser.test_accessibility import check

pytestmark = pytest.mark.browser
PASSWORD = "bob's password 1"


@pytest.fixture
def bob(server: Any) -> Iterator[dict[str, Any]]:
    """A member with a UI session (cookie) and an API key pair."""
    name = f"bob-{uuid.uuid4().hex[:6]}"
    with server.client() as api:
        api.create_user(name, PASSWORD)
    with httpx.Client(base_url=server.url + "/api/v1", timeout=30) as c:
        login = c.post("/auth/login", json={"username": name, "password": PASSWORD})
        csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
        key = c.post("/auth/keys", json={"label": "bob-laptop"}, headers=csrf).json()
        yield {"name": name, "client": c, "key": (key["access_key"], key["secret_key"])}


def _me(server: Any, bob: dict[str, Any]) -> tuple[int, int]:
    """(status with bob's session, status with bob's key pair)."""
    by_key = httpx.get(server.url + "/api/v1/auth/me", auth=bob["key"]).status_code
    return bob["client"].get("/auth/me").status_code, by_key


def test_admin_disables_and_enables_a_user(
    logged_in: UiSession, bob: dict[str, Any], server: Any
) -> None:
    ui = logged_in
    ui.page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    ui.page.wait_for_url(ui.url("/admin"))
    users = ui.page.get_by_role("table", name="Users")
    expect(users.locator("tr[data-name='admin'] td").nth(1)).to_have_text("admin")
    row = users.locator(f"tr[data-name='{bob['name']}']")
    expect(row.locator("td").nth(1)).to_have_text("member")
    expect(row.locator("td").nth(2)).to_have_text("active")
    keys = ui.page.get_by_role("table", name="API keys")
    expect(keys.locator(f"tr[data-key='{bob['key'][0]}']")).to_contain_text("bob-laptop")
    sessions = ui.page.get_by_role("table", name="Sessions")
    expect(sessions.locator("tr", has_text=bob["name"])).to_have_count(1)
    check(ui)
    ui.screenshot("admin")
    assert _me(server, bob) == (200, 200)

    row.get_by_role("button", name=f"Disable {bob['name']}").click()
    ui.page.get_by_role("dialog").get_by_role("button", name="Disable").click()
    expect(row.locator("td").nth(2)).to_have_text("disabled")
    expect(sessions.locator("tr", has_text=bob["name"])).to_have_count(0)
    assert _me(server, bob) == (401, 401)
    ui.screenshot("admin-disabled")

    row.get_by_role("button", name=f"Enable {bob['name']}").click()
    expect(row.locator("td").nth(2)).to_have_text("active")
    assert _me(server, bob)[1] == 200  # the key works again; the session stays ended


def test_admin_revokes_a_key_and_a_session(
    logged_in: UiSession, bob: dict[str, Any], server: Any
) -> None:
    ui = logged_in
    ui.goto("/admin")
    keys = ui.page.get_by_role("table", name="API keys")
    keys.get_by_role("button", name=f"Revoke key {bob['key'][0]}").click()
    ui.page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(keys.locator(f"tr[data-key='{bob['key'][0]}']")).to_have_count(0)
    assert _me(server, bob) == (200, 401)
    sessions = ui.page.get_by_role("table", name="Sessions")
    sessions.locator("tr", has_text=bob["name"]).get_by_role("button").click()
    expect(sessions.locator("tr", has_text=bob["name"])).to_have_count(0)
    assert _me(server, bob)[0] == 401


def test_changes_need_the_csrf_header(logged_in: UiSession, bob: dict[str, Any]) -> None:
    """The page's cookie alone (as another site's form would send it) changes nothing."""
    resp = logged_in.page.request.patch(
        logged_in.url(f"/api/v1/users/{bob['name']}"), data={"disabled": True}
    )
    assert resp.status == 403
    assert bob["client"].get("/auth/me").status_code == 200


def test_members_see_no_admin_page(browser: Browser, bob: dict[str, Any], server: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    try:
        ui = UiSession(context.new_page(), server, "member")
        ui.login(bob["name"], PASSWORD)
        expect(ui.page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_count(2)
        ui.goto("/admin")
        expect(ui.page.get_by_role("alert")).to_contain_text("Admins only")
        assert not ui.errors
    finally:
        context.close()
