"""Real runs for the browser tests, made through the public API (ApiClient).

Each run looks like what the SDK records for a small Hydra app: a ``Hydra`` section with
the overrides as typed, the composed ``OmegaConf`` YAML, scalars, console and an artifact.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from hydratrack.client import ApiClient

CONFIG_TEMPLATE = """\
db:
  driver: {driver}
  user: omry
  pass: secret
dataset:
  main:
    number: {number}
    path: /data/${{db.driver}}/main
optim:
  lr: {lr}
  epochs: 10
"""


def hydra_run(
    api: ApiClient,
    project: str,
    name: str,
    *,
    driver: str = "mysql",
    number: int = 10,
    lr: float = 0.01,
    status: str = "completed",
    steps: int = 25,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    """A finished (or running) Hydra run with config, overrides, scalars and console."""
    overrides = [f"db={driver}", f"optim.lr={lr}"]
    body = {
        "id": uuid.uuid4().hex,
        "name": name,
        "project": project,
        "status": "in_progress",
        "tags": tags or [],
        "script": {
            "entry_point": "train.py",
            "argv": overrides,
            "working_dir": "/home/u/proj",
            "binary": "python3.11",
            "repository": "https://example.org/u/proj.git",
            "branch": "main",
            "commit": "0" * 40,
            "requirements": {"pip": {"hydra-core": "1.3.2", "omegaconf": "2.3.0"}},
        },
        "runtime": {
            "hydra": {
                "config_name": "config",
                "config_path": "conf",
                "choices": {"db": driver},
                "version": "1.3.2",
                "output_dir": f"/home/u/proj/outputs/{name}",
                "overrides": {"hydra": [], "task": overrides},
                "command_line": "python train.py " + " ".join(overrides),
            }
        },
        "hyperparams": {
            "Hydra": {
                "db": {"value": driver, "type": "str", "description": ""},
                "optim.lr": {"value": str(lr), "type": "str", "description": ""},
                "_allow_omegaconf_edit_": {
                    "value": "False",
                    "type": "str",
                    "description": "run the OmegaConf object as edited",
                },
            },
            "General": {"seed": {"value": "42", "type": "int", "description": "random seed"}},
        },
        "configuration": {
            "OmegaConf": {
                "value": CONFIG_TEMPLATE.format(driver=driver, number=number, lr=lr),
                "type": "OmegaConf",
                "description": "composed Hydra config",
            }
        },
    }
    task = api.create_task(body)
    t0 = time.time() - steps
    events: list[dict[str, Any]] = []
    for i in range(steps):
        events.append(
            {
                "type": "scalar",
                "metric": "loss",
                "variant": "train",
                "iter": i,
                "value": 1.0 / (1 + i * lr * 10),
                "ts": t0 + i,
            }
        )
        events.append(
            {
                "type": "scalar",
                "metric": "loss",
                "variant": "val",
                "iter": i,
                "value": 1.2 / (1 + i * lr * 8),
                "ts": t0 + i,
            }
        )
        events.append(
            {
                "type": "scalar",
                "metric": "accuracy",
                "variant": "val",
                "iter": i,
                "value": min(0.99, 0.5 + i * lr),
                "ts": t0 + i,
            }
        )
        events.append(
            {
                "type": "console",
                "stream": "stdout",
                "ts": t0 + i,
                "text": f"epoch {i}: loss={1.0 / (1 + i * lr * 10):.4f}\n",
            }
        )
    events.append(
        {
            "type": "console",
            "stream": "stderr",
            "ts": t0 + steps,
            "text": "warning: this is stderr\n",
        }
    )
    api.post_events(task["id"], uuid.uuid4().hex, events)
    if status != "in_progress":
        api.set_status(task["id"], status, message=f"run {status}")
    return api.get_task(task["id"])


def upload_text_artifact(
    api: ApiClient, task_id: str, tmp: Path, name: str, text: str
) -> dict[str, Any]:
    path = tmp / f"{name}.txt"
    path.write_text(text)
    return api.upload_artifact(task_id, name, path, metadata={"kind": "text"})
