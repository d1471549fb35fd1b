"""A wheel built from the project works installed outside the source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.support.paths import REPO as ROOT


def test_wheel_installed_elsewhere_carries_the_schemas(tmp_path: Path) -> None:
    # Built from a copy: setuptools reuses a checkout's build/ folder, whose stale files
    # would hide a module the package list forgot.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "out", ".cache", "*.egg-info", "__pycache__"))
    # --no-build-isolation and --no-deps keep this offline: the test venv already has the
    # build backend and every runtime dependency.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        check=True,
    )
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    # Every module of the three packages travels: an editable install would find one the
    # package list forgot from the source tree, so the probe below alone cannot tell.
    with zipfile.ZipFile(wheel) as built:
        carried = set(built.namelist())
    sources = {str(p.relative_to(ROOT)) for name in ("bedrock_contract", "sdxl_adapter",
                                                      "mock_bedrock")
               for p in (ROOT / name).rglob("*.py")}
    assert sources - carried == set()
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    probe = (
        "import bedrock_contract, sdxl_adapter, mock_bedrock\n"
        "print(bedrock_contract.__file__)\n"
        "sdxl = bedrock_contract.contract_for('stability.stable-diffusion-xl-v1')\n"
        "bedrock_contract.check_request(sdxl, open(r'%s', 'rb').read())\n"
        "print(len(sdxl.size.allowed), len(list(bedrock_contract.default_catalogue())))\n"
        % (ROOT / "examples" / "sample-request.json")
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0].startswith(str(target))
    folders = [p for p in (ROOT / "schemas").iterdir() if (p / "profile.json").is_file()]
    assert out[1:] == ["9", str(len(folders))]  # SDXL's nine sizes; every model folder
