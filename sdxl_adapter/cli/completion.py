"""Bash completion that takes model ids as they are: bash splits the words of a line at
every character of ``COMP_WORDBREAKS``, ``:`` among them, so click's own script hands the
command ``stability.stable-image-core-v1``, ``:``, ``1`` and completion of anything after
such an id fails. This one reads the line itself (``COMP_LINE`` up to ``COMP_POINT``) and
offers each completion from where bash's current word starts.

Written here: click's ``BashComplete`` splits by ``COMP_WORDS``, and bash-completion's
``__ltrim_colon_completions`` is not on every machine.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from click.shell_completion import (
    BashComplete,
    CompletionItem,
    add_completion_class,
    split_arg_string,
)

_SOURCE = """\
%(complete_func)s() {
    local IFS=$'\\n'
    local response

    response=$(env COMP_LINE="$COMP_LINE" COMP_POINT=$COMP_POINT \
COMP_WORDBREAKS="$COMP_WORDBREAKS" %(complete_var)s=bash_complete $1)

    for completion in $response; do
        IFS=',' read type value <<< "$completion"

        if [[ $type == 'dir' ]]; then
            COMPREPLY=()
            compopt -o dirnames
        elif [[ $type == 'file' ]]; then
            COMPREPLY=()
            compopt -o default
        elif [[ $type == 'plain' ]]; then
            COMPREPLY+=("$value")
        fi
    done

    return 0
}

%(complete_func)s_setup() {
    complete -o nosort -F %(complete_func)s %(prog_name)s
}

%(complete_func)s_setup;
"""


class LineBashComplete(BashComplete):
    """click's bash completion, reading the words from the line, not from bash's split."""

    source_template: ClassVar[str] = _SOURCE
    _word_start = 0  # where bash's current word starts in the incomplete argument

    def get_completion_args(self) -> tuple[list[str], str]:
        line = os.environ["COMP_LINE"][: int(os.environ["COMP_POINT"])]
        words = split_arg_string(line)
        incomplete = "" if not words or line[-1:].isspace() else words.pop()
        # click completes "--opt=va" as the value "va"; bash's word starts after a break.
        value = incomplete.split("=", 1)[1] if incomplete[:1] == "-" and "=" in incomplete \
            else incomplete
        breaks = os.environ.get("COMP_WORDBREAKS", "")
        self._word_start = max((value.rfind(c) + 1 for c in breaks if c.strip()), default=0)
        return words[1:], incomplete

    def format_completion(self, item: CompletionItem[Any]) -> str:
        # Bash puts the completion in place of its own current word only.
        value = str(item.value)
        return f"{item.type},{value[self._word_start:]}"


def install() -> None:
    """Use it for bash in this process (the command being completed)."""
    add_completion_class(LineBashComplete, "bash")
