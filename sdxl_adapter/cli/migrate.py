"""``sdxl migrate``: an SDXL request body as another model's body (the migration and the
request's validation are imported when the command runs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bedrock_contract.printable import printable
from sdxl_adapter.cli.endpoint import Target, known_model
from sdxl_adapter.cli.errors import ExitCode, Failure

if TYPE_CHECKING:
    from sdxl_adapter.migration import Migration


def migration_notes(migration: Migration, *, chosen: bool = False) -> list[str]:
    """One line for each field that did not carry over, or changed on the way; first, where
    the source's profile ``chosen`` the target (no --to), one naming it."""
    return ([f"migrated to {migration.to}"] if chosen else []) \
        + [f"dropped {name}: {why}" for name, why in migration.dropped] \
        + [f"changed {name}: {why}" for name, why in migration.changed]


@click.command("migrate")
@click.argument("body", type=click.Path(path_type=Path, allow_dash=True), default="-")
@click.option("--to", "to", default=None, callback=known_model, metavar="MODEL",
              help="The model to move to (an id, profile id or ARN; see `sdxl models`). "
                   "Titan and Nova Canvas bodies: the live model their task maps to by "
                   "default.")
@click.pass_obj
def migrate_command(target: Target, body: Path, to: str | None) -> None:
    """Turn a request BODY for the group's --model-id (SDXL 1.0 when none is given: the
    model to move off; a file, or - for standard input) into a request for MODEL (for a
    Titan or Nova Canvas body, the live model that does its task unless --to names one).

    \b
    Prints the new body, valid by MODEL's schema, on stdout, and one line on stderr
    for every field that could not carry over (cfg_scale, sampler, steps, prompt
    weights...) or that changed on the way (the size, become an aspect ratio):
      sdxl migrate body.json --to stability.stable-image-core-v1:1 > core.json
      sdxl --model-id stability.stable-image-core-v1:1 generate --body core.json
    """
    from sdxl_adapter import errors
    from sdxl_adapter.migration import MigrationRefused, migrate
    from sdxl_adapter.models import SDXL_MODEL_ID, contract_of
    from sdxl_adapter.task_migration import NoTarget

    try:
        raw = sys.stdin.buffer.read() if str(body) == "-" else body.read_bytes()
    except OSError as err:
        raise Failure(f"cannot read {body}: {err.strerror}", ExitCode.INPUT_UNREADABLE) from err
    source = target.model_id if target.model_named else SDXL_MODEL_ID
    try:
        migration = migrate(raw, to, source=source)
    except MigrationRefused as err:
        # The body given was valid; the one it became is not: said so, with what was lost.
        for name, why in err.dropped:
            click.echo(printable(f"dropped {name}: {why}"), err=True)
        raise Failure(f"the migrated body is not a valid {err.target} request, nothing "
                      f"printed: {err.message}", ExitCode.REFUSED_LOCALLY) from err
    except errors.InvalidRequest as err:
        raise Failure(f"not a valid {contract_of(source).name} request, nothing migrated: "
                      f"{err.message}", ExitCode.REFUSED_LOCALLY) from err
    except NoTarget as err:
        raise Failure(f"nothing migrated: {err}", ExitCode.REFUSED_LOCALLY) from err
    click.echo(json.dumps(migration.body, indent=2))
    for line in migration_notes(migration, chosen=to is None):
        click.echo(printable(line), err=True)
