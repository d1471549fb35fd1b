"""Attacks through fault rules (issue 12, finding 9), installed with ``POST /_mock/faults``: a
regex with catastrophic backtracking, an absurd latency, and as many rules as the server
takes. A rule the server refuses is the defence working; the figures say which it was."""

from __future__ import annotations

import json
import threading
from collections import Counter

from bench.attacks.calls import Answer, call, invoke
from bench.attacks.harness import Attack, Siege
from bench.bodies import SDXL, encode, text_to_image

FAULTS = "/_mock/faults"
# (a+)+$ against a run of a's that ends in something else: 2**34 ways to fail.
EVIL_REGEX = "(a+)+$"
EVIL_PROMPT = "a" * 34 + "!"
ADMIN_TIMEOUT = 2.0


def _install(siege: Siege, rules: object, timeout: float = 10.0) -> Answer:
    return call(siege.address, "POST", FAULTS, json.dumps(rules).encode(), timeout=timeout)


def _prompt_call(siege: Siege, prompt: str, timeout: float) -> Answer:
    return invoke(siege.address, encode(text_to_image(SDXL, prompt=prompt)), timeout)


def catastrophic_regex(siege: Siege) -> None:
    """The rule, one call whose prompt makes it backtrack (from its own thread: it may
    never be answered), then the admin endpoints, once a second: are they still served?"""
    installed = _install(siege, {"prompt_regex": EVIL_REGEX, "error": "ThrottlingException"})
    siege.note("install", installed.describe())
    answered: list[Answer] = []
    victim = threading.Thread(
        target=lambda: answered.append(_prompt_call(siege, EVIL_PROMPT, siege.remaining())),
        name="attack-regex-call", daemon=True)
    victim.start()
    admin: list[Answer] = []
    while siege.hold(1.0):
        admin.append(call(siege.address, "GET", FAULTS, timeout=ADMIN_TIMEOUT))
        admin.append(call(siege.address, "GET", "/_mock/health", timeout=ADMIN_TIMEOUT))
    cleared = call(siege.address, "DELETE", FAULTS, timeout=ADMIN_TIMEOUT)
    victim.join(ADMIN_TIMEOUT)
    siege.note("the 35-character call", answered[0].describe() if answered else "no answer")
    siege.note("admin calls answered", f"{sum(a.status == 200 for a in admin)} of {len(admin)}")
    siege.note("DELETE /_mock/faults", cleared.describe())


def huge_latency(siege: Siege) -> None:
    """``latency_ms: 10**20`` on the calls whose prompt names it; such a call, once a
    second (is it a 500?)."""
    installed = _install(siege, {"prompt": "slow down", "latency_ms": 10**20})
    siege.note("install", installed.describe())
    answers: Counter[str] = Counter()
    while siege.running():
        answer = _prompt_call(siege, "slow down", min(3.0, siege.remaining()))
        answers[str(answer.status) if answer.status else f"no answer ({answer.error})"] += 1
        siege.hold(1.0)
    siege.note("matching calls", dict(answers))


def many_rules(siege: Siege, count: int = 100_000, batch: int = 10_000) -> None:
    """Rules that never match, ``batch`` to a POST, until ``count`` are in force or the
    server refuses (then smaller batches, to tell a cap on a request from a cap on the
    total); the probes meanwhile say what every call pays for them."""
    installed, refusal = 0, ""
    while installed < count and siege.running() and batch >= 1:
        rules = [{"prompt": f"never-{installed + i}", "error": "ThrottlingException"}
                 for i in range(min(batch, count - installed))]
        answer = _install(siege, rules, timeout=max(1.0, siege.remaining()))
        if answer.status is not None and 200 <= answer.status < 300:
            installed += len(rules)
            continue
        refusal = f"{answer.describe()}: {answer.body[:120].decode(errors='replace')}"
        batch //= 2
    siege.note("rules accepted", installed)
    if refusal:
        siege.note("last refusal", refusal)
    health = call(siege.address, "GET", "/_mock/health", timeout=5)
    if health.status == 200:
        siege.note("rules in force (health)", json.loads(health.body).get("faults"))
    siege.hold()


ATTACKS = (
    Attack("faults-regex", "fault rules", "prompt_regex (a+)+$ and a 35-character prompt, "
           "then the admin endpoints", catastrophic_regex, seconds=8),
    Attack("faults-latency", "fault rules", "a rule with latency_ms 10**20, and calls it "
           "matches", huge_latency, seconds=5),
    Attack("faults-100k-rules", "fault rules", "100,000 rules (10,000 to a POST), then "
           "normal calls", many_rules, seconds=15),
)
