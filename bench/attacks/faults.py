"""Attacks through fault rules (issue 12, finding 9; issue 18), installed with ``POST
/_mock/faults``: a regex with catastrophic backtracking, an absurd latency, as many rules as
the server takes, and patterns that are linear but slow or big. A rule the server refuses is
the defence working; the figures say which it was."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter

from bench.attacks.calls import Answer, call, invoke
from bench.attacks.harness import Attack, Siege
from bench.bodies import CORE_ID, SDXL, encode, text_to_image
from bench.soak import rss_kib

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


# Linear in the prompt, but RE2 walks each one's ~900 instructions for every byte of it.
SLOW_PATTERN = "[ab]*a[ab]{{900}}c{index}"
# Each compiles to about 66,000 instructions (0.5 MiB).
BIG_PATTERN = "(?:\\pL){{55}}#{index}"
# Small programs whose DFAs grow without end on a random run of a's and b's.
DFA_PATTERN = "[ab]*a[ab]{{15}}c{index}"
CORE_INVOKE = f"/model/{CORE_ID}/invoke"


def _rules(pattern: str, first: int, count: int) -> list[dict[str, object]]:
    return [{"prompt_regex": pattern.format(index=i), "error": "ThrottlingException",
             "name": f"pattern {i}"} for i in range(first, first + count)]


def _core_call(siege: Siege, prompt: str, timeout: float) -> Answer:
    body = json.dumps({"prompt": prompt, "seed": 1}).encode()
    return call(siege.address, "POST", CORE_INVOKE, body, timeout=max(1.0, timeout))


# Compiling 1,000 big patterns takes the unbounded server tens of seconds.
INSTALL_TIMEOUT = 60.0


def _install_all(siege: Siege, pattern: str, count: int = 1000) -> int:
    """The ``count`` rules in one POST; if refused, in ever smaller POSTs until refused
    with one rule (what the server takes, bounded). Returns how many are in force."""
    whole = _install(siege, _rules(pattern, 0, count), timeout=INSTALL_TIMEOUT)
    siege.note(f"{count} rules in one POST ({len(json.dumps(_rules(pattern, 0, count)))} "
               "bytes)", f"{whole.describe()}: {whole.body[:160].decode(errors='replace')}")
    if whole.status == 201:
        return count
    installed, batch = 0, 64
    while installed < count and batch >= 1 and siege.running():
        answer = _install(siege, _rules(pattern, installed, batch), timeout=5.0)
        if answer.status == 201:
            installed += batch
        else:
            batch //= 2
    siege.note("rules then taken in smaller POSTs", installed)
    return installed


def slow_patterns(siege: Siege) -> None:
    """1,000 patterns of ~900 instructions; then calls with a 1,000- and a 10,000-character
    prompt of a's and b's (Stable Image Core: prompts up to 10,000), each timed, the long
    one again until the time is up."""
    _install_all(siege, SLOW_PATTERN)
    for length in (1_000, 10_000):
        answer = _core_call(siege, "ab" * (length // 2), siege.remaining())
        siege.note(f"a {length:,}-character prompt", answer.describe())
    longest = 0.0
    while siege.running():
        answer = _core_call(siege, "ab" * 5_000, siege.remaining())
        longest = max(longest, answer.seconds)
    siege.note("slowest 10,000-character call after", f"{longest:.2f} s")
    siege.note("DELETE /_mock/faults", call(siege.address, "DELETE", FAULTS).describe())


def big_patterns(siege: Siege) -> None:
    """1,000 patterns of ~66,000 instructions in one POST; the server's RSS after it and
    after ``DELETE /_mock/faults``."""
    pid = siege.server.pid
    before = rss_kib(pid)
    _install_all(siege, BIG_PATTERN, 1000)
    siege.note("RSS added by the rules", f"{(rss_kib(pid) - before) / 1024:.0f} MiB")
    siege.note("DELETE /_mock/faults", call(siege.address, "DELETE", FAULTS).describe())
    siege.note("RSS added, after DELETE", f"{(rss_kib(pid) - before) / 1024:.0f} MiB")
    siege.hold()


def growing_dfas(siege: Siege, at_once: int = 2) -> None:
    """As many small patterns as the server takes (up to 1,000), each with a DFA that a
    random run of a's and b's keeps growing; calls with two such 10,000-character prompts
    a client (answered from the response cache after the first time, so what grows is the
    patterns' memory) from ``at_once`` clients until the time is up; then the RSS after
    DELETE."""
    pid = siege.server.pid
    before = rss_kib(pid)
    siege.note("rules in force", _install_all(siege, DFA_PATTERN, 1000))
    answers: Counter[str] = Counter()
    lock = threading.Lock()
    slowest = [0.0]

    def client(number: int) -> None:
        draw = random.Random(number)
        prompts = ["".join(draw.choice("ab") for _ in range(10_000)) for _ in range(2)]
        calls = 0
        while siege.running():
            answer = _core_call(siege, prompts[calls % 2], siege.remaining())
            calls += 1
            cut = answer.status is None and not siege.running()
            with lock:
                answers["cut at the end" if cut else str(answer.status or "no answer")] += 1
                if not cut:
                    slowest[0] = max(slowest[0], answer.seconds)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(at_once)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    siege.note("calls", dict(answers))
    siege.note("slowest call", f"{slowest[0]:.2f} s")
    siege.note("RSS added by rules and calls", f"{(rss_kib(pid) - before) / 1024:.0f} MiB")
    siege.note("DELETE /_mock/faults", call(siege.address, "DELETE", FAULTS).describe())
    siege.note("RSS added, after DELETE", f"{(rss_kib(pid) - before) / 1024:.0f} MiB")


ATTACKS = (
    Attack("faults-regex", "fault rules", "prompt_regex (a+)+$ and a 35-character prompt, "
           "then the admin endpoints", catastrophic_regex, seconds=8),
    Attack("faults-latency", "fault rules", "a rule with latency_ms 10**20, and calls it "
           "matches", huge_latency, seconds=5),
    Attack("faults-100k-rules", "fault rules", "100,000 rules (10,000 to a POST), then "
           "normal calls", many_rules, seconds=15),
    Attack("faults-slow-patterns", "fault rules", "1,000 patterns [ab]*a[ab]{900}c<i> in one "
           "POST, then calls with 1,000- and 10,000-character prompts", slow_patterns,
           seconds=15),
    Attack("faults-big-patterns", "fault rules", "1,000 patterns (?:\\pL){55} in one POST, "
           "then DELETE /_mock/faults", big_patterns, seconds=8),
    Attack("faults-growing-dfas", "fault rules", "up to 1,000 patterns [ab]*a[ab]{15}c<i>, "
           "then random a/b prompts of 10,000 characters from 2 clients", growing_dfas,
           seconds=15),
)
