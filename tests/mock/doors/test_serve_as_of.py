"""``mock-bedrock serve --as-of DATE`` as a user runs it: SDXL 1.0 past its end of life
reaches ``sdxl`` as the end-of-life line and its exit code; the live models are served."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.served import serving

BIN = Path(sys.executable).parent


@pytest.fixture
def served_today() -> Iterator[str]:
    with serving("--as-of", "today") as served:
        yield served.url


def sdxl(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    return subprocess.run([str(BIN / "sdxl"), "--endpoint", url, *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_sdxl_past_its_end_of_life_gives_the_eol_line_and_exit_code(
    served_today: str, tmp_path: Path
) -> None:
    result = sdxl(served_today, tmp_path, "--model-id", "stability.stable-diffusion-xl-v1",
                  "generate", "a lighthouse")
    assert result.returncode == 14, result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert "end of life" in line and "stability.stable-image-core-v1:1" in line
    assert "sdxl migrate" in line
    assert not list(tmp_path.iterdir())  # nothing written


def test_the_live_models_are_served_on_the_same_date(served_today: str, tmp_path: Path) -> None:
    result = sdxl(served_today, tmp_path, "--model-id", "stability.stable-image-core-v1:1",
                  "generate", "a lighthouse", "-o", "x.png")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "x.png").stat().st_size > 0


def test_a_date_that_is_not_one_is_a_usage_error() -> None:
    result = subprocess.run([str(BIN / "mock-bedrock"), "serve", "--as-of", "someday"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "'someday' is not a date: give YYYY-MM-DD or 'today'" in result.stderr
