"""The ``sdxl`` command line."""

from __future__ import annotations

import json
import sys

import click

import sdxl_schemas


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Generate images with Stability SDXL 1.0 on Amazon Bedrock, or on the local mock."""


@main.command()
@click.argument("file", type=click.File("rb"))
def validate(file: click.utils.LazyFile) -> None:
    """Check a request body FILE (or - for standard input) against the SDXL contract.

    Prints "valid" and exits 0, or prints Bedrock's wording of every violation and exits 1.
    """
    try:
        sdxl_schemas.check_request(file.read())
    except sdxl_schemas.InvalidRequestBody as err:
        click.echo(err.message, err=True)
        sys.exit(1)
    click.echo("valid")


@main.command()
@click.argument("which", type=click.Choice(["request", "response"]))
def schema(which: str) -> None:
    """Print the JSON Schema of the request or response body."""
    loaded = sdxl_schemas.request_schema() if which == "request" else sdxl_schemas.response_schema()
    click.echo(json.dumps(loaded, indent=2))
