"""``hydratrack server``: open the store, migrate, first start, then serve with uvicorn."""

from __future__ import annotations

import logging
import os
import socket
import sys
from pathlib import Path

from sqlalchemy.exc import OperationalError

from hydratrack.server import logs
from hydratrack.server.backup import before_migrating
from hydratrack.server.bootstrap import first_start
from hydratrack.server.context import KeyCache, ServerContext
from hydratrack.server.files import open_file_store
from hydratrack.server.secrets import SecretMask
from hydratrack.server.settings import ServerSettings
from hydratrack.server.store.db import Database, normalize_url
from hydratrack.server.throttle import LoginThrottle

MAX_KEY_CACHE_SECONDS = 300  # a deleted key must stop working promptly on every server


def open_context(settings: ServerSettings) -> ServerContext:
    """Everything the app needs, migrated and ready; bad settings raise ValueError."""
    data = settings.data_path
    private_dir(data)
    files = open_file_store(settings.files, data)
    url = normalize_url(settings.db, data)
    if url.startswith("sqlite:///"):
        private_file(Path(url.removeprefix("sqlite:///")))
    db = Database(url)
    try:
        saved = before_migrating(db, data)
        if saved is not None:
            print(f"hydratrack: backed up the database to {saved} before migrating", flush=True)
        db.migrate()
    except OperationalError as exc:
        shown = db.engine.url.render_as_string(hide_password=True)
        raise ValueError(f"cannot open database {shown}: {exc.orig}") from None
    return ServerContext(
        settings=settings,
        db=db,
        files=files,
        keys=KeyCache(settings.key_cache_seconds),
        mask=SecretMask(settings.secret_pattern),
        logins=LoginThrottle(settings.login_failures, settings.login_window_seconds),
        secrets=LoginThrottle(settings.login_failures, settings.login_window_seconds),
    )


def private_dir(path: Path) -> None:
    """Make (if needed) a directory only its owner may enter: 0700 whatever the umask."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def private_file(path: Path) -> None:
    """Create ``path`` (if missing) or narrow it to 0600, with SQLite's -wal and -shm
    companions (SQLite gives those the database file's mode when it creates them)."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if p.exists():
            os.chmod(p, 0o600)


def serve(settings: ServerSettings) -> None:
    import uvicorn

    os.umask(0o077)  # whatever the server writes (database, artifacts, backups) is private

    from hydratrack.server.app import create_app

    if settings.lease_seconds <= 0 or settings.sweep_seconds <= 0:
        raise ValueError("--lease-seconds and --sweep-seconds must be positive")
    if not 0 <= settings.key_cache_seconds <= MAX_KEY_CACHE_SECONDS:
        raise ValueError(f"--key-cache-seconds must be between 0 and {MAX_KEY_CACHE_SECONDS}")
    if settings.login_failures < 1 or settings.login_window_seconds <= 0:
        raise ValueError("--login-failures must be at least 1, --login-window-seconds positive")
    if settings.session_idle_hours <= 0 or settings.session_max_days <= 0:
        raise ValueError("--session-idle-hours and --session-max-days must be positive")
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    sock = listen_socket(settings.host, settings.port)  # before first start writes the URL
    try:
        ctx = open_context(settings)
        info = first_start(ctx.db, settings.public_url)
        for line in info.lines():
            print(line, flush=True)
        app = create_app(ctx)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=settings.log_level == "debug",
            timeout_graceful_shutdown=5,
            # forwarded headers are believed only from the proxies named (default: none)
            proxy_headers=bool(settings.forwarded_allow_ips),
            forwarded_allow_ips=settings.forwarded_allow_ips or None,
        )
        logs.install(ctx.mask.is_secret)  # after uvicorn.Config set up its loggers
        server = uvicorn.Server(config)
        server.run(sockets=[sock])
    finally:
        sock.close()
    if not server.started:
        sys.exit(1)


def listen_socket(host: str, port: int) -> socket.socket:
    """Bind the address now, so a taken port is a clear error before anything is written."""
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ValueError(f"--host {host}: cannot resolve it: {exc}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        raise ValueError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock
