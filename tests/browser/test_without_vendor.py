"""Without the built chart library (scripts/build-web not run) pages still work and say why."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Route, expect

from tests.browser.conftest import UiSession
from tests.browser.runs import hydra_run

pytestmark = pytest.mark.browser


def test_scalars_tab_explains_missing_charts_and_lists_last_values(
    logged_in: UiSession, server: Any
) -> None:
    ui = logged_in
    with server.client() as api:
        run = hydra_run(api, f"novendor-{uuid.uuid4().hex[:6]}", "plain-run", steps=5)

    def missing(route: Route) -> None:
        route.fulfill(status=404, body="not found")

    ui.page.route("**/static/vendor/**", missing)
    ui.goto(f"/tasks/{run['id']}#scalars")
    expect(ui.page.locator("#charts-missing")).to_contain_text("scripts/build-web")
    expect(ui.page.locator("#charts canvas")).to_have_count(0)
    last = ui.page.locator("#charts table tbody tr", has_text="accuracy")
    expect(last).to_contain_text("val")
    expect(last.locator("td").nth(2)).to_have_text("5")
    ui.screenshot("no-vendor")
    # the rest of the page is unaffected
    ui.page.get_by_role("tab", name="CONFIGURATION").click()
    expect(ui.page.locator("#section-Hydra")).to_be_visible()
