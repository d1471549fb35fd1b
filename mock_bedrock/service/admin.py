"""The mock's own HTTP endpoints, under a path prefix Bedrock never uses (``GET /_mock``
lists them, from :meth:`AdminEndpoints.routes`):

    GET    /_mock           this list
    GET    /_mock/health    liveness: the version, the model ids served on the mock's date,
                            the number of rules and journal entries
    GET    /_mock/faults    the rules in force, with their counters
    POST   /_mock/faults    add one rule object or a list of them (400 names a bad one)
    DELETE /_mock/faults    remove every rule
    GET    /_mock/journal   the calls received (the newest, within the journal's bounds)
                            and how many older ones were dropped; with criteria in the query
                            string, the calls matching them and, when none does, the nearest
    DELETE /_mock/journal   forget them
    GET    /_mock/date      the date the mock answers as of (null: every model)
    PUT    /_mock/date      change it while the mock runs: {"as_of": "2025-05-19"}

A body (POST's, and DELETE's if it sends one) must be ``application/json``: a web page can
send ``text/plain`` or a form anywhere without asking, but not JSON (the browser asks first,
and the mock never says yes). The server door refuses pages' requests outright
(:mod:`mock_bedrock.doors.guard`); this holds wherever the app is served.

Every endpoint but health needs ``Authorization: Bearer <token>`` when the door serving the
app puts a token in the environ (ADMIN_TOKEN): the server does on any address but loopback
and with signatures checked, unless told otherwise (:class:`mock_bedrock.MockServer`). The
door decides, since only it knows where it listens; the check is here, where the routes are.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.http import parse_options_header
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from bedrock_contract import ModelRefused, parse_as_of
from bedrock_contract.version import __version__
from mock_bedrock.client_setup import ADMIN_TOKEN_VARIABLE
from mock_bedrock.service.faults import FaultRuleError, FaultSet, rules_from_json
from mock_bedrock.service.journal import Journal
from mock_bedrock.service.journal_query import QueryError, query_from_params
from mock_bedrock.service.models import ModelTable

PREFIX = "/_mock/"
JSON = "application/json"
# Where a door puts the token admin calls must send (a str); absent, the endpoints are open.
ADMIN_TOKEN = "mock_bedrock.admin_token"
# The refusal (401 with a Bearer challenge, RFC 6750 3.1); the wording is ours.
REFUSAL = (f"mock-bedrock's admin API needs the token it was started with: send the header "
           f"'Authorization: Bearer <token>' (mock-bedrock serve prints the token it made, or "
           f"takes one from --admin-token or {ADMIN_TOKEN_VARIABLE}; --admin-open needs none)")
CHALLENGE = 'Bearer realm="mock-bedrock admin"'
# Fault rules are small; a body this size parses in a moment to a few MB at most.
MAX_BODY = 1024 * 1024
WRITES = frozenset({"POST", "PUT", "DELETE"})


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


def served_ids(models: ModelTable) -> list[str]:
    """The model ids the mock answers on its date: every id the schemas describe (by its
    inference profile where the model has no in-Region endpoint), less those not yet
    released or past their end of life then."""
    served = []
    for contract, version in models.catalogue.versions():
        if not version.described:
            continue
        called = contract.id_to_call(version)
        try:
            models.catalogue.resolve(called, models.as_of)
        except ModelRefused:
            continue
        served.append(called)
    return sorted(served)


def _authorized(request: Request) -> bool:
    """Whether the request may use the admin API: no token asked for, or the one asked."""
    token = request.environ.get(ADMIN_TOKEN)
    if token is None:
        return True
    scheme, _, sent = request.headers.get("Authorization", "").strip().partition(" ")
    # Compared in constant time: how long a wrong guess took says nothing of the token.
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(),
                                                              str(token).encode())


def _has_body(request: Request) -> bool:
    return bool(request.content_length) or "wsgi.input_terminated" in request.environ


def _read_body(request: Request) -> bytes | None:
    """The body, or None if it is longer than MAX_BODY (read no further than that)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    pieces, size = [], 0
    while size <= MAX_BODY and (piece := request.stream.read(MAX_BODY + 1 - size)):
        pieces.append(piece)  # a stream may answer a read with less than asked
        size += len(piece)
    return b"".join(pieces) if size <= MAX_BODY else None


