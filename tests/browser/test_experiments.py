"""Projects page and the experiments table: columns, filter, sort, paging, multi-select."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from hydratrack.client import ApiClient
from tests.browser.conftest import UiSession
from tests.browser.runs import hydra_run

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def project(server: Any) -> dict[str, Any]:
    api: ApiClient = server.client()
    name = f"table-{uuid.uuid4().hex[:6]}"
    runs = [
        hydra_run(api, name, "alpha-mysql", driver="mysql", lr=0.01, tags=["baseline"]),
        hydra_run(api, name, "beta-postgres", driver="postgresql", lr=0.02, status="failed"),
        hydra_run(api, name, "gamma-running", driver="mysql", lr=0.03, status="in_progress"),
    ]
    proj = next(p for p in api.list_projects(q=name)["items"] if p["name"] == name)
    api.close()
    return {"project": proj, "runs": runs}


def rows(ui: UiSession) -> list[str]:
    return ui.page.locator("#experiments-table tbody tr td:nth-child(2)").all_inner_texts()


def test_projects_page_lists_task_count_and_opens_the_table(
    logged_in: UiSession, project: dict[str, Any]
) -> None:
    ui = logged_in
    name = project["project"]["name"]
    ui.page.get_by_label("Filter projects by name").fill(name)
    row = ui.page.locator("#projects-table tbody tr", has_text=name)
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(2)).to_have_text("3")
    ui.screenshot("projects")
    row.get_by_role("link", name=name).click()
    ui.page.wait_for_url(re.compile(r"/projects/[0-9a-f]{32}"))
    expect(ui.page.locator("#experiments-table tbody tr")).to_have_count(3)
    expect(ui.page.locator("#experiments-table .status-failed")).to_have_text("failed")


def test_columns_filters_and_sort(logged_in: UiSession, project: dict[str, Any]) -> None:
    ui = logged_in
    ui.goto(f"/projects/{project['project']['id']}")
    expect(ui.page.locator("#experiments-table tbody tr")).to_have_count(3)
    # chosen hyperparameter and scalar columns: picked from what the runs recorded, or typed
    picker = ui.page.get_by_label("Add to hyperparameter columns")
    expect(picker.locator("option[value='Hydra/db']")).to_have_count(1)
    picker.select_option("Hydra/db")
    expect(ui.page.get_by_label("Hyperparameter columns", exact=True)).to_have_value("Hydra/db")
    expect(ui.page.locator("#experiments-table thead")).to_contain_text("Hydra/db")
    expect(
        ui.page.get_by_label("Add to scalar columns (last value)").locator(
            "option[value='loss/val']"
        )
    ).to_have_count(1)
    ui.page.get_by_label("Hyperparameter columns", exact=True).fill("Hydra/db, Hydra/optim.lr")
    ui.page.get_by_label("Hyperparameter columns", exact=True).press("Enter")
    ui.page.get_by_label("Scalar columns (last value)", exact=True).fill("loss/train")
    ui.page.get_by_label("Scalar columns (last value)", exact=True).press("Enter")
    header = ui.page.locator("#experiments-table thead")
    expect(header).to_contain_text("Hydra/optim.lr")
    expect(header).to_contain_text("loss/train")
    beta = ui.page.locator("#experiments-table tbody tr", has_text="beta-postgres")
    expect(beta).to_contain_text("postgresql")
    expect(beta).to_contain_text("0.02")
    ui.screenshot("table-columns")
    # sort by name, both ways
    ui.page.get_by_role("button", name=re.compile("^Name")).click()
    expect(ui.page.locator("#experiments-table tbody tr").first).to_contain_text("alpha-mysql")
    ui.page.get_by_role("button", name=re.compile("^Name")).click()
    expect(ui.page.locator("#experiments-table tbody tr").first).to_contain_text("gamma-running")
    assert "order_by=-name" in ui.page.url
    # filters: status, hyperparameter value, tag, text
    ui.page.get_by_label("Status").select_option("failed")
    expect(ui.page.locator("#experiments-table tbody tr")).to_have_count(1)
    assert rows(ui) == ["beta-postgres"]
    ui.page.get_by_label("Status").select_option("")
    ui.page.get_by_label("Hyperparameter", exact=True).fill("Hydra/db=mysql")
    expect(ui.page.locator("#experiments-table tbody tr")).to_have_count(2)
    assert sorted(rows(ui)) == ["alpha-mysql", "gamma-running"]
    ui.page.get_by_label("Hyperparameter", exact=True).fill("")
    ui.page.get_by_label("Tag").fill("baseline")
    expect(ui.page.locator("#experiments-table tbody tr")).to_have_count(1)
    ui.page.get_by_label("Tag").fill("")
    ui.page.get_by_label("Text").fill("gamma")
    expect(ui.page.locator("#experiments-table tbody tr")).to_have_count(1)
    ui.page.get_by_label("Text").fill("no-such-run")
    expect(ui.page.get_by_text("No experiments match these filters.")).to_be_visible()
    # the view survives a reload: it lives in the URL
    ui.page.get_by_label("Text").fill("alpha")
    expect(ui.page.locator("#experiments-table tbody tr")).to_have_count(1)
    ui.page.reload()
    expect(ui.page.get_by_label("Text")).to_have_value("alpha")
    expect(ui.page.locator("#experiments-table tbody tr")).to_have_count(1)


def test_multi_select_compare_and_archive(
    logged_in: UiSession, project: dict[str, Any], server: Any
) -> None:
    ui = logged_in
    ui.goto(f"/projects/{project['project']['id']}")
    expect(ui.page.get_by_role("button", name="Compare")).to_be_disabled()
    ui.page.get_by_label("Select alpha-mysql").check()
    ui.page.get_by_label("Select beta-postgres").check()
    expect(ui.page.get_by_text("2 selected")).to_be_visible()
    ui.page.get_by_role("button", name="Compare").click()
    ui.page.wait_for_url(re.compile(r"/compare\?ids=[0-9a-f]{32},[0-9a-f]{32}"))
    expect(ui.page.locator(".compare-head")).to_have_count(2)
    # archive one from the table; it leaves the default view and shows under "Archived"
    ui.goto(f"/projects/{project['project']['id']}")
    ui.page.get_by_label("Select beta-postgres").check()
    ui.page.get_by_role("button", name="Archive").click()
    expect(ui.page.locator("#experiments-table tbody tr")).to_have_count(2)
    beta = next(r for r in project["runs"] if r["name"] == "beta-postgres")
    with server.client() as api:
        assert api.get_task(beta["id"])["archived"] is True
    ui.page.get_by_label("Archived").check()
    expect(ui.page.locator("#experiments-table tbody tr")).to_have_count(1)
    ui.page.get_by_label("Select beta-postgres").check()
    ui.page.get_by_role("button", name="Unarchive").click()
    expect(ui.page.get_by_text("No experiments match these filters.")).to_be_visible()
    with server.client() as api:
        assert api.get_task(beta["id"])["archived"] is False


def test_bulk_enqueue_reports_what_could_not_be_enqueued(
    logged_in: UiSession, project: dict[str, Any], server: Any
) -> None:
    ui = logged_in
    with server.client() as api:
        draft = api.clone_task(project["runs"][0]["id"], name="delta-draft")
    ui.goto(f"/projects/{project['project']['id']}")
    ui.page.get_by_label("Select delta-draft").check()
    ui.page.get_by_label("Select alpha-mysql").check()
    ui.page.get_by_role("button", name="Enqueue").click()
    dialog = ui.page.get_by_role("dialog")
    expect(dialog.get_by_label("Queue")).to_be_visible()
    dialog.get_by_role("button", name="Enqueue").click()
    expect(ui.page.locator(".notice-ok")).to_contain_text("Enqueue: 1 experiment(s) done")
    expect(ui.page.locator(".notice-error")).to_contain_text("alpha-mysql")
    ui.screenshot("bulk-enqueue")
    with server.client() as api:
        assert api.get_task(draft["id"])["status"] == "queued"
        api.dequeue_task(draft["id"])
        api.delete_task(draft["id"])


def test_server_side_paging(logged_in: UiSession, server: Any) -> None:
    ui = logged_in
    name = f"paging-{uuid.uuid4().hex[:6]}"
    with server.client() as api:
        for i in range(55):
            api.create_task({"name": f"run-{i:03d}", "project": name})
        proj = next(p for p in api.list_projects(q=name)["items"] if p["name"] == name)
    ui.goto(f"/projects/{proj['id']}?order_by=name")
    expect(ui.page.locator("#experiments-table tbody tr")).to_have_count(50)
    expect(ui.page.locator(".pager")).to_contain_text("1–50 of 55 experiments")
    expect(ui.page.get_by_role("button", name="Previous page")).to_be_disabled()
    ui.page.get_by_role("button", name="Next page").click()
    expect(ui.page.locator("#experiments-table tbody tr")).to_have_count(5)
    expect(ui.page.locator(".pager")).to_contain_text("51–55 of 55 experiments")
    assert rows(ui) == [f"run-{i:03d}" for i in range(50, 55)]
    expect(ui.page.get_by_role("button", name="Next page")).to_be_disabled()
    assert "offset=50" in ui.page.url
    # a filter starts again at the first page
    ui.page.get_by_label("Text").fill("run-00")
    expect(ui.page.locator("#experiments-table tbody tr")).to_have_count(10)
    assert "offset" not in ui.page.url
