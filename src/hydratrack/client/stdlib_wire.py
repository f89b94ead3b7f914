"""The standard-library backend of :mod:`hydratrack.client.wire`: one keep-alive
:class:`http.client.HTTPConnection` (HTTPS for ``https://`` hosts).

Why it exists: the SDK's sender thread delivers a run's data over it, and on a short script
that thread's set-up is on the exit path. ``import http.client`` costs a few ms where httpx
(with httpcore, h11 and an SSL context) costs 45-60 ms of CPU (docs/sdk.md, "Speed").

Behaviour, the same as the httpx backend's where they overlap:

- HTTP Basic auth from the key pair; JSON bodies (compact, UTF-8, no NaN); query
  parameters (a list of pairs repeats a key); multipart forms streamed from the file.
- One connection, kept open between requests. The server closes idle connections
  (uvicorn after 5 s); a request on a reused connection that finds it closed is sent
  once more on a new one. Only reused connections are retried, and the SDK's writes are
  idempotent (client-made ids, batch ids, PUT/PATCH), so a retry cannot double data.
- ``timeout`` bounds connecting and each wait for data. No answer -> ServerUnreachable.
- One request at a time (a lock): the connection is not shared mid-request.
"""

from __future__ import annotations

import base64
import http.client
import json as jsonlib
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, Mapping
from urllib.parse import quote, urlencode, urlsplit

from hydratrack.client.errors import ServerUnreachable
from hydratrack.client.wire import USER_AGENT, Files, Params

CHUNK = 256 * 1024
# a request on a kept-alive connection the server has closed ends in one of these
_DROPPED = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
            ConnectionAbortedError)
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


class StdlibResponse:
    """An answer read in full (``httpx.Response``'s names, headers keyed in lower case)."""

    def __init__(self, status_code: int, reason_phrase: str, headers: Mapping[str, str],
                 content: bytes) -> None:
        self.status_code = status_code
        self.reason_phrase = reason_phrase
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    def __repr__(self) -> str:
        return f"<StdlibResponse [{self.status_code} {self.reason_phrase}]>"


Body = Callable[[], "bytes | Iterable[bytes] | None"]  # made again for a retry


class StdlibWire:
    def __init__(self, api_host: str, auth: tuple[str, str] | None, timeout: float) -> None:
        url = urlsplit(api_host)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"api_host {api_host!r}: expected http://host[:port] or https://...")
        self.api_host = api_host
        self.timeout = timeout
        self.connections = 0  # opened so far (tests and diagnostics)
        self._https = url.scheme == "https"
        self._host, self._port = url.hostname, url.port
        self._prefix = url.path.rstrip("/") + "/api/v1"
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {token}"
        self._conn: http.client.HTTPConnection | None = None
        self._reused = False  # the open connection has carried a whole exchange
        self._lock = threading.Lock()

    # -- the interface ------------------------------------------------------------
    def request(self, method: str, path: str, *, json: Any = None, params: Params | None = None,
                files: Files | None = None, data: Mapping[str, str] | None = None,
                timeout: float | None = None) -> StdlibResponse:
        target = self._prefix + quote(path, safe=_PATH_SAFE)
        if params:
            target += "?" + urlencode(list(_pairs(params)))
        headers = dict(self._headers)
        body: Body
        if files or data:
            boundary = uuid.uuid4().hex
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
            length, body = _multipart(boundary, data or {}, files or {})
            headers["Content-Length"] = str(length)
        elif json is not None:
            encoded = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"),
                                    allow_nan=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
            headers["Content-Length"] = str(len(encoded))
            body = lambda: encoded  # noqa: E731 - the simplest body maker
        else:  # http.client says Content-Length: 0 where a body is expected
            body = lambda: None  # noqa: E731
        with self._lock:
            return self._exchange(method, target, headers, body,
                                  self.timeout if timeout is None else timeout)

    def close(self) -> None:
        with self._lock:
            self._drop()

    # -- one exchange, retried once on a dropped kept-alive connection -----------------
    def _exchange(self, method: str, target: str, headers: dict[str, str], body: Body,
                  timeout: float) -> StdlibResponse:
        for attempt in (1, 2):
            reused = self._conn is not None and self._reused
            try:
                return self._once(method, target, headers, body, timeout)
            except _DROPPED as exc:
                self._drop()
                if not reused or attempt == 2:
                    raise self._unreachable(exc) from exc
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                raise self._unreachable(exc) from exc
            except BaseException:  # e.g. a file that shrank mid-upload: fail the request
                self._drop()
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, method: str, target: str, headers: dict[str, str], body: Body,
              timeout: float) -> StdlibResponse:
        conn = self._connection(timeout)
        try:
            conn.request(method, target, body=body(), headers=headers)
        except _DROPPED:
            # The server may have answered before it stopped reading (413 on a body over
            # the limit): read that answer if it is there, else report the drop.
            try:
                return self._read(conn)
            except (OSError, http.client.HTTPException):
                pass
            raise
        return self._read(conn)

    def _read(self, conn: http.client.HTTPConnection) -> StdlibResponse:
        resp = conn.getresponse()
        content = resp.read()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        if resp.will_close:
            self._drop()
        else:
            self._reused = True
        return StdlibResponse(resp.status, resp.reason, headers, content)

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._conn is None:
            conn: http.client.HTTPConnection
            if self._https:
                conn = http.client.HTTPSConnection(self._host, self._port, timeout=timeout)
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
            conn._create_connection = _connect  # type: ignore[attr-defined]
            conn.connect()
            self.connections += 1
            self._conn, self._reused = conn, False
        self._conn.timeout = timeout
        if self._conn.sock is not None:
            self._conn.sock.settimeout(timeout)
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn, self._reused = None, False

    def _unreachable(self, exc: BaseException) -> ServerUnreachable:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError):
            reason = f"timed out ({reason})"
        return ServerUnreachable(self.api_host, reason)


