"""Text from outside (a request's path or model id, a file, a body, a service's message) made
safe for one line of a terminal or a log: every character that is not printable is shown as
its escape, so no such text can end the line, forge another, or send a terminal escape
sequence; every printable character is left as it is."""

from __future__ import annotations

_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """``text`` with each character ``str.isprintable`` refuses shown escaped as ``repr``
    escapes it (``\\n``, ``\\x1b``, ``\\u2028``, ``\\U000e0001``): control and format
    characters, surrogates, private-use and unassigned code points, and every separator
    but the space. Nothing else changed."""
    if text.isprintable():  # the usual case, checked in C
        return text
    return "".join(char if char.isprintable() else _escaped(char) for char in text)


def _escaped(char: str) -> str:
    code = ord(char)
    if char in _SHORT:
        return _SHORT[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
