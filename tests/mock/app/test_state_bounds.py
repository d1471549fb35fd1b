"""What the mock keeps and computes per call stays bounded (issue 12): the journal, input
images' text chunks, fault rules. Record and replay are in tests/mock/cassettes/test_bounds.py."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import zlib
from typing import Any

import pytest
from werkzeug.test import Client

from bedrock_contract import check_request, default_catalogue
from mock_bedrock.service.app import MockBedrock
from mock_bedrock.service.faults import MAX_RULES, FaultRule, FaultRuleError, FaultSet
from tests.support.paths import REPO
from tests.support.wsgi_app import SDXL, invoke, sdxl_body


def strict_json(data: bytes) -> Any:
    """JSON as a strict parser reads it: NaN and Infinity are not JSON."""
    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")
    return json.loads(data, parse_constant=refuse)


# --- the journal -------------------------------------------------------------------------


def test_a_large_refused_body_is_journaled_as_a_summary_not_its_parsed_tree() -> None:
    app = MockBedrock()
    raw = b"[" + b"[]," * 40_000 + b"[]]"  # 120 KB; parsed, it would hold 40,000 lists
    assert invoke(Client(app), raw).status_code == 400
    [entry] = app.journal.entries()
    assert entry.body is None
    assert entry.body_summary is not None
    assert entry.body_summary["bytes"] == len(raw)
    assert entry.body_summary["sha256"] == hashlib.sha256(raw).hexdigest()
    assert entry.body_summary["head"].startswith("[[],[],")
    assert len(entry.body_summary["head"]) <= 200


def test_the_journal_keeps_the_newest_entries_and_says_how_many_it_dropped() -> None:
    app = MockBedrock(journal_max_entries=3)
    client = Client(app)
    for seed in range(5):
        assert invoke(client, sdxl_body(seed=seed)).status_code == 200
    listing = client.get("/_mock/journal").json
    assert [e["seed"] for e in listing["entries"]] == [2, 3, 4]
    assert listing["dropped"] == 2
    assert client.get("/_mock/health").json["journal"] == 3
    client.delete("/_mock/journal")
    assert client.get("/_mock/journal").json == {"entries": [], "dropped": 0}


def test_the_journal_levels_off_by_bytes() -> None:
    app = MockBedrock(journal_max_bytes=1_000_000)
    client = Client(app)
    for seed in range(10):  # valid bodies of 300 KB each: about three fit
        body = sdxl_body(seed=seed, extras={"pad": "x" * 300_000})
        assert invoke(client, body).status_code == 200
    kept = app.journal.entries()
    assert 1 <= len(kept) <= 3
    assert kept[-1].seed == 9 and kept[-1].body["extras"]["pad"] == "x" * 300_000
    assert app.journal.dropped == 10 - len(kept)
    assert app.journal.size_bytes <= 1_000_000


def test_a_body_larger_than_the_whole_budget_is_summarized_not_dropped() -> None:
    app = MockBedrock(journal_max_bytes=100_000)
    body = sdxl_body(seed=1, extras={"pad": "x" * 300_000})
    assert invoke(Client(app), body).status_code == 200
    [entry] = app.journal.entries()
    assert (entry.body, entry.seed, entry.status) == (None, 1, 200)
    assert entry.body_summary is not None
    assert entry.body_summary["bytes"] == len(json.dumps(body))


@pytest.mark.parametrize("bound", [{"journal_max_entries": 0}, {"journal_max_bytes": -1}])
def test_a_journal_bound_must_be_positive(bound: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must be a positive integer"):
        MockBedrock(**bound)  # type: ignore[arg-type]


def test_the_journal_listing_is_always_strict_json() -> None:
    app = MockBedrock()
    client = Client(app)
    deep = "[" * 500 + "]" * 500
    refused = [
        deep,  # a small body, but nested far deeper than any Bedrock body
        '{"text_prompts": [{"text": "a fox"}], "cfg_scale": NaN}',
        '{"text_prompts": [{"text": "a fox"}], "cfg_scale": -Infinity}',
        '{"text_prompts": [{"text": "a fox"}], "cfg_scale": 1e400}',
    ]
    for body in refused:
        assert invoke(client, body).status_code == 400
    # SDXL's extras may hold anything: a valid body can be deep too.
    valid = sdxl_body(extras={"a": json.loads("[" * 40 + "]" * 40)})
    assert invoke(client, valid).status_code == 200
    answer = client.get("/_mock/journal")
    assert answer.status_code == 200
    entries = strict_json(answer.data)["entries"]
    assert [e["status"] for e in entries] == [400, 400, 400, 400, 200]
    assert entries[0]["body"] is None
    assert entries[0]["body_summary"]["bytes"] == len(deep)
    assert [e["body"]["cfg_scale"] for e in entries[1:4]] == ["NaN", "-Infinity", "Infinity"]
    assert entries[4]["body"] is None and entries[4]["seed"] is not None


# --- input images ------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_with_text_chunks(count: int) -> bytes:
    """A 1024x1024 PNG carrying ``count`` zTXt chunks (and one tEXt after its pixels), each
    zTXt inflating to Pillow's per-chunk cap of 1 MiB: tens of KB that inflate to 64 MiB."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1024, 1024), (40, 80, 120)).save(out, format="PNG")
    png = out.getvalue()
    header_end = 8 + 25  # the signature, then IHDR
    text = zlib.compress(b"A" * ((1 << 20) - 1), 9)
    texts = b"".join(_chunk(b"zTXt", b"k%d\0\0" % i + text) for i in range(count))
    iend = png.rindex(b"IEND") - 4
    trailing = _chunk(b"tEXt", b"Comment\0after the pixels")
    return png[:header_end] + texts + png[header_end:iend] + trailing + png[iend:]


