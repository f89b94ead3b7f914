"""Bench-only seeding of a big store: N tasks with ~30 hyperparameters each.

Tasks go in through the server's store layer while the server is stopped: one
``POST /tasks`` per task would take tens of minutes for 100k tasks on this machine. The
first 300 tasks are made by ``hydratrack.server.store.tasks.create`` (the function
``POST /tasks`` calls, ~270 tasks/s here); the rest are bulk inserts of the same rows
into the store's tables (``hydratrack.server.store.models``), thousands per statement,
checked against a task made by ``create`` so the two cannot drift apart silently.
The 1M-point series goes in through the public API (``POST /tasks/{id}/events``, columnar
in batches of 50k), see ``suites/scale.py``.

    python -m bench.seed DB_URL N      # e.g. sqlite:////tmp/x/hydratrack.db 100000
"""

from __future__ import annotations

import random
import sys
import time
from typing import Any, Callable

CHOICES = {
    "db": ["sqlite", "postgresql"],
    "model": ["mlp", "resnet"],
    "optim": ["adam", "sgd"],
}
LRS = ["0.1", "0.03", "0.01", "0.003", "0.001", "0.0003", "0.0001"]
CONFIG_TEXT = "db:\n  driver: sqlite\nmodel:\n  name: mlp\noptim:\n  lr: 0.001\nseed: {seed}\n"


def hyperparams(i: int, rng: random.Random) -> dict[str, dict[str, str]]:
    """30 entries like a sweep would record: a few groups, numbers, and a unique seed."""
    entries: dict[str, str] = {k: rng.choice(v) for k, v in CHOICES.items()}
    entries["optim.lr"] = rng.choice(LRS)
    entries["seed"] = str(i)
    entries["train.epochs"] = str(rng.randint(1, 100))
    entries["data.batch_size"] = str(rng.choice([16, 32, 64, 128, 256]))
    for k in range(30 - len(entries) - 1):
        entries[f"extra.k{k:02d}"] = f"{rng.random():.6f}"
    hydra = {name: {"value": value} for name, value in entries.items()}
    hydra["_allow_omegaconf_edit_"] = {"value": "False"}
    return {"Hydra": hydra}


def task_body(i: int, rng: random.Random, project: str) -> dict[str, Any]:
    return {
        "name": f"sweep-{i // 100}-{i % 100}",
        "project": f"{project}-{i % 10}",
        "status": "in_progress",
        "script": {"entry_point": "train.py", "argv": [f"seed={i}"]},
        "hyperparams": hyperparams(i, rng),
        "configuration": {"OmegaConf": {"value": CONFIG_TEXT.format(seed=i), "type": "OmegaConf"}},
    }


def _bulk_rows(
    body: dict[str, Any], user_id: str, project_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """The rows ``tasks.create`` writes for ``body`` (no tags, no parent)."""
    from hydratrack.server.store.clock import new_id, utcnow
    from hydratrack.server.store.params import PREFIX_LEN
    from hydratrack.server.store.tasks import SCRIPT_DEFAULTS

    task_id, now = new_id(), utcnow()
    task = dict(
        id=task_id,
        name=body["name"],
        type="training",
        project_id=project_id,
        status=body["status"],
        status_message="",
        status_reason="",
        parent_id=None,
        user_id=user_id,
        tags=[],
        comment="",
        archived=False,
        created=now,
        last_update=now,
        started=now,
        completed=None,
        queue_id=None,
        worker_id=None,
        abort_requested=False,
        lease_expires=None,
        script={**SCRIPT_DEFAULTS, **body["script"]},
        runtime={},
        console_seq=-1,
    )
    params = [
        {
            "task_id": task_id,
            "section": section,
            "name": name,
            "position": pos,
            "value": e["value"],
            "type": "str",
            "description": "",
            "value_prefix": e["value"][:PREFIX_LEN],
        }
        for section, entries in body["hyperparams"].items()
        for pos, (name, e) in enumerate(entries.items())
    ]
    conf = body["configuration"]["OmegaConf"]
    config = {
        "task_id": task_id,
        "name": "OmegaConf",
        "value": conf["value"],
        "type": conf["type"],
        "description": "",
    }
    return task, params, config


def _bulk_insert(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Many rows at once: COPY on PostgreSQL (multi-row INSERTs were ~200 tasks/s there),
    SQLAlchemy's executemany on SQLite."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(table.insert(), rows)
        return
    import json

    cols = list(rows[0])
    raw = conn.connection.driver_connection  # the psycopg connection, same transaction
    with raw.cursor() as cur:
        with cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(v) if isinstance(v, (dict, list)) else v
                        for v in (row[c] for c in cols)
                    ]
                )


