"""``python -m mock_bedrock``: the ``mock-bedrock`` command."""

from mock_bedrock.cli import main

if __name__ == "__main__":
    main(prog_name="mock-bedrock")
