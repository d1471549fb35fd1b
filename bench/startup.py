"""Command-line start-up: each command that sends nothing, timed as a shell runs it (a new
process, start to exit), beside ``python -c "import boto3"`` run in turn with it: the
floor of any command that calls Bedrock through boto3.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path
from time import perf_counter

from bench import bodies
from bench.plan import Plan
from bench.rows import Row, Target
from bench.timing import NotAvailable

# Issue 21: a command that only answers from the catalogue starts about as fast as boto3
# imports (it loads no validator, no batch machinery and no boto3).
START_UP = Target("ratio", "<=", 1.3)
BASELINE_NAME = 'python -c "import boto3"'

# (what the row calls it, the console script and its arguments, the target)
COMMANDS: tuple[tuple[str, tuple[str, ...], Target | None], ...] = (
    ("sdxl --version", ("sdxl", "--version"), START_UP),
    ("sdxl --help", ("sdxl", "--help"), START_UP),
    ("sdxl models", ("sdxl", "models"), START_UP),
    ("sdxl generate --help, Stable Image Core",
     ("sdxl", "--model-id", bodies.CORE_ID, "generate", "--help"), None),
    ("mock-bedrock --help", ("mock-bedrock", "--help"), None),
)


def script(name: str) -> str:
    """A console script of this environment (beside its Python), as a user runs it."""
    found = Path(sys.executable).parent / name
    if not found.exists():
        raise NotAvailable(f"no {name} script beside {sys.executable} (pip install the project)")
    return str(found)


def seconds(command: list[str]) -> float:
    """Wall seconds from start to exit; a failing command raises."""
    started = perf_counter()
    done = subprocess.run(command, capture_output=True, timeout=120)
    taken = perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: "
                           f"{done.stderr.decode(errors='replace').strip()[-300:]}")
    return taken


def paired(command: list[str], baseline: list[str], runs: int) -> tuple[list[float], list[float]]:
    """``runs`` of the command and of the baseline, alternating (a warm-up of each first:
    the first run reads the files from disk)."""
    seconds(command), seconds(baseline)
    mine, theirs = [], []
    for _ in range(runs):
        mine.append(seconds(command))
        theirs.append(seconds(baseline))
    return mine, theirs


def cli_startup(plan: Plan) -> list[Row]:
    section = "7. command-line start-up"
    baseline = [sys.executable, "-c", "import boto3"]
    rows = []
    for name, (prog, *args), target in COMMANDS:
        mine, theirs = paired([script(prog), *args], baseline, plan.startup_runs)
        rows.append(Row(
            section, f"{name}, median", "ms", statistics.median(mine) * 1e3,
            statistics.median(theirs) * 1e3, target, name, BASELINE_NAME,
            f"{plan.startup_runs} runs each, alternating: {min(mine) * 1e3:.0f}-"
            f"{max(mine) * 1e3:.0f} ms vs {min(theirs) * 1e3:.0f}-{max(theirs) * 1e3:.0f} ms",
        ))
    return rows
