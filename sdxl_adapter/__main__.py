"""``python -m sdxl_adapter``: the ``sdxl`` command."""

from sdxl_adapter.cli import main

if __name__ == "__main__":
    main(prog_name="sdxl")
