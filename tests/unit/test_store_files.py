"""The local file store: hashing, size limit (nothing left behind), no escape from its root."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from hydratrack.server.errors import PayloadTooLarge
from hydratrack.server.files import LocalFileStore, open_file_store


def test_save_read_delete(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "root")
    data = b"x" * 3_000_000
    saved = store.save("task1", "../../etc/passwd", io.BytesIO(data), limit=10_000_000)
    assert saved.size == len(data) and saved.sha256 == hashlib.sha256(data).hexdigest()
    path = store.path(saved.uri)
    assert path.read_bytes() == data and path.is_relative_to((tmp_path / "root").resolve())
    assert path.parent == (tmp_path / "root" / "task1").resolve()  # "/" never survives
    store.delete(saved.uri)
    assert not path.exists()
    store.delete(saved.uri)  # deleting twice is fine


def test_over_limit_leaves_nothing(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    with pytest.raises(PayloadTooLarge):
        store.save("t", "big", io.BytesIO(b"y" * 5000), limit=4096)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_uris_outside_the_root_are_refused(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "root")
    (tmp_path / "secret").write_text("s")
    with pytest.raises(FileNotFoundError):
        store.path((tmp_path / "secret").as_uri())
    store.delete((tmp_path / "secret").as_uri())
    assert (tmp_path / "secret").exists()


def test_open_by_spec(tmp_path: Path) -> None:
    assert isinstance(open_file_store("", tmp_path), LocalFileStore)
    default = open_file_store("", tmp_path)
    assert default.root == (tmp_path / "files").resolve()  # type: ignore[attr-defined]
    url_store = open_file_store((tmp_path / "u").as_uri(), tmp_path)
    assert url_store.root == (tmp_path / "u").resolve()  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="not supported yet"):
        open_file_store("s3://bucket/prefix", tmp_path)
    with pytest.raises(ValueError, match="unknown storage scheme"):
        open_file_store("ftp://host/x", tmp_path)