def _check_same_shape(conn: Any, made_id: str, bulk_id: str) -> None:
    """A bulk-inserted task reads back like one made by ``tasks.create``."""
    from hydratrack.server.store import params
    from hydratrack.server.store import tasks as tasks_repo

    made, bulk = tasks_repo.get(conn, made_id), tasks_repo.get(conn, bulk_id)
    if sorted(made) != sorted(bulk) or sorted(made["script"]) != sorted(bulk["script"]):
        raise RuntimeError(f"bulk seeding drifted from tasks.create:\n{made}\n{bulk}")
    a, b = params.get_hyperparams(conn, made_id), params.get_hyperparams(conn, bulk_id)
    if list(a["Hydra"]) != list(b["Hydra"]) or a["Hydra"]["db"].keys() != b["Hydra"]["db"].keys():
        raise RuntimeError("bulk seeding drifted from tasks.create (hyperparams)")


def seed_tasks(
    db_url: str,
    n: int,
    *,
    project: str = "scale",
    chunk: int = 2000,
    genuine: int = 300,
    log: Callable[[str], None] = print,
) -> float:
    """Insert ``n`` tasks; returns the seconds it took. The schema must exist."""
    from sqlalchemy import select

    from hydratrack.server.store import projects as projects_repo
    from hydratrack.server.store import tasks as tasks_repo
    from hydratrack.server.store.db import Database
    from hydratrack.server.store.models import configuration, users
    from hydratrack.server.store.models import hyperparams as hp_t
    from hydratrack.server.store.models import tasks as tasks_t

    db = Database(db_url)
    rng = random.Random(6)
    t0 = time.perf_counter()
    made_id = ""
    try:
        with db.read() as conn:
            user_id = conn.execute(select(users.c.id).where(users.c.name == "admin")).scalar_one()
        done = 0
        while done < n:
            with db.write() as conn:
                upto = min(n, done + chunk)
                if done < genuine:
                    upto = min(upto, genuine)
                    for i in range(done, upto):
                        body = task_body(i, rng, project)
                        made_id = tasks_repo.create(conn, user_id, body)[0]["id"]
                else:
                    pids = {k: projects_repo.ensure(conn, f"{project}-{k}") for k in range(10)}
                    rows = [
                        _bulk_rows(task_body(i, rng, project), user_id, pids[i % 10])
                        for i in range(done, upto)
                    ]
                    _bulk_insert(conn, tasks_t, [r[0] for r in rows])
                    _bulk_insert(conn, hp_t, [p for r in rows for p in r[1]])
                    _bulk_insert(conn, configuration, [r[2] for r in rows])
                    if done == genuine and made_id:
                        _check_same_shape(conn, made_id, rows[0][0]["id"])
                    if upto == n:
                        for pid in pids.values():
                            projects_repo.touch(conn, pid)
            done = upto
            if done == genuine:
                log(f"[seed] {done} tasks through tasks.create in {time.perf_counter() - t0:.1f} s")
            if done % 20_000 == 0 or done == n:
                rate = done / (time.perf_counter() - t0)
                log(f"[seed] {done}/{n} tasks ({rate:.0f}/s)")
    finally:
        db.dispose()
    return time.perf_counter() - t0


if __name__ == "__main__":
    seed_tasks(sys.argv[1], int(sys.argv[2]))
