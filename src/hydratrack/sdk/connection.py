"""The SDK's HTTP connection to the server, set up as cheaply as httpx allows.

A run's data waits for this set-up before its first request, and at exit the process
waits for the last request, so its cost is the SDK's exit cost on a fast local server.
Most of it is importing the HTTP stack. Two optional parts of it are never used by the
SDK, so they are kept out of the import, without changing what a user's own code sees:

- ``httpx._main`` (the ``httpx`` command line: rich, pygments, click): httpx then uses its
  stub ``httpx.main``. A later ``import httpx._main`` works.
- ``trio``: httpcore imports it eagerly when installed, for its async locks under trio. It
  is handed to httpcore as a :class:`Deferred` stand-in that imports trio on first use, so
  async httpx under trio still works.

Both are left out by a finder that answers "not found" to the importing thread only, for
the duration of this one import: other threads importing them meanwhile are not affected.

The client keeps one connection open (HTTP keep-alive) for all of a run's requests.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
import threading
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from hydratrack.client.api import ApiClient

OPTIONAL = ("trio",)  # imported eagerly by httpcore, only used by its async code


class Deferred:
    """Stands for a module that is imported on first attribute access."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        module: ModuleType = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<deferred module {self._name!r}>"


class _SkipOnThisThread:
    """A meta-path finder that makes ``names`` unimportable for the calling thread only
    (other threads, and later imports, find them as usual)."""

    def __init__(self, names: list[str]) -> None:
        self.names = frozenset(names)
        self.thread = threading.get_ident()

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name in self.names and threading.get_ident() == self.thread:
            raise ModuleNotFoundError(f"{name} is left out of hydratrack's HTTP set-up",
                                      name=name)


def import_http_stack() -> None:
    """Import httpx and httpcore without their optional parts (see the module doc)."""
    skipped = [] if "httpx" in sys.modules else ["httpx._main"]
    if "httpcore" not in sys.modules:
        skipped += [name for name in OPTIONAL if name not in sys.modules]
    if not skipped:
        return  # already paid for
    finder = _SkipOnThisThread(skipped)
    sys.meta_path.insert(0, finder)
    try:
        import httpcore  # noqa: F401
        import httpx  # noqa: F401
    finally:
        sys.meta_path.remove(finder)
    for name in OPTIONAL:
        if name in skipped and name not in sys.modules \
                and importlib.util.find_spec(name) is not None:
            _defer(name)
        elif name in skipped and name in sys.modules:
            _defer_to(name, sys.modules[name])


def _defer(name: str) -> None:
    """Give every httpcore module that saw ``name`` as missing a :class:`Deferred` instead."""
    _defer_to(name, Deferred(name))


def _defer_to(name: str, stand_in: Any) -> None:
    for mod_name, mod in list(sys.modules.items()):
        if (mod_name == "httpcore" or mod_name.startswith("httpcore.")) and mod is not None \
                and vars(mod).get(name, False) is None:
            setattr(mod, name, stand_in)


def quiet_http_logs() -> None:
    """httpx logs every request at INFO; Hydra's default logging would print them all into
    the user's console (and so into the recorded console)."""
    for name in ("httpx", "httpcore"):
        lg = logging.getLogger(name)
        if lg.level == logging.NOTSET:
            lg.setLevel(logging.WARNING)


def open_client(timeout: float = 10.0) -> ApiClient:
    """An :class:`ApiClient` for the configured server (env over the config file)."""
    import_http_stack()
    import httpx

    from hydratrack.client.api import ApiClient
    from hydratrack.client.config import load_client_config

    quiet_http_logs()
    cfg = load_client_config()
    plain = None
    if cfg.api_host.startswith("http://"):
        # no TLS on this connection: skip building an SSL context from the CA bundle,
        # which costs more CPU than everything else Task.init does
        plain = httpx.HTTPTransport(verify=False)
    return ApiClient(config=cfg, timeout=timeout, transport=plain)
