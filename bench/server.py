"""The benchmarks' ``hydratrack server`` process: the tests' launcher, plus an RSS probe."""

from __future__ import annotations

from tests.support.servers import ServerProcess as BenchServer
from tests.support.servers import free_port, start_server

__all__ = ["BenchServer", "free_port", "rss_mb", "start_server"]


def rss_mb(pid: int) -> float:
    """Resident set size of a process (Linux /proc), in MB."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")
