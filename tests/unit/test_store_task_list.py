"""The task list's hyperparameter filter, on SQLite and (with HYDRATRACK_TEST_DB) PostgreSQL.

The oracle for every filtered page is the unfiltered list in the same order, restricted
to the tasks whose stored hyperparameters match: whichever way the store reads a page
(sorting the matches, or walking the sort order and probing each task), it must equal
that. The walk is taken on SQLite only for many matches (``WALK_MIN_MATCHES``); these
tests lower that bound so a small store exercises it, and check which way was taken.
"""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import event, text

from hydratrack.server.errors import BadRequest
from hydratrack.server.store import lifecycle, params, task_list, tasks, users
from hydratrack.server.store.db import Database, normalize_url
from hydratrack.server.store.task_list import TaskFilter
from tests.support import servers

BACKENDS = ["sqlite"] + (["postgresql"] if servers.requested_db_url() else [])
SQLITE_ONLY = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
LONG = "v" * 230  # longer than the indexed prefix: matched on the full value too


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = None
    if request.param == "postgresql":
        url = servers.create_pg_database(str(servers.requested_db_url()))
    database = Database(normalize_url(url or "", tmp_path))
    try:
        database.migrate()
        yield database
    finally:
        database.dispose()
        if url:
            servers.drop_pg_database(url)


def _lr(i: int) -> str:
    return "0.1" if i % 4 else "0.01"  # 3 in 4 tasks share a value: dense


def _seed(db: Database, n: int = 48) -> None:
    """``n`` tasks in two projects; varied status (started or not), names, some archived."""
    with db.write() as conn:
        uid = users.create_user(conn, "u", "password123")["id"]
        for i in range(n):
            hp = {
                "lr": _lr(i),
                "db": "pg" if i % 3 else "sqlite",
                "note": LONG + ("a" if i % 2 else "b"),
            }
            task = tasks.create(
                conn,
                uid,
                {
                    "name": f"run-{(i * 7) % n:02d}",
                    "project": f"p{i % 2}",
                    "status": "in_progress" if i % 5 and i % 6 else "draft",
                    "hyperparams": {"Hydra": hp, "Other": {"lr": "0.1"}},
                },
            )[0]
            if i % 6 == 0:
                lifecycle.archive(conn, task["id"], True)
    db.optimize(full=True)


def _all_hyperparams(db: Database) -> dict[str, dict[str, str]]:
    """Every task's stored hyperparameters as ``{"Section/name": value}``."""
    with db.read() as conn:
        items, _ = task_list.list_(conn, TaskFilter(archived=None, limit=1000))
        return {
            i["id"]: {
                f"{s}/{n}": e["value"]
                for s, entries in params.get_hyperparams(conn, i["id"]).items()
                for n, e in entries.items()
            }
            for i in items
        }


def _oracle(
    db: Database, f: TaskFilter, stored: dict[str, dict[str, str]]
) -> tuple[list[str], int]:
    """The unfiltered list in the same order, restricted to the matching tasks."""
    everything = TaskFilter(project=f.project, archived=f.archived, order_by=f.order_by, limit=1000)
    with db.read() as conn:
        items, _ = task_list.list_(conn, everything)
    wanted = [p.split("=", 1) for p in f.param]
    hits = [i["id"] for i in items if all(stored[i["id"]].get(k) == v for k, v in wanted)]
    return hits[f.offset : f.offset + f.limit], len(hits)


class Shapes:
    """Records whether each page was read by walking the order (EXISTS) or sorting matches."""

    def __init__(self, db: Database) -> None:
        self.seen: list[str] = []
        self.statements: list[tuple[str, Any]] = []
        event.listen(db.engine, "before_cursor_execute", self._on_execute)

    def _on_execute(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any
    ) -> None:
        if re.match(r"\s*SELECT tasks\.id\s+FROM tasks", statement):
            self.seen.append("walk" if "EXISTS" in statement else "sort")
            self.statements.append((statement, parameters))


