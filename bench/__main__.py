"""``python -m bench``: run the benchmark suites and print a table of medians and ratios.

python -m bench                      # everything (installs the peers on first run)
python -m bench --quick              # small counts: a smoke run of the harness
python -m bench --suites startup,logging --no-peers
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench.context import BENCH_DIR, Context
from bench.measure import table

SUITES = ["startup", "logging", "scale", "queue", "memory"]


def machine_facts() -> dict[str, object]:
    mem_kb = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "mem_gb": round(mem_kb / 1024 / 1024, 1),
        "loadavg_at_start": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--quick", action="store_true", help="small counts (smoke run)")
    ap.add_argument(
        "--suites",
        default=",".join(SUITES),
        help=f"comma list of suites (default: all of {','.join(SUITES)})",
    )
    ap.add_argument("--no-peers", action="store_true", help="skip ClearML and MLflow")
    ap.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG_URL"),
        help="PostgreSQL base URL for the scale suite, e.g. "
        "postgresql://postgres@127.0.0.1:54329/ (default: $BENCH_PG_URL; "
        "unset: a throw-away cluster from the installed PostgreSQL binaries)",
    )
    ap.add_argument(
        "--backends",
        default="sqlite,postgresql",
        help="stores for the scale suite (default: sqlite,postgresql)",
    )
    ap.add_argument(
        "--work",
        type=Path,
        default=None,
        help="scratch dir (default: a temp dir, removed afterwards)",
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=BENCH_DIR / "out",
        help="where results.json and results.md go (default bench/out)",
    )
    args = ap.parse_args(argv)

    chosen = [s.strip() for s in args.suites.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SUITES]
    if unknown:
        ap.error(f"unknown suite(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    work = args.work or Path(tempfile.mkdtemp(prefix="hydratrack-bench-"))
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not set(backends) <= {"sqlite", "postgresql"}:
        ap.error(f"--backends: choose from sqlite, postgresql (got {args.backends!r})")
    ctx = Context(
        work=work,
        quick=args.quick,
        peers=not args.no_peers,
        pg_url=args.pg,
        backends=backends,
        log=lambda msg: print(msg, file=sys.stderr, flush=True),
    )
    facts = machine_facts()
    failures: dict[str, str] = {}
    started = time.monotonic()
    if ctx.peers and {"startup", "logging"} & set(chosen):
        from bench.peers import PeerInstallError, ensure_peer

        try:
            for peer in ("clearml", "mlflow"):
                ensure_peer(peer, ctx.log)
        except PeerInstallError as exc:
            failures["peers"] = f"not installed, peers left out: {exc}"[:500]
            ctx.log(f"[bench] {failures['peers']}")
            ctx.peers = False
    try:
        for name in chosen:
            ctx.log(f"[bench] suite {name} ...")
            try:
                importlib.import_module(f"bench.suites.{name}").run(ctx)
            except Exception as exc:  # a suite that fails does not hide the others
                failures[name] = f"{type(exc).__name__}: {exc}"
                ctx.log(f"[bench] suite {name} FAILED:\n{traceback.format_exc()}")
    finally:
        ctx.close()
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    facts["loadavg_at_end"] = os.getloadavg()
    facts["duration_s"] = round(time.monotonic() - started, 1)
    from bench.peers import installed_versions

    facts["peers"] = {p: installed_versions(p) for p in ("clearml", "mlflow")}

    text = table(ctx.figures)
    if failures:
        text += "\n\nFailed suites:\n" + "\n".join(f"- {k}: {v}" for k, v in failures.items())
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(
        f"command: python -m bench {' '.join(argv if argv is not None else sys.argv[1:])}\n"
        f"facts: {json.dumps(facts)}\n\n{text}\n"
    )
    (args.out / "results.json").write_text(
        json.dumps(
            {"facts": facts, "figures": [f.to_json() for f in ctx.figures], "failures": failures},
            indent=1,
        )
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
