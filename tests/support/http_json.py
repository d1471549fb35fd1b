"""A JSON call to a running server's admin API (urllib): the status and the parsed answer,
whatever the status."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

JSON = "application/json"
_UNSET = object()


def call_json(url: str, method: str = "GET", data: Any = _UNSET,
              content_type: str = JSON) -> tuple[int, Any]:
    body = None if data is _UNSET else json.dumps(data).encode()
    headers = {} if body is None else {"Content-Type": content_type}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())