class AdminEndpoints:
    """Serves the admin paths for one mock's faults, journal and models."""

    def __init__(self, faults: FaultSet, journal: Journal, models: ModelTable) -> None:
        self._faults = faults
        self._journal = journal
        self._models = models
        self._url_map = Map([Rule(f"{PREFIX}{path}".rstrip("/"), endpoint=handler,
                                  methods=[method])
                             for path, method, handler, _ in self.routes()])

    def routes(self) -> list[tuple[str, str, Callable[[Request], Response], str]]:
        """Each endpoint: its path under the prefix, method, handler and what it does."""
        return [
            ("", "GET", self._index, "this list of the admin endpoints"),
            ("health", "GET", self._health, "liveness: version, models served, counts"),
            ("faults", "GET", self._list_faults, "the fault rules in force, with counters"),
            ("faults", "POST", self._add_faults, "add a rule object or a list of them"),
            ("faults", "DELETE", self._clear_faults, "remove every rule"),
            ("journal", "GET", self._list_journal,
             "the calls received; criteria in the query string (model_id, operation, "
             "outcome, status, prompt, field.<name or /pointer>, since, until) keep those "
             "matching them, and list the nearest calls when none does"),
            ("journal", "DELETE", self._clear_journal, "forget the calls received"),
            ("date", "GET", self._get_date, "the date the mock answers as of (null: any)"),
            ("date", "PUT", self._set_date,
             'change it while the mock runs: {"as_of": "YYYY-MM-DD" | "today" | null}'),
        ]

    def handle(self, request: Request) -> Response:
        try:
            handler, _ = self._url_map.bind_to_environ(request.environ).match()
        except MethodNotAllowed as err:
            response = _json({"message": f"{request.method} is not allowed here"}, 405)
            response.headers["Allow"] = ", ".join(err.valid_methods or [])
            return response
        except HTTPException:
            return _json({"message": f"no admin endpoint at {request.path}"}, 404)
        if handler != self._health and not _authorized(request):
            refusal = _json({"message": REFUSAL}, 401)
            refusal.headers["WWW-Authenticate"] = CHALLENGE
            return refusal
        if request.method in WRITES and (request.method == "POST" or _has_body(request)):
            mimetype, _ = parse_options_header(request.headers.get("Content-Type", ""))
            if mimetype.lower() != JSON:
                return _json({"message": f"{request.method} {request.path} takes a JSON "
                                         f"body: send Content-Type: {JSON}"}, 415)
        answer: Response = handler(request)
        return answer

    def _index(self, request: Request) -> Response:
        return _json({"endpoints": [
            {"method": method, "path": f"{PREFIX}{path}".rstrip("/"), "does": does}
            for path, method, _, does in self.routes()]})

    def _health(self, request: Request) -> Response:
        return _json({"status": "ok", "version": __version__,
                      "models": served_ids(self._models),
                      "faults": len(self._faults.rules), "journal": len(self._journal)})

    def _list_faults(self, request: Request) -> Response:
        return _json({"rules": self._faults.snapshot()})

    def _add_faults(self, request: Request) -> Response:
        raw = _read_body(request)
        if raw is None:
            return _json({"message": f"body is over {MAX_BODY} bytes"}, 413)
        try:
            data = json.loads(raw)
        except ValueError as err:
            return _json({"message": f"body is not JSON: {err}"}, 400)
        except RecursionError:
            return _json({"message": "body is not JSON the mock reads: nested too deep"}, 400)
        try:
            rules = rules_from_json(data, source="POST /_mock/faults")
            self._faults.extend(rules)  # refused whole past the bound on rules
        except FaultRuleError as err:
            return _json({"message": str(err)}, 400)
        return _json({"added": [rule.listed() for rule in rules]}, 201)

    def _clear_faults(self, request: Request) -> Response:
        self._faults.clear()
        return _json({"rules": []})

    def _list_journal(self, request: Request) -> Response:
        try:
            query = query_from_params(request.args.items(multi=True))
        except QueryError as err:
            return _json({"message": str(err)}, 400)
        listing = self._journal.listing()
        if query is None:
            return _json(listing)
        entries = self._journal.entries()
        found = query.find(entries)
        answer: dict[str, Any] = {"entries": [entry.to_dict() for entry in found],
                                  "dropped": listing["dropped"]}
        if not found:
            answer["near_misses"] = [{"entry": entry.to_dict(), "missed": missed}
                                     for entry, missed in query.near_misses(entries)]
        return _json(answer)

    def _clear_journal(self, request: Request) -> Response:
        self._journal.clear()
        return _json({"entries": []})

    def _get_date(self, request: Request) -> Response:
        day = self._models.as_of
        return _json({"as_of": day.isoformat() if day else None})

    def _set_date(self, request: Request) -> Response:
        raw = _read_body(request)
        try:
            data = json.loads(raw or b"")
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict) or set(data) != {"as_of"}:
            return _json({"message": 'PUT /_mock/date takes {"as_of": "YYYY-MM-DD"}, '
                                     '"today", or null (every model)'}, 400)
        try:
            day = None if data["as_of"] is None else parse_as_of(str(data["as_of"]))
        except ValueError as err:
            return _json({"message": f"as_of: {err}"}, 400)
        self._models.as_of = day
        return self._get_date(request)
