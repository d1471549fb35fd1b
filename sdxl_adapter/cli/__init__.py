"""The ``sdxl`` command line: the group, its endpoint options, and the small commands.

``generate``, ``batch`` and ``contract`` live in their own modules (cli_generate, cli_batch,
cli_contract).
"""

from __future__ import annotations

import json
import logging
import sys
from typing import BinaryIO

import click

import bedrock_contract
from sdxl_adapter.cli.batch import batch
from sdxl_adapter.cli.contract import contract
from sdxl_adapter.cli.endpoint import Target, target_options
from sdxl_adapter.cli.errors import ExitCode, exit_code_epilog
from sdxl_adapter.cli.generate import generate


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=exit_code_epilog())
@target_options
@click.pass_context
def main(
    ctx: click.Context,
    endpoint: str,
    region: str | None,
    profile: str | None,
    model_id: str,
    debug: bool,
) -> None:
    """Generate images with Stability SDXL 1.0 on Amazon Bedrock, or on the local mock.

    \b
    Try it without an AWS account (the default endpoint is the in-process mock):
      sdxl generate "a lighthouse at dusk" --style photographic
    Real Bedrock, for an account with access to the model:
      sdxl --endpoint aws --region us-east-1 generate "a lighthouse at dusk"
    """
    if debug:
        # botocore's retry decisions and the adapter's own log; botocore's DEBUG log of
        # everything would print every base64 image.
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
        for name in ("botocore.retries", "botocore.retryhandler", "sdxl_adapter"):
            logging.getLogger(name).setLevel(logging.DEBUG)
    ctx.obj = Target(endpoint, region, profile, model_id, debug)


@main.command()
@click.argument("file", type=click.File("rb"))
def validate(file: BinaryIO) -> None:
    """Check a request body FILE (or - for standard input) against the SDXL contract.

    Prints "valid" and exits 0, or prints Bedrock's wording of every violation and exits 3
    (the code of a request refused locally).
    """
    try:
        bedrock_contract.check_request(file.read())
    except bedrock_contract.InvalidRequestBody as err:
        click.echo(err.message, err=True)
        sys.exit(ExitCode.REFUSED_LOCALLY)
    click.echo("valid")


@main.command()
@click.argument("which", type=click.Choice(["request", "response"]))
def schema(which: str) -> None:
    """Print the JSON Schema of the request or response body."""
    loaded = (
        bedrock_contract.request_schema()
        if which == "request"
        else bedrock_contract.response_schema()
    )
    click.echo(json.dumps(loaded, indent=2))


main.add_command(generate)
main.add_command(batch)
main.add_command(contract)
