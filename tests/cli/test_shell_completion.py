"""Shell completion in a real interactive bash (``bash -i`` on a pseudo-terminal,
docs/cli.md's ``eval "$(_SDXL_COMPLETE=bash_source sdxl)"``): model ids hold a colon, where bash
splits words, and completion before, inside and after one works."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
PROMPT = "READY> "


class Bash:
    """An interactive bash on a pseudo-terminal: what it echoes is what a user sees."""

    def __init__(self, home: Path) -> None:
        self.fd, child = pty.openpty()
        # Wide enough that bash shows the whole line, not a scrolled part of it.
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 400, 0, 0))
        env = {"PATH": f"{BIN}:{os.environ['PATH']}", "HOME": str(home), "TERM": "dumb",
               "PS1": PROMPT, "INPUTRC": str(home / "inputrc")}
        (home / "inputrc").write_text("set bell-style none\n")
        self.process = subprocess.Popen(["bash", "--norc", "--noprofile", "-i"], stdin=child,
                                        stdout=child, stderr=child, env=env, cwd=home,
                                        start_new_session=True)
        os.close(child)
        self.read_until(PROMPT)

    def read_until(self, wanted: str, timeout: float = 30.0) -> str:
        seen, deadline = "", time.monotonic() + timeout
        while wanted not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise AssertionError(f"bash did not show {wanted!r}; it showed {seen!r}")
            seen += os.read(self.fd, 65536).decode(errors="replace")
        return seen

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def line_after_tab(self, line: str, wanted: str) -> str:
        """Type ``line`` and a Tab; the line as completed, once it shows ``wanted``."""
        self.type(line + "\t")
        shown = self.read_until(wanted)
        self.type("\x15")  # Ctrl-U: the line is cleared for the next one
        return shown

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
        os.close(self.fd)


@pytest.fixture
def bash(tmp_path: Path) -> Iterator[Bash]:
    if shutil.which("bash") is None:
        pytest.fail("bash is needed for the completion test")
    shell = Bash(tmp_path)
    shell.type('eval "$(_SDXL_COMPLETE=bash_source sdxl)"\n')
    shell.read_until(PROMPT)
    yield shell
    shell.close()


def test_an_option_after_a_model_id_with_a_colon(bash: Bash) -> None:
    shown = bash.line_after_tab(
        "sdxl --model-id stability.stable-image-core-v1:1 generate --asp", "--aspect-ratio ")
    assert "stability.stable-image-core-v1:1 generate --aspect-ratio " in shown


def test_a_model_id_is_completed_across_its_colon(bash: Bash) -> None:
    shown = bash.line_after_tab("sdxl --model-id stability.stable-image-core-v1:",
                                "v1:1 ")
    assert "sdxl --model-id stability.stable-image-core-v1:1 " in shown


def test_a_model_id_is_completed_from_its_start(bash: Bash) -> None:
    shown = bash.line_after_tab("sdxl --model-id stability.stable-image-ul", "v1:1 ")
    assert "--model-id stability.stable-image-ultra-v1:1 " in shown
