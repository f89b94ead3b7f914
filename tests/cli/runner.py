"""Running the real ``hydratrack`` command in a subprocess, as a user would."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any


def hydratrack_command() -> list[str]:
    """The installed console script next to this interpreter (else ``python -m hydratrack``)."""
    script = Path(sys.executable).parent / "hydratrack"
    if script.exists():
        return [str(script)]
    found = shutil.which("hydratrack")
    return [found] if found else [sys.executable, "-m", "hydratrack"]


@dataclasses.dataclass
class CliRun:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.returncode == 0, self.explain()
        return json.loads(self.stdout)

    def ok(self) -> "CliRun":
        assert self.returncode == 0, self.explain()
        return self

    def one_line_error(self, *words: str) -> str:
        """Exit 1 with exactly one line on stderr, ``hydratrack: error: ...`` naming words."""
        assert self.returncode == 1, self.explain()
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1, self.explain()
        assert lines[0].startswith("hydratrack: error: "), self.explain()
        assert "Traceback" not in self.stderr and self.stdout == "", self.explain()
        for word in words:
            assert word in lines[0], (word, lines[0])
        return lines[0]

    def explain(self) -> str:
        return (
            f"hydratrack {' '.join(self.args)} -> exit {self.returncode}\n"
            f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        )


def run_cli(
    args: list[str], env: dict[str, str], *, input: str | None = None, timeout: float = 60.0
) -> CliRun:
    env = {**env, "COLUMNS": "250"}  # wide tables: ids are not folded
    proc = subprocess.run(
        [*hydratrack_command(), *args],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return CliRun(args, proc.returncode, proc.stdout, proc.stderr)
