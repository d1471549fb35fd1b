"""Start-up: what the command lines load before they are asked for anything, and where the
work they skip is done instead.

``sdxl --version``, ``--help`` and ``models`` read the catalogue at most: no validator, no
batch machinery, no botocore. ``mock-bedrock --help`` reads botocore's model of the service
(the journal, whose defaults it shows, names the headers it records from it), but no
validator and no client either. Each command runs in a fresh interpreter, which reports the
modules it loaded as it exits.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from bedrock_contract import Catalogue, ContractFileError, default_catalogue
from tests.support import custom_model
from tests.support.paths import EXAMPLES

# What these commands must not load, by the part of the project that would load it.
VALIDATORS = ("bedrock_contract.validation", "bedrock_contract.everit", "jsonschema",
              "jsonschema_rs")
BATCH = ("sdxl_adapter.batch", "sdxl_adapter.batch_identity", "sdxl_adapter.manifest",
         "sdxl_adapter.folder_lock")
CLIENT = ("boto3", "sdxl_adapter.client")
BOTOCORE = ("botocore",)  # its model alone costs most of what importing boto3 does

PROBE = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))
prog, module = sys.argv[1:3]
sys.argv = [prog, *sys.argv[3:]]
main = __import__(module, fromlist=["main"]).main
main(prog_name=prog)
"""
COMMANDS = {"sdxl": "sdxl_adapter.cli", "mock-bedrock": "mock_bedrock.cli"}


def loaded_by(where: Path, prog: str, *args: str) -> tuple[str, list[str]]:
    """What the command printed, run in ``where`` (as a user runs it: not from the source
    tree), and every module loaded when it exited."""
    done = subprocess.run([sys.executable, "-c", PROBE, prog, COMMANDS[prog], *args],
                          cwd=where, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    modules: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return done.stdout, modules


def among(modules: list[str], unwanted: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == u or m.startswith(u + ".") for u in unwanted)]


@pytest.mark.parametrize(("prog", "args", "says", "unwanted"), [
    ("sdxl", ["--version"], "sdxl, version", VALIDATORS + BATCH + CLIENT + BOTOCORE),
    ("sdxl", ["--help"], "Exit codes:", VALIDATORS + BATCH + CLIENT + BOTOCORE),
    ("sdxl", ["models"], "stability.stable-image-core-v1:1",
     VALIDATORS + BATCH + CLIENT + BOTOCORE),
    ("mock-bedrock", ["--help"], "serve", VALIDATORS + BATCH + CLIENT),
], ids=["sdxl --version", "sdxl --help", "sdxl models", "mock-bedrock --help"])
def test_a_command_that_sends_nothing_loads_no_validator_batch_or_client(
    tmp_path: Path, prog: str, args: list[str], says: str, unwanted: tuple[str, ...]
) -> None:
    printed, modules = loaded_by(tmp_path, prog, *args)
    assert says in printed
    assert among(modules, unwanted) == []


def test_the_probe_sees_what_a_command_loads(tmp_path: Path) -> None:
    # The same probe, on a command that validates: it does see the validator.
    sample = EXAMPLES / "sample-request.json"
    _, modules = loaded_by(tmp_path, "sdxl", "--model-id", "stability.stable-diffusion-xl-v1",
                           "validate", str(sample))
    assert "bedrock_contract.validation" in modules


def test_every_built_in_schema_is_a_valid_draft_07_schema() -> None:
    # Loading the catalogue checks only a user's folders against the meta-schema (that
    # check loads jsonschema); the built-in ones are checked here.
    for contract in default_catalogue():
        for schema in (contract.request_schema, contract.response_schema):
            Draft7Validator.check_schema(schema)


def test_a_users_folder_is_checked_against_the_meta_schema_when_loaded(tmp_path: Path) -> None:
    folder = custom_model.write_model_folder(tmp_path)
    request = json.loads((folder / "request.json").read_text())
    request["properties"]["noise"]["minimum"] = "zero"
    (folder / "request.json").write_text(json.dumps(request))
    with pytest.raises(ContractFileError, match="not a valid JSON Schema"):
        Catalogue.load((folder,))
