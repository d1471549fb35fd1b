"""mypy really checks code that uses the contract: a planted type error fails ``make lint``'s
type check, instead of passing as ``Any`` through an unresolved import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.paths import REPO

PLANTED = '''
from bedrock_contract import ModelContract, contract_for

def seed_bound(contract: ModelContract) -> str:
    return contract.seed_range()[1]  # an int, returned as a str

contract_for("stability.stable-image-core-v1:1").no_such_attribute
'''


def test_a_type_error_in_code_using_the_contract_fails_mypy(tmp_path: Path) -> None:
    module = tmp_path / "planted.py"
    module.write_text(PLANTED, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"),
         "--cache-dir", str(tmp_path / "cache"), str(module)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'Incompatible return value type (got "int", expected "str")' in result.stdout
    assert '"ModelContract" has no attribute "no_such_attribute"' in result.stdout
