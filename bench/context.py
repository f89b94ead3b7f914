"""What every suite gets: options, a scratch dir, the shared hydratrack server, peers."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Callable

from bench.measure import Figure
from bench.peers import ensure_peer
from bench.server import BenchServer, start_server

BENCH_DIR = Path(__file__).resolve().parent
APPS_DIR = BENCH_DIR / "apps"


@dataclasses.dataclass
class Context:
    work: Path
    quick: bool
    peers: bool = True
    pg_url: str | None = None
    backends: list[str] = dataclasses.field(default_factory=lambda: ["sqlite", "postgresql"])
    log: Callable[[str], None] = print
    figures: list[Figure] = dataclasses.field(default_factory=list)
    _server: BenchServer | None = None

    def python(self, env_name: str) -> str:
        """The interpreter of an env: ``hydratrack`` (this one) or a peer venv."""
        return sys.executable if env_name == "hydratrack" else str(ensure_peer(env_name, self.log))

    def scratch(self, name: str) -> Path:
        path = self.work / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def server(self) -> BenchServer:
        """One SQLite server shared by the client-side suites (started on first use)."""
        if self._server is None:
            self._server = start_server(self.scratch("server-main"))
        return self._server

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        self.log(
            f"  {figure.name}: {figure.stat} {figure.value:.6g} {figure.unit} "
            f"(n={len(figure.samples)}) {figure.note}"
        )
        return figure

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
