"""The Hydra callback that applies an edited ``OmegaConf`` text in the child process.

The agent adds it on the command line (public Hydra API, no patching)::

    +hydra.callbacks.hydratrack_edit._target_=hydratrack.edits.callback.ApplyConfigEdit

and points ``HYDRATRACK_EDIT_FILE`` at the edited YAML it wrote. In run mode Hydra passes
the composed config to ``on_run_start`` and then deep-copies that same object into the
job's config, so changing it in place here is what the job receives.

Hydra turns an exception raised by a callback into a warning; an edit that cannot apply
must not run the old values, so this callback ends the process with the reason instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from hydratrack.edits.config_edit import ConfigEditError, apply_config_edit, load_edit
from hydratrack.names import EDIT_FILE_ENV

EXIT_CODE = 2


class ApplyConfigEdit(Callback):
    def __init__(self, path: str | None = None) -> None:
        self.path = path or os.environ.get(EDIT_FILE_ENV)
        self.applied = False

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._apply(config)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _fail("edited OmegaConf configurations are applied in run mode only, not in --multirun")

    def _apply(self, config: DictConfig) -> None:
        if self.applied:  # exactly once per process
            return
        if not self.path:
            _fail(f"no edited configuration given (set {EDIT_FILE_ENV})")
        try:
            text = Path(self.path).read_text(encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot read edited configuration {self.path}: {exc}")
        try:
            apply_config_edit(config, load_edit(text))
        except ConfigEditError as exc:
            _fail(f"edited configuration cannot apply: {exc}")
        self.applied = True
        print("hydratrack: applied the edited OmegaConf configuration", file=sys.stderr, flush=True)


def _fail(message: str) -> NoReturn:
    print(f"hydratrack: {message}", file=sys.stderr, flush=True)
    raise SystemExit(EXIT_CODE)  # not an Exception: Hydra's callback runner does not swallow it
