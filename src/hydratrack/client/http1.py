"""HTTP/1.1 message framing for the standard-library wire (RFC 9112, the part a JSON API
client needs): a request head to write on a socket, and an answer read from it.

An answer's body is delimited as the RFC says, in this order: none for ``HEAD`` and for
1xx, 204 and 304 answers; the chunked transfer coding; ``Content-Length``; else the end of
the connection. Interim 1xx answers are skipped. Anything that is not HTTP/1.x, or lines
and header sections over sane limits, raise :class:`ProtocolError`; a connection that
ends before the answer is whole raises :class:`ConnectionClosed`.

Why not ``http.client``: importing it (with ``email.parser`` and ``ssl``, which it imports
whatever the URL) costs ~14 ms of a short run's exit path, more than the rest of the SDK's
exit together (docs/sdk.md, "Speed"). Everything here uses modules a Hydra app has
already loaded.
"""

from __future__ import annotations

from typing import BinaryIO, Mapping, NamedTuple

MAX_LINE = 64 * 1024  # status line, one header field, one chunk-size line
MAX_FIELDS = 200


class ProtocolError(Exception):
    """The server's answer is not valid HTTP/1.1."""


class ConnectionClosed(ConnectionError):
    """The connection ended before a whole answer came (e.g. a kept-alive connection the
    server had already closed)."""


class Answer(NamedTuple):
    status: int
    reason: str
    headers: dict[str, str]  # names in lower case; repeated fields joined with ", "
    content: bytes
    will_close: bool  # the server will not take another request on this connection


def request_head(method: str, target: str, host: str, headers: Mapping[str, str]) -> bytes:
    """``METHOD target HTTP/1.1``, ``Host`` and ``headers``, up to the empty line."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
            raise ValueError(f"header {name!r}: no line breaks (or ':' in a name) allowed")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_answer(rfile: BinaryIO, method: str) -> Answer:
    """The next final answer on ``rfile`` (a buffered reader of the socket)."""
    while True:
        version, status, reason = _status_line(rfile)
        headers = _fields(rfile)
        if not (100 <= status < 200) or status == 101:
            break  # (1xx: interim, e.g. 100 Continue; the final answer follows)
    will_close = _will_close(version, headers)
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        content = b""
    elif "transfer-encoding" in headers:
        codings = [c.strip().lower() for c in headers["transfer-encoding"].split(",")]
        if codings[-1] != "chunked":
            raise ProtocolError(f"unsupported Transfer-Encoding {headers['transfer-encoding']!r}")
        content = _chunked(rfile)
    elif "content-length" in headers:
        content = _exactly(rfile, _content_length(headers["content-length"]))
    else:  # delimited by the end of the connection
        content = rfile.read()
        will_close = True
    return Answer(status, reason, headers, content, will_close)


def _line(rfile: BinaryIO, what: str) -> bytes:
    line = rfile.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise ProtocolError(f"{what} longer than {MAX_LINE} bytes")
    if not line.endswith(b"\n"):
        raise ConnectionClosed(f"connection closed while reading the {what}")
    return line


def _status_line(rfile: BinaryIO) -> tuple[str, int, str]:
    line = rfile.readline(MAX_LINE + 1)
    if not line:
        raise ConnectionClosed("the server closed the connection without answering")
    if len(line) > MAX_LINE:
        raise ProtocolError(f"status line longer than {MAX_LINE} bytes")
    if not line.endswith(b"\n"):
        raise ConnectionClosed("connection closed in the status line")
    version, _, rest = line.decode("latin-1").rstrip("\r\n").partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise ProtocolError(f"not an HTTP/1.x status line: {line[:80]!r}")
    return version, int(code), reason


def _fields(rfile: BinaryIO) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(MAX_FIELDS + 1):
        line = _line(rfile, "header section")
        if line in (b"\r\n", b"\n"):
            return headers
        if line[:1] in (b" ", b"\t"):
            raise ProtocolError("obsolete header line folding")
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep or not name or name != name.strip():
            raise ProtocolError(f"malformed header line: {line[:80]!r}")
        key, value = name.lower(), value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    raise ProtocolError(f"more than {MAX_FIELDS} header fields")


def _will_close(version: str, headers: Mapping[str, str]) -> bool:
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    if "close" in tokens:
        return True
    return version == "HTTP/1.0" and "keep-alive" not in tokens


def _content_length(value: str) -> int:
    values = {v.strip() for v in value.split(",")}  # a repeated field, same value
    if len(values) != 1 or not next(iter(values)).isdigit():
        raise ProtocolError(f"invalid Content-Length {value!r}")
    return int(values.pop())


def _exactly(rfile: BinaryIO, size: int) -> bytes:
    data = rfile.read(size)
    if len(data) < size:
        raise ConnectionClosed(f"connection closed after {len(data)} of {size} body bytes")
    return data


def _chunked(rfile: BinaryIO) -> bytes:
    parts: list[bytes] = []
    while True:
        size_text = _line(rfile, "chunk size").split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ProtocolError(f"invalid chunk size {size_text[:20]!r}") from None
        if size == 0:
            break
        parts.append(_exactly(rfile, size))
        if _line(rfile, "chunk end") not in (b"\r\n", b"\n"):
            raise ProtocolError("chunk data longer than its size")
    while _line(rfile, "trailer section") not in (b"\r\n", b"\n"):
        pass  # trailer fields: none that a JSON answer needs
    return b"".join(parts)
