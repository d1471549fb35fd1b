"""Side-by-side performance runs of the mock and the validator against baselines.

Not part of the test suite: ``python -m bench.run`` (from the repository root) measures,
prints a Markdown table and writes ``bench/results/latest.{md,json}``.
"""
