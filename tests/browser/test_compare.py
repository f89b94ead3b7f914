"""The compare page: hyperparameter and OmegaConf differences highlighted, scalars overlaid."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import UiSession
from tests.browser.runs import hydra_run

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def runs(server: Any) -> list[dict[str, Any]]:
    project = f"compare-{uuid.uuid4().hex[:6]}"
    with server.client() as api:
        return [
            hydra_run(api, project, "run-a", driver="mysql", number=10, lr=0.01),
            hydra_run(api, project, "run-b", driver="postgresql", number=10, lr=0.01),
            hydra_run(api, project, "run-c", driver="mysql", number=90, lr=0.01),
        ]


def test_differing_values_are_highlighted(logged_in: UiSession, runs: list[dict[str, Any]]) -> None:
    ui = logged_in
    a, b = runs[0], runs[1]
    ui.goto(f"/compare?ids={a['id']},{b['id']}")
    table = ui.page.locator("#compare-params")
    db = table.locator("tr[data-key='Hydra/db']")
    expect(db).to_have_class("differs")
    expect(db.locator("td.cell-diff")).to_have_text("postgresql")
    expect(db.locator("td").first).to_have_text("mysql")
    same = table.locator("tr[data-key='Hydra/optim.lr']")
    expect(same).not_to_have_class("differs")
    expect(same.locator("td.cell-diff")).to_have_count(0)
    diff = ui.page.get_by_label("OmegaConf differences between run-a and run-b")
    expect(diff.locator(".d-del")).to_have_text("-   driver: mysql\n")
    expect(diff.locator(".d-add")).to_have_text("+   driver: postgresql\n")
    # scalar plots overlaid: one chart per metric, a line per run and variant
    loss = ui.page.locator("#compare-charts figure", has_text="loss")
    expect(loss.locator(".u-legend")).to_contain_text("run-a · train")
    expect(loss.locator(".u-legend")).to_contain_text("run-b · val")
    ui.screenshot("compare")
    ui.page.get_by_label("Only differences").check()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr")).to_have_attribute("data-key", "Hydra/db")


def test_three_runs_against_the_baseline(logged_in: UiSession, runs: list[dict[str, Any]]) -> None:
    ui = logged_in
    ui.goto("/compare?ids=" + ",".join(r["id"] for r in runs))
    expect(ui.page.locator(".compare-head")).to_have_count(3)
    db = ui.page.locator("#compare-params tr[data-key='Hydra/db'] td")
    expect(db).to_have_text(["mysql", "postgresql", "mysql"])
    expect(db.nth(1)).to_have_class("mono cell-diff")
    expect(db.nth(2)).to_have_class("mono")
    diff_c = ui.page.get_by_label("OmegaConf differences between run-a and run-c")
    expect(diff_c.locator(".d-add")).to_have_text("+     number: 90\n")
    ui.screenshot("compare-three")


def test_compare_needs_two_and_reports_unknown_ids(
    logged_in: UiSession, runs: list[dict[str, Any]]
) -> None:
    ui = logged_in
    ui.goto(f"/compare?ids={runs[0]['id']}")
    expect(ui.page.get_by_text("Pick two or more experiments to compare.")).to_be_visible()
    ui.goto(f"/compare?ids={runs[0]['id']},{'f' * 32}")
    expect(ui.page.get_by_role("alert")).to_contain_text("Could not load the experiments")
    expect(ui.page.get_by_role("alert")).to_contain_text("f" * 32)
