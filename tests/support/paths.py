"""Where things are, for every test wherever its file sits: the repository, its examples and
docs, the tests' own data, and the commands the project's virtual environment installed."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
EXAMPLES = REPO / "examples"
DATA = TESTS / "data"
BIN = Path(sys.executable).parent  # sdxl and mock-bedrock, beside this Python
