"""What the project's pieces are measured against: moto's stub, a bare stdlib HTTP server,
a naive Pillow render and the plain jsonschema validator."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image, ImageDraw

from bedrock_contract import ModelContract
from bedrock_contract.dialect import schema_validator
from bench import clients


@contextmanager
def moto_client() -> Iterator[Any]:
    """A bedrock-runtime client answered by moto's stub (``invoke_model`` returns ``{}``)."""
    from moto import mock_aws  # the 'moto' extra: imported only when this baseline runs

    with mock_aws():
        client = clients.bedrock_runtime()
        try:
            yield client
        finally:
            client.close()


@dataclass(frozen=True)
class CannedResponse:
    """A response replayed byte for byte: the body and the headers the mock sent."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


# Headers http.server writes itself (Date, Server) or that this server sets from the body.
_SERVER_OWNED = frozenset({"date", "server", "content-length", "connection"})


def canned_from(status: int, headers: dict[str, str], body: bytes) -> CannedResponse:
    kept = tuple((k, v) for k, v in headers.items() if k.lower() not in _SERVER_OWNED)
    return CannedResponse(status, kept, body)


class _CannedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as boto3's connection pool expects
    disable_nagle_algorithm = True  # headers and body leave in separate writes
    timeout = 30  # an idle keep-alive connection cannot hold a handler thread forever
    server: _CannedServer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        canned = self.server.canned
        self.send_response(canned.status)
        for name, value in canned.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(canned.body)))
        self.end_headers()
        self.wfile.write(canned.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a log line per request would be measured too


class _CannedServer(ThreadingHTTPServer):
    # Track handler threads so server_close() joins them: no thread outlives the server.
    daemon_threads = False
    block_on_close = True

    def __init__(self, canned: CannedResponse) -> None:
        super().__init__(("127.0.0.1", 0), _CannedHandler)
        self.canned = canned


class BareHTTPServer:
    """stdlib ``ThreadingHTTPServer`` answering every POST with one canned response."""

    def __init__(self, canned: CannedResponse) -> None:
        self._server = _CannedServer(canned)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="bench-bare-http", daemon=True
        )

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> BareHTTPServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> BareHTTPServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def naive_image(size: tuple[int, int], output_format: str = "png",
                text: str = "placeholder") -> bytes:
    """The simplest Pillow placeholder: a flat image, a line of text, saved in
    ``output_format`` (an ``output_format`` value: png, jpeg, webp) at Pillow's defaults."""
    image = Image.new("RGB", size, (96, 112, 160))
    ImageDraw.Draw(image).text((size[0] // 4, size[1] // 2), text, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format=output_format.upper())
    return out.getvalue()


def _saved(image: Image.Image, output_format: str) -> bytes:
    out = io.BytesIO()
    image.save(out, format=output_format.upper())
    return out.getvalue()


def naive_inpaint(source: Image.Image, mask: Image.Image, output_format: str = "png",
                  text: str = "placeholder") -> bytes:
    """The simplest Pillow inpaint placeholder: the input (already decoded, as the mock's
    is), a flat colour pasted through the mask (white: repaint) as it is, a line of text,
    saved at Pillow's defaults."""
    image = source.convert("RGB")  # a copy: the input stays as it was for the next call
    image.paste((96, 112, 160), mask=mask)
    ImageDraw.Draw(image).text((image.width // 4, image.height // 2), text,
                               fill=(255, 255, 255))
    return _saved(image, output_format)


def naive_upscale(source: Image.Image, size: tuple[int, int],
                  output_format: str = "png") -> bytes:
    """The simplest Pillow upscale: the input (already decoded) resized to ``size``
    bicubic, saved at Pillow's defaults."""
    return _saved(source.resize(size, Image.Resampling.BICUBIC), output_format)


def plain_validator(contract: ModelContract) -> Callable[[bytes], None]:
    """Parse and validate with pure-Python jsonschema: the textbook way to check a body."""
    validator = schema_validator(contract.request_schema)

    def validate(raw: bytes) -> None:
        validator.validate(json.loads(raw))

    return validate
