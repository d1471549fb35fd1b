"""A contract folder a user adds is data, read without reaching the network and refused when
it loads if it names what no model has (issue 18): a schema's reference leaving its file is
never fetched, a size no model draws is refused, each in one line naming the file, from the
library, ``sdxl`` and ``mock-bedrock``."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bedrock_contract import PATH_VARIABLE, Catalogue, ContractFileError
from bedrock_contract.dialect import fast_validator
from bedrock_contract.sizes import MAX_OUTPUT_PIXELS, MAX_OUTPUT_SIDE
from tests.support.custom_model import MODEL_ID, write_model_folder


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers any GET with a schema, noting the path asked for."""

    asked: list[str]

    def do_GET(self) -> None:
        self.asked.append(self.path)
        body = b'{"type": "string"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def schema_host() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server serving schemas: its URL, and the paths anyone fetched."""
    asked: list[str] = []
    handler = type("Handler", (_Recorder,), {"asked": asked})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", asked
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _edit(folder: Path, name: str, change: Any) -> Path:
    path = folder / name
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path


def _run(module: str, *args: str, folder: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, PATH_VARIABLE: str(folder)}
    return subprocess.run([sys.executable, "-m", module, *args], env=env, capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.mark.parametrize("where", [
    lambda url: {"$ref": f"{url}/headline.json"},
    lambda url: {"$ref": "headline.json"},  # relative: resolved against the schema's $id
    lambda url: {"$id": f"{url}/nested.json", "$ref": "#/definitions/x"},
])
def test_a_schema_reaching_outside_its_file_is_refused_and_nothing_is_fetched(
        tmp_path: Path, schema_host: tuple[str, list[str]], where: Any) -> None:
    url, asked = schema_host
    folder = write_model_folder(tmp_path)
    request = _edit(folder, "request.json", lambda schema: (
        schema.update({"$id": f"{url}/request.json"}),
        schema["properties"].__setitem__("headline", where(url))))
    with pytest.raises(ContractFileError) as refused:
        Catalogue.load(extra=(folder,))
    assert str(refused.value).startswith(f"{request}: ")
    assert "nothing is fetched" in str(refused.value)
    assert asked == []


def test_sdxl_says_so_in_one_line_naming_the_file(
        tmp_path: Path, schema_host: tuple[str, list[str]]) -> None:
    url, asked = schema_host
    folder = write_model_folder(tmp_path)
    request = _edit(folder, "request.json", lambda schema: schema["properties"].__setitem__(
        "headline", {"$ref": f"{url}/headline.json"}))
    (tmp_path / "body.json").write_text('{"headline": "SALE"}')
    done = _run("sdxl_adapter", "--model-id", MODEL_ID, "validate", str(tmp_path / "body.json"),
                folder=folder)
    assert done.returncode == 4, done.stderr
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"Error: {request}: $ref ")
    assert asked == []


def test_the_compiled_validator_fetches_nothing(schema_host: tuple[str, list[str]]) -> None:
    url, asked = schema_host
    schema = {"properties": {"a": {"$ref": f"{url}/a.json"}}}
    with pytest.raises(ValueError, match="never fetched"):
        fast_validator(schema)
    assert asked == []


@pytest.mark.parametrize(("size", "problem"), [
    ([100_000, 100_000], "100000x100000 is outside what any model draws"),
    ([MAX_OUTPUT_SIDE + 1, 64], "is outside what any model draws"),
    ([8192, 8193], "is outside what any model draws"),  # each side within, the pixels not
    ([0, 512], "0x512 is outside"),
    ([512.0, 512], "two whole numbers"),
])
def test_a_profile_size_no_model_draws_is_refused_when_the_folder_loads(
        tmp_path: Path, size: list[Any], problem: str) -> None:
    assert MAX_OUTPUT_PIXELS < 8192 * 8193
    folder = write_model_folder(tmp_path)
    profile = _edit(folder, "profile.json", lambda data: data["request"]["size"][
        "aspect_ratio"]["pixels"].__setitem__("3:1", size))
    with pytest.raises(ContractFileError) as refused:
        Catalogue.load(extra=(folder,))
    assert str(refused.value).startswith(f"{profile}: not a valid model profile")
    assert problem in str(refused.value)


def test_mock_bedrock_serve_refuses_such_a_folder_in_one_line(tmp_path: Path) -> None:
    folder = write_model_folder(tmp_path)
    profile = _edit(folder, "profile.json", lambda data: data["request"]["size"][
        "aspect_ratio"]["pixels"].__setitem__("3:1", [100_000, 100_000]))
    done = _run("mock_bedrock", "serve", "--port", "0", folder=folder)
    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: {profile}: not a valid model profile")
    assert done.stderr.count("\n") == 1
