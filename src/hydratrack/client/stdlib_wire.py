"""The standard-library backend of :mod:`hydratrack.client.wire`: one keep-alive socket
speaking HTTP/1.1 (:mod:`hydratrack.client.http1` frames the messages; TLS from
:mod:`ssl` for ``https://`` hosts).

Why it exists: the SDK's sender thread delivers a run's data over it, and on a short script
that thread's set-up is on the exit path. It imports nothing a Hydra app has not loaded
already (TLS aside), where ``http.client`` costs ~14 ms and httpx (with httpcore, h11 and
an SSL context) 45-60 ms of CPU (docs/sdk.md, "Speed").

Behaviour, the same as the httpx backend's where they overlap:

- HTTP Basic auth from the key pair; JSON bodies (compact, UTF-8, no NaN); query
  parameters (a list of pairs repeats a key); multipart forms streamed from the file.
- One connection, kept open between requests. The server closes idle connections
  (uvicorn after 5 s); a request on a reused connection that finds it closed is sent
  once more on a new one. Only reused connections are retried, and the SDK's writes are
  idempotent (client-made ids, batch ids, PUT/PATCH), so a retry cannot double data.
- ``timeout`` bounds connecting and each wait for data. No answer, or one that is not
  strict HTTP/1.1 (:mod:`hydratrack.client.http1`) -> ServerUnreachable.
- TLS: :func:`hydratrack.client.wire.tls_context`, the same trust store as httpx's.
- One request at a time (a lock): the connection is not shared mid-request.
"""

from __future__ import annotations

import base64
import json as jsonlib
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any, Mapping
from urllib.parse import quote, urlencode, urlsplit

from hydratrack.client.errors import ServerUnreachable
from hydratrack.client.http1 import ConnectionClosed, ProtocolError, read_answer, request_head
from hydratrack.client.wire import USER_AGENT, Files, Params

if TYPE_CHECKING:  # pragma: no cover
    import ssl

CHUNK = 256 * 1024
# a request on a kept-alive connection the server has closed ends in one of these
_DROPPED = (ConnectionClosed, BrokenPipeError, ConnectionResetError, ConnectionAbortedError)
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


class StdlibResponse:
    """An answer read in full (``httpx.Response``'s names, headers keyed in lower case)."""

    def __init__(
        self, status_code: int, reason_phrase: str, headers: Mapping[str, str], content: bytes
    ) -> None:
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


