"""``make attack``'s figures as Markdown tables and as JSON (bench/results/attack.*)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from bench.attacks.browser import Check
from bench.attacks.harness import RSS_TARGET_MIB, Result
from bench.attacks.probe import TARGET_SECONDS, Probe
from bench.report import machine

# Server CPU seconds in the 3 s after the attacker left beyond which the server is still
# working for it (a normal probe costs a few hundredths).
STILL_BUSY_CPU = 1.0
COLUMNS = ("attack", "what", "peak RSS MiB", "normal call during: worst", "missed",
           "after", "server CPU s during", "CPU s in 3 s after", "peak threads",
           "stop s", "verdict")


def _rss(result: Result, cap_mib: float) -> str:
    if result.killed:
        return f">{cap_mib + 1024:.0f} (killed)"
    if result.over_cap:
        return f">{cap_mib:.0f} (capped)"
    return f"{result.peak_rss_mib:.0f}"


def _worst(probes: Sequence[Probe]) -> str:
    if not probes:
        return "no probe"
    worst = max(probes, key=lambda p: (p.status is None, p.seconds))
    return worst.describe()


def _missed(result: Result) -> str:
    missed = [p for p in result.during if not p.answered(result.attack.probe_any_status)]
    return f"{len(missed)} of {len(result.during)}"


def _cells(result: Result, cap_mib: float) -> tuple[str, ...]:
    after = result.after.describe() if result.after else "no probe"
    cpu_after = f"{result.cpu_after:.1f}" if result.cpu_after is not None else "exited"
    if result.cpu_after is not None and result.cpu_after > STILL_BUSY_CPU:
        cpu_after += " (still busy)"
    verdict = result.verdict
    if verdict == "FAIL":
        verdict += " (" + ", ".join(result.missed()) + ")"
    return (result.attack.name, result.attack.summary, _rss(result, cap_mib),
            _worst(result.during), _missed(result), after, f"{result.cpu_during:.1f}",
            cpu_after, str(result.peak_threads), f"{result.stop_seconds:.1f}", verdict)


def _notes(result: Result) -> str:
    parts = [f"{key}: {_short(value)}" for key, value in result.notes.items()]
    if result.exited is not None:
        parts.append(f"the server exited with {result.exited} during the attack")
    if result.error:
        parts.append(f"harness error: {result.error}")
    return f"- {result.attack.name} ({result.seconds:.1f} s): " + "; ".join(parts)


def _short(value: object, limit: int = 300) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def markdown(results: Sequence[Result], browser: tuple[list[Check], int | None] | None,
             about: dict[str, Any]) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    host = machine()
    cap = about["cap_mib"]
    lines = [
        "# Attacks on `mock-bedrock serve` (`make attack`)",
        "",
        f"{when}; server `mock_bedrock` from {about['server']}; Python {host['python']} on "
        f"{host['platform']}, {host['cpus']} CPUs, load average {host['load_average_1m']}; "
        f"took {about['seconds']:.0f} s; the harness's own peak RSS "
        f"{about['harness_peak_rss_mib']} MiB.",
        "",
        "Each attack on a fresh server (soft limit "
        f"{about['nofile'] or 'inherited'} descriptors), for its own time, stopped early "
        f"if the server's RSS passes {cap:.0f} MiB (killed past {cap + 1024:.0f}). RSS "
        "polled every 0.1 s with the kernel's high-water mark. A normal call: boto3 "
        "invoke_model to SDXL from a fresh client (AWS_ENDPOINT_URL_BEDROCK_RUNTIME), "
        "every ~1 s during the attack and once 1 s after the attacker left. Targets: peak "
        f"RSS under {RSS_TARGET_MIB} MiB; the normal call answered (200) within "
        f"{TARGET_SECONDS:.0f} s during and after. CPU after: the 3 s after the attacker "
        "left (one probe included). Stop: SIGTERM to exit (SIGKILL after 15 s).",
        "",
        _row(COLUMNS),
        "|" + "---|" * len(COLUMNS),
        *(_row(_cells(result, cap)) for result in results),
        "",
        "What each attack saw:",
        "",
        *(_notes(result) for result in results),
    ]
    if browser is not None:
        checks, rules = browser
        lines += [
            "",
            "## Reachable from a browser",
            "",
            "Not resource attacks: each request should be refused (4xx).",
            "",
            _row(("request", "answer", "refused")),
            "|---|---|---|",
            *(_row((c.request, c.detail, "yes" if c.refused else "NO")) for c in checks),
            "",
            f"Fault rules left in force by these requests: {rules}.",
        ]
    return "\n".join(lines) + "\n"


def _probe(probe: Probe | None) -> dict[str, Any] | None:
    if probe is None:
        return None
    return {"seconds": round(probe.seconds, 4), "status": probe.status, "detail": probe.detail}


def as_json(results: Sequence[Result], browser: tuple[list[Check], int | None] | None,
            about: dict[str, Any]) -> str:
    document = {
        "machine": machine(),
        **about,
        "targets": {"peak_rss_mib_below": RSS_TARGET_MIB, "normal_call_seconds": TARGET_SECONDS},
        "attacks": [
            {
                "name": r.attack.name, "family": r.attack.family, "what": r.attack.summary,
                "verdict": r.verdict, "missed": r.missed(), "seconds": round(r.seconds, 2),
                "fresh_rss_mib": round(r.fresh_rss_mib, 1),
                "peak_rss_mib": round(r.peak_rss_mib, 1), "over_cap": r.over_cap,
                "killed": r.killed, "peak_threads": r.peak_threads,
                "warm_up": _probe(r.warm_up), "during": [_probe(p) for p in r.during],
                "after": _probe(r.after), "cpu_seconds_during": round(r.cpu_during, 2),
                "cpu_seconds_3s_after": None if r.cpu_after is None else round(r.cpu_after, 2),
                "stop_seconds": round(r.stop_seconds, 2), "exited": r.exited,
                "notes": r.notes, "error": r.error,
            }
            for r in results
        ],
        "browser": None if browser is None else {
            "checks": [{"request": c.request, "status": c.status, "refused": c.refused}
                       for c in browser[0]],
            "rules_left": browser[1],
        },
    }
    return json.dumps(document, indent=2, default=str) + "\n"
