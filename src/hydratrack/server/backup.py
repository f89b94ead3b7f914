"""Backups of a server's database and artifact files, taken while it runs, and restores.

A backup is a directory (made 0700, its files 0600)::

    backup.json        what, when, from where (schema revision, files root)
    hydratrack.db      SQLite: a consistent copy made with SQLite's online backup API
    hydratrack.pgdump  PostgreSQL: ``pg_dump --format=custom --no-owner`` of the database
    files/             the artifact files, copied after the database

The database is copied first, then the files: every artifact the copied database names
was on disk when the copy began (one deleted by a reset during the backup is the only
exception). Files written later are copied too or not; unreferenced ones are harmless.

A restore fills a fresh data dir (SQLite) or an empty database (PostgreSQL,
``pg_restore --no-owner``) and a files root, then points the artifact records at the new
files root. The server migrates the restored database at its next start if it is older.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import hydratrack
from hydratrack.server.files import LocalFileStore, open_file_store
from hydratrack.server.settings import ServerSettings
from hydratrack.server.store.db import Database, normalize_url

MANIFEST = "backup.json"
SQLITE_FILE = "hydratrack.db"
PG_FILE = "hydratrack.pgdump"
FILES_DIR = "files"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def sqlite_copy(src: Path, dest: Path) -> None:
    """A consistent copy of a live SQLite database (the online backup API; WAL included)."""
    fd = os.open(dest, os.O_CREAT | os.O_WRONLY, 0o600)
    os.fchmod(fd, 0o600)
    os.close(fd)
    with (
        contextlib.closing(sqlite3.connect(src, timeout=30)) as s,
        contextlib.closing(sqlite3.connect(dest)) as d,
    ):
        s.backup(d)


def pg_tool(name: str) -> str:
    """``pg_dump`` / ``pg_restore``: on PATH, else the newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if not candidates:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools")
    return candidates[-1]


def libpq_url(url: str) -> str:
    """The database URL as libpq takes it (``postgresql://``, no SQLAlchemy driver)."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        shown = " ".join(Path(args[0]).name if i == 0 else a for i, a in enumerate(args[:2]))
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{shown} failed: {lines[-1] if lines else done.returncode}")


def _files_root(settings: ServerSettings) -> Path:
    store = open_file_store(settings.files, settings.data_path)
    if not isinstance(store, LocalFileStore):
        raise BackupError("only a local --files store can be backed up by this command")
    return store.root


def copy_files(src: Path, dest: Path) -> int:
    """Copy a files tree that may change meanwhile: files deleted during the copy and
    unfinished uploads (``*.part``) are left out. Returns how many files were copied."""
    count = 0
    _private_dir(dest)
    for folder, dirs, names in os.walk(src):
        rel = Path(folder).relative_to(src)
        for d in dirs:
            _private_dir(dest / rel / d)
        for name in names:
            if name.endswith(".part"):
                continue
            target = dest / rel / name
            try:
                shutil.copyfile(Path(folder) / name, target)
            except FileNotFoundError:
                continue
            os.chmod(target, 0o600)
            count += 1
    return count


def backup(settings: ServerSettings, dest: Path) -> dict[str, Any]:
    """Back up the database and files named by ``settings`` into the new directory ``dest``."""
    dest = dest.expanduser().resolve()
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} exists and is not empty: give a new directory")
    url = normalize_url(settings.db, settings.data_path)
    db = Database(url)
    try:
        from hydratrack.server.store.migration import current_revision

        revision = current_revision(db.engine)
    finally:
        db.dispose()
    if revision is None:
        raise BackupError(f"no hydratrack database at {_shown(url)}")
    root = _files_root(settings)
    _private_dir(dest)
    if url.startswith("sqlite:///"):
        sqlite_copy(Path(url.removeprefix("sqlite:///")), dest / SQLITE_FILE)
        kind = "sqlite"
    else:
        target = dest / PG_FILE
        _run(
            [pg_tool("pg_dump"), "--format=custom", "--no-owner"]
            + ["--file", str(target), "--dbname", libpq_url(url)]
        )
        os.chmod(target, 0o600)
        kind = "postgresql"
    files = copy_files(root, dest / FILES_DIR) if root.exists() else 0
    manifest = {
        "format": 1,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(),
        "hydratrack": hydratrack.__version__,
        "database": kind,
        "schema": revision,
        "files_root": root.as_uri(),
        "files": files,
    }
    path = dest / MANIFEST
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    os.chmod(path, 0o600)
    return manifest


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def restore(settings: ServerSettings, src: Path) -> dict[str, Any]:
    """Restore the backup ``src`` into the (fresh) data dir / database and files root of
    ``settings``; answers the backup's manifest."""
    src = src.expanduser().resolve()
    try:
        manifest: dict[str, Any] = json.loads((src / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{src} is not a hydratrack backup: {exc}") from None
    data = settings.data_path
    _private_dir(data)
    url = normalize_url(settings.db, data)
    kind = "sqlite" if url.startswith("sqlite:///") else "postgresql"
    if kind != manifest.get("database"):
        raise BackupError(
            f"the backup holds a {manifest.get('database')} database; restore it with "
            + ("--db postgresql://..." if manifest.get("database") == "postgresql" else "no --db")
        )
    root = _files_root(settings)
    if root.exists() and any(root.iterdir()):
        raise BackupError(f"the files root {root} is not empty: restore into a fresh one")
    if kind == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        if path.exists() and path.stat().st_size > 0:
            raise BackupError(f"{path} exists: restore into a fresh --data-dir")
        sqlite_copy(src / SQLITE_FILE, path)
    else:
        db = Database(url)
        try:
            from hydratrack.server.store.migration import current_revision

            if current_revision(db.engine) is not None:
                raise BackupError(f"{_shown(url)} is not empty: restore into a new database")
        finally:
            db.dispose()
        _run(
            [pg_tool("pg_restore"), "--no-owner", "--exit-on-error"]
            + ["--dbname", libpq_url(url), str(src / PG_FILE)]
        )
    if (src / FILES_DIR).exists():
        copy_files(src / FILES_DIR, root)
    else:
        _private_dir(root)
    db = Database(url)
    try:
        from hydratrack.server.store import artifacts as artifacts_repo

        with db.write() as conn:
            artifacts_repo.rebase(conn, str(manifest["files_root"]), root.as_uri())
    finally:
        db.dispose()
    return manifest


def before_migrating(db: Database, data_dir: Path) -> Path | None:
    """A copy of an SQLite database that has migrations pending, taken before they run
    (``<data dir>/backups/hydratrack-<revision>-<time>.db``); None when nothing is pending
    or the database is new or not SQLite."""
    if not db.is_sqlite:
        return None
    from hydratrack.server.store.migration import current_revision, head_revision

    current = current_revision(db.engine)
    if current is None or current == head_revision():
        return None
    folder = data_dir / "backups"
    _private_dir(folder)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    dest = folder / f"hydratrack-{current}-{stamp}.db"
    sqlite_copy(Path(db.url.removeprefix("sqlite:///")), dest)
    return dest
