"""Where the ``sdxl`` command sends requests: the group options, and the client they make.

boto3 is imported when a client is made: the options are parsed by every command,
``sdxl --help`` and ``sdxl models`` included.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.shell_completion import CompletionItem

from sdxl_adapter.cli.errors import ExitCode, Failure
from sdxl_adapter.endpoints import AWS, MOCK
from sdxl_adapter.models import (
    DEFAULT_MODEL_ID,
    SDXL_MODEL_ID,
    UnknownModel,
    contract_of,
    find_model,
    is_end_of_life,
    replacement_for,
)

if TYPE_CHECKING:
    from bedrock_contract import ModelContract, Resolved
    from sdxl_adapter.client import BedrockImageClient

F = TypeVar("F", bound=Callable[..., Any])

ENDPOINT_ENV = "BEDROCK_IMAGE_ENDPOINT"
# The variable's name from when SDXL was the only model: read when the new one is not set.
OLD_ENDPOINT_ENV = "SDXL_ENDPOINT"
PLACEHOLDER_NOTE = "the mock makes placeholder images, not the model's output"


class EndpointType(click.ParamType):
    """``mock``, ``aws`` or an http(s) URL of a Bedrock-compatible endpoint."""

    name = "mock|aws|URL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if text.lower() in (MOCK, AWS):
            return text.lower()
        if text.startswith(("http://", "https://")):
            return text
        self.fail(f"{value!r} is not mock, aws or an http(s):// URL", param, ctx)


@dataclass(frozen=True)
class Target:
    """The group options: which endpoint, as whom, which model."""

    endpoint: str = MOCK
    region: str | None = None
    profile: str | None = None
    model_id: str = DEFAULT_MODEL_ID
    debug: bool = False
    as_of: dt.date | None = None  # the in-process mock's date (None: every model served)
    model_named: bool = True  # False: --model-id was left to its default

    @property
    def is_mock(self) -> bool:
        return self.endpoint == MOCK

    @property
    def found(self) -> Resolved:
        """The family and version ``model_id`` names (checked when the option was parsed)."""
        return find_model(self.model_id)

    @property
    def contract(self) -> ModelContract:
        return self.found.contract

    def end_of_life_warning(self) -> str | None:
        """One line to print before sending to a retired model on the real service."""
        version = self.found.version
        if self.endpoint != AWS or not is_end_of_life(version):
            return None
        eol = version.lifecycle.eol
        since = f" on {eol.isoformat()}" if eol else ""
        replacement = replacement_for(self.found)
        move = (f"; move to {replacement} (`sdxl migrate BODY --to {replacement}`)"
                if replacement else "")
        return (f"warning: {self.model_id} reached its end of life{since} and Bedrock "
                f"refuses it{move}")

    def end_of_life_answered(self, calls: str = "this call was") -> str | None:
        """One line to print once a retired model was answered anyway: by the mock (its
        date allows it), or by another endpoint that is not Bedrock (``calls``: what was
        answered)."""
        from bedrock_contract.retired import retired_call

        retired = retired_call(self.found) if self.endpoint != AWS else None
        if retired is None:
            return None
        how = (f" (`sdxl migrate BODY --to {retired.replacement}`)"
               if retired.replacement else "")
        return f"warning: {retired.warning(calls)}{how}"

    def client(
        self, max_attempts: int | None = None, connections: int | None = None
    ) -> BedrockImageClient:
        """A client for this target. In ``aws`` mode, region and profile default to boto3's
        chain (AWS_DEFAULT_REGION, AWS_PROFILE, ~/.aws/config); its URL honours
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME as any boto3 client does. ``connections`` sizes the
        connection pool for that many concurrent calls (botocore keeps 10 by default)."""
        from botocore.config import Config

        from sdxl_adapter.client import BedrockImageClient

        config = Config(max_pool_connections=connections) if connections else None
        # botocore's default "legacy" retry mode backs off without a cap (one always-throttled
        # line of a batch waited 53 s over 8 attempts); "standard" caps each wait at 20 s.
        # A mode the user chose in AWS_RETRY_MODE or ~/.aws/config still wins.
        retry_mode = None if _retry_mode_configured(self.profile) else "standard"
        client = BedrockImageClient(self.endpoint, region=self.region, profile=self.profile,
                                    model_id=self.model_id, max_attempts=max_attempts,
                                    retry_mode=retry_mode, config=config)
        if self.as_of is not None:
            client.mock.app.as_of = self.as_of  # only the mock endpoint takes --as-of
        return client

    @property
    def is_url(self) -> bool:
        return self.endpoint not in (MOCK, AWS)

    def describe(self, client: BedrockImageClient, model: str | None = None) -> str:
        """One line saying where requests go, for stderr; ``model`` says which model where
        that is not ``model_id`` (a batch migrating each line by its task)."""
        model = model or f"model {self.model_id}"
        if self.is_mock:
            day = f", as of {self.as_of.isoformat()}" if self.as_of else ""
            return f"endpoint: mock (in-process{day}), {model}"
        region = client.boto_client.meta.region_name
        # A URL endpoint is the client's URL: said once.
        where = client.endpoint_url if self.is_url else f"{self.endpoint} {client.endpoint_url}"
        return f"endpoint: {where} (region {region}), {model}"


def _retry_mode_configured(profile: str | None) -> bool:
    import botocore.exceptions
    import botocore.session

    session = botocore.session.Session(profile=profile)
    try:
        return "retry_mode" in session.get_scoped_config() or "AWS_RETRY_MODE" in os.environ
    except botocore.exceptions.BotoCoreError:  # no such profile, an unreadable config
        return "AWS_RETRY_MODE" in os.environ


def known_model(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An option callback: refuse, with one line and the usage exit code, a model id the
    catalogue does not know."""
    if value is None:
        return None
    try:
        find_model(value)
    except UnknownModel as err:
        raise Failure(str(err), ExitCode.USAGE) from None
    return value