def test_text_chunks_of_an_input_png_are_not_inflated() -> None:
    png = png_with_text_chunks(64)
    assert len(png) < 100_000
    contract = default_catalogue().find(SDXL).contract  # type: ignore[union-attr]
    body = sdxl_body(init_image=base64.b64encode(png).decode())
    tracemalloc.start()
    try:
        valid = check_request(contract, json.dumps(body))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    image = valid.images["init_image"]
    assert image.size == (1024, 1024)
    assert image.getpixel((512, 512)) == (40, 80, 120)  # the pixels are all there
    assert peak < 16 * 2**20  # Pillow would hold 64 MiB of inflated text
    assert invoke(Client(MockBedrock()), body).status_code == 200


def test_a_png_whose_chunks_are_cut_short_is_still_refused_as_corrupt() -> None:
    png = png_with_text_chunks(2)
    cut = png[: len(png) - 40]  # into the last IDAT: no IEND
    body = sdxl_body(init_image=base64.b64encode(cut).decode())
    answer = invoke(Client(MockBedrock()), body)
    assert answer.status_code == 400
    assert "#/init_image" in answer.json["message"]


# --- fault rules -------------------------------------------------------------------------


def test_a_backtracking_regex_holds_up_neither_calls_nor_the_admin_endpoints() -> None:
    # In a child process: with a backtracking engine the match never ends, holding the GIL.
    script = textwrap.dedent("""
        from werkzeug.test import Client
        from mock_bedrock.service.app import MockBedrock
        from tests.support.wsgi_app import invoke, sdxl_body
        client = Client(MockBedrock())
        rule = {"prompt_regex": "(a+)+$", "error": "ThrottlingException"}
        print(client.post("/_mock/faults", json=rule).status_code)
        evil = sdxl_body(text_prompts=[{"text": "a" * 40 + "!"}])
        print(invoke(client, evil).status_code)
        print(invoke(client, sdxl_body(text_prompts=[{"text": "aaaa"}])).status_code)
        print(client.get("/_mock/faults").json["rules"][0]["seen"])
        print(client.delete("/_mock/faults").status_code)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["201", "200", "429", "1", "200"]


@pytest.mark.parametrize(
    ("rule", "complaint"),
    [
        ({"name": "echo", "prompt_regex": r"(a)\1", "error": "ThrottlingException"},
         "rule 0 ('echo'): 'prompt_regex'"),
        ({"prompt_regex": "(?=fox)", "error": "ThrottlingException"}, "RE2"),
        ({"latency_ms": 10**20}, "'latency_ms' must be at most 600000"),
    ],
)
def test_rules_the_mock_cannot_honour_are_refused_with_400(rule: dict[str, Any],
                                                            complaint: str) -> None:
    app = MockBedrock()
    client = Client(app)
    answer = client.post("/_mock/faults", json=rule)
    assert answer.status_code == 400
    assert complaint in answer.json["message"]
    assert app.faults.rules == []
    assert invoke(client).status_code == 200


def test_the_rule_count_is_bounded_and_a_list_past_it_adds_nothing() -> None:
    app = MockBedrock()
    client = Client(app)
    many = [{"prompt": f"never {i}", "latency_ms": 1} for i in range(MAX_RULES - 1)]
    assert client.post("/_mock/faults", json=many).status_code == 201
    two_more = client.post("/_mock/faults", json=[{"latency_ms": 1}, {"latency_ms": 2}])
    assert two_more.status_code == 400
    assert f"at most {MAX_RULES}" in two_more.json["message"]
    assert len(app.faults.rules) == MAX_RULES - 1
    too_many = [{"latency_ms": 1}] * (MAX_RULES + 1)
    assert client.post("/_mock/faults", json=too_many).status_code == 400
    assert client.post("/_mock/faults", json={"latency_ms": 1}).status_code == 201
    with pytest.raises(FaultRuleError, match=f"at most {MAX_RULES}"):
        app.faults.add(FaultRule(latency_ms=1))
    with pytest.raises(FaultRuleError):
        FaultSet([FaultRule(latency_ms=1)] * (MAX_RULES + 1))
