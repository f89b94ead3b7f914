"""The page routes and static files over plain HTTP (no browser): shells, 404s, MIME types."""

from __future__ import annotations

from typing import Any

import httpx
import pytest


@pytest.mark.parametrize(
    ("path", "page"),
    [
        ("/", "projects"),
        ("/login", "login"),
        ("/queues", "queues"),
        ("/compare?ids=a,b", "compare"),
        ("/projects/" + "a" * 32, "experiments"),
        ("/tasks/" + "b" * 32, "task"),
    ],
)
def test_pages_are_shells_without_data(server: Any, path: str, page: str) -> None:
    resp = httpx.get(server.url + path)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert resp.headers["cache-control"] == "no-store"
    assert "script-src 'self';" in resp.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
    assert f'data-page="{page}"' in resp.text
    assert '<script type="module" src="/static/js/main.js' in resp.text


def test_malformed_ids_answer_404_pages(server: Any) -> None:
    for path in ("/tasks/not-an-id", "/projects/%3Cscript%3E"):
        resp = httpx.get(server.url + path)
        assert resp.status_code == 404
        assert 'data-page="notfound"' in resp.text
        assert "<script>" not in resp.text  # the id is escaped, never markup


def test_static_modules_are_served_as_javascript(server: Any) -> None:
    for name in ("main.js", "api.js", "pages/task.js", "task_config.js"):
        resp = httpx.get(f"{server.url}/static/js/{name}")
        assert resp.status_code == 200, name
        assert "javascript" in resp.headers["content-type"], name
    css = httpx.get(server.url + "/static/css/app.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert httpx.get(server.url + "/static/js/nope.js").status_code == 404


def test_api_errors_keep_their_shape_next_to_the_pages(server: Any) -> None:
    resp = httpx.get(server.url + "/api/v1/tasks")
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "unauthorized"
    # a browser's fetch gets no Basic challenge (it would pop up a password dialog)
    fetch = httpx.get(server.url + "/api/v1/tasks", headers={"Sec-Fetch-Mode": "cors"})
    assert fetch.status_code == 401 and "www-authenticate" not in fetch.headers
    assert "www-authenticate" in resp.headers
