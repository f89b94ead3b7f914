"""``python -m bench.profile``: where the time goes when a goal is missed (py-spy).

    python -m bench.profile startup     # the Hydra app with hydratrack, main thread + sender
    python -m bench.profile ingest      # the server while the SDK sends N points
    python -m bench.profile scalars     # the server answering GET /scalars on a big series
    python -m bench.profile imports     # what the SDK's HTTP stack costs a short process

py-spy (and pyinstrument) are installed from PyPI into ``bench/.peers/tools`` on first use.
Prints the functions with the largest inclusive share of busy samples; the raw samples
stay in bench/out/profile-<what>.raw (flamegraph "collapsed" format).
"""

from __future__ import annotations

import collections
import re
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

from bench.context import APPS_DIR, BENCH_DIR
from bench.peers import PEERS_DIR
from bench.server import start_server

FRAME = re.compile(r"(.*) \((.*?):\d+\)$")
IDLE = ("wait (threading", "select (selectors", "_worker (concurrent", "sleep", "poll (")


def py_spy() -> Path:
    tools = PEERS_DIR / "tools"
    exe = tools / "bin" / "py-spy"
    if not exe.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(tools)
        subprocess.run(
            [
                str(tools / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "py-spy",
                "pyinstrument",
            ],
            check=True,
        )
    return exe


def summarize(raw: Path, top: int = 40, keep: str = "") -> str:
    """Inclusive and self shares of busy samples per function (idle leaves dropped)."""
    incl: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    busy = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")[1:]
        if not frames or any(mark in frames[-1] for mark in IDLE):
            continue
        n = int(count)
        busy += n
        seen = set()
        for f in frames:
            m = FRAME.match(f)
            if m and (key := f"{m.group(1)} ({m.group(2)})") not in seen:
                seen.add(key)
                incl[key] += n
        if m := FRAME.match(frames[-1]):
            own[f"{m.group(1)} ({m.group(2)})"] += n
    out = [f"busy samples: {busy}", "inclusive:"]
    out += [f"  {100 * v / busy:5.1f}%  {k}" for k, v in incl.most_common(top * 3) if keep in k][
        :top
    ]
    out += ["self:"] + [f"  {100 * v / busy:5.1f}%  {k}" for k, v in own.most_common(15)]
    return "\n".join(out)


def record_pid(pid: int, raw: Path, rate: int = 200) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(py_spy()),
            "record",
            "-r",
            str(rate),
            "-f",
            "raw",
            "-o",
            str(raw),
            "--threads",
            "--pid",
            str(pid),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


IMPORT_CASES = {
    "SDK modules (hydratrack.sdk.transport)": "",
    "+ httpx and httpx.HTTPTransport (what the sender builds)": "import httpx; httpx.HTTPTransport(verify=False)",
    "+ the same with trio/anyio hidden (httpcore imports them when installed)": "import sys; sys.modules['trio'] = sys.modules['anyio'] = None\n"
    "import httpx; httpx.HTTPTransport(verify=False)",
    "+ stdlib http.client + json instead": "import http.client, json",
}


def imports(reps: int = 9) -> str:
    """Median wall time of fresh interpreters importing the SDK's HTTP stack."""
    import statistics

    def wall(code: str) -> float:
        runs = []
        for _ in range(reps):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            runs.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(runs)

    base = wall("import hydratrack.sdk.transport as t")
    lines = [f"  {base:7.1f} ms  SDK modules (hydratrack.sdk.transport), whole process"]
    for label, code in list(IMPORT_CASES.items())[1:]:
        extra = wall("import hydratrack.sdk.transport as t\n" + code) - base
        lines.append(f"  {extra:+7.1f} ms  {label}")
    return "\n".join(lines)


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else "startup"
    if what == "imports":
        print(imports())
        return
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    out_dir = BENCH_DIR / "out"
    out_dir.mkdir(exist_ok=True)
    raw = out_dir / f"profile-{what}.raw"
    with tempfile.TemporaryDirectory(prefix="hydratrack-profile-") as tmp:
        server = start_server(Path(tmp))
        try:
            env = server.env()
            if what == "startup":
                env["BENCH_TRACKER"] = "hydratrack"
                subprocess.run(
                    [
                        str(py_spy()),
                        "record",
                        "-r",
                        "1000",
                        "-f",
                        "raw",
                        "-o",
                        str(raw),
                        "--threads",
                        "--",
                        sys.executable,
                        str(APPS_DIR / "train.py"),
                        f"hydra.run.dir={tmp}/run",
                    ],
                    env=env,
                    check=True,
                    capture_output=True,
                )
                keep = ""
            elif what in ("ingest", "scalars"):
                worker = [sys.executable, str(APPS_DIR / "log_worker.py"), "hydratrack", str(n)]
                if what == "ingest":
                    spy = record_pid(server.pid, raw)
                    time.sleep(1)
                    subprocess.run(worker, env=env, check=True, capture_output=True)
                else:
                    out = subprocess.run(
                        worker, env=env, check=True, capture_output=True, text=True
                    ).stdout
                    task_id = out.split('"task_id": "')[1].split('"')[0]
                    spy = record_pid(server.pid, raw)
                    time.sleep(1)
                    with server.client() as api:
                        for _ in range(10):
                            api.get_scalars(task_id)
                spy.send_signal(2)
                spy.wait(60)
                keep = ""
            else:
                raise SystemExit(f"unknown profile {what!r}: startup, ingest or scalars")
        finally:
            server.stop()
    print(summarize(raw, keep=keep))
    print(f"raw samples: {raw}")


if __name__ == "__main__":
    main()
