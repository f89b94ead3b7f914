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