def as_of_date(ctx: click.Context, param: click.Parameter, value: str | None
               ) -> dt.date | None:
    """An option callback: a date (YYYY-MM-DD or ``today``), or a usage error."""
    if value is None:
        return None
    from bedrock_contract import parse_as_of

    try:
        return parse_as_of(value)
    except ValueError as err:
        raise click.BadParameter(str(err), ctx, param) from None


def model_ids(ctx: click.Context, param: click.Parameter,
              incomplete: str) -> list[CompletionItem]:
    """The ids ``--model-id`` may name that start with ``incomplete``: each described
    version's, by its inference profile where it has no in-Region endpoint."""
    from bedrock_contract import default_catalogue

    ids = sorted({contract.id_to_call(version) for contract, version
                  in default_catalogue().versions() if version.described})
    return [CompletionItem(found) for found in ids if found.startswith(incomplete)]


def target_options(group: F) -> F:
    """Add the endpoint options to the group; the callback stores a :class:`Target`."""
    options = [
        click.option("--endpoint", type=EndpointType(), default=MOCK, show_default=True,
                     metavar="[mock|aws|URL]",
                     envvar=[ENDPOINT_ENV, OLD_ENDPOINT_ENV], show_envvar=True,
                     help="mock: the in-process mock (no AWS account); aws: Amazon Bedrock "
                          "through the AWS credential chain; or the URL of a Bedrock-"
                          "compatible endpoint such as a running `mock-bedrock serve`."),
        # boto3 reads AWS_DEFAULT_REGION but not AWS_REGION, which the AWS CLI and the other
        # SDKs read first; so the option reads it.
        click.option("--region", envvar="AWS_REGION", show_envvar=True,
                     help="AWS region (else AWS_DEFAULT_REGION, or the profile's region)."),
        click.option("--profile", help="AWS profile (default: AWS_PROFILE or default)."),
        click.option("--model-id", default=DEFAULT_MODEL_ID, show_default=True,
                     callback=known_model, shell_complete=model_ids,
                     help="Model id, inference-profile id (us.<id>) or ARN; `sdxl models` "
                          "lists them. The commands offer this model's own options. "
                          f"Default: {contract_of(DEFAULT_MODEL_ID).name}, the live "
                          f"replacement of {contract_of(SDXL_MODEL_ID).name} (past its end "
                          f"of life; --model-id {SDXL_MODEL_ID} still reaches it)."),
        click.option("--as-of", "as_of", metavar="DATE", callback=as_of_date,
                     help="With --endpoint mock: answer each model as Bedrock did on DATE "
                          "(YYYY-MM-DD, or today): refused after its end of life. Default: "
                          "every model is answered, retired ones with a warning."),
        click.option("--debug", is_flag=True, help="Show tracebacks and botocore's log."),
    ]
    for option in reversed(options):
        group = option(group)
    return group
