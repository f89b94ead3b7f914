"""``GET /tasks`` at the API: exact totals under filters and paging, chosen columns, bad keys.

The store-level cases (both ways of reading a filtered page against an oracle) are in
tests/unit/test_store_task_list.py; these go through a real server process.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hydratrack.client import ApiClient
from tests.api.conftest import assert_error, unique


@pytest.fixture
def project(api: ApiClient) -> str:
    """30 tasks: lr 0.1 on 20 of them (5 of those archived), lr 0.01 on 10."""
    name = unique("listing")
    for i in range(30):
        task = api.create_task(
            {
                "name": f"run-{i:02d}",
                "project": name,
                "hyperparams": {
                    "Hydra": {"lr": "0.1" if i < 20 else "0.01", "seed": str(i)},
                    "Data": {"lr": "7", "seed": "x"},
                },
            }
        )
        if i < 5:
            api.archive_task(task["id"])
    return name


def names(answer: Any) -> list[str]:
    return [t["name"] for t in answer["items"]]


def test_filter_totals_are_exact_on_every_page(api: ApiClient, project: str) -> None:
    pages = [
        api.list_tasks(
            project=project, param="Hydra/lr=0.1", order_by="name", limit=4, offset=offset
        )
        for offset in range(0, 20, 4)
    ]
    assert [p["total"] for p in pages] == [15] * 5
    assert sum((names(p) for p in pages), []) == [f"run-{i:02d}" for i in range(5, 20)]
    archived = api.list_tasks(project=project, param="Hydra/lr=0.1", archived=True)
    assert archived["total"] == 5
    assert api.list_tasks(project=project, param=["Hydra/lr=0.1", "Hydra/seed=7"])["total"] == 1
    assert api.list_tasks(project=project, param="Data/lr=0.1")["total"] == 0


def test_totals_without_a_filter_past_the_end_and_on_the_last_page(
    api: ApiClient, project: str
) -> None:
    assert api.list_tasks(project=project, limit=10)["total"] == 25
    last = api.list_tasks(project=project, limit=10, offset=20, order_by="name")
    assert (names(last), last["total"]) == ([f"run-{i:02d}" for i in range(25, 30)], 25)
    beyond = api.list_tasks(project=project, limit=10, offset=100)
    assert (beyond["items"], beyond["total"]) == ([], 25)
    beyond = api.list_tasks(project=project, param="Hydra/lr=0.01", offset=100)
    assert (beyond["items"], beyond["total"]) == ([], 10)


def test_chosen_columns_are_the_pairs_asked_for(api: ApiClient, project: str) -> None:
    """``Hydra/lr`` and ``Data/seed`` asked: ``Hydra/seed`` and ``Data/lr`` are not shown."""
    answer = api.list_tasks(
        project=project,
        order_by="name",
        limit=3,
        params="Hydra/lr,Data/seed,Hydra/nothing",
        metrics="loss/train",
    )
    assert [t["params"] for t in answer["items"]] == [{"Hydra/lr": "0.1", "Data/seed": "x"}] * 3
    assert [t["last_metrics"] for t in answer["items"]] == [{}] * 3


@pytest.mark.parametrize(
    "query, word",
    [
        ({"params": "lr"}, "params entry"),
        ({"metrics": "loss"}, "metrics entry"),
        ({"param": "Hydra/lr"}, "param filter"),
        ({"order_by": "-colour"}, "order_by"),
    ],
)
def test_bad_keys_are_refused_even_when_no_task_matches(
    http: httpx.Client, query: dict[str, str], word: str
) -> None:
    answer = http.get("/tasks", params={"project": unique("nothing-here"), **query})
    assert_error(answer, 400, "bad_request", word)
