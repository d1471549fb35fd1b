"""``python -m bench.attacks.run`` (``make attack``): every attack, each on a fresh server, then
the browser checks; a table on stdout and bench/results/attack.md and attack.json.

Exit status: 1 when an attack missed a target, 2 when the harness could not mount one, 0
otherwise (the browser checks are reported, not judged)."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path
from time import perf_counter

import click

from bench.attacks import (
    admin,
    batch,
    faults,
    http1,
    http2,
    images,
    journal,
    png,
    record_replay,
    stop,
    terminal,
)
from bench.attacks.browser import browser_checks
from bench.attacks.harness import DEFAULT_CAP_MIB, Result, run_attack
from bench.attacks.report import as_json, markdown
from bench.attacks.target import USUAL_NOFILE, Source, raise_own_nofile

ATTACKS = (*http2.ATTACKS, *http1.ATTACKS, *journal.ATTACKS, *faults.ATTACKS, *png.ATTACKS,
           *record_replay.ATTACKS, *stop.ATTACKS, *admin.ATTACKS, *images.ATTACKS, *batch.ATTACKS,
           *terminal.ATTACKS)
BROWSER = "browser"
RESULTS = Path(__file__).parent.parent / "results"
# Sockets the attacks hold at once, at most (1,100 idle connections, and some spare).
CLIENT_NOFILE = 4096


def describe(source: Source) -> str:
    """The server's package path, and its commit when it is in a git checkout."""
    path = source.package_path()
    done = subprocess.run(["git", "-C", path, "log", "-1", "--format=%h"], capture_output=True,
                          text=True, check=False)
    commit = done.stdout.strip()
    dirty = subprocess.run(["git", "-C", path, "status", "--porcelain", "--", "."],
                           capture_output=True, text=True, check=False).stdout.strip()
    return f"`{path}`" + (f" (commit {commit}{', modified' if dirty else ''})" if commit else "")


def run(source: Source, only: tuple[str, ...] = (), cap_mib: float = DEFAULT_CAP_MIB,
        scale: float = 1.0) -> list[Result]:
    results = []
    for attack in ATTACKS:
        if only and attack.name not in only:
            continue
        print(f"[attack] {attack.name} ...", end=" ", file=sys.stderr, flush=True)
        result = run_attack(attack, source, cap_mib=cap_mib, scale=scale)
        print(f"{result.verdict}", file=sys.stderr, flush=True)
        results.append(result)
    return results


@click.command()
@click.option("--only", multiple=True, type=click.Choice([a.name for a in ATTACKS] + [BROWSER]),
              help="Run only these attacks (repeatable; 'browser' for the browser checks).")
@click.option("--source-tree", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Attack the mock_bedrock of this source tree (another checkout, same "
                   "dependencies): first on the server's PYTHONPATH, and its working folder.")
@click.option("--server-python", default=sys.executable, show_default="this Python",
              help="The Python that runs `-m mock_bedrock.cli serve`.")
@click.option("--server-nofile", type=click.IntRange(min=0), default=USUAL_NOFILE,
              show_default=True, help="The server's soft descriptor limit (0: this one's).")
@click.option("--cap-mib", type=click.FloatRange(min=64), default=DEFAULT_CAP_MIB,
              show_default=True, help="Stop an attack once the server's RSS passes this.")
@click.option("--scale", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
              help="Multiply every attack's time (0.1 for a smoke run).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=RESULTS, show_default=True, help="Where attack.md and attack.json go.")
def main(only: tuple[str, ...], source_tree: Path | None, server_python: str,
         server_nofile: int, cap_mib: float, scale: float, out_dir: Path) -> None:
    """Attack mock-bedrock serve as issue 12 did and report what it cost the server."""
    raise_own_nofile(CLIENT_NOFILE)
    source = Source(server_python, source_tree.resolve() if source_tree else None,
                    server_nofile or None)
    about = {"server": describe(source), "nofile": source.nofile, "cap_mib": cap_mib,
             "scale": scale}
    started = perf_counter()
    results = run(source, only, cap_mib, scale)
    browser = browser_checks(source) if not only or BROWSER in only else None
    about["seconds"] = perf_counter() - started
    about["harness_peak_rss_mib"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    table = markdown(results, browser, about)
    click.echo(table)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "attack.md").write_text(table)
    (out_dir / "attack.json").write_text(as_json(results, browser, about))
    verdicts = {result.verdict for result in results}
    if "ERROR" in verdicts:
        sys.exit(2)
    if "FAIL" in verdicts:
        sys.exit(1)


if __name__ == "__main__":
    main()
