"""Renders rows as a Markdown table and as JSON."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from bench.plan import Plan
from bench.rows import Row

COLUMNS = ("comparison", "metric", "subject", "baseline", "ratio", "target", "verdict")


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "ms":
        return f"{value:.3f} ms"
    if unit == "MiB":
        return f"{value:+.2f} MiB"
    return f"{value:,.0f} {unit}"


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "executable": sys.executable,
        # Other processes on the machine skew absolute figures (the 8 ms and 20,000/s
        # targets); ratios less so, since subject and baseline alternate.
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def _cells(row: Row) -> tuple[str, ...]:
    subject = format_value(row.subject, row.unit)
    baseline = format_value(row.baseline, row.unit) if row.baseline_name else "-"
    if row.subject_name:
        subject = f"{subject} ({row.subject_name})"
    if row.baseline_name:
        baseline = f"{baseline} ({row.baseline_name})"
    ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "-"
    return (row.section, row.metric, subject, baseline, ratio, str(row.target or "-"),
            row.verdict)


def markdown(rows: Sequence[Row], plan: Plan, seconds: float) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    about = machine()
    lines = [
        "# Bench: the mock and the validator against their baselines",
        "",
        f"{when}; Python {about['python']} on {about['platform']}, {about['cpus']} CPUs, "
        f"load average {about['load_average_1m']}; took {seconds:.0f} s. "
        "Ratio = subject / baseline, measured in alternating rounds.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in _cells(r)) + " |"
              for r in rows]
    notes = [f"- {r.section}, {r.metric}: {r.note}" for r in rows if r.note]
    if notes:
        lines += ["", "Notes:", "", *notes]
    lines += ["", f"Plan: {plan}"]
    return "\n".join(lines) + "\n"


def as_json(rows: Sequence[Row], plan: Plan, seconds: float) -> str:
    document = {
        "machine": machine(),
        "plan": plan.__dict__,
        "seconds": seconds,
        "rows": [
            {
                "section": r.section,
                "metric": r.metric,
                "unit": r.unit,
                "subject": r.subject,
                "subject_name": r.subject_name,
                "baseline": r.baseline,
                "baseline_name": r.baseline_name,
                "ratio": r.ratio,
                "target": str(r.target) if r.target else None,
                "verdict": r.verdict,
                "note": r.note,
            }
            for r in rows
        ],
    }
    return json.dumps(document, indent=2) + "\n"
