"""make attack's harness end to end at a tiny scale: one small attack mounted against a real
``mock-bedrock serve`` for about a second, measured, reported, and its server stopped; and
the command writing attack.md and attack.json. Timings are never asserted."""

from __future__ import annotations

import json
import os
import sys
import threading
from functools import partial
from pathlib import Path

from click.testing import CliRunner

from bench.attacks import http1
from bench.attacks.harness import Attack, run_attack
from bench.attacks.report import as_json, markdown
from bench.attacks.run import main
from bench.attacks.target import Source
from mock_bedrock.client_setup import ENDPOINT_VARIABLE

TINY = Attack("tiny-slowloris", "HTTP/1.1", "10 connections sending a head at 1 byte/s",
              partial(http1.slowloris, count=10), seconds=2)
ABOUT = {"server": "this tree", "nofile": 1024, "cap_mib": 2048, "seconds": 1.0,
         "harness_peak_rss_mib": 1}


def test_one_attack_is_measured_reported_and_its_server_stopped() -> None:
    before = set(threading.enumerate())
    endpoint = os.environ.get(ENDPOINT_VARIABLE)
    result = run_attack(TINY, Source(sys.executable), scale=0.5)
    assert result.error is None
    held, cut = result.notes["still held at the end"], result.notes["closed by the server"]
    assert held + cut == 10  # every connection the attack opened is accounted for
    assert 10 < result.fresh_rss_mib <= result.peak_rss_mib  # a real process was measured
    assert result.warm_up.status == 200
    assert result.during, "no normal call was probed during the attack"
    assert result.after is not None and result.after.status == 200
    assert result.cpu_during >= 0 and result.cpu_after is not None
    assert result.verdict in {"PASS", "FAIL"}
    assert not Path(f"/proc/{result.pid}").exists()  # stopped and reaped
    assert set(threading.enumerate()) - before == set()
    assert os.environ.get(ENDPOINT_VARIABLE) == endpoint  # later clients not sent to a dead server
    table = markdown([result], None, ABOUT)
    assert "| tiny-slowloris | 10 connections sending a head at 1 byte/s |" in table
    [row] = json.loads(as_json([result], None, ABOUT))["attacks"]
    assert (row["name"], row["verdict"]) == ("tiny-slowloris", result.verdict)
    assert row["after"]["status"] == 200


def test_command_writes_attack_md_and_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--only", "browser", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "attack.md").read_text() in result.output
    browser = json.loads((tmp_path / "attack.json").read_text())["browser"]
    assert len(browser["checks"]) == 8
    assert all(check["status"] is not None for check in browser["checks"])  # all answered
    assert "## Reachable from a browser" in result.output
