"""A web page on another origin calls the mock from a real browser (issue 20): headless
Chromium opens tests/browser/page.html, served from one loopback port, whose script (the AWS
SDK for JavaScript v3, bundled by esbuild) calls Stable Image Core on the mock, on another
port, and shows the image it got. With ``--cors-origin`` the page's origin, the image is
shown; without it the browser's preflight is refused and the page shows the SDK's error.

The page is read with ``chromium --headless --dump-dom``: ``--virtual-time-budget`` holds
the dump until the page's network and timers are done, and the page says when it finished
(``#status``: done), so a dump taken too early fails as such. Nothing but 127.0.0.1 resolves
for the browser (``--host-resolver-rules``), and the page's Content-Security-Policy lets it
load nothing but from 127.0.0.1 (and the answer's data: image).

Its packages (the SDK, esbuild) come from npm and the browser from Debian's packages, which a
test run must not reach: this runs when `make browser-check` has installed them (it sets
SDXL_BROWSER_DIR)."""

from __future__ import annotations

import base64
import contextlib
import html.parser
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.paths import TESTS
from tests.support.served import serving as served_command

SOURCE = TESTS / "browser"
NPM_DIR = Path(os.environ.get("SDXL_BROWSER_DIR", "/nonexistent"))
ESBUILD = NPM_DIR / "node_modules" / ".bin" / "esbuild"
CHROMIUM = os.environ.get("SDXL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    "SDXL_BROWSER_DIR" not in os.environ,
    reason="needs Chromium and the AWS SDK for JavaScript with esbuild from npm: run "
           "`make browser-check`",
)
KEY, SECRET = "AKIDBROWSER", "browser-secret"  # as tests/browser/page.mjs signs
ADMIN_TOKEN = "browser-check-admin"
CORE = "stability.stable-image-core-v1:1"
INVOKE_PATH = f"/model/{CORE}/invoke"
STOP_WAIT = 30  # seconds a process is given to stop before it is killed
BROWSER_WAIT = 90


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Ends ``process`` (SIGTERM, then SIGKILL) and returns what it printed."""
    if process.poll() is None:
        process.terminate()
    try:
        return process.communicate(timeout=STOP_WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


def first_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line:
        raise AssertionError(f"{process.args!r} printed nothing: {stop(process)}")
    return line


@pytest.fixture(scope="module")
def page_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The page, its script bundled by esbuild, served by python's http.server on a free
    loopback port: its origin."""
    missing = [str(path) for path in (NPM_DIR / "node_modules" / "@aws-sdk" /
                                      "client-bedrock-runtime", ESBUILD, Path(CHROMIUM))
               if not path.exists()]
    if missing:  # asked for (SDXL_BROWSER_DIR), so not skipped
        pytest.fail(f"`make browser-check` installs what is missing: {', '.join(missing)}")
    site = tmp_path_factory.mktemp("page")
    shutil.copyfile(SOURCE / "page.html", site / "page.html")
    built = subprocess.run(
        [str(ESBUILD), str(SOURCE / "page.mjs"), "--bundle", "--format=esm",
         "--platform=browser", "--target=es2022", "--minify", "--log-level=warning",
         f"--outfile={site / 'page.js'}"],
        env={**os.environ, "NODE_PATH": str(NPM_DIR / "node_modules")},  # the SDK's
        check=False, timeout=120, capture_output=True, text=True,
    )
    assert built.returncode == 0, built.stderr
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1",
         "--directory", str(site), "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        # "Serving HTTP on 127.0.0.1 port 43023 (http://127.0.0.1:43023/) ..."
        found = re.search(r"\(http://(127\.0\.0\.1:\d+)/\)", first_line(server))
        assert found, "http.server did not say where it listens"
        yield f"http://{found.group(1)}"
    finally:
        _, requests = stop(server)
        # What the page asked its own server for: itself and its script, nothing else.
        asked = set(re.findall(r'"GET (/[^ ?]*)', requests))
        assert asked <= {"/page.html", "/page.js"}, requests


@dataclass
class Mock:
    url: str = ""
    log: str = ""  # its --log-requests lines, once stopped


@contextlib.contextmanager
def serving(*options: str) -> Iterator[Mock]:
    """``mock-bedrock serve`` on a free loopback port, checking the page's signatures,
    logging each request; stopped on leaving."""
    with served_command("--log-requests", "--strict-credentials", f"{KEY}:{SECRET}",
                        "--admin-token", ADMIN_TOKEN, *options) as served:
        mock = Mock(served.url)
        try:
            yield mock
        finally:
            _, _, mock.log = served.stop()


class PageReader(html.parser.HTMLParser):
    """The text of each element with an id, and the ``src`` of the image."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: dict[str, str] = {}
        self.image_src: str | None = None
        self._inside: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "img" and attributes.get("id") == "image":
            self.image_src = attributes.get("src")
        self._inside = attributes.get("id")

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.texts[self._inside] = self.texts.get(self._inside, "") + data.strip()

    def handle_endtag(self, tag: str) -> None:
        self._inside = None


def open_in_chromium(url: str, profile: Path) -> PageReader:
    """The page at ``url`` in headless Chromium, read once it finished (its DOM)."""
    browser = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={profile}", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
         "--virtual-time-budget=30000", "--dump-dom", url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its helpers in its own process group, stopped with it
    )
    try:
        dom, log = browser.communicate(timeout=BROWSER_WAIT)
    except subprocess.TimeoutExpired:
        os.killpg(browser.pid, signal.SIGKILL)
        browser.communicate()
        raise
    finally:
        with contextlib.suppress(ProcessLookupError):  # whatever of its group is left
            os.killpg(browser.pid, signal.SIGKILL)
    assert browser.returncode == 0, log[-3000:]
    page = PageReader()
    page.feed(dom)
    assert page.texts.get("status") == "done", dom[-3000:]
    return page


def journal(url: str) -> list[dict[str, object]]:
    request = urllib.request.Request(f"{url}/_mock/journal",
                                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        entries: list[dict[str, object]] = json.load(answer)["entries"]
    return entries


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def logged(mock: Mock, method: str, path: str, status: int) -> bool:
    """Whether ``--log-requests`` logged this (an admin or refused request: its method and
    path; a model call: its operation and model id)."""
    line = rf"^\S+ {method} {re.escape(path)} (?:- )?{status} "
    return re.search(line, mock.log, re.M) is not None


def test_a_named_origins_page_shows_the_image(page_origin: str, tmp_path: Path) -> None:
    with serving("--cors-origin", page_origin) as mock:
        assert mock.url.startswith("http://127.0.0.1:") and mock.url != page_origin
        page = open_in_chromium(f"{page_origin}/page.html?endpoint={mock.url}",
                                tmp_path / "profile")
        calls = journal(mock.url)

    assert page.texts.get("size") == "1024x1024", page.texts  # as the browser decoded it
    assert page.image_src is not None
    prefix = "data:image/png;base64,"
    assert page.image_src.startswith(prefix)
    assert png_size(base64.b64decode(page.image_src[len(prefix):])) == (1024, 1024)
    assert [(call["model_id"], call["status"]) for call in calls] == [(CORE, 200)], calls
    headers = calls[0]["headers"]
    assert isinstance(headers, dict) and "HeadlessChrome" in headers["user-agent"]  # the page's
    assert logged(mock, "OPTIONS", INVOKE_PATH, 204), mock.log  # the preflight, answered
    assert logged(mock, "InvokeModel", CORE, 200), mock.log  # (a model call's log line)
    # The admin endpoints answer no page, even a named origin's.
    assert page.texts.get("admin") == "admin: refused (TypeError)"
    assert logged(mock, "GET", "/_mock/journal", 403), mock.log


def test_without_cors_origin_the_pages_call_is_refused(page_origin: str,
                                                        tmp_path: Path) -> None:
    with serving() as mock:
        page = open_in_chromium(f"{page_origin}/page.html?endpoint={mock.url}",
                                tmp_path / "profile")
        calls = journal(mock.url)

    # The SDK's error as the page caught it (the browser tells a page no more than this).
    assert page.texts.get("size") == "ERROR: TypeError: Failed to fetch", page.texts
    assert page.image_src is None
    assert logged(mock, "OPTIONS", INVOKE_PATH, 403), mock.log  # the preflight, refused
    assert " InvokeModel " not in mock.log, mock.log  # the call itself never sent
    assert calls == []  # the call never reached the models
