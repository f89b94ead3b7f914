"""Artifacts: multipart upload (sha256, replace by name), list, download, limits."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import httpx

from hydratrack.client import ApiClient
from tests.api.conftest import assert_error
from tests.support.servers import ServerProcess

Make = Callable[..., dict[str, Any]]


def test_upload_list_download_replace(
    api: ApiClient,
    http: httpx.Client,
    make_task: Make,
    tmp_path: Path,
    server: ServerProcess,
) -> None:
    t = make_task(status="in_progress")
    data = bytes(range(256)) * 4000
    f = tmp_path / "model.bin"
    f.write_bytes(data)
    art = api.upload_artifact(t["id"], "model", f, metadata={"epoch": 3})
    assert art["name"] == "model" and art["size"] == len(data)
    assert art["hash"] == hashlib.sha256(data).hexdigest()
    assert art["metadata"] == {"epoch": 3} and art["created"].endswith("Z")
    assert "uri" not in art and str(server.data_dir) not in repr(art)  # no server paths
    assert art["url"] == f"/api/v1/tasks/{t['id']}/artifacts/model/file"
    assert http.get(art["url"].removeprefix("/api/v1")).content == data
    assert api.download_artifact(t["id"], "model") == data
    assert api.list_artifacts(t["id"])["items"] == [art]
    f.write_bytes(b"v2")
    again = api.upload_artifact(t["id"], "model", f)
    assert again["size"] == 2 and again["metadata"] == {}
    assert api.download_artifact(t["id"], "model") == b"v2"
    assert [a["name"] for a in api.list_artifacts(t["id"])["items"]] == ["model"]
    kept = list((server.data_dir / "files" / t["id"]).iterdir())
    assert [p.read_bytes() for p in kept] == [b"v2"]  # the replaced file is gone


def test_bad_uploads(http: httpx.Client, make_task: Make) -> None:
    t = make_task()
    url = f"/tasks/{t['id']}/artifacts"
    assert_error(http.post(url, data={"name": "x"}), 422, "validation_error", "file")
    assert_error(http.post(url, files={"file": ("a", b"1")}), 422, "validation_error", "name")
    assert_error(
        http.post(url, data={"name": "x", "metadata": "{nope"}, files={"file": ("a", b"1")}),
        422,
        "validation_error",
        "metadata",
    )
    assert_error(
        http.post(url, data={"name": "x", "metadata": "[1]"}, files={"file": ("a", b"1")}),
        422,
        "validation_error",
        "metadata",
    )
    assert_error(
        http.post(
            "/tasks/" + "f" * 32 + "/artifacts", data={"name": "x"}, files={"file": ("a", b"1")}
        ),
        404,
        "not_found",
        "task",
    )
    assert_error(http.get(f"{url}/nothing/file"), 404, "not_found", "artifact nothing")
    assert http.get(url).json() == {"items": [], "total": 0}


def test_names_with_slashes_and_spaces(
    api: ApiClient, http: httpx.Client, make_task: Make, tmp_path: Path
) -> None:
    t = make_task()
    f = tmp_path / "w.pt"
    f.write_bytes(b"weights")
    for name in ("models/best.pt", "my report.html", "ünï"):
        api.upload_artifact(t["id"], name, f)
        url = f"/tasks/{t['id']}/artifacts/{quote(name, safe='')}/file"
        assert http.get(url).content == b"weights"
        assert api.download_artifact(t["id"], name) == b"weights"
    names = [a["name"] for a in api.list_artifacts(t["id"])["items"]]
    assert sorted(names) == sorted(["models/best.pt", "my report.html", "ünï"])
