"""Where artifact bytes live. One small interface; the local directory store built in.

``--files`` takes a path or a ``file://`` URL (default ``<data-dir>/files``);
``s3://`` is refused at start with a clear message until an S3 store exists; a new
store registers its URL scheme with :func:`register_file_store`, as the built-in does.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from pathlib import Path
from typing import BinaryIO, Callable, Protocol
from urllib.parse import unquote, urlsplit

from hydratrack.server.errors import PayloadTooLarge

CHUNK = 1024 * 1024


class StoredFile:
    def __init__(self, uri: str, size: int, sha256: str) -> None:
        self.uri, self.size, self.sha256 = uri, size, sha256


class FileStore(Protocol):
    def save(self, prefix: str, name: str, src: BinaryIO, limit: int) -> StoredFile: ...
    def path(self, uri: str) -> Path: ...
    def delete(self, uri: str) -> None: ...


class LocalFileStore:
    """Files under one root directory; uris are ``file://`` URLs inside that root.
    Folders it makes are 0700 and files 0600, whatever the umask."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def save(self, prefix: str, name: str, src: BinaryIO, limit: int) -> StoredFile:
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:100] or "file"
        folder = self.root / prefix
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        dest = folder / f"{uuid.uuid4().hex[:12]}-{safe}"
        digest, size = hashlib.sha256(), 0
        tmp = dest.with_suffix(dest.suffix + ".part")
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)  # 0600 whatever the umask
            with open(fd, "wb") as out:
                while chunk := src.read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise PayloadTooLarge(limit)
                    digest.update(chunk)
                    out.write(chunk)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        return StoredFile(dest.as_uri(), size, digest.hexdigest())

    def path(self, uri: str) -> Path:
        p = Path(unquote(urlsplit(uri).path)).resolve()
        if not p.is_relative_to(self.root):
            raise FileNotFoundError(uri)
        return p

    def delete(self, uri: str) -> None:
        try:
            self.path(uri).unlink(missing_ok=True)
        except FileNotFoundError:
            pass


FileStoreFactory = Callable[[str, Path], FileStore]
_FACTORIES: dict[str, FileStoreFactory] = {}


def register_file_store(scheme: str, factory: FileStoreFactory) -> None:
    """Make ``--files <scheme>://...`` open a store; the built-in ``file`` store uses this too."""
    _FACTORIES[scheme] = factory


def _local_from_url(spec: str, data_dir: Path) -> FileStore:
    return LocalFileStore(Path(unquote(urlsplit(spec).path)))


register_file_store("file", _local_from_url)


def open_file_store(spec: str, data_dir: Path) -> FileStore:
    """The store for ``--files``: empty for ``<data-dir>/files``, a path, or a URL."""
    spec = spec.strip()
    if not spec:
        return LocalFileStore(data_dir / "files")
    scheme = urlsplit(spec).scheme
    if len(scheme) <= 1:  # no scheme (or a Windows drive letter): a plain path
        return LocalFileStore(Path(spec).expanduser())
    factory = _FACTORIES.get(scheme)
    if factory is not None:
        return factory(spec, data_dir)
    if scheme in ("s3", "gs", "azure"):
        raise ValueError(
            f"--files {spec}: {scheme}:// storage is not supported yet; "
            "use a local path or a file:// URL"
        )
    raise ValueError(f"--files {spec}: unknown storage scheme {scheme}://")
