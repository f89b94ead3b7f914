"""The SDK's connections to the server.

- The run's background sender delivers over :func:`open_client`: an :class:`ApiClient` on
  the standard-library backend (one keep-alive socket speaking HTTP/1.1). A run's data
  waits for this set-up and, on a short script, the process's exit waits for the data, so
  its cost is the SDK's exit cost: the socket wire imports nothing new, where
  ``http.client`` and httpx cost many milliseconds of imports (figures in
  docs/benchmarks.md, "Figures behind the code"). Artifact uploads go the same way (the backend streams multipart forms
  itself), so a run never imports httpx unless the script reads or steers tasks.
- Behind an HTTP proxy (``HTTP_PROXY``, ``HTTPS_PROXY`` or ``ALL_PROXY`` set, any case)
  the sender uses httpx instead, which honours them and ``NO_PROXY``; the socket wire
  does not.
- Reads and steering (``Task.get_task``, ``Task.clone``, ...) use :func:`open_reader`:
  the default httpx backend, like the CLI and the agent.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from hydratrack.client.api import ApiClient
    from hydratrack.client.config import ClientConfig


def quiet_http_logs() -> None:
    """httpx logs every request at INFO; Hydra's default logging would print them all into
    the user's console (and so into the recorded console)."""
    for name in ("httpx", "httpcore"):
        lg = logging.getLogger(name)
        if lg.level == logging.NOTSET:
            lg.setLevel(logging.WARNING)


PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


def proxy_configured() -> bool:
    return any(os.environ.get(name) or os.environ.get(name.upper()) for name in PROXY_VARIABLES)


def open_client(timeout: float = 10.0, config: ClientConfig | None = None) -> ApiClient:
    """The sender's client for the configured server (env over the config file;
    ``config``: those settings, already read)."""
    from hydratrack.client.api import ApiClient

    if proxy_configured():
        quiet_http_logs()
        return ApiClient(config=config, timeout=timeout, backend="httpx")
    return ApiClient(config=config, timeout=timeout, backend="stdlib")


def open_reader() -> ApiClient:
    """The client of ``Task``'s read and steer calls (httpx)."""
    from hydratrack.client.api import ApiClient

    quiet_http_logs()
    return ApiClient()
