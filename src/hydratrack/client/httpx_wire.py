"""The httpx backend of :mod:`hydratrack.client.wire` (the default)."""

from __future__ import annotations

from typing import Any, Mapping

import httpx

from hydratrack.client.errors import ServerUnreachable
from hydratrack.client.wire import USER_AGENT, Files, Params, tls_context


class HttpxWire:
    def __init__(
        self,
        api_host: str,
        auth: tuple[str, str] | None,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_host = api_host
        # the same trust store as the stdlib backend (not httpx's default, certifi)
        verify: Any = tls_context() if api_host.startswith("https:") else True
        self._http = httpx.Client(
            verify=verify,
            base_url=api_host + "/api/v1",
            auth=httpx.BasicAuth(*auth) if auth else None,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT},
        )

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
    ) -> httpx.Response:
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        try:
            query = None if params is None else httpx.QueryParams(params)  # type: ignore[arg-type]
            return self._http.request(
                method, path, json=json, params=query, files=files, data=data, **extra
            )
        except httpx.TransportError as exc:
            raise ServerUnreachable(self.api_host, str(exc) or type(exc).__name__) from exc

    def close(self) -> None:
        self._http.close()
