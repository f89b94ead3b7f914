"""Which Python runs a task: the execution modes of the agent.

Each mode is a subclass overriding one method, :meth:`Interpreter.python_for`; the agent's
own interpreter is the default, :class:`hydratrack.agent.venv.VenvCache` (``--venv``) builds
a venv from the task's recorded packages. A mode that cannot provide an interpreter raises
:class:`hydratrack.agent.workspace.WorkspaceError`, which fails the task with its message.
"""

from __future__ import annotations

import sys
from typing import Any, Mapping


class Interpreter:
    """The agent's own Python (the default)."""

    name = "current"

    def __init__(self, python: str = sys.executable) -> None:
        self.python = python

    def python_for(self, task: Mapping[str, Any]) -> str:
        return self.python
