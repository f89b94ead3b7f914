"""Aborting a running task held by a worker; the queues page; live updates while running."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import UiSession
from tests.browser.runs import hydra_run

pytestmark = pytest.mark.browser


@pytest.fixture
def claimed(server: Any) -> Iterator[dict[str, Any]]:
    """A task claimed by a registered worker from a queue of its own: in_progress, held."""
    with server.client() as api:
        queue = api.create_queue(f"q-{uuid.uuid4().hex[:8]}")
        source = hydra_run(api, f"abort-{uuid.uuid4().hex[:6]}", "train-long")
        draft = api.clone_task(source["id"], name="train-long remote")
        api.enqueue_task(draft["id"], queue["name"])
        worker = api.register_worker(f"gpu-box-{uuid.uuid4().hex[:4]}", [queue["name"]])
        task = api.claim(worker["id"], timeout=5)
        assert task is not None and task["id"] == draft["id"]
        api.heartbeat(worker["id"], task["id"])
        yield {"task": task, "worker": worker, "queue": queue}
        api.unregister_worker(worker["id"])


def test_abort_a_running_task_and_see_it_stop_live(
    logged_in: UiSession, claimed: dict[str, Any], server: Any
) -> None:
    ui = logged_in
    task, worker = claimed["task"], claimed["worker"]
    ui.goto(f"/tasks/{task['id']}#console")
    expect(ui.page.locator(".title-row .status")).to_have_text("in progress")
    # output arriving while the page is open shows up without a reload
    with server.client() as api:
        api.post_events(
            task["id"],
            uuid.uuid4().hex,
            [{"type": "console", "stream": "stdout", "text": "remote step 1\n", "ts": 1.0}],
        )
    expect(ui.page.locator("#console")).to_contain_text("remote step 1")
    ui.page.get_by_role("button", name="Abort").click()
    dialog = ui.page.get_by_role("dialog")
    dialog.get_by_label("Reason (optional)").fill("wrong learning rate")
    dialog.get_by_role("button", name="Abort").click()
    expect(ui.page.locator(".notice-ok")).to_contain_text("Abort requested")
    ui.screenshot("abort-requested")
    with server.client() as api:
        answer = api.heartbeat(worker["id"], task["id"])
        assert task["id"] in answer["abort"]
        api.set_status(task["id"], "stopped", message="aborted by user")
    # the page polls while the task runs: it turns to stopped by itself
    expect(ui.page.locator(".title-row .status")).to_have_text("stopped", timeout=10_000)
    expect(ui.page.get_by_role("button", name="Abort")).to_have_count(0)
    expect(ui.page.get_by_role("button", name="Reset")).to_be_visible()
    ui.screenshot("stopped")


def test_abort_a_queued_task(logged_in: UiSession, server: Any) -> None:
    ui = logged_in
    with server.client() as api:
        queue = api.create_queue(f"q-{uuid.uuid4().hex[:8]}")
        src = hydra_run(api, f"abortq-{uuid.uuid4().hex[:6]}", "train-queued")
        draft = api.clone_task(src["id"], name="train-queued clone")
        api.enqueue_task(draft["id"], queue["name"])
    ui.goto(f"/tasks/{draft['id']}")
    expect(ui.page.locator(".title-row .status")).to_have_text("queued")
    ui.page.get_by_role("button", name="Abort").click()
    ui.page.get_by_role("dialog").get_by_role("button", name="Abort").click()
    expect(ui.page.locator(".title-row .status")).to_have_text("stopped")
    with server.client() as api:
        assert api.get_task(draft["id"])["status"] == "stopped"


def test_queues_page_shows_lengths_and_workers(
    logged_in: UiSession, claimed: dict[str, Any], server: Any
) -> None:
    ui = logged_in
    with server.client() as api:
        src = hydra_run(api, f"queues-{uuid.uuid4().hex[:6]}", "waiting-run")
        waiting = api.clone_task(src["id"], name="waiting clone")
        api.enqueue_task(waiting["id"], claimed["queue"]["name"])
        retry = api.create_queue(
            f"retry-{uuid.uuid4().hex[:6]}", lost_worker_policy="requeue", lost_worker_retries=2
        )
    ui.page.get_by_role("link", name="Queues").click()
    ui.page.wait_for_url(ui.url("/queues"))
    qrow = ui.page.locator("#queues-table tbody tr", has_text=claimed["queue"]["name"])
    expect(qrow.locator("td").nth(1)).to_have_text("1")
    expect(qrow.locator("td").nth(2)).to_have_text("fail")  # the default lost-worker policy
    rrow = ui.page.locator("#queues-table tbody tr", has_text=retry["name"])
    expect(rrow.locator("td").nth(2)).to_have_text("requeue (up to 2 times)")
    expect(ui.page.locator("#queues-table tbody tr", has_text="default")).to_have_count(1)
    wrow = ui.page.locator("#workers-table tbody tr", has_text=claimed["worker"]["name"])
    expect(wrow.get_by_role("link", name="train-long remote")).to_be_visible()
    expect(wrow).to_contain_text("ago")
    ui.screenshot("queues")
    wrow.get_by_role("link", name="train-long remote").click()
    ui.page.wait_for_url(ui.url(f"/tasks/{claimed['task']['id']}"))
    with server.client() as api:
        api.dequeue_task(waiting["id"])
