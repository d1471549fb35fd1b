"""``python -m bench.run``: every comparison, side by side, as Markdown and JSON."""

from __future__ import annotations

import sys
from pathlib import Path
from time import perf_counter

import click

from bench.comparisons import SECTIONS, guarded
from bench.plan import Plan
from bench.report import as_json, markdown
from bench.rows import Row

RESULTS = Path(__file__).parent / "results"


def run(plan: Plan, only: tuple[str, ...] = ()) -> list[Row]:
    rows: list[Row] = []
    for key, (title, section) in SECTIONS.items():
        if only and key not in only:
            continue
        print(f"[bench] {title} ...", end=" ", file=sys.stderr, flush=True)
        started = perf_counter()
        rows += guarded(title, section, plan)
        print(f"{perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return rows


@click.command()
@click.option("--scale", type=float, default=1.0, show_default=True,
              help="Multiply every iteration count (0.01 for a smoke run).")
@click.option("--only", multiple=True, type=click.Choice(list(SECTIONS)),
              help="Run only these comparisons (repeatable).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=RESULTS, show_default=True, help="Where latest.md/latest.json go.")
def main(scale: float, only: tuple[str, ...], out_dir: Path) -> None:
    """Measure the mock and the validator against their baselines."""
    plan = Plan() if scale == 1.0 else Plan().scaled(scale)
    started = perf_counter()
    rows = run(plan, only)
    seconds = perf_counter() - started
    table = markdown(rows, plan, seconds)
    click.echo(table)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "latest.md").write_text(table)
    (out_dir / "latest.json").write_text(as_json(rows, plan, seconds))
    if any(row.verdict == "failed" for row in rows):
        sys.exit(1)  # a measurement broke; a missed target is a finding, not a failure


if __name__ == "__main__":
    main()
