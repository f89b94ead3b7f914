"""HTTP/1.1 framing of the standard-library wire, on answers as bytes."""

from __future__ import annotations

import io

import pytest

from hydratrack.client.http1 import (
    MAX_FIELDS,
    MAX_LINE,
    ConnectionClosed,
    ProtocolError,
    read_answer,
    request_head,
)


def read(raw: bytes, method: str = "GET"):
    return read_answer(io.BufferedReader(io.BytesIO(raw)), method)  # type: ignore[arg-type]


def test_content_length_body_and_keep_alive() -> None:
    raw = (
        b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 7\r\n"
        b'\r\n{"a":1}HTTP/1.1 200 OK\r\n'
    )  # (the next answer's start stays unread)
    answer = read(raw)
    assert (answer.status, answer.reason, answer.content) == (201, "Created", b'{"a":1}')
    assert answer.headers["content-type"] == "application/json"
    assert answer.will_close is False


def test_chunked_body_with_extensions_and_trailers() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=x\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    assert read(raw).content == b"hello world"


def test_interim_answers_are_skipped() -> None:
    raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    answer = read(raw)
    assert (answer.status, answer.content) == (200, b"ok")


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_answers(status: int) -> None:
    answer = read(f"HTTP/1.1 {status} X\r\nContent-Length: 10\r\n\r\n".encode())
    assert answer.content == b""


def test_head_has_no_body() -> None:
    assert read(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "HEAD").content == b""


def test_body_to_the_end_of_the_connection() -> None:
    answer = read(b"HTTP/1.1 200 OK\r\n\r\nall of it")
    assert (answer.content, answer.will_close) == (b"all of it", True)


@pytest.mark.parametrize(
    ("head", "closes"),
    [
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n", True),
        (b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\n", True),
        (b"HTTP/1.0 200 OK\r\n", True),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n", False),
    ],
)
def test_when_the_server_closes(head: bytes, closes: bool) -> None:
    assert read(head + b"Content-Length: 0\r\n\r\n").will_close is closes


def test_repeated_fields_are_joined() -> None:
    answer = read(b"HTTP/1.1 200 OK\r\nVary: a\r\nvary: b\r\nContent-Length: 0\r\n\r\n")
    assert answer.headers["vary"] == "a, b"


@pytest.mark.parametrize(
    "raw",
    [
        b"",  # a kept-alive connection the server had closed
        b"HTTP/1.1 200 O",  # mid status line
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",  # mid header section
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",  # short body
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",  # short chunk
    ],
)
def test_a_connection_that_ends_early(raw: bytes) -> None:
    with pytest.raises(ConnectionClosed):
        read(raw)


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", "not an HTTP/1.x status line"),
        (b"HTTP/2 200\r\n\r\n", "not an HTTP/1.x status line"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "not an HTTP/1.x status line"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header line"),
        (b"HTTP/1.1 200 OK\r\nA: 1\r\n folded\r\n\r\n", "folding"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx", "invalid Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported Transfer-Encoding"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "invalid chunk size"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n",
            "chunk data longer",
        ),
        (b"HTTP/1.1 200 OK\r\nA: " + b"x" * MAX_LINE + b"\r\n\r\n", "longer than"),
        (b"HTTP/1.1 200 OK\r\n" + b"A: 1\r\n" * (MAX_FIELDS + 1) + b"\r\n", "header fields"),
    ],
)
def test_what_is_not_http_is_refused(raw: bytes, says: str) -> None:
    with pytest.raises(ProtocolError, match=says):
        read(raw)


def test_request_head() -> None:
    head = request_head(
        "POST",
        "/api/v1/tasks?x=1",
        "127.0.0.1:8080",
        {"Content-Length": "2", "Authorization": "Basic abc"},
    )
    assert head == (
        b"POST /api/v1/tasks?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
        b"Content-Length: 2\r\nAuthorization: Basic abc\r\n\r\n"
    )


@pytest.mark.parametrize("headers", [{"X": "a\r\nInjected: 1"}, {"X\n": "a"}, {"A:B": "c"}])
def test_request_head_refuses_line_breaks(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="line breaks"):
        request_head("GET", "/", "h", headers)


# -- strict, side by side with h11 ---------------------------------------------------
MALFORMED = {
    "negative chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n",
    "0x chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n",
    "underscore chunk size": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1_0\r\n"
        + b"a" * 16
        + b"\r\n0\r\n\r\n"
    ),
    "unicode digit length": "HTTP/1.1 200 OK\r\nContent-Length: ²\r\n\r\nab".encode(),
    "latin-1 digit length": b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\nab",
    "signed length": b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nab",
    "gzip, chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n"
    ),
    "space in a header name": b"HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 0\r\n\r\n",
    "unicode digit status": "HTTP/1.1 2²0 OK\r\nContent-Length: 0\r\n\r\n".encode("latin-1"),
    "huge length, short body": b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000000\r\n\r\nab",
}


def h11_read(raw: bytes) -> bytes:
    """The body h11 reads from ``raw`` (as the answer to a GET); raises as h11 does."""
    import h11

    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(raw)
    conn.receive_data(b"")
    body = b""
    while True:
        event = conn.next_event()
        if isinstance(event, h11.Data):
            body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage):
            return body
        elif event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
            raise AssertionError("h11 wants more data")


@pytest.mark.parametrize("raw", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_answers_are_refused_like_h11_does(raw: bytes) -> None:
    import h11

    with pytest.raises(h11.RemoteProtocolError):
        h11_read(raw)
    with pytest.raises(ProtocolError):  # ours: always this one error, never a ValueError
        read(raw)


def test_control_characters_in_a_value_are_refused() -> None:
    raw = b"HTTP/1.1 200 OK\r\nX: a\x01b\r\nContent-Length: 0\r\n\r\n"
    with pytest.raises(ProtocolError):  # (h11 takes it: we are stricter here)
        read(raw)


def test_transfer_encoding_with_content_length_is_refused() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n"
        b"2\r\nab\r\n0\r\n\r\n"
    )
    with pytest.raises(ProtocolError, match="both"):  # (h11 lets chunked win; RFC 9112 6.1)
        read(raw)


def test_body_sizes_are_bounded() -> None:
    from hydratrack.client.http1 import MAX_BODY

    too_long = f"HTTP/1.1 200 OK\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n".encode()
    with pytest.raises(ProtocolError, match="limit"):
        read(too_long)  # refused before reading (10^13 used to be a MemoryError)
    chunks = f"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{MAX_BODY + 1:x}\r\n"
    with pytest.raises(ProtocolError, match="longer"):
        read(chunks.encode())


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n2;x=1\r\nok\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Odd_Name!: v\xe9\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
    ],
)
def test_well_formed_answers_read_the_same_as_h11(raw: bytes) -> None:
    assert read(raw).content == h11_read(raw)
