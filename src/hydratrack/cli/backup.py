"""``hydratrack backup DEST`` and ``hydratrack restore SRC``: run on the server's machine
with the server's own ``--data-dir`` / ``--db`` / ``--files`` (or their
``HYDRATRACK_SERVER_*`` variables). Backups are taken while the server runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from hydratrack.server.settings import SETTINGS

_BY_NAME = {s.name: s for s in SETTINGS}


def _opt(name: str) -> Any:
    s = _BY_NAME[name]
    return typer.Option(s.flag, help=s.help, envvar=s.env)


DataDir = Annotated[str, _opt("data_dir")]
Db = Annotated[str, _opt("db")]
Files = Annotated[str, _opt("files")]


def _settings(data_dir: str, db: str, files: str) -> Any:
    from hydratrack.server.settings import ServerSettings

    return ServerSettings.from_values(data_dir=data_dir, db=db, files=files)


def backup(
    dest: Annotated[Path, typer.Argument(help="A new (or empty) directory for the backup.")],
    data_dir: DataDir = "~/.hydratrack/data",
    db: Db = "",
    files: Files = "",
) -> None:
    """Copy the database (SQLite online backup, or pg_dump) and the artifact files into
    DEST, consistently, while the server runs."""
    from hydratrack.server.backup import backup as run

    manifest = run(_settings(data_dir, db, files), dest)
    print(
        f"backed up the {manifest['database']} database (schema {manifest['schema']}) "
        f"and {manifest['files']} files to {dest}"
    )


def restore(
    src: Annotated[Path, typer.Argument(help="A directory made by `hydratrack backup`.")],
    data_dir: DataDir = "~/.hydratrack/data",
    db: Db = "",
    files: Files = "",
) -> None:
    """Restore a backup into a fresh data dir (SQLite) or an empty database (--db
    postgresql://...) and an empty files root; then start the server on them."""
    from hydratrack.server.backup import restore as run

    manifest = run(_settings(data_dir, db, files), src)
    print(
        f"restored the backup of {manifest['created']} ({manifest['files']} files); "
        "start `hydratrack server` with the same --data-dir/--db/--files"
    )


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
