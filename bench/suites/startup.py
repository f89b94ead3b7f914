"""Suite 1: whole-process wall time of the same Hydra app, bare and with each tracker.

Every tracker is compared with the bare app run by the same interpreter (peers live in
their own venvs, whose site-packages change Hydra's start-up too). Runs are interleaved
round by round, so background load hits all variants alike; the overhead figure is the
per-round difference tracker - bare. Whole-process wall times on a small shared machine
scatter by tens of ms, so hydratrack's variants run more rounds than the (slow) peers', and
the CPU time of the app process (user + sys, its children included, the server not) is
reported beside the wall time: it scatters far less.
"""

from __future__ import annotations

import os
import resource
import subprocess
import time
from pathlib import Path

from bench.context import APPS_DIR, Context
from bench.measure import Figure
from bench.peers import peer_env

OVERRIDES = ["db=postgresql", "model=resnet", "optim.lr=0.01", "train.epochs=3", "+tag=bench"]

# tracker -> interpreter env it runs in
VARIANTS = {"hydratrack": "hydratrack", "clearml": "clearml", "mlflow": "mlflow"}
LABEL = {
    "hydratrack": "hydratrack Task.init (local server)",
    "clearml": "ClearML Task.init (offline)",
    "mlflow": "MLflow start_run + log_params (SQLite)",
}


BREAKDOWN: dict[tuple[str, str], list[float]] = {}
CPU: dict[tuple[str, str], list[float]] = {}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _write_user_config(ctx: Context) -> None:
    """``~/.hydratrack/config.toml`` of the user HOME below, for this run's server (as the
    server's first start writes it)."""
    from hydratrack.client.config import write_client_config

    config = ctx.scratch("startup/home") / ".hydratrack" / "config.toml"
    write_client_config(
        config,
        api_host=ctx.server.url,
        access_key=ctx.server.access_key,
        secret_key=ctx.server.secret_key,
        user="admin",
        password="",
    )


def _user_env(ctx: Context, **extra: str) -> dict[str, str]:
    """The environment of a user who followed the README: no HYDRATRACK_* variables; the
    server and the key pair come from ``~/.hydratrack/config.toml``, so reading that file
    is part of the figure."""
    env = {k: v for k, v in ctx.server.env().items() if not k.startswith("HYDRATRACK_")}
    return {**env, "HOME": str(ctx.scratch("startup/home")), **extra}


def _git_repository(ctx: Context) -> Path:
    """A working dir inside a git repository (a commit, a branch, a remote, an uncommitted
    change and an untracked file), where most training code runs."""
    repo = ctx.scratch("startup/repo")
    if not (repo / ".git").exists():
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "b",
            "GIT_AUTHOR_EMAIL": "b@e",
            "GIT_COMMITTER_NAME": "b",
            "GIT_COMMITTER_EMAIL": "b@e",
        }
        (repo / "train.py").write_text("print('v1')\n")
        for args in (
            ["init", "-q", "-b", "main"],
            ["add", "train.py"],
            ["commit", "-q", "-m", "v1"],
            ["remote", "add", "origin", "https://example.org/bench.git"],
        ):
            subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
        (repo / "train.py").write_text("print('v2')\n")
        (repo / "notes.txt").write_text("untracked\n")
    return repo


