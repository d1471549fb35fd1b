"""``sdxl contract``: run the contract suite against an endpoint and report the differences.

Loaded by the ``sdxl`` group when asked for (``COMMANDS`` in :mod:`sdxl_adapter.cli`).
"""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING

import click

from bedrock_contract.printable import printable
from sdxl_adapter.cli.endpoint import EndpointType, Target, known_model
from sdxl_adapter.cli.errors import reported
from sdxl_adapter.endpoints import AWS
from sdxl_adapter.models import contract_of

if TYPE_CHECKING:
    from sdxl_adapter.contract.runner import Report

# Exit statuses of this command (the suite's verdict, not sdxl's generation table):
PASSED, DIFFERS, NOT_CONFIRMED = 0, 1, 2


@click.command("contract")
@click.option(
    "--endpoint", type=EndpointType(), metavar="mock|aws|URL",
    help="mock: the in-process mock; aws: live Bedrock (the small live subset); or the URL "
    "of anything that speaks Bedrock Runtime (the mock's server, a recording proxy). "
    "Default: the sdxl group's --endpoint.",
)
@click.option(
    "--live", is_flag=True,
    help="Run only the small live subset (implied by --endpoint aws), e.g. against a URL "
    "that reaches the real service.",
)
@click.option(
    "--yes", "--live-ok", "confirmed", is_flag=True,
    help="Confirm the billed calls of a live run (without it a live run only says what it "
    "would cost).",
)
@click.option("--region", help="AWS region (default: the group's --region, else your AWS "
              "configuration).")
@click.option("--model-id", callback=known_model,
              help="Only the checks of this model's family. Default: the group's --model-id "
                   "when given, else every family.")
@click.option("--list", "list_only", is_flag=True, help="List the checks; call nothing.")
@click.option("--debug", is_flag=True, help="Show tracebacks of configuration errors.")
@click.pass_context
def contract(
    ctx: click.Context, endpoint: str | None, live: bool, confirmed: bool,
    region: str | None, model_id: str | None, list_only: bool, debug: bool,
) -> None:
    """Check that ENDPOINT behaves as the model's contract says: every request shape is
    accepted with the right image size and seed, and every broken rule is refused with
    Bedrock's wording. Exits 0 when every check passes, 1 with the report of where the
    endpoint differs from the contract. For a model past its end of life, one line on
    stderr says so, as generate says it."""
    # Imported here: the suite is only needed by this command, and `sdxl --help` should
    # not pay for loading it.
    from sdxl_adapter.contract import runner as suite

    # The command's own options win; unset ones come from the sdxl group's.
    group = ctx.obj if isinstance(ctx.obj, Target) else Target()
    endpoint = endpoint or group.endpoint
    region = region or group.region
    parent = ctx.parent
    if model_id is None and parent is not None and parent.get_parameter_source(
        "model_id"
    ) not in (None, click.core.ParameterSource.DEFAULT):
        model_id = group.model_id
    debug = debug or group.debug
    live = live or endpoint == AWS
    # Only the chosen family's checks are built: building all of them costs seconds.
    families = None if model_id is None else [contract_of(model_id).family]
    selected = suite.live_checks(families) if live else suite.checks(families)
    if list_only:
        for check in selected:
            click.echo(printable(f"{check.name}: {check.expect.describe()}"))
        return
    # The one model checked, as generate would call it: for its end-of-life line.
    named = None if model_id is None else dataclasses.replace(
        group, endpoint=endpoint, region=region, model_id=model_id)
    warning = named.end_of_life_warning() if named is not None else None
    if warning:  # Bedrock itself: said before any call, as generate says it
        click.echo(printable(warning), err=True)
    if live:
        click.echo(suite.cost_warning(selected), err=True)
        if not confirmed:
            click.echo("Nothing was sent: pass --yes to make these calls.", err=True)
            sys.exit(NOT_CONFIRMED)
    with reported(debug), suite.open_target(endpoint, region=region) as client:
        report = suite.run_suite(client, selected, target=endpoint)
    click.echo(report.render())
    answered = (named.end_of_life_answered("these calls were")
                if named is not None and _generated(report) else None)
    if answered:  # a retired model answered (by a mock whose date allows it)
        click.echo(printable(answered), err=True)
    sys.exit(PASSED if report.passed else DIFFERS)


def _generated(report: Report) -> bool:
    """Whether the endpoint answered any of the checks with an image."""
    from sdxl_adapter.contract.checks import Generates

    return any(result.passed and isinstance(result.check.expect, Generates)
               for result in report.results)
