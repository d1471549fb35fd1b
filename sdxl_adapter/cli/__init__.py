"""The ``sdxl`` command line: the group, its endpoint options, and the small commands.

``generate``, ``batch``, ``contract``, ``models`` and ``migrate`` live in their own modules,
each imported when its command is asked for (:data:`COMMANDS`): ``sdxl --version`` loads
none of them, and ``sdxl models`` no other. ``generate`` is made per model, from the
group's ``--model-id`` (:class:`ModelGroup`).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import sys
from typing import BinaryIO

import click

import bedrock_contract
from bedrock_contract.printable import printable
from bedrock_contract.version import __version__
from sdxl_adapter.cli import completion
from sdxl_adapter.cli.endpoint import Target, target_options
from sdxl_adapter.cli.errors import ExitCode, exit_code_epilog, json_syntax_error, migrate_hint
from sdxl_adapter.endpoints import MOCK
from sdxl_adapter.models import DEFAULT_MODEL_ID, contract_of

GENERATE = "generate"
# The commands with a module of their own: name -> "module:attribute". A command module
# imports at its top what its options and help need, and the rest when it runs.
COMMANDS = {
    "batch": "sdxl_adapter.cli.batch:batch",
    "contract": "sdxl_adapter.cli.contract:contract",
    "migrate": "sdxl_adapter.cli.migrate:migrate_command",
    "models": "sdxl_adapter.cli.models:models",
}


def _load(where: str) -> click.Command:
    module, _, name = where.partition(":")
    command: click.Command = getattr(importlib.import_module(module), name)
    return command


class ModelGroup(click.Group):
    """A group whose ``generate`` command carries the options of the model that
    ``--model-id`` names. The group's options are parsed (and checked) before the command
    is looked up, ``--help`` after the command name included. The commands of
    :data:`COMMANDS` are loaded when looked up."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == GENERATE:
            from sdxl_adapter.cli.generate import generate_command

            # The group's own --help lists commands before --model-id may be parsed.
            model_id = ctx.params.get("model_id") or DEFAULT_MODEL_ID
            return generate_command(contract_of(model_id))
        if cmd_name in COMMANDS:
            return _load(COMMANDS[cmd_name])
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), GENERATE, *COMMANDS})


completion.install()  # model ids hold colons, where bash splits words

@click.group(cls=ModelGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=exit_code_epilog())
@click.version_option(__version__, "--version", prog_name="sdxl")
@target_options
@click.pass_context
def main(
    ctx: click.Context,
    endpoint: str,
    region: str | None,
    profile: str | None,
    model_id: str,
    as_of: dt.date | None,
    debug: bool,
) -> None:
    """Generate images with Stability's models on Amazon Bedrock (Stable Image Core v1:1 by
    default; `sdxl models` lists the others), or on the local mock.

    \b
    Try it without an AWS account (the default endpoint is the in-process mock):
      sdxl generate "a lighthouse at dusk" --aspect-ratio 16:9 -o lighthouse.png
      sdxl --model-id stability.sd3-5-large-v1:0 generate "a lighthouse" \\
           --output-format webp -o lighthouse.webp
    Real Bedrock, for an account with access to the model:
      sdxl --endpoint aws --region us-west-2 generate "a lighthouse at dusk"
    SDXL 1.0 is past its end of life on Bedrock (--model-id
    stability.stable-diffusion-xl-v1 still reaches it); move a request body with:
      sdxl migrate body.json --to stability.stable-image-core-v1:1
    """
    if as_of is not None and endpoint != MOCK:
        # Only the in-process mock is this command's to date; a server has its own.
        raise click.UsageError(
            "--as-of dates the in-process mock (--endpoint mock); start a server with "
            "`mock-bedrock serve --as-of DATE` instead", ctx)
    if debug:
        # botocore's retry decisions and the adapter's own log; botocore's DEBUG log of
        # everything would print every base64 image.
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
        for name in ("botocore.retries", "botocore.retryhandler", "sdxl_adapter"):
            logging.getLogger(name).setLevel(logging.DEBUG)
    named = ctx.get_parameter_source("model_id") != click.core.ParameterSource.DEFAULT
    ctx.obj = Target(endpoint, region, profile, model_id, debug, as_of, named)


@main.command()
@click.argument("file", type=click.File("rb"))
@click.option("--json", "as_json", is_flag=True,
              help='Print {"valid": ..., "message": ...} on stdout, the message in Bedrock\'s '
                   "exact one-line wording.")
@click.pass_obj
def validate(target: Target, file: BinaryIO, as_json: bool) -> None:
    """Check a request body FILE (or - for standard input) against the contract of the
    group's --model-id.

    Prints "valid" and exits 0, or prints every violation, one per line (#/pointer: text),
    and exits 3 (the code of a request refused locally); a file that is not JSON at all
    exits 4, saying where. --json prints Bedrock's message as it is.
    """
    raw = file.read()
    name = str(getattr(file, "name", "-"))
    source = "standard input" if name in ("-", "<stdin>") else name
    syntax = json_syntax_error(raw, source)
    try:
        bedrock_contract.check_request(target.contract, raw)
    except bedrock_contract.InvalidRequestBody as err:
        if as_json:
            found = {"valid": False, "message": err.message}
            click.echo(json.dumps(found if syntax is None else {**found,
                                                                "error": syntax.message}))
        elif syntax is None:
            for violation in err.violations:  # quotes the body: shown escaped
                click.echo(printable(str(violation)), err=True)
            for hint in migrate_hint(target.contract, target.model_id, raw, source):
                click.echo(printable(hint), err=True)
        if syntax is not None:
            if not as_json:
                raise syntax from None
            sys.exit(ExitCode.INPUT_UNREADABLE)
        sys.exit(ExitCode.REFUSED_LOCALLY)
    click.echo(json.dumps({"valid": True, "message": None}) if as_json else "valid")


@main.command()
@click.argument("which", type=click.Choice(["request", "response"]))
@click.pass_obj
def schema(target: Target, which: str) -> None:
    """Print the JSON Schema of the request or response body of the group's --model-id."""
    found = target.contract
    loaded = found.request_schema if which == "request" else found.response_schema
    click.echo(json.dumps(loaded, indent=2))

