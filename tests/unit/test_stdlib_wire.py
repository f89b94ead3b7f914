"""The standard-library wire's connection handling, against scripted servers on real
sockets (answers the real server never gives: chunked bodies, ``Connection: close``,
garbage, silence). Normal traffic against the real server: tests/api/test_api_client.py."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hydratrack.client.errors import ServerUnreachable
from hydratrack.client.stdlib_wire import StdlibWire
from hydratrack.client.wire import Backend, open_wire

Script = Callable[[socket.socket, int], None]  # (connection, its number from 0)


def read_request(conn: socket.socket) -> bytes:
    """One request's head and Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += conn.recv(65536)
    return head + b"\r\n\r\n" + body


@pytest.fixture
def scripted() -> Iterator[Callable[[Script], str]]:
    """A listening socket whose accepted connections are handed to a script."""
    servers: list[socket.socket] = []

    def start(script: Script) -> str:
        srv = socket.create_server(("127.0.0.1", 0))
        servers.append(srv)

        def serve() -> None:
            n = 0
            while True:
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                with conn:
                    script(conn, n)
                n += 1

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{srv.getsockname()[1]}"

    yield start
    for srv in servers:
        srv.close()


def test_chunked_answer_and_connection_close(scripted: Callable[[Script], str]) -> None:
    seen: list[bytes] = []

    def script(conn: socket.socket, n: int) -> None:
        seen.append(read_request(conn))
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
            b'Connection: close\r\n\r\n3\r\n{"n\r\n'
            + f'3\r\n":{n}\r\n1\r\n}}\r\n0\r\n\r\n'.encode()
        )

    wire = StdlibWire(scripted(script), ("key", "secret"), timeout=5)
    assert wire.request("POST", "/tasks", json={"a": "ü"}).json() == {"n": 0}
    assert wire.request("GET", "/tasks/x y").json() == {"n": 1}  # a new connection
    assert wire.connections == 2
    head, _, body = seen[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /api/v1/tasks HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"\r\nAuthorization: Basic a2V5OnNlY3JldA==" in head
    assert body == '{"a":"ü"}'.encode()
    assert seen[1].startswith(b"GET /api/v1/tasks/x%20y HTTP/1.1\r\n")


def test_keep_alive_connection_is_reused(scripted: Callable[[Script], str]) -> None:
    def script(conn: socket.socket, n: int) -> None:
        while read_request(conn):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")

    wire = StdlibWire(scripted(script), None, timeout=5)
    for _ in range(3):
        assert wire.request("POST", "/x").json() == {}
    assert wire.connections == 1
    wire.close()


def test_a_reused_connection_closed_by_the_server_is_sent_again(
    scripted: Callable[[Script], str],
) -> None:
    def script(conn: socket.socket, n: int) -> None:
        read_request(conn)  # answers one request per connection, then closes without saying
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n{n}".encode())
        read_request(conn)

    wire = StdlibWire(scripted(script), None, timeout=5)
    assert wire.request("GET", "/x").content == b"0"
    assert wire.request("GET", "/x").content == b"1"
    assert wire.connections == 2
    wire.close()


def test_a_fresh_connection_closed_early_is_not_retried(scripted: Callable[[Script], str]) -> None:
    calls: list[int] = []

    def script(conn: socket.socket, n: int) -> None:
        calls.append(n)
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")

    wire = StdlibWire(scripted(script), None, timeout=5)
    with pytest.raises(ServerUnreachable, match="3 of 10 body bytes"):
        wire.request("GET", "/x")
    assert calls == [0]


def test_an_answer_that_is_not_http(scripted: Callable[[Script], str]) -> None:
    def script(conn: socket.socket, n: int) -> None:
        read_request(conn)
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")

    url = scripted(script)
    with pytest.raises(ServerUnreachable, match="not an HTTP/1.x status line") as err:
        StdlibWire(url, None, timeout=5).request("GET", "/x")
    assert url in str(err.value)


def test_a_silent_server_times_out(scripted: Callable[[Script], str]) -> None:
    release = threading.Event()

    def script(conn: socket.socket, n: int) -> None:
        read_request(conn)
        release.wait(5)

    wire = StdlibWire(scripted(script), None, timeout=0.3)
    try:
        with pytest.raises(ServerUnreachable, match="timed out"):
            wire.request("GET", "/x")
    finally:
        release.set()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made with the openssl command)."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


