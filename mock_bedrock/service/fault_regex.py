"""``prompt_regex``: a fault rule's RE2 pattern, what it costs, and the bound on what the
patterns of all the rules in force cost together.

RE2 matches in time linear in the text, but the factor is the pattern's compiled program:
when its lazily built DFA gives up (a pattern such as ``[ab]*a[ab]{900}c``), RE2 walks up
to every instruction for every byte, 6 to 16 ns a byte and instruction as measured here. So
a call's matching costs up to (its prompt bytes) x (the program sizes summed over the rules
in force), and each pattern holds its program and a DFA of up to :data:`REGEX_MAX_MEM`.
Three bounds keep both small whatever the rules:

- the programs of the rules in force hold at most :data:`REGEX_PROGRAM_BUDGET` instructions
  in all (RE2's ``programsize``); a rule set past it is refused, naming the rule;
- at most :data:`MAX_REGEX_RULES` rules have a pattern (their DFAs: 64 MiB at most);
- a call's prompts are matched up to :data:`MAX_MATCHED_CHARS` characters in all, which
  every prompt of every model's call fits in (a prompt holds at most 10,000 characters, and
  a call at most two), except an SDXL call with more than ten 2,000-character prompts.

So a call spends at most about 20,000 x 4 bytes x 5,000 instructions x 16 ns = 6.4 s of one
core matching (1.6 s for ASCII prompts); a short prompt a few milliseconds. A pattern is
owned by its rule and freed with it: nothing caches compiled patterns.

Not one RE2 ``Set`` over all the patterns: a Set has only its DFA, and when that runs out of
memory ``RE2::Set::Match`` answers "no match" (re2/set.cc), which the Python binding cannot
even tell apart (python/_re2.cc drops the result); on the patterns above it was also slower
than separate scans (100 of them over 1,000 characters: 3.1 s against 1.1 s, measured).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import re2

# RE2's memory for one pattern: its program and its DFA's cache. A pattern whose program
# does not fit is refused at compile time; a DFA that fills it gives way to RE2's slower
# (still linear) engines.
REGEX_MAX_MEM = 256 * 1024
MAX_REGEX_RULES = 256  # x REGEX_MAX_MEM: 64 MiB
# 250 patterns such as (?i)\bcat\b, or four \pL (1,200 instructions each).
REGEX_PROGRAM_BUDGET = 5_000
MAX_MATCHED_CHARS = 20_000


class RegexRefused(ValueError):
    """A pattern RE2 does not take, or a set of patterns past the budget; says why."""


class PromptRegex:
    """One compiled pattern: searched in a call's prompts; ``size`` is its program's
    instruction count, what the budget counts."""

    __slots__ = ("_compiled", "pattern", "size")

    def __init__(self, pattern: str) -> None:
        options = re2.Options()
        options.log_errors = False  # the error is raised here; RE2 would also print it
        options.max_mem = REGEX_MAX_MEM
        options.never_capture = True  # whether it matches is all a rule asks
        try:
            compiled = re2.compile(pattern, options)
        except UnicodeEncodeError:
            raise RegexRefused(f"'prompt_regex' {pattern!r} is not valid Unicode") from None
        except re2.error as err:
            reason = err.args[0] if err.args else err
            if isinstance(reason, bytes):
                reason = reason.decode("utf-8", errors="replace")
            if "too large" in str(reason):
                reason = f"{reason} (a pattern's program must fit in {REGEX_MAX_MEM // 1024} KiB)"
            raise RegexRefused(
                f"'prompt_regex' {pattern!r} is not a valid regex for RE2, which matches in "
                f"linear time (no backreferences or lookaround): {reason}"
            ) from None
        finally:
            # re2.compile keeps what it compiled in a module-wide cache, which would hold
            # the patterns of rules long removed.
            re2.purge()
        self.pattern = pattern
        self.size: int = compiled.programsize
        self._compiled: Any = compiled

    def search(self, texts: Iterable[str]) -> bool:
        """Whether the pattern occurs in any of ``texts``."""
        return any(self._search(text) for text in texts)

    def _search(self, text: str) -> bool:
        try:
            return self._compiled.search(text) is not None
        except UnicodeEncodeError:  # RE2 matches UTF-8: a lone surrogate is matched as U+FFFD
            return self._compiled.search(
                text.encode("utf-8", "replace").decode("utf-8")) is not None


def matched_texts(prompts: Iterable[str]) -> Iterator[str]:
    """The prompts as patterns see them: in order, until :data:`MAX_MATCHED_CHARS` in all
    (the prompt that reaches the bound cut there)."""
    room = MAX_MATCHED_CHARS
    for prompt in prompts:
        if room <= 0:
            return
        yield prompt[:room]
        room -= len(prompt)


class RegexBudget:
    """A running total of patterns against the bounds; :meth:`charge` refuses the first
    pattern past one."""

    def __init__(self, in_force: Iterable[PromptRegex] = ()) -> None:
        self.count, self.size = 0, 0
        for regex in in_force:
            self.count, self.size = self.count + 1, self.size + regex.size

    def charge(self, regex: PromptRegex) -> None:
        if self.count + 1 > MAX_REGEX_RULES:
            raise RegexRefused(
                f"at most {MAX_REGEX_RULES} rules with a 'prompt_regex' may be in force, "
                f"and {self.count} are"
            )
        if self.size + regex.size > REGEX_PROGRAM_BUDGET:
            raise RegexRefused(
                f"'prompt_regex' {regex.pattern!r} compiles to {regex.size} RE2 instructions; "
                f"the rules in force may hold {REGEX_PROGRAM_BUDGET} in all, and "
                f"{self.size} are taken (each is walked for every prompt byte of a call)"
            )
        self.count, self.size = self.count + 1, self.size + regex.size
