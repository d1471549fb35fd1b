"""Test-suite wiring: the mock's pytest plugins load through the package's ``pytest11``
entry points, as they do for any user who installs it."""

from pathlib import Path

import pytest

from tests.support.doors import client, door  # noqa: F401  (fixtures for every test module)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test runs in its own empty folder (the CLI tests write relative paths)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
