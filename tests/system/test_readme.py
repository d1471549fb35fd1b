"""The examples of README.md and of every page in docs/ run as written.

The convention the pages follow, and this test holds them to:

- A ```sh block runs, as written and in the order written. Each page's blocks run in one
  shell of the page's own (so an export or a background server of one block is there for the
  next), from a fresh copy of ``examples/``, on a machine with no AWS set-up and no way out to
  the network; the port the pages' server examples use (8787) is replaced by a free one.
- A block that must not run here (it needs an AWS account, a container engine or the network)
  is fenced with another language tag, ```console (or ```text): never ```sh.
- Each page has a minimum number of sh blocks (``MIN_SH_BLOCKS``), so that blocks cannot
  silently disappear or be fenced away from the run; a new page must be added there.
- ``cmd || echo "exit $?"   # ...: exit N`` says the command exits N, and it must.

What the pages say of the command line (its exit codes, its shell completion, the lines
``mock-bedrock serve`` prints for clients) is what the installed commands do.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sdxl_adapter.cli.errors import ExitCode
from tests.support.paths import REPO as ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
CLI_PAGE = DOCS / "cli.md"
BIN = Path(sys.executable).parent
README_PORT = "8787"  # the port the pages' server examples use; the test picks a free one
# Each page's sh blocks: at least this many (the pages have these; fewer means examples were
# lost, or fenced so that they are not run). Every page of docs/ must be listed.
MIN_SH_BLOCKS = {
    "README.md": 4,
    "docs/ci.md": 0,
    "docs/cli.md": 1,
    "docs/container.md": 0,
    "docs/development.md": 0,
    "docs/library.md": 0,
    "docs/mock-reference.md": 0,
    "docs/mock.md": 4,
    "docs/models.md": 0,
    "docs/performance.md": 0,
    "docs/pytest.md": 1,
    "docs/reliability.md": 0,
    "docs/wording-evidence.md": 0,
}
FENCE = re.compile(r"^```(\S*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def pages() -> list[str]:
    """README.md and every page of docs/, as paths relative to the repository."""
    return ["README.md", *sorted(f"docs/{path.name}" for path in DOCS.glob("*.md"))]


def fenced(language: str, page: str | Path = README) -> list[str]:
    path = page if isinstance(page, Path) else ROOT / page
    return [body for lang, body in FENCE.findall(path.read_text()) if lang == language]


def all_fenced(language: str) -> list[str]:
    return [body for page in pages() for body in fenced(language, page)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def offline_env(home: Path) -> dict[str, str]:
    """This environment without AWS, project or pytest settings (a page may run pytest), the
    venv's commands first on PATH, a home without ~/.aws, and every connection but to this
    machine sent to a closed port."""
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "SDXL_", "BEDROCK_", "MOCK_BEDROCK_", "PYTEST_"))
           and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    nowhere = "http://127.0.0.1:9"  # the discard port: nothing listens, connections fail fast
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-aws-credentials"),
        HTTP_PROXY=nowhere, HTTPS_PROXY=nowhere, http_proxy=nowhere, https_proxy=nowhere,
        NO_PROXY="127.0.0.1,localhost,::1", no_proxy="127.0.0.1,localhost,::1",
    )
    return env


def stop_group(pgid: int) -> None:
    """End whatever the blocks left running (a background server) and wait until it is gone."""
    for sig, patience in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


# `cmd || echo "exit $?"   # ...: exit N`: the page says the command exits N.
EXPECTED_EXIT = re.compile(r'^(?P<cmd>.+?) \|\| echo "exit \$\?"(?P<comment>\s+#.*\bexit (?P<code>\d+)\b.*)?$')


def expecting_exit_codes(block: str) -> str:
    """``block`` with each command whose comment gives its exit code made to fail the run
    unless it exits with that code (the page's ``|| echo`` would hide any other)."""
    lines = []
    for line in block.splitlines():
        found = EXPECTED_EXIT.match(line)
        if found and found["code"]:
            code, command = found["code"], found["cmd"]
            line = (f'rc=0; {command} || rc=$?; echo "exit $rc"; [ "$rc" = {code} ] || '
                    f'{{ echo "page: exited $rc, its comment says {code}: {command}"; exit 97; }}')
        lines.append(line)
    return "\n".join(lines)


def test_a_commented_exit_code_is_checked() -> None:
    script = expecting_exit_codes('false || echo "exit $?"   # refused: exit 3')
    assert subprocess.run(["bash", "-c", script], capture_output=True).returncode == 97
    script = expecting_exit_codes('(exit 3) || echo "exit $?"   # refused: exit 3')
    assert subprocess.run(["bash", "-c", script], capture_output=True).returncode == 0


def run_page(page: str, base: Path) -> tuple[Path, str, list[str]]:
    """Run every sh block of ``page`` in one shell, from a fresh copy of examples/ under
    ``base``: the scratch folder, the shell's output and the blocks as run."""
    work = base / "examples"
    shutil.copytree(ROOT / "examples", work,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.egg-info"))
    port = str(free_port())
    blocks = [body.replace(README_PORT, port) for body in fenced("sh", page)]
    started = base / "blocks-started"
    script = ["set -euo pipefail"]
    for number, body in enumerate(blocks, 1):
        script += [f"echo {number} >> {started}", expecting_exit_codes(body)]
    script.append(f"echo done >> {started}")
    (base / "page.sh").write_text("\n".join(script) + "\n")
    log = base / "output"
    with log.open("w") as out:
        # A session of its own: a server a block starts in the background is in its group.
        shell = subprocess.Popen(["bash", str(base / "page.sh")], cwd=work,
                                 env=offline_env(base / "home"), stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = shell.wait(timeout=240)
        finally:
            shell.kill()
            shell.wait()
            stop_group(shell.pid)
    output = log.read_text()
    marks = started.read_text().split() if started.exists() else []
    if code != 0 or marks[-1:] != ["done"]:
        failed = int(marks[-1]) if marks and marks[-1] != "done" else 0
        where = f"block {failed}:\n{blocks[failed - 1]}" if failed else "before any block"
        pytest.fail(f"{page} sh {where}\nexited {code}; output ends:\n{output[-3000:]}")
    return work, output, blocks


def written_files(blocks: list[str]) -> list[str]:
    """The files the blocks' commands are told to write (``-o NAME``, ``> NAME``)."""
    return [name for body in blocks for name in re.findall(r"(?:-o|>) (\S+)", body)
            if name != "/dev/null"]


def pasted_lines(block: str) -> list[str]:
    """The lines a block pastes as ``mock-bedrock serve`` printed them: its leading comments
    and exports."""
    lines = []
    for line in block.splitlines():
        if not line.startswith(("#", "export ")):
            break
        lines.append(line)
    return lines


def test_every_page_has_its_minimum_of_sh_blocks() -> None:
    assert sorted(MIN_SH_BLOCKS) == sorted(pages()), "list each page of docs/ in MIN_SH_BLOCKS"
    short = {page: len(fenced("sh", page)) for page in pages()
             if len(fenced("sh", page)) < MIN_SH_BLOCKS[page]}
    assert not short
    # The chain writes files: each checked after its page's run.
    assert len(written_files(all_fenced("sh"))) >= 12


@pytest.mark.parametrize("page", [page for page in pages() if MIN_SH_BLOCKS.get(page)])
def test_every_sh_block_runs_in_order(page: str, tmp_path: Path) -> None:
    work, output, blocks = run_page(page, tmp_path)
    assert len(blocks) >= MIN_SH_BLOCKS[page]
    # Each file a command was told to write is there (so the chain really ran).
    missing = [name for name in written_files(blocks) if not (work / name).is_file()]
    assert not missing
    # The lines to paste are what the server printed.
    for block in blocks:
        if "export AWS_ENDPOINT_URL_BEDROCK_RUNTIME=" in block:
            lines = pasted_lines(block)
            assert any(line.startswith("export AWS_ACCESS_KEY_ID=") for line in lines)
            assert "\n".join(lines) in output


def test_the_server_examples_come_after_the_server() -> None:
    # Within each page (each runs in its own shell), whatever calls the local server comes
    # after the block that starts it.
    for page in pages():
        text = "\n".join(fenced("sh", page))
        calls = [text.index(mark) for mark in (f"127.0.0.1:{README_PORT}",
                                                "export AWS_ENDPOINT_URL_BEDROCK_RUNTIME=")
                 if mark in text]
        if calls:
            assert "mock-bedrock serve" in text, page
            assert text.index("mock-bedrock serve") < min(calls), page
    mock_page = "\n".join(fenced("sh", "docs/mock.md"))
    assert "sdxl contract --endpoint http://127.0.0.1:" in mock_page
    for page in ("README.md", "docs/mock.md"):
        assert any(pasted_lines(body) for body in fenced("sh", page)
                   if "export AWS_ENDPOINT_URL_BEDROCK_RUNTIME=" in body), page


def test_curl_sends_json() -> None:
    calls = [body for body in all_fenced("sh") if "curl" in body and "/invoke" in body]
    assert calls
    for body in calls:
        assert "-H 'Content-Type: application/json'" in body


def test_exit_code_table_is_the_commands() -> None:
    text = CLI_PAGE.read_text()
    table = text[text.index("| exit code | meaning |"):]
    rows = re.findall(r"^\| (\d+) \| (.+?) \|$", table.split("\n\n", 1)[0], re.MULTILINE)
    assert [(int(code), meaning) for code, meaning in rows] == \
        [(code.value, code.meaning) for code in ExitCode]


COMPLETION = re.compile(r"_(\w+)_COMPLETE=(bash|zsh|fish)_source ([\w-]+)")
SCRIPT_MARKS = {
    "bash": "complete -o nosort -F _{fn}_completion {prog}",
    "zsh": "#compdef {prog}",
    "fish": "complete --no-files --command {prog}",
}


def completion_lines() -> list[tuple[str, str, str]]:
    found = sorted({match.groups() for body in fenced("console", CLI_PAGE)
                    for match in COMPLETION.finditer(body)})
    return [(variable, shell, prog) for variable, shell, prog in found]


def test_completion_is_documented_for_both_commands_and_three_shells() -> None:
    documented = {(prog, shell) for _, shell, prog in completion_lines()}
    assert documented == {(prog, shell) for prog in ("sdxl", "mock-bedrock")
                          for shell in ("bash", "zsh", "fish")}


@pytest.mark.parametrize(("variable", "shell", "prog"), completion_lines())
def test_completion_lines_print_a_script(variable: str, shell: str, prog: str,
                                         tmp_path: Path) -> None:
    result = subprocess.run([str(BIN / prog)], env={**offline_env(tmp_path / "home"),
                                                     f"_{variable}_COMPLETE": f"{shell}_source"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    mark = SCRIPT_MARKS[shell].format(fn=prog.replace("-", "_"), prog=prog)
    assert mark in result.stdout


def test_bash_completion_completes_a_models_options(tmp_path: Path) -> None:
    # docs/cli.md's bash line, evaluated, then its completion function called as bash would.
    words = "sdxl --model-id stability.stable-image-core-v1:1 generate --asp"
    script = (f'eval "$(_SDXL_COMPLETE=bash_source sdxl)"\n'
              f"COMP_WORDS=({words}); COMP_CWORD=4\n"
              f'COMP_LINE="{words}"; COMP_POINT={len(words)}\n'
              '_sdxl_completion sdxl\nprintf "%s\\n" "${COMPREPLY[@]}"\n')
    result = subprocess.run(["bash", "-euc", script], env=offline_env(tmp_path / "home"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["--aspect-ratio"]


DOC_REFERENCE = re.compile(r"(?<![\w./-])([\w./-]*\w\.md)\b")


def test_the_docs_cite_only_files_in_the_repository() -> None:
    # The contract's sources are the project's own docs (docs/models.md), not a document a
    # reader of the repository does not have.
    sources = [README, *(ROOT / "docs").glob("*.md"), *(ROOT / "schemas").rglob("*.json"),
               *(path for package in ("bedrock_contract", "sdxl_adapter", "mock_bedrock")
                 for path in (ROOT / package).rglob("*.py"))]
    dangling = sorted({f"{path.relative_to(ROOT)}: {name}" for path in sources
                       for name in DOC_REFERENCE.findall(path.read_text())
                       if not (ROOT / name).exists() and not (path.parent / name).exists()})
    assert len(sources) > 40
    assert not dangling
