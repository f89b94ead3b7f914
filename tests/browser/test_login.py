"""Signing in: password form, wrong password, one-click URL, 401 redirect, sign out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import UiSession

pytestmark = pytest.mark.browser


def test_wrong_password_is_refused_with_a_message(ui: UiSession) -> None:
    ui.goto("/login")
    ui.page.get_by_label("Username").fill("admin")
    ui.page.get_by_label("Password").fill("not-the-password")
    ui.page.get_by_role("button", name="Sign in").click()
    expect(ui.page.locator("#login-error")).to_have_text("Wrong username or password.")
    assert ui.page.url == ui.url("/login")
    ui.screenshot("login-error")


def test_password_login_shows_projects_and_sign_out_ends_the_session(ui: UiSession) -> None:
    ui.login()
    expect(ui.page.get_by_role("heading", name="Projects")).to_be_visible()
    expect(ui.page.locator(".topbar .username")).to_have_text("admin")
    ui.screenshot("projects")
    ui.page.get_by_role("button", name="Sign out").click()
    ui.page.wait_for_url(re.compile(r"/login"))
    ui.goto("/queues")
    ui.page.wait_for_url(re.compile(r"/login\?next=%2Fqueues"))


def test_unauthenticated_page_redirects_to_login_and_back(ui: UiSession) -> None:
    ui.goto("/queues")
    ui.page.wait_for_url(re.compile(r"/login\?next=%2Fqueues$"))
    ui.page.get_by_label("Username").fill("admin")
    ui.page.get_by_label("Password").fill(ui.server.admin_password)
    ui.page.get_by_role("button", name="Sign in").click()
    ui.page.wait_for_url(ui.url("/queues"))
    expect(ui.page.get_by_role("heading", name="Queues and workers")).to_be_visible()


def test_next_parameter_cannot_leave_the_site(ui: UiSession) -> None:
    ui.goto("/login?next=//evil.example/x")
    ui.page.get_by_label("Username").fill("admin")
    ui.page.get_by_label("Password").fill(ui.server.admin_password)
    ui.page.get_by_role("button", name="Sign in").click()
    ui.page.wait_for_url(ui.url("/"))


def test_one_click_login_url_works_once(ui: UiSession) -> None:
    match = re.search(r"(/login\?token=[\w-]+)", ui.server.log())
    assert match, "the server printed no one-click login URL"
    ui.goto(match.group(1))
    ui.page.wait_for_url(ui.url("/"))
    expect(ui.page.get_by_role("heading", name="Projects")).to_be_visible()
    ui.page.context.clear_cookies()
    ui.goto(match.group(1))
    expect(ui.page.locator("#login-error")).to_contain_text("already used or has expired")
    ui.screenshot("token-used")


def test_session_requests_carry_the_csrf_token(logged_in: UiSession) -> None:
    """The page's own calls send X-CSRF-Token; the same call without it is refused."""
    ui = logged_in
    status = ui.page.evaluate(
        "async () => (await fetch('/api/v1/projects', {method: 'POST', credentials: 'same-origin',"
        " headers: {'Content-Type': 'application/json'}, body: JSON.stringify({name: 'csrf-probe'})})).status"
    )
    assert status == 403
    created = ui.page.evaluate(
        "async () => { const api = await import('/static/js/api.js');"
        " return (await api.post('/projects', {name: 'csrf-ok-' + Date.now()})).name; }"
    )
    assert created.startswith("csrf-ok-")


def test_login_page_when_already_signed_in_goes_on(logged_in: UiSession) -> None:
    ui = logged_in
    ui.goto("/login?next=%2Fqueues")
    ui.page.wait_for_url(ui.url("/queues"))
