"""The web UI: HTML pages served by the API server's own process.

The pages are thin shells; their JavaScript (``static/js``) talks only to the public JSON
API (docs/api.md) with the session cookie, like any other client. The server calls
:func:`mount` from its app factory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import fastapi

__all__ = ["mount"]


def mount(app: fastapi.FastAPI) -> None:
    """Add the UI's page routes and its static files (``/static``) to ``app``."""
    from hydratrack.web.pages import add_page_routes, mount_static

    mount_static(app)
    add_page_routes(app)
