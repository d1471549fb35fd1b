"""``GET /_mock/health``, what wait scripts and CI service containers poll: 200 with the
version and every model id the mock serves on its date, in process and over HTTP."""

from __future__ import annotations

import datetime as dt
import http.client
import json
from importlib.metadata import version
from urllib.parse import urlsplit

from werkzeug.test import Client

from bedrock_contract import default_catalogue
from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.app import MockBedrock

SDXL = "stability.stable-diffusion-xl-v1"
CORE = "stability.stable-image-core-v1:1"


def described_ids() -> list[str]:
    # The Image Services by their us. profile: they have no in-Region endpoint.
    return sorted(f"us.{v.id}" if not c.in_region else v.id
                  for c, v in default_catalogue().versions() if v.described)


def test_health_names_the_version_and_every_described_model() -> None:
    response = Client(MockBedrock()).get("/_mock/health")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["version"] == version("sdxl-bedrock")
    assert response.json["models"] == described_ids()
    assert SDXL in response.json["models"]


def test_health_leaves_out_what_the_mocks_date_does_not_serve() -> None:
    app = MockBedrock(as_of=dt.date.today())
    today = Client(app).get("/_mock/health").json["models"]
    assert SDXL not in today and CORE in today
    assert set(today) < set(described_ids())
    app.as_of = None  # the date moves: the answer follows
    assert SDXL in Client(app).get("/_mock/health").json["models"]


def test_health_over_http_with_a_plain_client() -> None:
    with MockServer(host="127.0.0.1", port=0) as server:
        url = urlsplit(server.endpoint_url)
        connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
        try:
            connection.request("GET", "/_mock/health")
            response = connection.getresponse()
            body = json.loads(response.read())
        finally:
            connection.close()
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/json"
    assert body["status"] == "ok"
    assert body["version"] == version("sdxl-bedrock")
    assert body["models"] == described_ids()