def test_filtered_pages_equal_the_unfiltered_list_restricted(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(db)
    stored = _all_hyperparams(db)
    monkeypatch.setattr(task_list, "WALK_MIN_MATCHES", 1)
    shapes = Shapes(db)
    filters = [
        ["Hydra/lr=0.1"],
        ["Hydra/lr=0.01"],
        ["Hydra/lr=0.1", "Hydra/db=pg"],
        [f"Hydra/note={LONG}a"],
        ["Other/lr=0.1", "Hydra/lr=0.01"],
    ]
    orders = ["-created", "created", "name", "-last_update", "-started", "started", "status"]
    pages = [(0, 5), (5, 5), (30, 10), (0, 100), (200, 5)]
    checked = 0
    for param, order_by, (offset, limit), project, archived in itertools.product(
        filters, orders, pages, [None, "p1"], [False, True, None]
    ):
        f = TaskFilter(
            param=param,
            order_by=order_by,
            offset=offset,
            limit=limit,
            project=project,
            archived=archived,
        )
        with db.read() as conn:
            items, total = task_list.list_(conn, f)
        want_ids, want_total = _oracle(db, f, stored)
        assert ([i["id"] for i in items], total) == (want_ids, want_total), f
        checked += 1
    assert checked == 1050
    # PostgreSQL's planner makes the choice itself: the store always sends one shape there
    assert set(shapes.seen) == ({"walk", "sort"} if db.is_sqlite else {"sort"})


def test_walk_is_taken_only_when_matches_are_dense(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(offset + limit) x candidates < matches squared: a dense value walks, a rare one sorts."""
    _seed(db)
    monkeypatch.setattr(task_list, "WALK_MIN_MATCHES", 1)
    shapes = Shapes(db)
    with db.read() as conn:
        task_list.list_(conn, TaskFilter(param=["Hydra/lr=0.1"], limit=5))  # 32 of 40 live
        task_list.list_(conn, TaskFilter(param=["Hydra/lr=0.01"], limit=5))  # 8 of 40
        task_list.list_(conn, TaskFilter(param=["Hydra/lr=0.1"], limit=5, status=["draft"]))
    want = ["walk", "sort", "sort"] if db.is_sqlite else ["sort", "sort", "sort"]
    assert shapes.seen == want


def test_last_page_gives_the_total_and_empty_pages_still_count(db: Database) -> None:
    _seed(db, n=12)  # 10 live tasks
    with db.read() as conn:
        assert task_list.list_(conn, TaskFilter(limit=4))[1] == 10
        items, total = task_list.list_(conn, TaskFilter(limit=4, offset=8))
        assert (len(items), total) == (2, 10)
        assert task_list.list_(conn, TaskFilter(limit=5, offset=5))[1] == 10
        assert task_list.list_(conn, TaskFilter(limit=4, offset=50)) == ([], 10)
        assert task_list.list_(conn, TaskFilter(project="none")) == ([], 0)
        assert task_list.list_(conn, TaskFilter(param=["Hydra/lr=0.1"], offset=99)) == ([], 8)


def test_chosen_columns_are_exactly_the_pairs_asked_for(db: Database) -> None:
    _seed(db, n=4)
    f = TaskFilter(
        params=["Hydra/db", "Other/lr", "Hydra/missing"], order_by="name", metrics=["loss/train"]
    )
    with db.read() as conn:
        items, _ = task_list.list_(conn, f)
    # Hydra/lr and Other/db would also fit "section in (Hydra, Other), name in (db, lr)"
    assert {frozenset(i["params"]) for i in items} == {frozenset({"Hydra/db", "Other/lr"})}
    assert all(i["last_metrics"] == {} for i in items)


@pytest.mark.parametrize(
    "bad",
    [
        TaskFilter(params=["nosection"]),
        TaskFilter(metrics=["loss"]),
        TaskFilter(param=["Hydra/lr"]),
        TaskFilter(param=["lr=1"]),
        TaskFilter(order_by="colour"),
    ],
)
def test_bad_input_is_refused_even_when_nothing_matches(db: Database, bad: TaskFilter) -> None:
    bad.project = "no-such-project"
    with db.read() as conn, pytest.raises(BadRequest):
        task_list.list_(conn, bad)


@SQLITE_ONLY  # the store chooses the walk on SQLite only
def test_walk_orders_are_read_from_an_index_on_sqlite(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each order the walk may take has an index, so the walk stops after one page."""
    _seed(db)
    monkeypatch.setattr(task_list, "WALK_MIN_MATCHES", 1)
    shapes = Shapes(db)
    for column in sorted(task_list.WALK_ORDERS):
        for project in (None, "p1") if column == "created" else (None,):
            f = TaskFilter(param=["Hydra/lr=0.1"], order_by=f"-{column}", project=project, limit=2)
            with db.read() as conn:
                task_list.list_(conn, f)
                assert shapes.seen[-1] == "walk", f
                statement, parameters = shapes.statements[-1]
                cursor = conn.connection.driver_connection.cursor()
                plan = "\n".join(
                    str(row[-1])
                    for row in cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
                )
            assert "USE TEMP B-TREE FOR ORDER BY" not in plan, (column, plan)
            assert "CORRELATED SCALAR SUBQUERY" in plan, (column, plan)


# PostgreSQL only, so defined only when the test command gives one (HYDRATRACK_TEST_DB)
if "postgresql" in BACKENDS:

    @pytest.mark.parametrize("db", ["postgresql"], indirect=True)
    def test_postgresql_knows_how_many_tasks_share_a_value(db: Database) -> None:
        """Statistics over (section, name, value_prefix) together (migration 0006), gathered
        by ``optimize`` (as at server start) once a bulk load changed the table.

        Column by column the planner multiplies selectivities: "lr" is 1 name in 11 and
        "0.1" 150 values in 2,200, so it would expect ~14 rows; there are 150.
        """
        with db.write() as conn:  # only our ANALYZE may run
            conn.execute(text("ALTER TABLE hyperparams SET (autovacuum_enabled = false)"))
            uid = users.create_user(conn, "u", "password123")["id"]
            for i in range(200):
                hp = {f"k{j}": str(i * 10 + j) for j in range(10)}
                hp["lr"] = "0.1" if i < 150 else "0.2"
                tasks.create(
                    conn, uid, {"name": f"t{i}", "project": "p", "hyperparams": {"Hydra": hp}}
                )
        time.sleep(1.5)  # PostgreSQL publishes a backend's table counters within a second
        db.optimize(full=True)
        with db.read() as conn:
            plan = conn.execute(
                text(
                    "EXPLAIN (FORMAT JSON) SELECT task_id FROM hyperparams WHERE section = 'Hydra' "
                    "AND name = 'lr' AND value_prefix = '0.1'"
                )
            ).scalar_one()
        estimate = plan[0]["Plan"]["Plan Rows"]
        assert 120 <= estimate <= 180, estimate


@SQLITE_ONLY  # SQLite's plan; PostgreSQL reads the same index by its own costs
def test_a_status_filter_is_counted_and_paged_from_one_index_on_sqlite(db: Database) -> None:
    """tasks(archived, status, created) (migration 0007): no task row is read to test status."""
    _seed(db)
    shapes = Shapes(db)
    plans = []
    with db.read() as conn:
        items, total = task_list.list_(conn, TaskFilter(status=["draft"], limit=2))
        assert total == 8 and [i["status"] for i in items] == ["draft", "draft"]  # 16, 8 archived
        cursor = conn.connection.driver_connection.cursor()
        statement, parameters = shapes.statements[-1]
        count = re.sub(
            r"^\s*SELECT tasks\.id\s+FROM", "SELECT count(*) FROM", statement.split(" ORDER BY")[0]
        )
        for sql, args in ((statement, parameters), (count, parameters[:-2])):
            plans.append(
                "\n".join(str(row[-1]) for row in cursor.execute(f"EXPLAIN QUERY PLAN {sql}", args))
            )
    page, counted = plans
    assert "ix_tasks_archived_status_created" in page and "FOR ORDER BY" not in page, page
    assert "COVERING INDEX ix_tasks_archived_status_created" in counted, counted
