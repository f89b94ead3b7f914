"""The input rule (server/limits.py) as pure functions: what it refuses, names and keeps."""

from __future__ import annotations

from typing import Any

import pytest

from hydratrack.server import limits


def deep(n: int) -> Any:
    out: Any = 1
    for _ in range(n):
        out = [out]
    return out


@pytest.mark.parametrize(
    ("value", "field", "words"),
    [
        ({"a": {"b": [1, 2**63]}}, "body.a.b.1", "64-bit"),
        ({"a": -(2**63) - 1}, "body.a", "64-bit"),
        ({"a": float("nan")}, "body.a", "finite"),
        ({"a": [float("-inf")]}, "body.a.0", "finite"),
        ({"a": "x\x00"}, "body.a", "NUL"),
        ({"a": "x\udc80"}, "body.a", "surrogate"),
        ({"k\x00": 1}, "body", "NUL"),
        ({"a": "x" * (limits.MAX_STRING + 1)}, "body.a", "longer"),
        ({"a": deep(limits.MAX_DEPTH)}, "body.a", "nested deeper"),
        ({"a": deep(1_000_000)}, "body.a", "nested deeper"),  # no recursion, any depth
        ({"a": [0] * limits.MAX_VALUES}, "body", "values"),
    ],
)
def test_check_refuses_and_names_the_field(value: Any, field: str, words: str) -> None:
    with pytest.raises(limits.InputRefused) as caught:
        limits.check(value, "body")
    err = caught.value
    assert err.status == 422 and err.code == "validation_error"
    assert err.details[0]["field"].startswith(field), err.details
    assert words in err.message


def test_check_keeps_what_fits() -> None:
    value = {"a": deep(limits.MAX_DEPTH - 2), "n": [2**63 - 1, -(2**63)], "s": "é✓", "t": True}
    assert limits.check(value, "body") is value


def test_output_text_escapes_only_what_cannot_be_stored() -> None:
    assert limits.output_text("plain\ttext\n") == "plain\ttext\n"
    assert limits.output_text("a\x00b\udc80c") == "a\\x00b\\udc80c"


def test_identifier() -> None:
    assert limits.identifier("loss/train") == "loss/train"
    with pytest.raises(ValueError, match="NUL"):
        limits.identifier("lo\x00ss")


def test_answerable_degrades_only_the_broken_field(caplog: pytest.LogCaptureFixture) -> None:
    good = {"id": "t1", "script": {"a": 1}, "runtime": {}}
    assert limits.answerable(good, "task", ("script", "runtime")) is good
    bad = {"id": "t2", "script": {"a": 1}, "runtime": deep(500)}
    shown = limits.answerable(bad, "task", ("script", "runtime"))
    assert shown["script"] == {"a": 1} and shown["runtime"] is None
    assert "nested deeper" in shown["degraded"][0]
    assert "t2" in caplog.text


@pytest.mark.parametrize(
    ("path", "query", "bad"),
    [
        ("/api/v1/tasks", b"name=a%00", "name"),
        ("/api/v1/tasks", b"x=1&tag=%00", "tag"),
        ("/api/v1/tasks/a\x00", b"", "path"),
        ("/api/v1/tasks", b"name=a%2500", None),  # an escaped percent sign: fine
    ],
)
def test_query_problem(path: str, query: bytes, bad: str | None) -> None:
    found = limits.query_problem({"path": path, "query_string": query})
    assert (found[0] if found else None) == bad
