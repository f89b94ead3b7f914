"""Secret config values read ******** everywhere; the store keeps them (real server)."""

from __future__ import annotations

import contextlib
import json
import shlex
from typing import Any, Callable, Iterator

import httpx

from hydratrack.client import ApiClient
from tests.api.conftest import assert_error, unique
from tests.api.people import person
from tests.support.servers import ServerProcess

MASK = "********"
REAL = "hunter2-real"
CONFIG = f"""\
# database
db:
  driver: postgresql
  pass: {REAL}   # keep me
wandb: {{project: demo, token: tok-{REAL}}}
keyboard: qwerty
"""


def _task(make_task: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return make_task(
        hyperparams={
            "Hydra": {"db.pass": REAL, "db.driver": "postgresql"},
            "General": {"api_key": {"value": f"key-{REAL}"}, "monkey": "banana"},
        },
        configuration={"OmegaConf": {"value": CONFIG, "type": "OmegaConf"}},
        script={"entry_point": "app.py", "argv": ["app.py", f"db.pass={REAL}"]},
        runtime={"hydra": {"overrides": {"task": [f"db.pass={REAL}"], "hydra": []}}},
    )


@contextlib.contextmanager
def _session(server: ServerProcess) -> Iterator[httpx.Client]:
    """The UI's way in: session cookie + CSRF header."""
    with httpx.Client(base_url=server.url + "/api/v1", timeout=30) as c:
        login = {"username": "admin", "password": server.admin_password}
        c.headers["X-CSRF-Token"] = c.post("/auth/login", json=login).json()["csrf_token"]
        yield c


def test_every_read_masks_the_secret_values(
    server: ServerProcess, http: httpx.Client, make_task: Callable[..., dict[str, Any]]
) -> None:
    created = _task(make_task)
    tid = created["id"]
    with _session(server) as ui:
        answers = [
            created,
            http.get(f"/tasks/{tid}").json(),
            http.get(f"/tasks/{tid}/hyperparams").json(),
            http.get(f"/tasks/{tid}/configuration").json(),
            http.get("/tasks", params={"params": "Hydra/db.pass,General/api_key"}).json(),
            ui.get(f"/tasks/{tid}").json(),
            ui.get("/tasks", params={"params": "Hydra/db.pass", "q": created["name"]}).json(),
        ]
    for answer in answers:
        assert REAL not in json.dumps(answer), answer
    task = answers[1]
    assert task["hyperparams"]["Hydra"]["db.pass"]["value"] == MASK
    assert task["hyperparams"]["Hydra"]["db.driver"]["value"] == "postgresql"
    assert task["hyperparams"]["General"]["api_key"]["value"] == MASK
    assert task["hyperparams"]["General"]["monkey"]["value"] == "banana"
    text = task["configuration"]["OmegaConf"]["value"]
    assert text == CONFIG.replace(REAL, "'********'", 1).replace(
        f"tok-{REAL}", "'********'"
    )  # the rest of the text as written
    assert task["script"]["argv"] == ["app.py", f"db.pass={MASK}"]
    assert task["runtime"]["hydra"]["overrides"]["task"] == [f"db.pass={MASK}"]
    item = next(i for i in answers[4]["items"] if i["id"] == tid)
    assert item["params"] == {"Hydra/db.pass": MASK, "General/api_key": MASK}


def test_a_filter_on_a_secret_value_is_refused(http: httpx.Client) -> None:
    resp = http.get("/tasks", params={"param": f"Hydra/db.pass={REAL}"})
    assert_error(resp, 400, "bad_request", "secret")


def test_edits_that_keep_the_mask_keep_the_real_value_and_the_agent_gets_it(
    server: ServerProcess, api: ApiClient, http: httpx.Client, make_task: Callable[..., Any]
) -> None:
    tid = _task(make_task)["id"]
    shown = http.get(f"/tasks/{tid}").json()
    # the UI sends back what it showed, with one other change
    resp = http.patch(
        f"/tasks/{tid}/hyperparams",
        json={"Hydra": {"db.pass": {"value": MASK}, "db.driver": {"value": "mysql"}}},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["Hydra"]["db.pass"]["value"] == MASK
    edited = shown["configuration"]["OmegaConf"]["value"].replace("keyboard: qwerty", "keyboard: x")
    resp = http.put(f"/tasks/{tid}/configuration/OmegaConf", json={"value": edited})
    assert resp.status_code == 200, resp.text
    assert REAL not in resp.text
    section = {"api_key": {"value": MASK}, "monkey": "apple"}
    assert http.put(f"/tasks/{tid}/hyperparams/General", json=section).status_code == 200

    clone = api.clone_task(tid)  # clones run with the real values too
    queue = unique("secret-q")
    api.create_queue(queue)
    api.enqueue_task(clone["id"], queue)
    assert_error(http.get(f"/tasks/{clone['id']}", params={"unmasked": "true"}), 403, "forbidden")
    worker = api.register_worker(unique("w"), [queue])
    claimed = api.claim(worker["id"], timeout=5)
    assert claimed is not None and claimed["id"] == clone["id"]
    assert claimed["hyperparams"]["Hydra"]["db.pass"]["value"] == REAL
    assert claimed["hyperparams"]["Hydra"]["db.driver"]["value"] == "mysql"
    assert claimed["hyperparams"]["General"]["api_key"]["value"] == f"key-{REAL}"
    assert claimed["hyperparams"]["General"]["monkey"]["value"] == "apple"
    assert claimed["configuration"]["OmegaConf"]["value"] == CONFIG.replace(
        "keyboard: qwerty", "keyboard: x"
    )
    # the running task's own process may read it unmasked; the UI's session may not
    real = api.get_task(clone["id"], unmasked=True)
    assert real["hyperparams"]["Hydra"]["db.pass"]["value"] == REAL
    with _session(server) as ui:
        resp = ui.get(f"/tasks/{clone['id']}", params={"unmasked": "true"})
        assert_error(resp, 403, "forbidden")
    assert REAL not in json.dumps(api.get_task(clone["id"]))
    api.unregister_worker(worker["id"])


def test_a_new_value_replaces_the_secret(
    http: httpx.Client, api: ApiClient, make_task: Callable[..., Any]
) -> None:
    tid = _task(make_task)["id"]
    http.patch(f"/tasks/{tid}/hyperparams", json={"Hydra": {"db.pass": {"value": "new-pass"}}})
    text = http.get(f"/tasks/{tid}/configuration").json()["OmegaConf"]["value"]
    http.put(
        f"/tasks/{tid}/configuration/OmegaConf",
        json={"value": text.replace("pass: '********'", "pass: changed")},
    )
    clone = api.clone_task(tid)
    queue = unique("secret-q")
    api.create_queue(queue)
    api.enqueue_task(clone["id"], queue)
    worker = api.register_worker(unique("w"), [queue])
    claimed = api.claim(worker["id"], timeout=5)
    assert claimed is not None
    assert claimed["hyperparams"]["Hydra"]["db.pass"]["value"] == "new-pass"
    assert "  pass: changed   # keep me\n" in claimed["configuration"]["OmegaConf"]["value"]
    assert f"tok-{REAL}" in claimed["configuration"]["OmegaConf"]["value"]
    api.unregister_worker(worker["id"])


def test_a_reader_clones_without_the_secrets(
    server: ServerProcess, http: httpx.Client, make_task: Callable[..., dict[str, Any]]
) -> None:
    """A member who may only read the admin's task clones it into a project of their own,
    marks the clone running and asks for it unmasked: the clone never had the real values
    (running it, its code would have them too). The owner's own clone keeps them."""
    src = _task(make_task)
    with person(server, "member") as bob:
        clone = bob.post(f"/tasks/{src['id']}/clone", json={"project": unique("bobs")})
        assert clone.status_code == 201, clone.text
        cid = clone.json()["id"]
        assert bob.post(f"/tasks/{cid}/status", json={"status": "in_progress"}).status_code == 200
        real = bob.get(f"/tasks/{cid}", params={"unmasked": "true"})
        assert real.status_code == 200, real.text
        assert REAL not in json.dumps(real.json()), real.json()
        assert real.json()["hyperparams"]["Hydra"]["db.pass"]["value"] == MASK
        assert real.json()["hyperparams"]["Hydra"]["db.driver"]["value"] == "postgresql"
        assert real.json()["script"]["argv"] == ["app.py", f"db.pass={MASK}"]
    own = http.post(f"/tasks/{src['id']}/clone", json={}).json()
    assert (
        http.post(f"/tasks/{own['id']}/status", json={"status": "in_progress"}).status_code == 200
    )
    kept = http.get(f"/tasks/{own['id']}", params={"unmasked": "true"}).json()
    assert kept["hyperparams"]["Hydra"]["db.pass"]["value"] == REAL
    assert f"pass: {REAL}" in kept["configuration"]["OmegaConf"]["value"]


def test_a_quoted_secret_with_spaces_is_masked_whole_in_the_command_line(
    http: httpx.Client, make_task: Callable[..., dict[str, Any]]
) -> None:
    """The SDK records ``shlex.join(sys.argv)``: a value with spaces is one quoted word,
    so masking space-separated pieces showed the rest of the secret."""
    secret = "correct horse battery"
    argv = ["app.py", f"db.pass={secret}", "lr=0.1", "name=a b"]
    task = make_task(runtime={"hydra": {"command_line": shlex.join(argv)}})
    for answer in (task, http.get(f"/tasks/{task['id']}").json()):
        line = answer["runtime"]["hydra"]["command_line"]
        assert "horse" not in line and "battery" not in line, line
        assert shlex.split(line) == ["app.py", f"db.pass={MASK}", "lr=0.1", "name=a b"]
    broken = make_task(runtime={"hydra": {"command_line": f"app.py 'db.pass={secret} lr=1"}})
    line = http.get(f"/tasks/{broken['id']}").json()["runtime"]["hydra"]["command_line"]
    assert line == f"app.py 'db.pass={MASK}", line
