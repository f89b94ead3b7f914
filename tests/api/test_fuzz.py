"""Schemathesis over the whole OpenAPI document (/api/v1/openapi.json) against a real server,
with credentials: no answer is a 5xx, and every error has the one JSON error shape.

Seeded (hypothesis ``derandomize``) and bounded: ``HYDRATRACK_FUZZ_EXAMPLES`` cases per
operation (default 40: about 2,000 cases over the document). ``scripts/fuzz`` runs a larger
round on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any, Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from tests.support.servers import ServerProcess, running_server

EXAMPLES = int(os.environ.get("HYDRATRACK_FUZZ_EXAMPLES", "40"))


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of its own: the fuzzer creates users, projects, queues ... at random."""
    yield from running_server(tmp_path_factory.mktemp("fuzz"))


def error_shape_problem(status: int, content_type: str, body: bytes) -> str | None:
    """Why an error answer is not ``{"error": {"code", "message", "details"?}}``, or None."""
    if not content_type.startswith("application/json"):
        return f"content-type {content_type!r}"
    try:
        doc = json.loads(body)
    except ValueError:
        return "not JSON"
    if not isinstance(doc, dict) or set(doc) != {"error"} or not isinstance(doc["error"], dict):
        return f"not the error shape: {doc!r:.200}"
    err = doc["error"]
    if not isinstance(err.get("code"), str) or not isinstance(err.get("message"), str):
        return f"code/message missing: {err!r:.200}"
    if not set(err) <= {"code", "message", "details"}:
        return f"unknown keys: {sorted(err)}"
    return None


def check_answer(case: Any, server: ServerProcess) -> None:
    token = base64.b64encode(f"{server.access_key}:{server.secret_key}".encode()).decode()
    resp = case.call(base_url=server.url, headers={"Authorization": f"Basic {token}"}, timeout=30)
    where = f"{case.method} {case.formatted_path} -> {resp.status_code}: {resp.text[:300]}"
    assert resp.status_code < 500, where
    if resp.status_code >= 400:
        content_type = (resp.headers.get("content-type") or [""])[0]  # (a list per header)
        why = error_shape_problem(resp.status_code, content_type, resp.content)
        assert why is None, f"{where}: {why}"


@pytest.mark.timeout(max(300, EXAMPLES * 6))
def test_no_server_error_and_one_error_shape(fuzz_server: ServerProcess) -> None:
    """Every operation of the document, ``EXAMPLES`` cases each (positive and negative);
    the failures of all operations are reported together."""
    server = fuzz_server
    schema = schemathesis.openapi.from_url(server.url + "/api/v1/openapi.json")
    failures: list[str] = []
    operations = cases = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],  # (no shrinking: the first case will do)
        )
        def fuzz(case: Any) -> None:
            nonlocal cases
            cases += 1
            check_answer(case, server)

        try:
            fuzz()
        except AssertionError as exc:
            failures.append(f"{operation.label}: {exc}")
    print(f"schemathesis: {cases} cases over {operations} operations")
    assert operations > 40  # the whole document was read
    assert not failures, f"{len(failures)} of {operations} operations failed:\n" + "\n".join(
        failures
    )
