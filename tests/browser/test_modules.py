"""The pages' small pure modules, run in the real browser: line diff, YAML highlighting,
command-line quoting, formats and chart data alignment."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import UiSession

pytestmark = pytest.mark.browser


def run(ui: UiSession, module: str, body: str, arg: Any = None) -> Any:
    """Import /static/js/<module> in the page and evaluate ``body`` with it bound to ``m``."""
    if not ui.page.url.startswith(ui.base):
        ui.goto("/login")
    return ui.page.evaluate(
        f"async (arg) => {{ const m = await import('/static/js/{module}'); {body} }}", arg
    )


def test_line_diff_finds_the_changed_lines(ui: UiSession) -> None:
    ops = run(
        ui,
        "config_diff.js",
        "return m.diffLines(arg[0], arg[1]).map(l => l.op + l.text);",
        ["a: 1\nb:\n  c: 2\nd: 4\n", "a: 1\nb:\n  c: 3\nd: 4\ne: 5\n"],
    )
    assert ops == [" a: 1", " b:", "-  c: 2", "+  c: 3", " d: 4", "+e: 5"]
    same = run(ui, "config_diff.js", "return m.diffLines('x: 1', 'x: 1').every(l => l.op === ' ');")
    assert same is True


def test_diff_block_collapses_unchanged_lines(ui: UiSession) -> None:
    text = run(
        ui,
        "config_diff.js",
        "return m.diffBlock(m.diffLines(arg[0], arg[1]), 1).textContent;",
        [
            "\n".join(f"k{i}: {i}" for i in range(20)),
            "\n".join(f"k{i}: {i if i != 10 else 'x'}" for i in range(20)),
        ],
    )
    assert text.splitlines() == [
        "… 9 unchanged line(s)",
        "  k9: 9",
        "- k10: 10",
        "+ k10: x",
        "  k11: 11",
        "… 8 unchanged line(s)",
    ]


def test_yaml_highlighting_classes(ui: UiSession) -> None:
    yaml = "# top\ndb:\n  port: 5432  # default\n  name: 'x: y'\n  on: true\n  none: null\nlist:\n  - ${db.port}\n"
    spans = run(
        ui,
        "yaml.js",
        "return [...m.yamlBlock(arg).querySelectorAll('span[class]')]"
        ".filter(s => s.className !== 'line').map(s => [s.className, s.textContent]);",
        yaml,
    )
    assert ["y-comment", "# top"] in spans
    assert ["y-key", "port"] in spans
    assert ["y-num", " 5432"] in spans
    assert ["y-comment", "  # default"] in spans
    assert ["y-str", " 'x: y'"] in spans
    assert ["y-bool", " true"] in spans
    assert ["y-null", " null"] in spans
    assert ["y-interp", "${db.port}"] in spans
    text = run(ui, "yaml.js", "return m.yamlBlock(arg).textContent;", yaml)
    assert text == yaml.rstrip("\n")


def test_command_line_quoting(ui: UiSession) -> None:
    line = run(
        ui,
        "task_info.js",
        "return m.shellLine(arg);",
        ["python", "app.py", "db=mysql", "+x=a b", "name='q'", "lr=0.1"],
    )
    assert line == "python app.py db=mysql '+x=a b' 'name='\\''q'\\''' lr=0.1"


def test_formats(ui: UiSession) -> None:
    out = run(
        ui,
        "format.js",
        "return [m.fmtDuration(59), m.fmtDuration(61), m.fmtDuration(3 * 3600 + 120),"
        " m.fmtSize(15), m.fmtSize(2048), m.fmtNumber(0.000012345), m.fmtNumber(0.1 + 0.2), m.fmtNumber(7)];",
    )
    assert out == ["59s", "1m 01s", "3h 02m", "15 B", "2.0 KiB", "1.2345e-5", "0.3", "7"]


def test_chart_series_alignment(ui: UiSession) -> None:
    aligned = run(
        ui,
        "charts.js",
        "return m.alignSeries(arg);",
        [{"label": "a", "x": [0, 2], "y": [1, 3]}, {"label": "b", "x": [1, 2], "y": [5, 6]}],
    )
    assert aligned == [[0, 1, 2], [1, None, 3], [None, 5, 6]]


def test_chart_non_numbers_are_gaps(ui: UiSession) -> None:
    """The API answers NaN/infinite values as strings (docs/api.md): gaps in a chart."""
    aligned = run(
        ui,
        "charts.js",
        "return m.alignSeries(arg);",
        [{"label": "a", "x": [0, 1, 2, 3], "y": [1, "NaN", "Infinity", "-Infinity"]}],
    )
    assert aligned == [[0, 1, 2, 3], [1, None, None, None]]
