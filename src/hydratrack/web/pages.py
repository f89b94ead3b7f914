"""Page routes of the web UI.

Every page is the same HTML shell (templates/page.html) naming the page and, for detail
pages, the id it shows; ``static/js/main.js`` loads that page's module, which fetches
everything else from the JSON API. Pages carry no data, so they need no credentials: an
API answer of 401 sends the browser to ``/login?next=...``.
"""

from __future__ import annotations

import html
import re
import string
from functools import lru_cache
from pathlib import Path

import fastapi
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from hydratrack import __version__

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATE = WEB_DIR / "templates" / "page.html"

_ID = re.compile(r"^[0-9a-f]{32}$")
# Pages load only this server's own scripts and talk only to its API.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": _CSP,
    "X-Frame-Options": "DENY",
}


@lru_cache(maxsize=1)
def _template() -> string.Template:
    return string.Template(TEMPLATE.read_text(encoding="utf-8"))


def render_page(page: str, title: str, entity_id: str = "", status_code: int = 200) -> HTMLResponse:
    """The shell for ``page`` (a module name under static/js/pages)."""
    body = _template().substitute(
        page=html.escape(page),
        title=html.escape(title),
        entity_id=html.escape(entity_id),
        version=html.escape(__version__),
    )
    return HTMLResponse(body, status_code=status_code, headers=_HEADERS)


def _not_found(kind: str, value: str) -> HTMLResponse:
    return render_page("notfound", f"No such {kind}", value, status_code=404)


def mount_static(app: fastapi.FastAPI) -> None:
    STATIC_DIR.mkdir(parents=True, exist_ok=True)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def add_page_routes(app: fastapi.FastAPI) -> None:
    router = fastapi.APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

    @router.get("/login")
    def login_page() -> HTMLResponse:
        return render_page("login", "Sign in")

    @router.get("/")
    def projects_page() -> HTMLResponse:
        return render_page("projects", "Projects")

    @router.get("/projects/{project_id}")
    def experiments_page(project_id: str) -> HTMLResponse:
        if not _ID.match(project_id):
            return _not_found("project", project_id)
        return render_page("experiments", "Experiments", project_id)

    @router.get("/tasks/{task_id}")
    def task_page(task_id: str) -> HTMLResponse:
        if not _ID.match(task_id):
            return _not_found("experiment", task_id)
        return render_page("task", "Experiment", task_id)

    @router.get("/compare")
    def compare_page() -> HTMLResponse:
        return render_page("compare", "Compare experiments")

    @router.get("/queues")
    def queues_page() -> HTMLResponse:
        return render_page("queues", "Queues and workers")

    @router.get("/admin")
    def admin_page() -> HTMLResponse:
        return render_page("admin", "Users and access")

    @router.get("/audit")
    def audit_page() -> HTMLResponse:
        return render_page("audit", "Audit log")

    @router.get("/favicon.ico", include_in_schema=False)
    def favicon() -> RedirectResponse:
        return RedirectResponse("/static/favicon.svg", status_code=308)

    app.include_router(router)
