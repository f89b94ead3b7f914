"""Every control on the main pages has an accessible name; pages fit 1280 px without a
horizontal scroll bar."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import UiSession
from tests.browser.runs import hydra_run

pytestmark = pytest.mark.browser

UNNAMED_CONTROLS = """() => [...document.querySelectorAll('input, select, textarea, button, a[href]')]
  .filter(el => el.offsetParent !== null || el.closest('dialog[open]'))
  .filter(el => {
    const name = (el.getAttribute('aria-label') || '').trim()
      || (el.labels && [...el.labels].map(l => l.textContent).join('').trim())
      || (el.getAttribute('aria-labelledby') || '').trim()
      || (['BUTTON', 'A'].includes(el.tagName) ? el.textContent.trim() : '')
      || (el.getAttribute('title') || '').trim();
    return !name;
  })
  .map(el => el.outerHTML.slice(0, 120))"""


@pytest.fixture(scope="module")
def pair(server: Any) -> list[dict[str, Any]]:
    with server.client() as api:
        project = f"a11y-{uuid.uuid4().hex[:6]}"
        a = hydra_run(api, project, "a11y-a", driver="mysql")
        b = hydra_run(api, project, "a11y-b", driver="postgresql")
        draft = api.clone_task(a["id"], name="a11y-draft")
        return [a, b, draft]


def check(ui: UiSession) -> None:
    assert ui.page.evaluate(UNNAMED_CONTROLS) == []
    assert ui.page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_controls_are_named_and_pages_fit(logged_in: UiSession, pair: list[dict[str, Any]]) -> None:
    ui = logged_in
    a, b, draft = pair
    check(ui)  # projects
    ui.goto(f"/projects/{a['project']['id']}")
    expect(ui.page.locator("#experiments-table")).to_be_visible()
    check(ui)
    for tab in ("execution", "configuration", "console", "scalars", "artifacts", "info"):
        ui.goto(f"/tasks/{a['id']}#{tab}")
        expect(ui.page.get_by_role("tab", name=tab.upper())).to_have_attribute(
            "aria-selected", "true"
        )
        ui.page.wait_for_load_state("networkidle")
        check(ui)
    ui.goto(f"/tasks/{draft['id']}#configuration")
    ui.page.get_by_role("button", name="Edit configuration").click()
    ui.page.get_by_role("button", name="Add Hydra parameter").click()
    check(ui)
    ui.page.get_by_role("button", name="Enqueue").click()
    expect(ui.page.get_by_role("dialog")).to_be_visible()
    check(ui)
    ui.goto(f"/compare?ids={a['id']},{b['id']}")
    expect(ui.page.locator("#compare-params")).to_be_visible()
    check(ui)
    ui.goto("/queues")
    expect(ui.page.locator("#queues-table")).to_be_visible()
    check(ui)


def test_tabs_work_from_the_keyboard(logged_in: UiSession, pair: list[dict[str, Any]]) -> None:
    ui = logged_in
    ui.goto(f"/tasks/{pair[0]['id']}")
    ui.page.get_by_role("tab", name="EXECUTION").focus()
    ui.page.keyboard.press("ArrowRight")
    expect(ui.page.get_by_role("tab", name="CONFIGURATION")).to_be_focused()
    expect(ui.page.get_by_role("tab", name="CONFIGURATION")).to_have_attribute(
        "aria-selected", "true"
    )
    expect(ui.page.locator("#section-Hydra")).to_be_visible()
    ui.page.keyboard.press("ArrowLeft")
    ui.page.keyboard.press("ArrowLeft")
    expect(ui.page.get_by_role("tab", name="INFO")).to_be_focused()