def _connect(address: tuple[str, int | None], *args: Any) -> socket.socket:
    """``socket.create_connection`` given an ASCII host name as bytes, which skips the
    IDNA codec (~1 ms of imports: encodings.idna, stringprep, unicodedata)."""
    host, port = address
    name: Any = host.encode("ascii") if host.isascii() else host  # (typeshed: str only)
    return socket.create_connection((name, port), *args)


def _pairs(params: Params) -> Iterator[tuple[str, Any]]:
    items = params.items() if isinstance(params, Mapping) else params
    for key, value in items:
        if isinstance(value, (list, tuple)):
            yield from ((key, v) for v in value)
        else:
            yield key, value


def _quote_param(value: str) -> str:
    """A form-data parameter value the way browsers write it (HTML5: no raw quotes or
    line breaks; other text as UTF-8)."""
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _multipart(boundary: str, data: Mapping[str, str], files: Files) -> tuple[int, Body]:
    """``multipart/form-data``: its length and a maker of its chunks (files streamed)."""
    dash = f"--{boundary}\r\n".encode()
    head = b""
    for name, value in data.items():
        head += dash + (f'Content-Disposition: form-data; name="{_quote_param(name)}"'
                        "\r\n\r\n").encode() + str(value).encode("utf-8") + b"\r\n"
    parts: list[tuple[bytes, IO[bytes], int, int]] = []
    for name, (filename, fh, content_type) in files.items():
        start = fh.tell()
        size = os.fstat(fh.fileno()).st_size - start
        part_head = dash + (f'Content-Disposition: form-data; name="{_quote_param(name)}"; '
                            f'filename="{_quote_param(filename)}"\r\n'
                            f"Content-Type: {content_type}\r\n\r\n").encode()
        parts.append((part_head, fh, start, size))
    tail = f"--{boundary}--\r\n".encode()
    length = len(head) + sum(len(h) + size + 2 for h, _, _, size in parts) + len(tail)

    def chunks() -> Iterator[bytes]:
        yield head
        for part_head, fh, start, size in parts:
            yield part_head
            fh.seek(start)
            left = size
            while left > 0:
                chunk = fh.read(min(CHUNK, left))
                if not chunk:
                    raise ValueError(f"{getattr(fh, 'name', 'file')} shrank while uploading")
                left -= len(chunk)
                yield chunk
            yield b"\r\n"
        yield tail

    return length, chunks
