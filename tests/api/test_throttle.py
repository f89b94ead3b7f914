"""Failed logins and Basic secrets are throttled (real server): 429 + Retry-After."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.api.conftest import assert_error
from tests.support.servers import ServerProcess, running_server


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of its own (the session server's admin must not be locked out), defaults."""
    yield from running_server(tmp_path)


def _login(c: httpx.Client, user: str, password: str) -> httpx.Response:
    return c.post("/auth/login", json={"username": user, "password": password})


def test_sixty_wrong_passwords_then_the_right_one_are_not_all_answered(
    guarded: ServerProcess,
) -> None:
    with httpx.Client(base_url=guarded.url + "/api/v1", timeout=30) as c:
        codes = [_login(c, "admin", f"guess-{i}").status_code for i in range(60)]
        right = _login(c, "admin", guarded.admin_password)
    assert codes[:10] == [401] * 10
    assert set(codes[10:]) == {429}, codes
    err = assert_error(right, 429, "too_many_requests", "try again")
    retry = int(right.headers["Retry-After"])
    assert 1 <= retry <= 300
    assert err["details"] == {"retry_after": retry}


def test_wrong_basic_secrets_are_throttled_but_a_working_pair_is_not(
    guarded: ServerProcess,
) -> None:
    url = guarded.url + "/api/v1/auth/me"
    good = (guarded.access_key, guarded.secret_key)
    assert httpx.get(url, auth=good).status_code == 200  # this pair has worked before
    codes = [httpx.get(url, auth=(guarded.access_key, f"guess-{i}")).status_code for i in range(60)]
    assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}, codes
    resp = httpx.get(url, auth=(guarded.access_key, "one-more"))
    assert_error(resp, 429, "too_many_requests")
    assert int(resp.headers["Retry-After"]) >= 1
    assert httpx.get(url, auth=good).status_code == 200


def test_a_new_key_is_blocked_too_once_its_address_failed_often(guarded: ServerProcess) -> None:
    """Per client address: one guess each for many access keys."""
    with guarded.client() as api:
        fresh = api.request("POST", "/auth/keys", json={"label": "never used"}).json()
    url = guarded.url + "/api/v1/auth/me"
    codes = [httpx.get(url, auth=(f"KEY{i}", "nope")).status_code for i in range(110)]
    assert codes[:100] == [401] * 100 and set(codes[100:]) == {429}, codes
    resp = httpx.get(url, auth=(fresh["access_key"], fresh["secret_key"]))
    assert_error(resp, 429, "too_many_requests")


def test_logins_work_again_after_the_window(tmp_path: Path) -> None:
    gen = running_server(
        tmp_path, extra_args=["--login-failures", "3", "--login-window-seconds", "2"]
    )
    server = next(gen)
    try:
        with httpx.Client(base_url=server.url + "/api/v1", timeout=30) as c:
            codes = [_login(c, "admin", "bad-password").status_code for _ in range(4)]
            assert codes == [401, 401, 401, 429]
            time.sleep(2.1)
            assert _login(c, "admin", server.admin_password).status_code == 200
            assert _login(c, "someone", "bad-password").status_code == 401
    finally:
        gen.close()
