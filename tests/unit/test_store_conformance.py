"""One store test suite, run on SQLite and (with HYDRATRACK_TEST_DB) on PostgreSQL.

These drive the repository layer directly: migrations, atomic claims under concurrency,
console numbering, metric summaries, lease expiry.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
from pathlib import Path
from typing import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text, update

from hydratrack.server.errors import Conflict
from hydratrack.server.store import events, leases, lifecycle, queues, tasks, users, workers
from hydratrack.server.store import scalars as scalar_store
from hydratrack.server.store.db import Database, normalize_url
from hydratrack.server.store.migration import current_revision, upgrade
from hydratrack.server.store.models import metadata
from hydratrack.server.store.models import tasks as tasks_t
from hydratrack.status import TaskStatus
from tests.support import servers
from tests.support.old_schema import old_user_and_task

BACKENDS = ["sqlite"] + (["postgresql"] if servers.requested_db_url() else [])


@pytest.fixture(params=BACKENDS)
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(normalize_url("", tmp_path))
        url = None
    else:
        url = servers.create_pg_database(str(servers.requested_db_url()))
        database = Database(normalize_url(url, tmp_path))
    try:
        yield database
    finally:
        database.dispose()
        if url:
            servers.drop_pg_database(url)


@pytest.fixture
def db(empty_db: Database) -> Database:
    empty_db.migrate()
    return empty_db


@pytest.fixture
def user_id(db: Database) -> str:
    with db.write() as conn:
        return str(users.create_user(conn, "u", "password123")["id"])


def test_migrations_match_models_and_rerun_is_noop(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    head = current_revision(db.engine)
    assert head is not None
    upgrade(db.engine)  # a second start
    assert current_revision(db.engine) == head


def _row_counts(db: Database, tables: list[str]) -> dict[str, int]:
    with db.read() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


def test_upgrade_from_first_schema_keeps_data(empty_db: Database) -> None:
    """Every row survives every migration, child rows of rebuilt tables included (a batch
    migration on SQLite drops and re-creates a table: with foreign keys on, that deleted
    every API key and session of a user table rebuilt by 0009)."""
    upgrade(empty_db.engine, "0001")
    with empty_db.write() as conn:
        uid, tid = old_user_and_task(conn, hydra_db="x")
        conn.execute(
            text(
                "INSERT INTO scalars (task_id, metric, variant, iter, value, ts) "
                "VALUES (:t, 'm', 'v', 0, 1.5, 0.0)"
            ),
            {"t": tid},
        )
        conn.execute(
            text(
                "INSERT INTO api_keys (access_key, secret_hash, user_id, label, created)"
                " VALUES ('k', 'h', :u, '', '2026-11-01 10:00:00')"
            ),
            {"u": uid},
        )
        conn.execute(
            text(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created, expires)"
                " VALUES ('s', :u, 'c', '2026-11-01 10:00:00', '2099-01-01 00:00:00')"
            ),
            {"u": uid},
        )
    kept = ["users", "api_keys", "sessions", "projects", "tasks", "hyperparams"]
    before = _row_counts(empty_db, kept)
    assert all(before.values()), before
    empty_db.migrate()
    assert _row_counts(empty_db, kept) == before
    with empty_db.write() as conn:
        assert users.get_user(conn, uid).role == "member"
        assert tasks.get(conn, tid)["hyperparams"] == {
            "Hydra": {"db": {"value": "x", "type": "str", "description": ""}}
        }
        assert scalar_store.read(conn, tid, 10, "iter", None) == {
            "m": {"v": {"x": [0], "y": [1.5]}}
        }
        events.ingest(
            conn,
            tid,
            "b",
            [
                {
                    "type": "scalar",
                    "metric": "m",
                    "variant": "v",
                    "iter": 1,
                    "value": float("nan"),
                    "ts": 0.0,
                }
            ],
        )
        assert scalar_store.read(conn, tid, 10, "iter", None)["m"]["v"]["y"] == [1.5, "NaN"]


def test_claims_are_atomic_under_concurrency(db: Database, user_id: str) -> None:
    with db.write() as conn:
        queues.create(conn, "q")
        ids = [
            tasks.create(conn, user_id, {"name": f"t{i}", "project": "p"})[0]["id"]
            for i in range(30)
        ]
        for tid in ids:
            lifecycle.enqueue(conn, tid, "q")
        ws = [workers.register(conn, f"w{i}", ["q"], user_id)["id"] for i in range(6)]
        qid = queues.get_row(conn, "q").id

    def drain(worker_id: str) -> list[str]:
        got = []
        while True:
            with db.write() as conn:
                tid = queues.claim(conn, worker_id, [qid], 30)
            if tid is None:
                return got
            got.append(tid)

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        claimed = [t for part in pool.map(drain, ws) for t in part]
    assert sorted(claimed) == sorted(ids)
    with db.read() as conn:
        assert all(tasks.get_row(conn, t).status == "in_progress" for t in ids)


def test_console_seq_is_dense_under_concurrent_batches(db: Database, user_id: str) -> None:
    with db.write() as conn:
        tid = tasks.create(conn, user_id, {"name": "t", "project": "p", "status": "in_progress"})[
            0
        ]["id"]

    def send(i: int) -> int | None:
        with db.write() as conn:
            return events.ingest(
                conn,
                tid,
                f"b{i}",
                [
                    {"type": "console", "stream": "stdout", "text": f"{i}-{j}\n", "ts": 0.0}
                    for j in range(5)
                ],
            )

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        assert list(pool.map(send, range(20))) == [5] * 20
    with db.read() as conn:
        got = events.read_console(conn, tid, -1, 1000, "asc")
    assert [i["seq"] for i in got["items"]] == list(range(100))
    by_batch: dict[str, list[int]] = {}
    for item in got["items"]:  # lines of one batch stay together and in order
        by_batch.setdefault(item["text"].split("-")[0], []).append(item["seq"])
    assert all(s == list(range(s[0], s[0] + 5)) for s in by_batch.values())


def test_metric_summaries_merge_batches(db: Database, user_id: str) -> None:
    with db.write() as conn:
        tid = tasks.create(conn, user_id, {"name": "t", "project": "p"})[0]["id"]
        pts = [(5, 2.0), (1, -1.0), (3, 7.0)]
        events.ingest(
            conn,
            tid,
            "a",
            [
                {"type": "scalar", "metric": "m", "variant": "v", "iter": i, "value": v, "ts": 0.0}
                for i, v in pts
            ],
        )
        events.ingest(
            conn,
            tid,
            "b",
            [{"type": "scalar", "metric": "m", "variant": "v", "iter": 4, "value": 9.5, "ts": 0.0}],
        )
        assert events.ingest(conn, tid, "b", []) is None
        last = events.last_scalars(conn, tid)
    assert last == {"m": {"v": {"value": 2.0, "iter": 5, "min": -1.0, "max": 9.5}}}


def test_expired_lease_fails_with_reason(db: Database, user_id: str) -> None:
    with db.write() as conn:
        tid = tasks.create(conn, user_id, {"name": "t", "project": "p"})[0]["id"]
        queues.create(conn, "q")
        wid = workers.register(conn, "box-7", ["q"], user_id)["id"]
        lifecycle.enqueue(conn, tid, "q")
        assert queues.claim(conn, wid, [queues.get_row(conn, "q").id], 30) == tid
        assert leases.expire(conn, 30) == []
        conn.execute(
            update(tasks_t).where(tasks_t.c.id == tid).values(lease_expires=dt.datetime(2000, 1, 1))
        )
        assert [lost.task_id for lost in leases.expire(conn, 30)] == [tid]
        row = tasks.get_row(conn, tid)
    assert row.status == "failed"
    assert row.status_reason == "worker box-7 lost: no heartbeat for 30 s"


def test_expired_lease_requeues_by_policy_unless_aborting(db: Database, user_id: str) -> None:
    with db.write() as conn:
        queues.create(conn, "retry", lost_worker_policy="requeue", lost_worker_retries=3)
        wid = workers.register(conn, "box-8", ["retry"], user_id)["id"]
        qid = queues.get_row(conn, "retry").id
        kept, aborted = (
            tasks.create(conn, user_id, {"name": n, "project": "p"})[0]["id"] for n in "ka"
        )
        for tid in (kept, aborted):
            lifecycle.enqueue(conn, tid, "retry")
            assert queues.claim(conn, wid, [qid], 30) == tid
        lifecycle.abort(conn, aborted, None)  # asked to stop, then its worker was lost
        conn.execute(update(tasks_t).values(lease_expires=dt.datetime(2000, 1, 1)))
        lost = {x.task_id: x.status.value for x in leases.expire(conn, 30)}
        assert lost == {kept: "queued", aborted: "stopped"}
        assert tasks.get_row(conn, kept).status == "queued"
        assert queues.get(conn, "retry")["entries"][0]["task"]["id"] == kept
        row = tasks.get_row(conn, aborted)
    assert row.status == "stopped" and row.completed is not None
    assert row.status_reason.endswith("; stopped (an abort was requested)")


def test_gone_workers_are_removed_unless_holding_a_running_task(db: Database, user_id: str) -> None:
    from hydratrack.server.store.models import workers as workers_t

    with db.write() as conn:
        queues.create(conn, "q")
        for name in ("quiet", "busy", "fresh"):
            workers.register(conn, name, ["q"], user_id)
        ids = {w["name"]: w["id"] for w in workers.list_(conn)}
        tid = tasks.create(conn, user_id, {"name": "t", "project": "p"})[0]["id"]
        lifecycle.enqueue(conn, tid, "q")
        assert queues.claim(conn, ids["busy"], [queues.get_row(conn, "q").id], 30) == tid
        conn.execute(
            update(workers_t)
            .where(workers_t.c.name.in_(["quiet", "busy"]))
            .values(last_heartbeat=dt.datetime(2000, 1, 1))
        )
        assert workers.remove_gone(conn, 3600) == ["quiet"]
        assert sorted(w["name"] for w in workers.list_(conn)) == ["busy", "fresh"]
        lifecycle.set_status(conn, tid, TaskStatus.COMPLETED, None, None)
        assert workers.remove_gone(conn, 3600) == ["busy"]  # its task is over
        assert [w["name"] for w in workers.list_(conn)] == ["fresh"]


def test_expired_sessions_and_login_links_are_dropped(db: Database, user_id: str) -> None:
    from hydratrack.server.store.models import login_tokens, sessions

    with db.write() as conn:
        live, _ = users.create_session(conn, user_id, WEEK)
        old, _ = users.create_session(conn, user_id, WEEK)
        token = users.create_login_token(conn, user_id)
        conn.execute(
            update(sessions)
            .where(sessions.c.token_hash == users.token_hash(old))
            .values(expires=dt.datetime(2000, 1, 1))
        )
        conn.execute(update(login_tokens).values(expires=dt.datetime(2000, 1, 1)))
        assert users.session_user(conn, old, HOURS_12, WEEK) is None
        assert users.delete_expired(conn) == 2
        assert users.session_user(conn, live, HOURS_12, WEEK) is not None
        assert users.use_login_token(conn, token) is None


WEEK, HOURS_12 = dt.timedelta(days=7), dt.timedelta(hours=12)


def test_sessions_end_when_idle_or_too_old_and_for_disabled_users(
    db: Database, user_id: str
) -> None:
    from hydratrack.server.store.models import sessions

    def age(token: str, **values: dt.datetime) -> None:
        conn.execute(
            update(sessions)
            .where(sessions.c.token_hash == users.token_hash(token))
            .values(**values)
        )

    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    with db.write() as conn:
        idle, old, live = (users.create_session(conn, user_id, WEEK)[0] for _ in range(3))
        age(idle, last_seen=now - dt.timedelta(hours=13))
        age(old, created=now - dt.timedelta(days=8), last_seen=now)  # used, but too old
        assert users.session_user(conn, idle, HOURS_12, WEEK) is None
        assert users.session_user(conn, old, HOURS_12, WEEK) is None
        assert users.session_user(conn, live, HOURS_12, WEEK) is not None
        assert len(users.list_sessions(conn, user_id, HOURS_12, WEEK)) == 1
        other = users.create_user(conn, "admin-" + user_id[:6], "password123", "admin")
        users.set_disabled(conn, user_id, True)
        assert users.session_user(conn, live, HOURS_12, WEEK) is None  # sessions ended
        assert users.list_sessions(conn, user_id, HOURS_12, WEEK) == []
        users.set_disabled(conn, user_id, False)
        with pytest.raises(Conflict, match="last enabled admin"):
            users.delete_user(conn, other["id"])
        users.create_user(conn, "admin2-" + user_id[:6], "password123", "admin")
        users.delete_user(conn, other["id"])
        assert other["name"] not in [u["name"] for u in users.list_users(conn)]


def test_concurrent_creates_into_a_new_project(db: Database, user_id: str) -> None:
    def make(i: int) -> str:
        with db.write() as conn:
            return str(
                tasks.create(conn, user_id, {"name": f"t{i}", "project": "brand-new"})[0][
                    "project"
                ]["id"]
            )

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        ids = set(pool.map(make, range(24)))
    assert len(ids) == 1


def test_same_client_id_created_at_once_is_one_task(db: Database, user_id: str) -> None:
    tid = "ab" * 16

    def make(_: int) -> bool:
        with db.write() as conn:
            task, created = tasks.create(
                conn,
                user_id,
                {"id": tid, "name": "t", "project": "p", "hyperparams": {"H": {"a": "1"}}},
            )
            assert task["hyperparams"] == {
                "H": {"a": {"value": "1", "type": "str", "description": ""}}
            }
            return created

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        created = list(pool.map(make, range(12)))
    assert created.count(True) == 1


def test_insert_new_is_idempotent_and_names_unknown_columns(db: Database, user_id: str) -> None:
    from hydratrack.server.store import bulk
    from hydratrack.server.store.models import event_batches

    with db.write() as conn:
        tid = tasks.create(conn, user_id, {"name": "t", "project": "p"})[0]["id"]
        row = {"task_id": tid, "batch_id": "b1", "accepted": 3, "created": dt.datetime(2026, 1, 1)}
        assert bulk.insert_new(conn, event_batches, row) is True
        assert bulk.insert_new(conn, event_batches, {**row, "accepted": 9}) is False
        with pytest.raises(ValueError, match="event_batches has no column .'colour'."):
            bulk.insert_new(conn, event_batches, {**row, "batch_id": "b2", "colour": 1})
        with pytest.raises(ValueError, match="tasks has no column .'colour'."):
            tasks.touch(conn, tid, colour="red")
        stored = conn.execute(text("SELECT batch_id, accepted FROM event_batches")).all()
    assert [tuple(r) for r in stored] == [("b1", 3)]


if "postgresql" in BACKENDS:  # (SQLite has no server connections to lose)

    @pytest.mark.parametrize("empty_db", ["postgresql"], indirect=True)
    def test_connections_killed_by_the_database_are_replaced(db: Database, user_id: str) -> None:
        """A PostgreSQL restart or an admin's pg_terminate_backend must not fail the next
        requests: pooled connections that died are replaced when taken from the pool."""
        with db.write() as conn:  # fill the pool with a few connections
            tid = tasks.create(conn, user_id, {"name": "t", "project": "p"})[0]["id"]
        with db.read() as c1, db.read() as c2:
            c1.execute(text("SELECT 1")), c2.execute(text("SELECT 1"))
        import psycopg

        url = db.engine.url
        name = url.database
        admin = url.set(drivername="postgresql", database="postgres").render_as_string(False)
        with psycopg.connect(admin, autocommit=True) as pg:
            # (with a timeout it waits until each backend has gone, as after a restart)
            killed = pg.execute(
                "SELECT count(pg_terminate_backend(pid, 5000)) "
                "FROM pg_stat_activity WHERE datname = %s "
                "AND pid <> pg_backend_pid()",
                (name,),
            ).fetchone()
        assert killed is not None and killed[0] >= 2
        for _ in range(3):  # every pooled connection is dead; each request still works
            with db.write() as conn:
                tasks.touch(conn, tid, comment="after")
            with db.read() as conn:
                assert tasks.get_row(conn, tid).comment == "after"
