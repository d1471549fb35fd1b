"""``python -m sdxl_adapter`` and the ``sdxl`` command."""

from __future__ import annotations

import sys

from bedrock_contract import ContractFileError

# ExitCode.INPUT_UNREADABLE of sdxl_adapter.cli.errors, which (as every module of the
# command) reads the catalogue as it loads, so cannot be imported to say it.
CONTRACT_UNREADABLE = 4


def run() -> None:
    """Run ``sdxl``. Its modules read the model catalogue as they load: a contract folder
    that cannot be read (``BEDROCK_CONTRACT_PATH``) is one line naming its file, not a
    traceback."""
    try:
        from sdxl_adapter.cli import main
    except ContractFileError as err:
        print(f"Error: {err}", file=sys.stderr)
        sys.exit(CONTRACT_UNREADABLE)
    main(prog_name="sdxl")


if __name__ == "__main__":
    run()
