"""Console streaming of a real child process to a real server."""

from __future__ import annotations

import subprocess
import sys
import time

from hydratrack.agent.console import MAX_LINE, ConsoleStream
from hydratrack.client import ApiClient

CHILD = r"""
import sys
sys.stdout.write("first\n"); sys.stdout.flush()
sys.stderr.write("oops\n"); sys.stderr.flush()
for i in range(5):
    sys.stdout.write(f"\rprogress {i}/4"); sys.stdout.flush()
sys.stdout.write("\n")
sys.stdout.write("crlf line\r\n")
sys.stdout.write("x" * 200000 + "\n")
sys.stdout.write("ünïcode ✓\n")
sys.stdout.write("no newline at the end")
"""


def test_child_console_reaches_the_server_line_by_line(api: ApiClient) -> None:
    task = api.create_task({"name": "console", "project": "agent-console", "status": "in_progress"})
    echoed: list[tuple[str, str]] = []
    stream = ConsoleStream(api, task["id"], echo=lambda s, t: echoed.append((s, t)))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert child.stdout is not None and child.stderr is not None
    stream.follow(child.stdout, "stdout")
    stream.follow(child.stderr, "stderr")
    assert child.wait(30) == 0
    stream.note("done here")
    stream.close()
    items = api.get_console(task["id"], limit=10000)["items"]
    out = [i["text"] for i in items if i["stream"] == "stdout"]
    err = [i["text"] for i in items if i["stream"] == "stderr"]
    assert out[0] == "first\n" and out[1] == "progress 4/4\n" and out[2] == "crlf line\n"
    long = [t for t in out if t.startswith("x")]
    assert len(long) >= 4 and all(len(t) <= MAX_LINE + 1 for t in long)  # split, not cut
    assert "".join(long).replace("\n", "") == "x" * 200000
    assert out[3 + len(long) :] == ["ünïcode ✓\n", "no newline at the end\n"]
    assert err == ["oops\n", "[hydratrack agent] done here\n"]
    assert stream.tail == ["oops"]  # the child's stderr only, for the failure reason
    assert len(echoed) == len(items)


def test_lines_wait_for_an_unreachable_server_within_a_bound() -> None:
    from hydratrack.agent import console as console_mod
    from tests.support.servers import free_port

    api = ApiClient(f"http://127.0.0.1:{free_port()}", "k", "s")  # nobody listens there
    stream = ConsoleStream(api, "0" * 32, interval=0.05)
    total = console_mod.MAX_BUFFERED + 50_000
    for i in range(total):
        stream.line("stdout", f"{i}\n")
    waiting = len(stream._lines) + (len(stream._pending[1]) if stream._pending else 0)
    assert stream.dropped > 0 and waiting + stream.dropped == total  # counted, never silent
    assert waiting <= console_mod.MAX_BUFFERED + console_mod.MAX_BATCH
    assert stream._lines[-1]["text"] == f"{total - 1}\n"  # the newest are kept
    started = time.monotonic()
    stream.close(timeout=1.0)  # retried until the timeout, then given up
    assert 0.9 < time.monotonic() - started < 10
    api.close()
