"""HTTP/1.1 message framing for the standard-library wire (RFC 9112, the part a JSON API
client needs): a request head to write on a socket, and an answer read from it.

An answer's body is delimited as the RFC says, in this order: none for ``HEAD`` and for
1xx, 204 and 304 answers; the chunked transfer coding; ``Content-Length``; else the end of
the connection. Interim 1xx answers are skipped.

Strict, as h11 is (tests/unit/test_http1.py checks the two side by side): numbers are
ASCII digits only (``Content-Length`` decimal, chunk sizes hexadecimal: no sign, ``0x``,
``_`` or other Unicode digits), header names are RFC 9110 tokens, values have no control
characters, ``Transfer-Encoding`` must be exactly ``chunked`` and never comes with
``Content-Length``, and a body is at most :data:`MAX_BODY` bytes. Anything else raises
:class:`ProtocolError` (nothing else: the wire turns it into "server unreachable", so the
sender retries, then spools); a connection that ends before the answer is whole raises
:class:`ConnectionClosed`.

Why not ``http.client``: importing it (with ``email.parser`` and ``ssl``, which it imports
whatever the URL) costs ~14 ms of a short run's exit path, more than the rest of the SDK's
exit together (docs/sdk.md, "Speed"). Everything here uses modules a Hydra app has
already loaded.
"""

from __future__ import annotations

import re
from typing import BinaryIO, Mapping, NamedTuple

MAX_LINE = 64 * 1024  # status line, one header field, one chunk-size line
MAX_FIELDS = 200
MAX_BODY = 256 * 1024 * 1024  # an API answer (JSON) is far smaller

_STATUS_LINE = re.compile(rb"HTTP/1\.([0-9]) ([0-9]{3})(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?\r?\n")
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(rb"[^\x00-\x08\x0a-\x1f\x7f]*")
_DECIMAL = re.compile(rb"[0-9]{1,18}")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?\n")


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
        if headers["transfer-encoding"].lower() != "chunked":
            raise ProtocolError(f"unsupported Transfer-Encoding {headers['transfer-encoding']!r}")
        if "content-length" in headers:
            raise ProtocolError("both Transfer-Encoding and Content-Length")
        content = _chunked(rfile)
    elif "content-length" in headers:
        content = _exactly(rfile, _content_length(headers["content-length"]))
    else:  # delimited by the end of the connection
        content = rfile.read(MAX_BODY + 1)
        if len(content) > MAX_BODY:
            raise ProtocolError(f"body longer than {MAX_BODY} bytes")
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
    m = _STATUS_LINE.fullmatch(line)
    if m is None:
        raise ProtocolError(f"not an HTTP/1.x status line: {line[:80]!r}")
    reason = (m.group(3) or b"").decode("latin-1")
    return f"HTTP/1.{m.group(1).decode()}", int(m.group(2)), reason


def _fields(rfile: BinaryIO) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(MAX_FIELDS + 1):
        line = _line(rfile, "header section")
        if line in (b"\r\n", b"\n"):
            return headers
        if line[:1] in (b" ", b"\t"):
            raise ProtocolError("obsolete header line folding")
        raw_name, sep, raw_value = line.rstrip(b"\r\n").partition(b":")
        raw_value = raw_value.strip(b" \t")
        if not sep or not _TOKEN.fullmatch(raw_name) or not _VALUE.fullmatch(raw_value):
            raise ProtocolError(f"malformed header line: {line[:80]!r}")
        key, value = raw_name.decode("ascii").lower(), raw_value.decode("latin-1")
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    raise ProtocolError(f"more than {MAX_FIELDS} header fields")


def _will_close(version: str, headers: Mapping[str, str]) -> bool:
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    if "close" in tokens:
        return True
    return version == "HTTP/1.0" and "keep-alive" not in tokens


def _content_length(value: str) -> int:
    values = {v.strip() for v in value.split(",")}  # a repeated field, same value
    text = values.pop().encode("latin-1") if len(values) == 1 else b""
    if not _DECIMAL.fullmatch(text):
        raise ProtocolError(f"invalid Content-Length {value[:40]!r}")
    size = int(text)
    if size > MAX_BODY:
        raise ProtocolError(f"Content-Length {size} over the limit of {MAX_BODY} bytes")
    return size


def _exactly(rfile: BinaryIO, size: int) -> bytes:
    data = rfile.read(size)
    if len(data) < size:
        raise ConnectionClosed(f"connection closed after {len(data)} of {size} body bytes")
    return data


def _chunked(rfile: BinaryIO) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        line = _line(rfile, "chunk size")
        m = _CHUNK_SIZE.fullmatch(line)
        if m is None:
            raise ProtocolError(f"invalid chunk size line {line[:20]!r}")
        size = int(m.group(1), 16)
        if size == 0:
            break
        total += size
        if total > MAX_BODY:
            raise ProtocolError(f"chunked body longer than {MAX_BODY} bytes")
        parts.append(_exactly(rfile, size))
        if _line(rfile, "chunk end") not in (b"\r\n", b"\n"):
            raise ProtocolError("chunk data longer than its size")
    for _ in range(MAX_FIELDS + 1):
        if _line(rfile, "trailer section") in (b"\r\n", b"\n"):
            break  # (trailer fields: none that a JSON answer needs)
    else:
        raise ProtocolError(f"more than {MAX_FIELDS} trailer fields")
    return b"".join(parts)
