"""How :class:`~hydratrack.client.api.ApiClient` puts requests on the wire: two backends
behind one small interface.

- ``"httpx"`` (:mod:`hydratrack.client.httpx_wire`, the default): httpx's client; the CLI,
  the agent and the SDK's read/steer calls (``Task.get_task``, ``Task.clone``, ...) use it.
- ``"stdlib"`` (:mod:`hydratrack.client.stdlib_wire`): one keep-alive socket speaking
  HTTP/1.1 (:mod:`hydratrack.client.http1`), standard library only. The SDK's background
  sender uses it, because a run's data waits for the connection and importing httpx (or
  ``http.client``) costs a short script more than everything else ``Task.init`` does
  (docs/sdk.md, "Speed").

A backend knows nothing of endpoints or error shapes: it sends ``method path`` (relative
to ``/api/v1``) with an optional JSON body, query parameters or multipart form, and
returns the answer whatever its status. When no answer comes (refused, dropped, timed
out) it raises :class:`~hydratrack.client.errors.ServerUnreachable`. Error answers become
:class:`~hydratrack.client.errors.ApiError` in ``ApiClient``, the same for both.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any, Literal, Mapping, Protocol, Sequence, Union

if TYPE_CHECKING:  # pragma: no cover
    import ssl

Params = Union[Mapping[str, Any], Sequence[tuple[str, Any]]]
# field name -> (file name, open binary file, content type), as httpx takes them
Files = Mapping[str, tuple[str, IO[bytes], str]]
Backend = Literal["httpx", "stdlib"]
BACKENDS: tuple[Backend, ...] = ("httpx", "stdlib")
USER_AGENT = "hydratrack-client"


class Response(Protocol):
    """What a backend returns (``httpx.Response`` is one)."""

    @property
    def status_code(self) -> int: ...

    @property
    def reason_phrase(self) -> str: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> bytes: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


class Wire(Protocol):
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
    ) -> Response: ...

    def close(self) -> None: ...


def tls_context() -> ssl.SSLContext:
    """The one TLS setting of both backends: the system's CA store, as OpenSSL finds it
    (``ssl.create_default_context()``; ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` override it).
    Not certifi's bundle: a company CA installed on the machine is trusted by both."""
    import ssl

    return ssl.create_default_context()


def open_wire(
    backend: Backend,
    api_host: str,
    auth: tuple[str, str] | None,
    timeout: float,
    **httpx_options: Any,
) -> Wire:
    """A backend talking to ``api_host`` (``http[s]://host[:port]``) under ``/api/v1``."""
    if backend == "stdlib":
        if httpx_options:
            raise ValueError(f"options {sorted(httpx_options)} are for the httpx backend")
        from hydratrack.client.stdlib_wire import StdlibWire

        return StdlibWire(api_host, auth, timeout)
    if backend == "httpx":
        from hydratrack.client.httpx_wire import HttpxWire

        return HttpxWire(api_host, auth, timeout, **httpx_options)
    raise ValueError(f"unknown wire backend {backend!r}; expected one of {', '.join(BACKENDS)}")
