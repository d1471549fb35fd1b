"""How many calls each comparison makes: enough for stable medians. The comparisons of
sections 1-5 take about 3 minutes; a user's pytest suite (6) about 15 more, most of it
moto's (twice that on a busy machine; ``--only`` picks sections); the command-line start-up
(7) about one."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Plan:
    rounds: int = 5  # alternations between subject and baseline
    latency_calls: int = 1_500  # per contender, over all rounds
    warmup: int = 30  # per contender and round, not measured
    threads: int = 8  # concurrent clients (not scaled)
    calls_per_thread: int = 100
    throughput_rounds: int = 3
    renders_per_size: int = 15
    validated_bodies: int = 60_000
    baseline_validated_bodies: int = 3_000  # pure-Python jsonschema is ~100x slower
    memory_calls: int = 1_000
    suite_tests: int = 1_000  # tests in each generated user suite
    suite_rounds: int = 3  # runs of every suite, alternating, with and without xdist
    startup_runs: int = 15  # runs of each command, and of the baseline beside it

    def scaled(self, factor: float) -> Plan:
        """Every count times ``factor`` (at least 2), for a quick run; threads stay."""
        counts = {
            f.name: max(2, round(getattr(self, f.name) * factor))
            for f in fields(self)
            if f.name != "threads"
        }
        return replace(self, **counts)
