"""The policy as a pure function: levels from ownership, grants and the server default;
viewers capped at read; agent keys and task tokens confined."""

from __future__ import annotations

import pytest

from hydratrack.server.context import Caller
from hydratrack.server.permissions import RULES, Resource, allowed

BOB = Caller("bob", "bob", "member", "key", access_key="KB")
VIEWER = Caller("vic", "vic", "viewer", "key", access_key="KV")
ADMIN = Caller("root", "root", "admin", "key", access_key="KA")
AGENT = Caller("root", "root", "admin", "key", access_key="KG", scope="agent")
TOKEN = Caller("bob", "bob", "member", "key", access_key="T1", scope="task", task_id="t1")


def task(**kw: object) -> Resource:
    base: dict[str, object] = {"kind": "task", "id": "t1", "owner_id": "root"}
    base.update(kw)
    return Resource(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("default", "grant", "can_read", "can_edit"),
    [
        ("read", None, True, False),
        ("none", None, False, False),
        ("edit", None, True, True),
        ("none", "read", True, False),
        ("read", "edit", True, True),
        ("edit", "read", True, True),  # a grant never lowers the default
    ],
)
def test_member_level_is_the_highest_of_default_and_grant(
    default: str, grant: str | None, can_read: bool, can_edit: bool
) -> None:
    r = task(default=default, grant=grant, project_owner_id="root")
    assert allowed(BOB, "task.read", r) is can_read
    assert allowed(BOB, "task.edit", r) is can_edit


def test_owners_manage_their_projects_and_edit_their_own_tasks() -> None:
    assert allowed(BOB, "project.manage", Resource(kind="project", project_owner_id="bob"))
    assert allowed(BOB, "task.edit", task(owner_id="bob", project_owner_id="root"))
    hidden = task(owner_id="bob", project_owner_id="root", default="none")
    assert not allowed(BOB, "task.edit", hidden)  # his task, in a project he cannot read


def test_a_viewer_reads_at_most_even_what_they_own() -> None:
    own = task(owner_id="vic", project_owner_id="vic", grant="manage")
    assert allowed(VIEWER, "task.read", own)
    for action in ("task.edit", "task.write", "project.manage", "task.token"):
        assert not allowed(VIEWER, action, own), action
    for action in ("project.create", "queue.create", "worker.register", "agent.create"):
        assert not allowed(VIEWER, action), action


def test_an_agent_key_serves_only_its_own_workers_tasks() -> None:
    mine = task(worker_key="KG")
    assert allowed(AGENT, "task.read", mine) and allowed(AGENT, "task.write", mine)
    assert allowed(AGENT, "task.token", mine)
    other = task(worker_key="KX", default="edit")
    for action in ("task.read", "task.write", "task.edit", "task.token"):
        assert not allowed(AGENT, action, other), action
    for action in ("server.read", "project.create", "users.admin", "self", "queue.enqueue"):
        assert not allowed(AGENT, action), action
    assert allowed(AGENT, "worker.register") and allowed(AGENT, "queue.serve")


def test_a_task_token_reads_and_writes_its_task_alone() -> None:
    assert allowed(TOKEN, "task.read", task()) and allowed(TOKEN, "task.write", task())
    assert allowed(TOKEN, "task.create", task())  # Task.init's create of its own id
    assert not allowed(TOKEN, "task.read", task(id="t2", default="edit"))
    allowed_actions = {a for a in RULES if allowed(TOKEN, a, task())}
    assert allowed_actions == {
        "self.read",
        "task.create",
        "task.read",
        "task.write",
        "task.secrets",  # its own process runs with the real values
    }
    assert not allowed(TOKEN, "task.secrets", task(id="t2", default="edit"))


def test_secrets_unmasked_only_for_the_tasks_process_its_agent_or_an_editor() -> None:
    assert allowed(AGENT, "task.secrets", task(worker_key="KG"))
    assert not allowed(AGENT, "task.secrets", task(worker_key="KX", default="edit"))
    assert not allowed(VIEWER, "task.secrets", task(default="edit"))


def test_admins_may_everything_known_and_nothing_unknown() -> None:
    assert all(allowed(ADMIN, a, task()) for a in RULES)
    assert not allowed(ADMIN, "no.such.action")
