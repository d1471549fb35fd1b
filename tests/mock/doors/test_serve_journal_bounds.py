"""``mock-bedrock serve --journal-max-entries N``: a server left running keeps the newest N
calls and says how many it dropped."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

from tests.support.served import serving

BIN = Path(sys.executable).parent
CORE = "stability.stable-image-core-v1:1"


def test_the_journal_keeps_the_newest_calls_and_counts_the_dropped() -> None:
    with serving("--journal-max-entries", "2") as served:
        for prompt in ("one", "two", "three"):
            request = urllib.request.Request(
                f"{served.url}/model/{CORE}/invoke",
                data=json.dumps({"prompt": prompt}).encode(),
                headers={"Content-Type": "application/json", "Accept": "application/json"})
            with urllib.request.urlopen(request, timeout=60) as answer:
                assert answer.status == 200
        with urllib.request.urlopen(f"{served.url}/_mock/journal", timeout=60) as answer:
            journal = json.loads(answer.read())
    assert [e["body"]["prompt"] for e in journal["entries"]] == ["two", "three"]
    assert journal["dropped"] == 1
