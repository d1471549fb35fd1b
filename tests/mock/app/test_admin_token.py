"""Who may use the admin API (issue 18): a server on any address but loopback, or checking
signatures, answers admin calls only with the token it made and printed (or was given), over
HTTP/1.1 and HTTP/2; the health endpoint stays open; a loopback server stays open, as the
pytest plugin, the tests and the examples of README.md and docs/ use it; ``--admin-open``
opens it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from click.testing import CliRunner

from mock_bedrock.cli import main
from mock_bedrock.client_setup import ADMIN_TOKEN_VARIABLE
from mock_bedrock.doors.server import MockServer
from tests.support.admin_api import LATENCY_RULE, admin, assert_admin_needs, assert_refused
from tests.support.served import serving as served_command


def test_a_loopback_server_keeps_its_admin_api_open() -> None:
    with MockServer() as server:
        assert server.admin_token is None
        assert admin(server.endpoint_url, "GET", "/_mock/journal")[0] == 200
        assert admin(server.endpoint_url, "POST", "/_mock/faults", body=LATENCY_RULE)[0] == 201


def test_with_signatures_checked_admin_calls_need_the_token_over_both_protocols() -> None:
    with MockServer(credentials={"k": "s"}) as server:
        assert_refused(server.endpoint_url, "GET", "/_mock/journal")  # old: 200, unsigned
        token = server.admin_token
        assert token  # made at start
        assert_admin_needs(server.endpoint_url, token)
        with httpx.Client(http1=False, http2=True, timeout=10) as h2:
            journal = server.endpoint_url + "/_mock/journal"
            refused = h2.get(journal)
            assert (refused.http_version, refused.status_code) == ("HTTP/2", 401)
            assert h2.get(journal, headers={"Authorization": f"Bearer {token}"}).status_code \
                == 200
            assert h2.get(server.endpoint_url + "/_mock/health").status_code == 200


def test_a_token_given_is_needed_on_loopback_too() -> None:
    with MockServer(admin_token="s3cret-token") as server:
        assert server.admin_token == "s3cret-token"
        assert_admin_needs(server.endpoint_url, "s3cret-token")


def test_admin_open_needs_no_token_even_with_signatures_checked() -> None:
    with MockServer(credentials={"k": "s"}, admin_open=True) as server:
        assert server.admin_token is None
        assert admin(server.endpoint_url, "GET", "/_mock/journal")[0] == 200
    with pytest.raises(TypeError):
        MockServer(admin_token="t", admin_open=True)


# --- mock-bedrock serve ---------------------------------------------------------------------


@contextmanager
def serving(*args: str, last: str, env: dict[str, str] | None = None
            ) -> Iterator[tuple[str, list[str]]]:
    """``mock-bedrock serve`` on a free loopback port: its URL and the lines it printed, up
    to the first that holds ``last``."""
    with served_command(*args, env=env, until=lambda lines: last in lines[-1]) as served:
        yield served.url, served.lines


def test_serve_with_strict_credentials_prints_the_token_admin_calls_need() -> None:
    with serving("--strict-credentials", "k:s",
                 last=f"export {ADMIN_TOKEN_VARIABLE}=") as (url, lines):
        token = lines[-1].removeprefix(f"export {ADMIN_TOKEN_VARIABLE}=")
        assert token and token != lines[-1]
        assert_admin_needs(url, token)


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_serve_takes_the_token_from_its_flag_or_the_environment(how: str) -> None:
    token = "a-token.given~by+me/=="
    args = ("--admin-token", token) if how == "flag" else ()
    env = {ADMIN_TOKEN_VARIABLE: token} if how == "environment" else {}
    with serving(*args, "--strict-credentials", "k:s", last="TOKEN as given",
                 env=env) as (url, lines):
        assert not any(token in line for line in lines)  # a secret given stays unsaid
        assert_admin_needs(url, token)


def test_serve_admin_open_and_a_bad_or_second_token_are_refused() -> None:
    with serving("--strict-credentials", "k:s", "--admin-open",
                 last="open to every client") as (url, _):
        assert admin(url, "GET", "/_mock/journal")[0] == 200
    for args in (["--admin-open", "--admin-token", "t"], ["--admin-token", "not a token"]):
        done = CliRunner().invoke(main, ["serve", "--port", "0", *args])
        assert done.exit_code == 2, done.output
        assert "--admin-" in done.output
