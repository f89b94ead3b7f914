"""The names SDK, agent, edits and server share are spelled once, in ``hydratrack.names``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import hydratrack.names as names
from hydratrack.agent.command import CALLBACK_OVERRIDE, section_values
from hydratrack.edits.overrides import hydra_section_overrides
from hydratrack.sdk import hydra as hydra_capture

PACKAGE = Path(names.__file__).resolve().parent
# Being rewritten by another change; they switch to hydratrack.names when it lands (#16).
PENDING: set[str] = set()  # modules not switched to hydratrack.names yet


def shared_values() -> dict[str, str]:
    return {
        value: name
        for name, value in vars(names).items()
        if name.isupper() and isinstance(value, str)
    }


def string_literals(tree: ast.AST) -> list[ast.Constant]:
    """String constants in code, docstrings left out (prose may name things)."""
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            docstrings.add(id(body[0].value))
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_module_spells_a_shared_name_itself() -> None:
    values = shared_values()
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "names.py" or rel in PENDING:
            continue
        for node in string_literals(ast.parse(path.read_text(encoding="utf-8"))):
            if node.value in values:
                found.append(
                    f"{rel}:{node.lineno}: {node.value!r} (hydratrack.names.{values[node.value]})"
                )
    assert not found, "spell these with hydratrack.names:\n" + "\n".join(found)


def test_names_module_imports_nothing() -> None:
    """The SDK imports it on its start-up path: it must cost nothing."""
    tree = ast.parse(Path(names.__file__).read_text(encoding="utf-8"))
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]


def test_capture_records_what_the_agent_and_the_edits_read() -> None:
    warnings: list[str] = []
    section = hydra_capture.hydra_section(["db=postgresql", "+extra.flag=1"], warnings)
    assert names.ALLOW_EDIT_KEY in section and not warnings
    (op,) = [
        o
        for o in hydra_capture.ops_for(hydra_capture.Capture("a: 1\n", section, {}, []), True)
        if o["op"] == "put_hyperparams"
    ]
    assert op["section"] == names.HYDRA_SECTION and op["keep"] == [names.ALLOW_EDIT_KEY]

    task = {"hyperparams": {op["section"]: op["params"]}}
    values = section_values(task)
    assert hydra_section_overrides(values) == ["db=postgresql", "+extra.flag=1"]
    assert hydra_capture.is_own_override(CALLBACK_OVERRIDE)


def test_the_server_does_not_start_without_its_edit_validator() -> None:
    """Draft validation is not optional: a server that cannot import it must not come up
    (it used to skip validation silently)."""
    code = (
        "import sys; sys.modules['hydratrack.edits.validate'] = None\n"
        "try:\n"
        "    import hydratrack.server.api.params\n"
        "except ImportError:\n"
        "    print('refused')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "refused", done.stdout + done.stderr