class _Connection:
    """A connected socket and a buffered reader of it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.rfile = sock.makefile("rb")

    def close(self) -> None:
        try:
            self.rfile.close()
        finally:
            self.sock.close()


class StdlibWire:
    def __init__(self, api_host: str, auth: tuple[str, str] | None, timeout: float) -> None:
        url = urlsplit(api_host)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"api_host {api_host!r}: expected http://host[:port] or https://...")
        self.api_host = api_host
        self.timeout = timeout
        self.connections = 0  # opened so far (tests and diagnostics)
        self._https = url.scheme == "https"
        self._host = url.hostname
        self._port = url.port or (443 if self._https else 80)
        name = f"[{self._host}]" if ":" in self._host else self._host
        self._host_header = name if url.port is None else f"{name}:{url.port}"
        self._prefix = url.path.rstrip("/") + "/api/v1"
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {token}"
        self._tls: ssl.SSLContext | None = None
        self._conn: _Connection | None = None
        self._reused = False  # the open connection has carried a whole exchange
        self._lock = threading.Lock()

    # -- the interface ------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Params | None = None,
        files: Files | None = None,
        data: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> StdlibResponse:
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
            encoded = jsonlib.dumps(
                json, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode("utf-8")
            headers["Content-Type"] = "application/json"
            headers["Content-Length"] = str(len(encoded))
            body = lambda: encoded  # noqa: E731 - the simplest body maker
        else:
            if method in ("POST", "PUT", "PATCH"):  # a body is expected: say it is empty
                headers["Content-Length"] = "0"
            body = lambda: None  # noqa: E731
        head = request_head(method, target, self._host_header, headers)
        with self._lock:
            return self._exchange(method, head, body, self.timeout if timeout is None else timeout)

    def close(self) -> None:
        with self._lock:
            self._drop()

    # -- one exchange, retried once on a dropped kept-alive connection -----------------
    def _exchange(self, method: str, head: bytes, body: Body, timeout: float) -> StdlibResponse:
        for attempt in (1, 2):
            reused = self._conn is not None and self._reused
            try:
                return self._once(method, head, body, timeout)
            except _DROPPED as exc:
                self._drop()
                if not reused or attempt == 2:
                    raise self._unreachable(exc) from exc
            except (OSError, ProtocolError) as exc:
                self._drop()
                raise self._unreachable(exc) from exc
            except BaseException:  # e.g. a file that shrank mid-upload: fail the request
                self._drop()
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, method: str, head: bytes, body: Body, timeout: float) -> StdlibResponse:
        conn = self._connection(timeout)
        try:
            content = body()
            if content is None or isinstance(content, bytes):
                conn.sock.sendall(head + (content or b""))  # one write: no Nagle stall
            else:
                conn.sock.sendall(head)
                for chunk in content:
                    conn.sock.sendall(chunk)
        except _DROPPED:
            # The server may have answered before it stopped reading (413 on a body over
            # the limit): read that answer if it is there, else report the drop.
            try:
                return self._read(conn, method)
            except (OSError, ProtocolError):
                pass
            raise
        return self._read(conn, method)

    def _read(self, conn: _Connection, method: str) -> StdlibResponse:
        try:
            answer = read_answer(conn.rfile, method)
        except (ValueError, OverflowError, MemoryError) as exc:  # (http1 raises none: a net)
            raise ProtocolError(f"unreadable answer ({type(exc).__name__})") from exc
        if answer.will_close:
            self._drop()
        else:
            self._reused = True
        return StdlibResponse(answer.status, answer.reason, answer.headers, answer.content)

    def _connection(self, timeout: float) -> _Connection:
        if self._conn is None:
            sock = _connect((self._host, self._port), timeout)
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self._https:
                    sock = self._tls_context().wrap_socket(sock, server_hostname=self._host)
            except BaseException:
                sock.close()
                raise
            self.connections += 1
            self._conn, self._reused = _Connection(sock), False
        self._conn.sock.settimeout(timeout)
        return self._conn

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            from hydratrack.client.wire import tls_context  # (imports ssl, ~6 ms)

            self._tls = tls_context()
        return self._tls

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn, self._reused = None, False

    def _unreachable(self, exc: BaseException) -> ServerUnreachable:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError):
            reason = f"timed out ({reason})"
        return ServerUnreachable(self.api_host, reason)


def _connect(address: tuple[str, int], timeout: float) -> socket.socket:
    """``socket.create_connection`` given an ASCII host name as bytes, which skips the
    IDNA codec (~1 ms of imports: encodings.idna, stringprep, unicodedata)."""
    host, port = address
    name: Any = host.encode("ascii") if host.isascii() else host  # (typeshed: str only)
    return socket.create_connection((name, port), timeout)


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
        head += (
            dash
            + (f'Content-Disposition: form-data; name="{_quote_param(name)}"\r\n\r\n').encode()
            + str(value).encode("utf-8")
            + b"\r\n"
        )
    parts: list[tuple[bytes, IO[bytes], int, int]] = []
    for name, (filename, fh, content_type) in files.items():
        start = fh.tell()
        size = os.fstat(fh.fileno()).st_size - start
        part_head = (
            dash
            + (
                f'Content-Disposition: form-data; name="{_quote_param(name)}"; '
                f'filename="{_quote_param(filename)}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n"
            ).encode()
        )
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
