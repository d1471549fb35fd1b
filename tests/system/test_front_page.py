"""README.md is a front page: short, and a way in to the manual in docs/.

It stays under 10 KB; every section the long README had (issue 20) lives on under a heading
of its own, in a file the README links to; and every relative link of README.md and of the
pages in docs/ leads to a file that exists and, with a ``#fragment``, to a heading in it.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.support.paths import REPO as ROOT

README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
MAX_README_BYTES = 10_240

# The sections of the README before it became a front page (its opening and its 13 `## `
# headings), and where each one now is: a file and a heading in it.
OLD_SECTIONS = {
    "(the opening: schemas/, bedrock_contract, sdxl_adapter, mock_bedrock)": (
        "docs/development.md", "What is where"),
    "Two commands": ("README.md", "Two commands"),
    "Install": ("README.md", "Install"),
    "The models": ("docs/models.md", "The models at a glance"),
    "The command line": ("docs/cli.md", "The command line"),
    "The library": ("docs/library.md", "The library"),
    "The mock: one application, two doors": ("docs/mock.md",
                                             "The mock: one application, two doors"),
    "pytest": ("docs/pytest.md", "The pytest plugin"),
    "Container": ("docs/container.md", "The container image"),
    "CI recipe": ("docs/ci.md", "CI recipe"),
    "What the wording is based on": ("docs/wording-evidence.md", "What the wording is based on"),
    "Performance": ("docs/performance.md", "Performance"),
    "Reliability": ("docs/reliability.md", "Reliability"),
    "Development": ("docs/development.md", "Development"),
}

CODE_BLOCK = re.compile(r"^```.*?^```$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
# [text](target) and ![alt](target); the target up to a space (a title may follow) or ")".
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def prose(text: str) -> str:
    """The Markdown without its code blocks (a heading or link inside one is not one)."""
    return CODE_BLOCK.sub("", text)


def headings(path: Path) -> list[str]:
    return [title for title in HEADING.findall(prose(path.read_text()))]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text (code spans' backticks and links' markup
    gone), lowercased, every character but letters, digits, spaces, '-' and '_' dropped,
    then spaces made '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    text = text.strip().lower()
    text = "".join(char for char in text if char.isalnum() or char in " -_")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor of a page: its headings' slugs, a repeated one numbered as GitHub does
    (``-1``, ``-2``, ...)."""
    seen: dict[str, int] = {}
    found = set()
    for heading in headings(path):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> list[str]:
    text = CODE_SPAN.sub("", prose(path.read_text()))
    return LINK.findall(text)


def relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) and not target.startswith("//")


def test_the_slug_rules_are_githubs() -> None:
    assert slug("The mock: one application, two doors") == "the-mock-one-application-two-doors"
    assert slug("Moving off a retired model: `sdxl migrate`") == \
        "moving-off-a-retired-model-sdxl-migrate"
    assert slug("Stable Diffusion XL 1.0 — `stability.stable-diffusion-xl-v1` (end of life)") == \
        "stable-diffusion-xl-10--stabilitystable-diffusion-xl-v1-end-of-life"
    assert slug("Amazon's retired image models: Titan Image Generator v1 and v2, Nova Canvas") \
        == "amazons-retired-image-models-titan-image-generator-v1-and-v2-nova-canvas"
    assert slug("snake_case and kebab-case") == "snake_case-and-kebab-case"


def test_the_readme_is_a_front_page() -> None:
    size = len(README.read_bytes())
    assert size < MAX_README_BYTES, f"README.md is {size} bytes: move detail to docs/"


def test_the_two_commands_come_first() -> None:
    assert headings(README)[1:2] == ["Two commands"]
    block = re.search(r"^## Two commands\n.*?^```console\n(.*?)^```$", README.read_text(),
                      re.MULTILINE | re.DOTALL)
    assert block
    commands = [line.split("#")[0].strip() for line in block[1].splitlines()]
    assert commands == ["make demo", "make test"]
    # CI runs exactly the test command.
    assert (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1] == "make test"


@pytest.mark.parametrize("old", sorted(OLD_SECTIONS))
def test_every_old_section_is_reachable_from_the_readme(old: str) -> None:
    file, heading = OLD_SECTIONS[old]
    assert heading in headings(ROOT / file), f"{old!r}: no heading {heading!r} in {file}"
    if file != "README.md":
        targets = {unquote(target.split("#")[0]) for target in links(README)}
        assert file in targets, f"{old!r}: README.md links to no {file}"


def test_every_old_section_is_mapped() -> None:
    assert len(OLD_SECTIONS) == 14
    assert set(OLD_SECTIONS) >= {
        "Two commands", "Install", "The models", "The command line", "The library",
        "The mock: one application, two doors", "pytest", "Container", "CI recipe",
        "What the wording is based on", "Performance", "Reliability", "Development"}


def test_every_docs_page_is_linked_from_the_readme() -> None:
    targets = {unquote(target.split("#")[0]) for target in links(README)}
    unlinked = [f"docs/{path.name}" for path in PAGES[1:] if f"docs/{path.name}" not in targets]
    assert not unlinked


@pytest.mark.parametrize("page", PAGES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_leads_somewhere(page: Path) -> None:
    broken = []
    for target in links(page):
        if not relative(target):
            continue
        file, _, fragment = target.partition("#")
        dest = (page.parent / unquote(file)).resolve() if file else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif fragment and dest.suffix == ".md" and unquote(fragment) not in anchors(dest):
            broken.append(f"{target}: no heading with that anchor in {dest.name}")
        elif fragment and dest.suffix != ".md":
            broken.append(f"{target}: a fragment on a file that is not Markdown")
    assert not broken
