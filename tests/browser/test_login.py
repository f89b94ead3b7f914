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


# Each ``next`` value a browser turns into another origin: tab, LF, CR and backslashes are
# dropped or read as "/" by the URL parser, so a check on the raw text is not enough.
_ESCAPES = [
    "%2F%09%2Fevil.example%2Fpw",
    "%2F%0A%2Fevil.example%2Fpw",
    "%2F%0D%2Fevil.example%2Fpw",
    "%2F%5Cevil.example%2Fpw",
    "%5C%5Cevil.example%2Fpw",
    "%2F%5C%09evil.example%2Fpw",
    "%2F.%2F%2Fevil.example%2Fpw",
    "%09%2F%2Fevil.example%2Fpw",
    "https%3A%2F%2Fevil.example%2Fpw",
    "javascript%3Aalert(1)",
]


def _stay_home(ui: UiSession) -> list[str]:
    """Any request to evil.example is answered locally and recorded."""
    seen: list[str] = []

    def answer(route: object) -> None:
        seen.append(route.request.url)  # type: ignore[attr-defined]
        route.fulfill(status=200, body="evil")  # type: ignore[attr-defined]

    ui.page.context.route(re.compile(r"^https?://evil\.example"), answer)
    return seen


@pytest.mark.parametrize("escape", _ESCAPES)
def test_next_with_browser_normalized_escapes_stays_on_the_origin(
    ui: UiSession, escape: str
) -> None:
    seen = _stay_home(ui)
    ui.goto(f"/login?next={escape}")
    ui.page.get_by_label("Username").fill("admin")
    ui.page.get_by_label("Password").fill(ui.server.admin_password)
    ui.page.get_by_role("button", name="Sign in").click()
    ui.page.wait_for_url(lambda url: "/login" not in url)
    ui.page.wait_for_load_state()
    assert ui.page.url.startswith(ui.base + "/"), ui.page.url
    assert not seen


def test_signed_in_visit_to_login_with_escaping_next_stays_on_the_origin(ui: UiSession) -> None:
    seen = _stay_home(ui)
    ui.login()
    for escape in _ESCAPES:
        ui.goto(f"/login?next={escape}")
        ui.page.wait_for_url(lambda url: "/login" not in url)
        ui.page.wait_for_load_state()
        assert ui.page.url.startswith(ui.base + "/"), (escape, ui.page.url)
    assert not seen


def test_next_keeps_a_same_origin_path_with_query_and_hash(ui: UiSession) -> None:
    ui.goto("/login?next=%2Fqueues%3Fa%3D1%23top")
    ui.page.get_by_label("Username").fill("admin")
    ui.page.get_by_label("Password").fill(ui.server.admin_password)
    ui.page.get_by_role("button", name="Sign in").click()
    ui.page.wait_for_url(ui.url("/queues?a=1#top"))
