"""Every test file or folder the project names (in the Makefile, scripts, docs, code and the
tests' own docstrings) is there: a move of the tests cannot leave a make target or a page
pointing at nothing (container/check.sh once kept the container test's old path)."""

from __future__ import annotations

import re

from tests.support.paths import REPO

NAMED = re.compile(r"\btests/[\w/]+\.(?:py|md|json|mjs|html)\b")
WHERE = ["Makefile", "README.md", ".ci", "container", "docs", "examples", "bench", "tests",
         "bedrock_contract", "sdxl_adapter", "mock_bedrock", "pyproject.toml"]
TEXT = {".py", ".md", ".sh", ".toml", ".yml", ".yaml", ".mjs", ".html", ""}


def named_files() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for top in WHERE:
        root = REPO / top
        paths = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for path in paths:
            # The sample user project's paths are its own tests', not these.
            if path.suffix not in TEXT or "user_project" in path.parts:
                continue
            for name in NAMED.findall(path.read_text(encoding="utf-8", errors="replace")):
                found.setdefault(name, []).append(str(path.relative_to(REPO)))
    return found


def test_every_named_test_path_exists() -> None:
    named = named_files()
    assert len(named) > 20  # the Makefile, docs and tests name many
    missing = {name: where for name, where in named.items() if not (REPO / name).exists()}
    assert missing == {}
