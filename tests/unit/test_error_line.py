"""The failure reason picked from a failed process's stderr (SDK and agent alike)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hydratrack.sdk.console import error_line

APP = Path(__file__).resolve().parents[1] / "e2e" / "apps" / "replay" / "app.py"


@pytest.mark.parametrize("full_error", ["0", "1"])
def test_the_exception_line_of_a_real_hydra_failure(full_error: str, tmp_path: Path) -> None:
    """Hydra's short and full tracebacks both give the exception line, never the hint."""
    proc = subprocess.run(
        [sys.executable, str(APP), "+fail=oops", f"hydra.run.dir={tmp_path}"],
        env={"HYDRATRACK_OFFLINE": "1", "HOME": str(tmp_path), "HYDRA_FULL_ERROR": full_error},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    if full_error == "0":
        assert "Set the environment variable HYDRA_FULL_ERROR=1" in proc.stderr
    assert error_line(proc.stderr.splitlines()) == "ValueError: cannot use oops"


def test_the_last_traceback_wins_and_multi_line_messages_give_their_first_line() -> None:
    lines = [
        "Traceback (most recent call last):",
        '  File "a.py", line 1, in <module>',
        "KeyError: 'x'",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        '  File "a.py", line 3, in <module>',
        "    raise Boom('first line')",
        "__main__.Boom: first line",
        "second line of the message",
    ]
    assert error_line(lines) == "__main__.Boom: first line"


def test_without_a_traceback_an_error_line_then_the_last_line() -> None:
    assert error_line(["x", "RuntimeError: bad", "cleanup done"]) == "RuntimeError: bad"
    assert error_line(["failing on purpose", "  "]) == "failing on purpose"
    hint = "Set the environment variable HYDRA_FULL_ERROR=1 for a complete stack trace."
    assert error_line(["Could not override 'db.user'.", hint]) == "Could not override 'db.user'."
    assert error_line([]) == ""
