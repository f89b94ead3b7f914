"""server/secrets.py: which names are secret, masking texts in place, keeping real values."""

from __future__ import annotations

import yaml

from hydratrack.server.secrets import MASK, SecretMask, may_read_secrets
from hydratrack.server.settings import ServerSettings

M = SecretMask(ServerSettings().secret_pattern)


def test_the_default_pattern_names_whole_words_only() -> None:
    for name in [
        "db.pass", "password", "db_password", "secret", "client-secret", "wandb.token",
        "api_key", "apikey", "key", "aws.access_key", "ssh.key.path", "+db.pass", "DB.PASSWORD",
    ]:  # fmt: skip
        assert M.is_secret(name), name
    for name in [
        "keyboard", "monkey", "tokens", "max_tokens", "passport", "bypass", "db.host",
        "tokenizer.name", "lr", "hydra.run.dir", "key_dim_not".replace("key_", "k_"),
    ]:  # fmt: skip
        assert not M.is_secret(name), name


CONFIG = """\
# database settings
db:
  driver: postgresql
  pass: hunter2   # the real one
  host: "db.local"
wandb: {project: demo, token: "abc:def"}
api_key: 'sk-123'
keyboard: qwerty
monkey: 12
secret:
  nested: value
tokens:
- one
- two
password: ???
token: null
"""


def test_yaml_text_is_masked_in_place_and_stays_valid() -> None:
    shown = M.text(CONFIG)
    assert "hunter2" not in shown and "abc:def" not in shown and "sk-123" not in shown
    assert "value" not in shown.replace("# ", "")
    assert "  pass: '********'   # the real one\n" in shown
    assert "# database settings\ndb:\n  driver: postgresql\n" in shown  # the rest as written
    assert 'host: "db.local"' in shown and "keyboard: qwerty" in shown and "monkey: 12" in shown
    data = yaml.safe_load(shown)
    assert data["db"] == {"driver": "postgresql", "pass": MASK, "host": "db.local"}
    assert data["wandb"] == {"project": "demo", "token": MASK}
    assert data["api_key"] == MASK and data["secret"] == {"nested": MASK}
    assert data["tokens"] == ["one", "two"]  # "tokens" is not the word "token"
    assert data["password"] == "???" and data["token"] is None  # nothing to hide


def test_an_edit_that_keeps_the_mask_keeps_the_real_value() -> None:
    shown = M.text(CONFIG)
    edited = shown.replace("driver: postgresql", "driver: mysql").replace(
        "monkey: 12", "monkey: 13"
    )
    back = M.keep_text(edited, CONFIG)
    assert back == CONFIG.replace("driver: postgresql", "driver: mysql").replace(
        "monkey: 12", "monkey: 13"
    )
    changed = shown.replace("pass: '********'", "pass: newpass")
    assert "pass: newpass" in M.keep_text(changed, CONFIG)
    assert M.keep_text("db:\n  pass: '********'\n", None) == "db:\n  pass: '********'\n"


def test_text_that_is_not_yaml_is_masked_by_lines() -> None:
    text = "[db]\npassword = hunter2\nhost = x\n: : bad yaml {\n"
    shown = M.text(text)
    assert "hunter2" not in shown and "password = ********" in shown and "host = x" in shown
    assert M.keep_text(shown, text) == text


def test_hyperparams_columns_overrides_and_argv() -> None:
    task = {
        "status": "completed",
        "hyperparams": {
            "Hydra": {
                "db.pass": {"value": "hunter2", "type": "str", "description": ""},
                "lr": {"value": "0.1", "type": "float", "description": ""},
                "token": {"value": "", "type": "str", "description": ""},
            },
            "General": {"api_key": {"value": "k", "type": "str", "description": ""}},
        },
        "configuration": {"OmegaConf": {"value": CONFIG, "type": "OmegaConf"}},
        "params": {"Hydra/db.pass": "hunter2", "Hydra/lr": "0.1"},
        "script": {"argv": ["app.py", "db.pass=hunter2", "lr=0.1", "--flag"]},
        "runtime": {
            "hydra": {
                "overrides": {"task": ["+db.pass=hunter2", "lr=0.1"], "hydra": []},
                "command_line": "db.pass=hunter2 lr=0.1",
                "choices": {"db": "pg"},
            }
        },
    }
    shown = M.task(task)
    assert "hunter2" not in repr(shown) and "'k'" not in repr(shown["hyperparams"])
    assert shown["hyperparams"]["Hydra"]["db.pass"]["value"] == MASK
    assert shown["hyperparams"]["Hydra"]["lr"]["value"] == "0.1"
    assert shown["hyperparams"]["Hydra"]["token"]["value"] == ""
    assert shown["params"] == {"Hydra/db.pass": MASK, "Hydra/lr": "0.1"}
    assert shown["script"]["argv"] == ["app.py", f"db.pass={MASK}", "lr=0.1", "--flag"]
    assert shown["runtime"]["hydra"]["overrides"]["task"] == [f"+db.pass={MASK}", "lr=0.1"]
    assert shown["runtime"]["hydra"]["command_line"] == f"db.pass={MASK} lr=0.1"
    assert task["hyperparams"]["Hydra"]["db.pass"]["value"] == "hunter2"  # input untouched


def test_keep_hyperparams_restores_masks_only() -> None:
    stored = {"Hydra": {"db.pass": {"value": "hunter2", "type": "str", "description": ""}}}
    changes = {"Hydra": {"db.pass": {"value": MASK}, "lr": {"value": "0.2"}, "token": MASK}}
    kept = M.keep_hyperparams(changes, stored)
    assert kept["Hydra"]["db.pass"] == {"value": "hunter2"}
    assert kept["Hydra"]["lr"] == {"value": "0.2"}
    assert kept["Hydra"]["token"] == MASK  # nothing stored to keep
    assert M.keep_hyperparams({"Hydra": {"db.pass": "new"}}, stored) == {
        "Hydra": {"db.pass": "new"}
    }


def test_a_custom_pattern() -> None:
    mask = SecretMask(r"(?i)(^|\.)(dsn)$")
    assert mask.is_secret("db.dsn") and not mask.is_secret("db.pass")


def test_who_may_read_secrets() -> None:
    class C:
        def __init__(self, via: str) -> None:
            self.via = via

    assert may_read_secrets(C("key"), {"status": "in_progress"})
    assert not may_read_secrets(C("session"), {"status": "in_progress"})
    assert not may_read_secrets(C("key"), {"status": "completed"})


def test_request_lines_lose_secret_query_values() -> None:
    from hydratrack.server.logs import redact_query

    line = "/login?token=abc-123&next=%2Fq&api_key=k1&keyboard=qwerty"
    assert redact_query(line, M.is_secret) == (
        f"/login?token={MASK}&next=%2Fq&api_key={MASK}&keyboard=qwerty"
    )
    assert redact_query("/api/v1/tasks", M.is_secret) == "/api/v1/tasks"
