"""The mock's own HTTP endpoints, under a path prefix Bedrock never uses.

    GET    /_mock/health    liveness: the version, the model ids served on the mock's date,
                            the number of rules and journal entries
    GET    /_mock/faults    the rules in force, with their counters
    POST   /_mock/faults    add one rule object or a list of them (400 names a bad one)
    DELETE /_mock/faults    remove every rule
    GET    /_mock/journal   the calls received (the newest, within the journal's bounds)
                            and how many older ones were dropped
    DELETE /_mock/journal   forget them
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from bedrock_contract import ModelRefused
from bedrock_contract.version import __version__
from mock_bedrock.service.faults import FaultRuleError, FaultSet, rules_from_json
from mock_bedrock.service.journal import Journal
from mock_bedrock.service.models import ModelTable

PREFIX = "/_mock/"


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


def served_ids(models: ModelTable) -> list[str]:
    """The model ids the mock answers on its date: every id the schemas describe, less those
    not yet released or past their end of life then."""
    served = []
    for _, version in models.catalogue.versions():
        if not version.described:
            continue
        try:
            models.catalogue.resolve(version.id, models.as_of)
        except ModelRefused:
            continue
        served.append(version.id)
    return sorted(served)


class AdminEndpoints:
    """Serves the admin paths for one mock's faults, journal and models."""

    def __init__(self, faults: FaultSet, journal: Journal, models: ModelTable) -> None:
        self._faults = faults
        self._journal = journal
        self._models = models
        self._url_map = Map([
            Rule(f"{PREFIX}health", endpoint=self._health, methods=["GET"]),
            Rule(f"{PREFIX}faults", endpoint=self._list_faults, methods=["GET"]),
            Rule(f"{PREFIX}faults", endpoint=self._add_faults, methods=["POST"]),
            Rule(f"{PREFIX}faults", endpoint=self._clear_faults, methods=["DELETE"]),
            Rule(f"{PREFIX}journal", endpoint=self._list_journal, methods=["GET"]),
            Rule(f"{PREFIX}journal", endpoint=self._clear_journal, methods=["DELETE"]),
        ])

    def handle(self, request: Request) -> Response:
        try:
            handler, _ = self._url_map.bind_to_environ(request.environ).match()
        except MethodNotAllowed as err:
            response = _json({"message": f"{request.method} is not allowed here"}, 405)
            response.headers["Allow"] = ", ".join(err.valid_methods or [])
            return response
        except HTTPException:
            return _json({"message": f"no admin endpoint at {request.path}"}, 404)
        answer: Response = handler(request)
        return answer

    def _health(self, request: Request) -> Response:
        return _json({"status": "ok", "version": __version__,
                      "models": served_ids(self._models),
                      "faults": len(self._faults.rules), "journal": len(self._journal)})

    def _list_faults(self, request: Request) -> Response:
        return _json({"rules": self._faults.snapshot()})

    def _add_faults(self, request: Request) -> Response:
        try:
            data = json.loads(request.get_data())
        except ValueError as err:
            return _json({"message": f"body is not JSON: {err}"}, 400)
        try:
            rules = rules_from_json(data, source="POST /_mock/faults")
            self._faults.extend(rules)  # refused whole past the bound on rules
        except FaultRuleError as err:
            return _json({"message": str(err)}, 400)
        return _json({"added": [rule.to_dict() for rule in rules]}, 201)

    def _clear_faults(self, request: Request) -> Response:
        self._faults.clear()
        return _json({"rules": []})

    def _list_journal(self, request: Request) -> Response:
        return _json(self._journal.listing())

    def _clear_journal(self, request: Request) -> Response:
        self._journal.clear()
        return _json({"entries": []})