def tls_server(
    scripted: Callable[[Script], str], key: Path, cert: Path, answer: bytes, seen: list[bytes]
) -> str:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def script(conn: socket.socket, n: int) -> None:
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                while True:
                    request = read_request(tls)
                    if not request:
                        return
                    seen.append(request)
                    tls.sendall(answer)
        except (ssl.SSLError, OSError):
            return  # a client that refused our certificate

    return scripted(script).replace("http://", "https://")


def test_https_with_a_trusted_certificate(
    scripted: Callable[[Script], str],
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[1]))  # the system store, for the test
    seen: list[bytes] = []
    url = tls_server(
        scripted, *certificate, b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"ok":true}', seen
    )
    wire = StdlibWire(url, ("key", "secret"), timeout=5)
    assert wire.request("POST", "/tasks", json={"a": 1}).json() == {"ok": True}
    assert wire.request("GET", "/tasks").json() == {"ok": True}
    wire.close()
    assert wire.connections == 1  # one TLS session kept alive
    assert seen[0].startswith(b"POST /api/v1/tasks HTTP/1.1\r\nHost: 127.0.0.1:")
    assert seen[0].endswith(b'{"a":1}')


def test_https_with_an_untrusted_certificate_is_refused(
    scripted: Callable[[Script], str],
    certificate: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    empty = tmp_path / "no-authorities.pem"
    empty.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "none"))
    seen: list[bytes] = []
    url = tls_server(scripted, *certificate, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", seen)
    with pytest.raises(ServerUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
        StdlibWire(url, ("key", "secret"), timeout=5).request("GET", "/tasks")
    assert seen == []  # nothing was sent: not even the credentials


@pytest.mark.parametrize("backend", ["stdlib", "httpx"])
def test_both_backends_trust_the_same_store(
    scripted: Callable[[Script], str],
    certificate: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    backend: Backend,
) -> None:
    """One trust setting (hydratrack.client.wire.tls_context): the system store, which
    SSL_CERT_FILE replaces here; a certificate outside it is refused by both."""
    seen: list[bytes] = []
    ok = b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"ok":true}'
    url = tls_server(scripted, *certificate, ok, seen)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[1]))
    wire = open_wire(backend, url, ("key", "secret"), 5)
    assert wire.request("GET", "/tasks").json() == {"ok": True}
    wire.close()
    empty = tmp_path / "no-authorities.pem"
    empty.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "none"))
    with pytest.raises(ServerUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
        open_wire(backend, url, ("key", "secret"), 5).request("GET", "/tasks")
    assert len(seen) == 1


MALFORMED_ANSWERS = [
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000000\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nnot j",  # (2xx, not JSON)
]


@pytest.mark.parametrize("answer", MALFORMED_ANSWERS)
def test_a_malformed_answer_is_an_unreachable_server_and_the_op_is_spooled(
    scripted: Callable[[Script], str], answer: bytes, tmp_path: Path
) -> None:
    """Not a raw ValueError/MemoryError the sender would drop: the sender retries, then
    spools the op (here with a 0.3 s retry window)."""
    from hydratrack.client.api import ApiClient
    from hydratrack.sdk.sender import Sender
    from hydratrack.sdk.spool import SpoolTransport
    from hydratrack.sdk.transport import HttpTransport

    tries: list[int] = []

    def script(conn: socket.socket, n: int) -> None:
        read_request(conn)
        tries.append(n)
        conn.sendall(answer)

    url = scripted(script)
    client = ApiClient(url, "key", "secret", backend="stdlib", timeout=5)
    with pytest.raises(ServerUnreachable):
        client.get_task("a" * 32)
    spool = SpoolTransport(tmp_path / "spool")
    tid = "b" * 32
    sender = Sender(
        tid, lambda: HttpTransport(client), lambda: spool, interval=0.05, retry_window=0.3
    )
    sender.put({"op": "update_task", "fields": {"comment": "kept"}})
    sender.start()
    time.sleep(1.0)  # the retry window passes while the run goes on
    sender.close(timeout=5)
    assert len(tries) >= 3  # the first get, then the op tried more than once
    spooled = (tmp_path / "spool" / tid / "ops.jsonl").read_text().splitlines()
    assert [json.loads(line)["fields"] for line in spooled] == [{"comment": "kept"}]
