"""server/audit.py's pure parts: the entry a request makes, and a write that fails."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from hydratrack.server import audit
from hydratrack.server.context import Caller
from hydratrack.server.store.db import Database


def _scope(path_params: dict[str, str], caller: Caller | None) -> dict[str, Any]:
    return {"path_params": path_params, "state": {"caller": caller}, "client": ("10.0.0.7", 5)}


BOB = Caller("b" * 32, "bob", False, "key", access_key="AK1")


def test_an_entry_names_fields_but_shows_only_listed_values() -> None:
    rule = audit.rule_for("POST", "/api/v1/users")
    assert rule is not None
    body = {"name": "carol", "password": "hunter22", "is_admin": True}
    entry = audit.entry_for(rule, _scope({}, BOB), body, {"id": "c" * 32, "name": "carol"})
    assert entry == {
        "user_id": BOB.id,
        "user_name": "bob",
        "via": "key",
        "access_key": "AK1",
        "address": "10.0.0.7",
        "action": "user.create",
        "target_type": "user",
        "target_id": "c" * 32,
        "detail": {"fields": ["is_admin", "name", "password"], "name": "carol", "is_admin": True},
    }


def test_the_path_names_the_target_and_other_path_parts_go_in_the_detail() -> None:
    rule = audit.rule_for("PUT", "/api/v1/tasks/{task_id}/hyperparams/{section}")
    assert rule is not None
    scope = _scope({"task_id": "t" * 32, "section": "Args"}, BOB)
    entry = audit.entry_for(rule, scope, {"lr": 0.1}, {})
    assert (entry["action"], entry["target_id"]) == ("task.hyperparams", "t" * 32)
    assert entry["detail"] == {"fields": ["lr"], "section": "Args"}


def test_user_patch_action_follows_the_body_and_long_values_are_cut() -> None:
    rule = audit.rule_for("PATCH", "/api/v1/users/{user}")
    assert rule is not None
    entry = audit.entry_for(rule, _scope({"user": "x"}, BOB), {"disabled": False}, {})
    assert entry["action"] == "user.enable"
    abort = audit.rule_for("POST", "/api/v1/tasks/{task_id}/abort")
    assert abort is not None
    entry = audit.entry_for(abort, _scope({"task_id": "t"}, BOB), {"reason": "x" * 500}, {})
    assert len(entry["detail"]["reason"]) == 201


def test_data_routes_are_none_and_unknown_routes_are_still_recorded() -> None:
    assert audit.rule_for("POST", "/api/v1/tasks/{task_id}/events") is None
    unknown = audit.rule_for("POST", "/api/v1/widgets/{id}")
    assert unknown is not None and unknown.action({}) == "POST /widgets/{id}"


def test_an_entry_that_cannot_be_stored_is_logged_in_full(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables: the insert fails

    class Ctx:
        pass

    ctx: Any = Ctx()
    ctx.db = db
    entry = {"user_name": "bob", "action": "task.delete", "target_id": "t1", "detail": {}}
    with caplog.at_level(logging.ERROR, logger="hydratrack.audit"):
        audit.store(ctx, entry)
    db.dispose()
    [record] = caplog.records
    assert "audit record not stored" in record.getMessage()
    assert '"task.delete"' in record.getMessage() and '"t1"' in record.getMessage()
