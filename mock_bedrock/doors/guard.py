"""What the server door refuses before the app sees a request: names it does not answer to
(DNS rebinding) and requests sent by a page from another origin.

A web page whose name resolves to 127.0.0.1 makes the browser send that name as ``Host``
(``:authority`` in HTTP/2) to the mock: refusing names other than the mock's own address, a
loopback one or those the user allows is what stops such a page from reading the journal,
setting faults or, with ``--record``, spending the user's AWS credentials. An IP address
cannot be rebound, so with the mock on every interface (0.0.0.0, ::) any address is taken.
A browser marks the requests of a page with ``Origin``; a request from any origin but its
own is refused, but from the origins the user names for CORS (:mod:`.cors`), whose pages may
call the models and never the admin endpoints.

Written here: werkzeug's ``host_is_trusted`` matches a fixed list of names (case-sensitively),
and cannot say "any loopback address" or "any address".
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from mock_bedrock.doors.cors import answered_to_page, is_admin, origin_of, preflight
from mock_bedrock.service.app import StartResponse, WSGIApplication, WSGIEnvironment

ANY_HOST = "*"
LOOPBACK_NAMES = frozenset({"localhost"})


def host_name(authority: str) -> str:
    """The host of a ``Host`` value (``name``, ``name:port``, ``[v6]:port``), lower case,
    without a trailing dot, and without the brackets of an IPv6 address."""
    value = authority.strip().lower()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:  # name:port (a bare IPv6 address has two or more)
        value = value.partition(":")[0]
    return value.rstrip(".")


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address ``host`` is, if it is one (an IPv4-mapped IPv6 address as IPv4)."""
    try:
        address = ipaddress.ip_address(host.partition("%")[0])  # an IPv6 zone id is no part
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x.x.x)."""
    address = _address(host)
    return address is not None and address.is_loopback


class HostPolicy:
    """Which ``Host`` values a server answers: its ``own`` names and addresses (what it was
    asked to bind, what it bound), loopback names and addresses, any address when it
    listens on every interface, and the ``allowed`` names (``*``: any host at all)."""

    def __init__(self, own: Iterable[str], allowed: Iterable[str] = ()) -> None:
        own_names = {host_name(name) for name in own}
        names = {host_name(name) for name in allowed}
        self.any_host = ANY_HOST in names
        self._names = (names - {ANY_HOST}) | own_names | LOOPBACK_NAMES
        self._any_address = any(
            address is not None and address.is_unspecified
            for address in map(_address, own_names)
        )

    def allows(self, authority: str) -> bool:
        host = host_name(authority)
        if self.any_host or host in self._names:
            return True
        address = _address(host)
        if address is None:
            return False
        return self._any_address or address.is_loopback


def _refusal(start_response: StartResponse, status: str, message: str) -> list[bytes]:
    body = json.dumps({"message": message}).encode() + b"\n"
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


class RequestGuard:
    """WSGI middleware in front of whatever the server door serves (the mock, the recorder,
    the replayer), for HTTP/1.1 and HTTP/2 alike (both put the authority in HTTP_HOST)."""

    def __init__(self, app: WSGIApplication, policy: HostPolicy,
                 cors_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.policy = policy
        self.cors_origins = frozenset(map(origin_of, cors_origins))

    def __call__(self, environ: WSGIEnvironment,
                 start_response: StartResponse) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST")
        # No Host at all (HTTP/1.0) is no browser's request: a browser always sends one.
        if host is not None and not self.policy.allows(host):
            name = host_name(host)
            return _refusal(
                start_response, "421 Misdirected Request",
                f"mock-bedrock does not answer to the host {host!r}, only to its own address "
                f"and loopback names (a web page may be trying DNS rebinding); to allow it, "
                f"start it with: mock-bedrock serve --allow-host {name}",
            )
        origin = environ.get("HTTP_ORIGIN")
        if origin is None or self._same_origin(origin, host):
            return self.app(environ, start_response)
        allowed = self._allowed(origin)
        if allowed is None:
            return _refusal(
                start_response, "403 Forbidden",
                f"mock-bedrock refuses requests from web pages (Origin {origin!r} is not "
                f"this server's own); to let a page call the models, start it with: "
                f"mock-bedrock serve --cors-origin {origin}",
            )
        if is_admin(environ):
            return _refusal(start_response, "403 Forbidden",
                            "mock-bedrock's admin endpoints never answer a web page")
        if environ.get("REQUEST_METHOD") == "OPTIONS":
            return preflight(environ, allowed, start_response)
        return answered_to_page(self.app, environ, allowed, start_response)

    def _allowed(self, origin: str) -> str | None:
        """``origin`` as the user named it for CORS, or None."""
        try:
            named = origin_of(origin)
        except ValueError:
            return None  # "null" (a sandboxed page, a file) and the like
        return named if named in self.cors_origins else None

    @staticmethod
    def _same_origin(origin: str, host: str | None) -> bool:
        parts = urlsplit(origin.strip().lower())
        return (host is not None and parts.scheme == "http"
                and parts.netloc == host.strip().lower())
