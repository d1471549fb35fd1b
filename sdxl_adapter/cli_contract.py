"""``sdxl contract``: run the contract suite against an endpoint and report the differences.

Attached to the ``sdxl`` group with ``main.add_command(contract)``.
"""

from __future__ import annotations

import sys

import click

from sdxl_adapter import contract as suite
from sdxl_adapter.cli_errors import reported
from sdxl_adapter.client import AWS, DEFAULT_MODEL_ID

# Exit statuses of this command (the suite's verdict, not sdxl's generation table):
PASSED, DIFFERS, NOT_CONFIRMED = 0, 1, 2


@click.command("contract")
@click.option(
    "--endpoint", default="mock", show_default=True, metavar="mock|aws|URL",
    help="mock: the in-process mock; aws: live Bedrock (the small live subset); or the URL "
    "of anything that speaks Bedrock Runtime (the mock's server, a recording proxy).",
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
@click.option("--region", help="AWS region (default: your AWS configuration).")
@click.option("--model-id", default=DEFAULT_MODEL_ID, show_default=True)
@click.option("--list", "list_only", is_flag=True, help="List the checks; call nothing.")
@click.option("--debug", is_flag=True, help="Show tracebacks of configuration errors.")
def contract(
    endpoint: str, live: bool, confirmed: bool, region: str | None, model_id: str,
    list_only: bool, debug: bool,
) -> None:
    """Check that ENDPOINT behaves as the SDXL contract says: every request shape is
    accepted with the right image size and seed, and every broken rule is refused with
    Bedrock's wording. Exits 0 when every check passes, 1 with the report of where the
    endpoint differs from the contract."""
    live = live or endpoint == AWS
    selected = suite.live_checks() if live else suite.checks()
    if list_only:
        for check in selected:
            click.echo(f"{check.name}: {check.expect.describe()}")
        return
    if live:
        click.echo(suite.cost_warning(selected), err=True)
        if not confirmed:
            click.echo("Nothing was sent: pass --yes to make these calls.", err=True)
            sys.exit(NOT_CONFIRMED)
    with reported(debug), suite.open_target(endpoint, region=region) as client:
        report = suite.run_suite(client, selected, model_id=model_id, target=endpoint)
    click.echo(report.render())
    sys.exit(PASSED if report.passed else DIFFERS)
