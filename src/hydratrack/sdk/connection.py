"""The SDK's HTTP connection to the server, set up as cheaply as httpx allows.

A run's data waits for this set-up before its first request, and at exit the process
waits for the last request, so its cost is the SDK's exit cost on a fast local server.
Most of it is importing the HTTP stack. Two optional parts of it are never used by the
SDK, so they are kept out of the import, without changing what a user's own code sees:

- ``httpx._main`` (the ``httpx`` command line: rich, pygments, click) is blocked for this
  one import; httpx then uses its stub ``httpx.main``. A later ``import httpx._main`` works.
- ``trio``: httpcore imports it eagerly when installed, for its async locks under trio. It
  is blocked while httpcore is imported and then handed to httpcore as a :class:`Deferred`
  stand-in that imports trio on first use, so async httpx under trio still works.

The client keeps one connection open (HTTP keep-alive) for all of a run's requests.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
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


def import_http_stack() -> None:
    """Import httpx and httpcore without their optional parts (see the module doc)."""
    blocked = [] if "httpx" in sys.modules else ["httpx._main"]
    if "httpcore" not in sys.modules:
        blocked += [name for name in OPTIONAL if name not in sys.modules]
    if not blocked:
        return  # already paid for
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import httpcore  # noqa: F401
        import httpx  # noqa: F401
    finally:
        for name in blocked:
            del sys.modules[name]
    for name in OPTIONAL:
        if name in blocked and importlib.util.find_spec(name) is not None:
            _defer(name)


def _defer(name: str) -> None:
    """Give every httpcore module that saw ``name`` as missing a :class:`Deferred` instead."""
    for mod_name, mod in list(sys.modules.items()):
        if (mod_name == "httpcore" or mod_name.startswith("httpcore.")) and mod is not None \
                and name in vars(mod) and vars(mod)[name] is None:
            setattr(mod, name, Deferred(name))


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
