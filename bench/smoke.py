"""``python -m bench.smoke``: the harness runs end to end with --quick (not a benchmark).

Runs the client-side suites without peers and checks that each expected figure was
measured and written to results.json; exit code 1 otherwise. No timing is asserted.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from bench.__main__ import main as bench_main

EXPECTED = [
    "startup: bare app (hydratrack env)",
    "startup overhead: hydratrack Task.init (local server)",
    "logging: per call, hydratrack report_scalar, 10k",
    "queue: enqueue → child's first statement",
    "memory: server RSS idle",
]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="hydratrack-bench-smoke-") as tmp:
        out = Path(tmp) / "out"
        code = bench_main(
            ["--quick", "--no-peers", "--suites", "startup,logging,queue,memory", "--out", str(out)]
        )
        figures = {f["name"]: f for f in json.loads((out / "results.json").read_text())["figures"]}
    missing = [name for name in EXPECTED if not figures.get(name, {}).get("samples")]
    if code or missing:
        print(f"bench smoke FAILED: exit {code}, not measured: {missing}", file=sys.stderr)
        return 1
    print(f"bench smoke ok: {len(figures)} figures measured", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