def _run_once(ctx: Context, env_name: str, tracker: str, rnd: int) -> float:
    """One run; tracker ``offline`` is hydratrack with HYDRATRACK_OFFLINE=1 (spool only),
    ``in_repo`` hydratrack run from a git repository (its exit waits for git)."""
    work = ctx.scratch(f"startup/{env_name}")
    cwd = _git_repository(ctx) if tracker == "in_repo" else work
    measured = rnd >= 0
    key = (env_name, tracker)
    if env_name == "hydratrack":
        env = _user_env(ctx, **({"HYDRATRACK_OFFLINE": "1"} if tracker == "offline" else {}))
        if tracker in ("offline", "in_repo"):
            tracker, rnd = "hydratrack", -abs(rnd) - 2  # the breakdown is of the main case
    else:
        env = peer_env(env_name, work)
    env["BENCH_TRACKER"] = tracker
    env["BENCH_TRACE"] = "1"  # the app reports import / init / exit-handler times
    if rnd == -1:  # the warm-up writes .pyc files, as a user's first run would
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    args = [
        ctx.python(env_name),
        str(APPS_DIR / "train.py"),
        *OVERRIDES,
        f"hydra.run.dir={work}/run-{tracker}-{rnd}",
    ]
    cpu0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - t0
    if measured:
        CPU.setdefault(key, []).append(_children_cpu() - cpu0)
    if proc.returncode != 0:
        raise RuntimeError(f"{tracker} app failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    if "hydratrack: warning" in proc.stderr:  # e.g. spooled instead of sent: not the figure
        raise RuntimeError(f"{tracker} run warned:\n{proc.stderr[-3000:]}")
    for line in proc.stderr.splitlines():
        if line.startswith("BENCH_TRACE ") and rnd >= 0:
            for item in line.split()[1:]:
                key, _, value = item.partition("=")
                BREAKDOWN.setdefault((tracker, key), []).append(float(value))
    return elapsed


def run(ctx: Context) -> None:
    rounds = 3 if ctx.quick else 8  # peers: each ClearML/MLflow run takes seconds
    own_rounds = 3 if ctx.quick else 30
    envs = ["hydratrack"] + ([] if not ctx.peers else ["clearml", "mlflow"])
    times: dict[tuple[str, str], list[float]] = {}
    skipped: dict[str, str] = {}
    BREAKDOWN.clear()
    CPU.clear()
    _write_user_config(ctx)
    for env_name in list(envs):  # warm-up: first run compiles .pyc files, fills caches
        _run_once(ctx, env_name, "bare", -1)
        try:
            _run_once(ctx, env_name, env_name, -1)
        except RuntimeError as exc:
            skipped[env_name] = str(exc).strip().splitlines()[-1][:150]
    for rnd in range(max(rounds, own_rounds)):
        for env_name in envs if rnd < rounds else ["hydratrack"]:
            trackers = ["bare"] if env_name in skipped else ["bare", env_name]
            if env_name == "hydratrack" and env_name not in skipped:
                trackers += ["offline", "in_repo"]
            for tracker in trackers:
                times.setdefault((env_name, tracker), []).append(
                    _run_once(ctx, env_name, tracker, rnd)
                )
    bare_main = "startup: bare app (hydratrack env)"
    ctx.add(Figure("startup", bare_main, [t * 1e3 for t in times[("hydratrack", "bare")]], "ms"))
    for env_name, why in skipped.items():
        ctx.add(
            Figure(
                "startup",
                f"startup overhead: {LABEL[env_name]}",
                [],
                "ms",
                goal=30.0 if env_name == "hydratrack" else None,
                note=f"not measured: {why}",
            )
        )
    for env_name in envs:
        bare = times[(env_name, "bare")]
        if env_name != "hydratrack":
            ctx.add(
                Figure(
                    "startup", f"startup: bare app ({env_name} venv)", [t * 1e3 for t in bare], "ms"
                )
            )
        if env_name in skipped:
            continue
        tracked = times[(env_name, env_name)]
        own_bare = bare_main if env_name == "hydratrack" else f"startup: bare app ({env_name} venv)"
        ctx.add(
            Figure(
                "startup",
                f"startup: + {LABEL[env_name]}",
                [t * 1e3 for t in tracked],
                "ms",
                ref=own_bare,
            )
        )
        ctx.add(
            Figure(
                "startup",
                f"startup overhead: {LABEL[env_name]}",
                [(a - b) * 1e3 for a, b in zip(tracked, bare, strict=True)],
                "ms",
                goal=30.0 if env_name == "hydratrack" else None,
                ref=None
                if env_name == "hydratrack"
                else "startup overhead: " + LABEL["hydratrack"],
            )
        )
    if ("hydratrack", "hydratrack") in CPU:
        ctx.add(
            Figure(
                "startup",
                "startup CPU time added: " + LABEL["hydratrack"],
                [
                    (a - b) * 1e3
                    for a, b in zip(
                        CPU[("hydratrack", "hydratrack")], CPU[("hydratrack", "bare")], strict=True
                    )
                ],
                "ms",
                note="user + sys of the app process, per-round difference",
            )
        )
    if ("hydratrack", "in_repo") in times:
        ctx.add(
            Figure(
                "startup",
                "startup overhead: hydratrack Task.init in a git repository",
                [
                    (a - b) * 1e3
                    for a, b in zip(
                        times[("hydratrack", "in_repo")], times[("hydratrack", "bare")], strict=True
                    )
                ],
                "ms",
                note="commit, branch, remote, diff and untracked files recorded: "
                "the exit waits for git",
            )
        )
    if ("hydratrack", "offline") in times:
        offline = times[("hydratrack", "offline")]
        ctx.add(
            Figure(
                "startup",
                "startup overhead: hydratrack Task.init offline (spool only)",
                [
                    (a - b) * 1e3
                    for a, b in zip(offline, times[("hydratrack", "bare")], strict=True)
                ],
                "ms",
                note="HYDRATRACK_OFFLINE=1: no HTTP stack",
            )
        )
    parts = {
        "import_ms": "import",
        "init_ms": "init call",
        "exit_ms": "exit handlers (flush, final status)",
    }
    for env_name in envs:
        for key, label in parts.items():
            samples = BREAKDOWN.get((env_name, key))
            if samples:
                ctx.add(
                    Figure(
                        "startup",
                        f"startup breakdown, {env_name}: {label}",
                        samples,
                        "ms",
                        note="measured inside the app",
                        ref=None
                        if env_name == "hydratrack"
                        else f"startup breakdown, hydratrack: {label}",
                    )
                )
