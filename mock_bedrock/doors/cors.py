"""CORS, opt-in: the origins a user names (``--cors-origin``) may call the models from a
web page. Their preflights are answered and their calls' answers carry the headers a
browser needs to hand them to the page; the admin endpoints never answer a page, and every
other origin is refused by the guard (:mod:`.guard`) as before.

Written here: werkzeug has no CORS middleware, and flask-cors needs Flask.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:  # mock-bedrock --help checks its --cors-origin with origin_of, app unloaded
    from mock_bedrock.service.app import StartResponse, WSGIApplication, WSGIEnvironment

ADMIN_PATH = "/_mock"
PREFLIGHT_MAX_AGE = "600"
# Headers a browser shows a page without being told (the CORS-safelisted response headers).
SAFELISTED = frozenset({"cache-control", "content-language", "content-length", "content-type",
                        "expires", "last-modified", "pragma"})


def origin_of(text: str) -> str:
    """``text`` as an origin (``scheme://host[:port]``, lower case); ValueError otherwise."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") \
            or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError(f"{text!r} is not an origin: give scheme://host[:port], e.g. "
                         "http://localhost:3000")
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_admin(environ: WSGIEnvironment) -> bool:
    path = str(environ.get("PATH_INFO", ""))
    return path == ADMIN_PATH or path.startswith(ADMIN_PATH + "/")


def preflight(environ: WSGIEnvironment, origin: str,
              start_response: StartResponse) -> list[bytes]:
    """The answer to an allowed origin's preflight: what it asked for, for ten minutes."""
    asked = str(environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", ""))
    headers = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
               ("Access-Control-Allow-Methods", "GET, POST"),
               ("Access-Control-Max-Age", PREFLIGHT_MAX_AGE), ("Content-Length", "0")]
    if asked:
        headers.append(("Access-Control-Allow-Headers", asked))
    start_response("204 No Content", headers)
    return []


def answered_to_page(app: WSGIApplication, environ: WSGIEnvironment, origin: str,
                     start_response: StartResponse) -> Iterable[bytes]:
    """The app's answer, with what lets the page read it (its status, body and headers:
    the request id and error type the SDK reads)."""
    def with_cors(status: str, headers: list[tuple[str, str]], exc_info: object = None
                  ) -> object:
        exposed = sorted({name for name, _ in headers if name.lower() not in SAFELISTED})
        headers = [*headers, ("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        if exposed:
            headers.append(("Access-Control-Expose-Headers", ", ".join(exposed)))
        return start_response(status, headers, exc_info)

    return app(environ, with_cors)
