"""The public surface stays small, sorted, and cheap to import."""

from __future__ import annotations

import json
import subprocess
import sys

import hydratrack


def test_all_is_sorted_and_resolves() -> None:
    assert hydratrack.__all__ == sorted(hydratrack.__all__)
    for name in hydratrack.__all__:
        assert getattr(hydratrack, name) is not None


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        hydratrack.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_import_does_not_load_server_stack() -> None:
    code = (
        "import sys, json, hydratrack\n"
        "from hydratrack import Task\n"
        "heavy = [m for m in ('sqlalchemy', 'fastapi', 'uvicorn', 'alembic', 'starlette', 'jinja2')"
        " if m in sys.modules]\n"
        "print(json.dumps(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
