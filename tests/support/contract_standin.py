"""A stand-in for real Bedrock with one planted drift: the mock behind a WSGI middleware that
rewrites its answers, so the contract suite has a known difference to find."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from mock_bedrock.service.app import MockBedrock

# Rewrites (request body, response status, response JSON) into the drifted response JSON.
Rewrite = Callable[[dict[str, Any], int, dict[str, Any]], dict[str, Any]]


class Drifted:
    """``app``'s answers, rewritten by ``rewrite`` wherever both bodies are JSON."""

    def __init__(self, rewrite: Rewrite, app: Any = None) -> None:
        self.app = app if app is not None else MockBedrock()
        self.rewrite = rewrite

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        raw = Request(environ).get_data()
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        response = Response.from_app(self.app, environ, buffered=True)
        try:
            request_body, answer = json.loads(raw), json.loads(response.get_data())
        except ValueError:
            return response(environ, start_response)
        response.set_data(json.dumps(self.rewrite(request_body, response.status_code, answer)))
        return response(environ, start_response)


def seed_zero_echoed(request: dict[str, Any], status: int, answer: dict[str, Any]
                     ) -> dict[str, Any]:
    """The service echoes seed 0 instead of picking one."""
    if status == 200 and not request.get("seed"):
        if "artifacts" in answer:
            answer["artifacts"][0]["seed"] = 0
        else:
            answer["seeds"] = [0]
    return answer


def other_range_wording(request: dict[str, Any], status: int, answer: dict[str, Any]
                        ) -> dict[str, Any]:
    """The service words an upper bound differently."""
    if status == 400:
        answer["message"] = answer["message"].replace(" is not less or equal to ", " > max ")
    return answer


def finished_reason(request: dict[str, Any], status: int, answer: dict[str, Any]
                    ) -> dict[str, Any]:
    """The translation's typo come true: ``finishedReason`` instead of ``finishReason``."""
    if status == 200 and "artifacts" in answer:
        artifact = answer["artifacts"][0]
        artifact["finishedReason"] = artifact.pop("finishReason")
    return answer


def retired_model_worded_otherwise(request: dict[str, Any], status: int, answer: dict[str, Any]
                                   ) -> dict[str, Any]:
    """The service words the refusal of a retired model id differently."""
    if status == 404:
        answer["message"] = "Model not found."
    return answer
