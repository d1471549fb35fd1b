"""Exit codes of the ``sdxl`` command, and the one-line message a person can act on for each
failure the command may meet.

The table here is the only list of exit codes: ``sdxl --help`` prints its epilog from it and
the commands exit through :class:`Failure`, so the two cannot disagree. The errors it
describes (botocore's, the client's) are imported when one is described: the table is
read by ``sdxl --help``, which needs neither.
"""

from __future__ import annotations

import contextlib
import enum
import sys
import traceback
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from bedrock_contract.printable import printable

if TYPE_CHECKING:
    from bedrock_contract import ModelContract
    from sdxl_adapter import errors


class ExitCode(enum.IntEnum):
    """What a run's exit status means; each member's docstring-like ``meaning`` is shown
    in ``sdxl --help``."""

    OK = 0
    BATCH_INCOMPLETE = 1
    USAGE = 2  # click's own code for a bad option or argument
    REFUSED_LOCALLY = 3
    INPUT_UNREADABLE = 4
    OUTPUT_UNWRITABLE = 5
    NO_CREDENTIALS = 6
    ENDPOINT_UNREACHABLE = 7
    ACCESS_DENIED = 8
    BEDROCK_ERROR = 9
    CONTENT_FILTERED = 10
    GENERATION_FAILED = 11
    CONTRACT_DRIFT = 12
    AWS_CONFIG = 13
    MODEL_END_OF_LIFE = 14
    OUTPUT_BUSY = 15
    INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS = {
    ExitCode.OK: "success (batch: every line has its image)",
    ExitCode.BATCH_INCOMPLETE: "batch finished, but some lines failed or were bad",
    ExitCode.USAGE: "bad option or argument",
    ExitCode.REFUSED_LOCALLY: "request breaks the model's contract; refused before sending",
    ExitCode.INPUT_UNREADABLE: "an input file cannot be read or parsed",
    ExitCode.OUTPUT_UNWRITABLE: "the output cannot be written (disk full; or exists: --overwrite)",
    ExitCode.NO_CREDENTIALS: "no usable AWS credentials (missing, unknown or expired)",
    ExitCode.ENDPOINT_UNREACHABLE: "endpoint unreachable, or region without Bedrock Runtime",
    ExitCode.ACCESS_DENIED: "access denied for the model (request model access)",
    ExitCode.BEDROCK_ERROR: "Bedrock answered with another error",
    ExitCode.CONTENT_FILTERED: "the image was content filtered",
    ExitCode.GENERATION_FAILED: "the service reported a generation error",
    ExitCode.CONTRACT_DRIFT: "the response breaks the model's response contract",
    ExitCode.AWS_CONFIG: "AWS configuration unusable: no region, unknown profile",
    ExitCode.MODEL_END_OF_LIFE: "the model is past its end of life (see sdxl migrate)",
    ExitCode.OUTPUT_BUSY: "batch: another run is writing to the same --out-dir",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C); re-run the same command to resume",
}


def exit_code_epilog() -> str:
    # \b keeps click from re-wrapping the table into one paragraph.
    rows = [f"  {code.value:>3}  {code.meaning}" for code in ExitCode]
    return "\b\nExit codes:\n" + "\n".join(rows)


class Failure(click.ClickException):
    """A failure worded for a person, exiting with its :class:`ExitCode`. The message may
    quote outside text (a path, a service's message), so it is shown on one line with its
    non-printable characters escaped; ``hints`` are lines of our own under it."""

    def __init__(self, message: str, code: ExitCode, hints: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.exit_code = int(code)  # type: ignore[misc]  # click reads it per instance
        self.hints = tuple(hints)

    def format_message(self) -> str:
        return "\n".join([printable(self.message), *self.hints])


# Codes of the AWS request framework (not of Bedrock's model) for signatures and keys it
# does not accept.
CREDENTIAL_REJECTIONS = frozenset({
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignatureException",
    "MissingAuthenticationTokenException",
    "ExpiredTokenException",
})


def describe(err: BaseException) -> tuple[str, ExitCode]:
    """One line of plain language and the exit code for an error met while generating.

    Errors this table does not know are not described: the caller lets them raise, since a
    traceback is the honest report of a bug.
    """
    from botocore.exceptions import (
        EndpointConnectionError,
        InvalidRegionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
        UnknownEndpointError,
    )

    from sdxl_adapter import errors
    from sdxl_adapter.fit import FitError

    if isinstance(err, errors.InvalidRequest):
        return f"refused locally, nothing was sent: {err.message}", ExitCode.REFUSED_LOCALLY
    if isinstance(err, FitError):
        return f"refused locally, nothing was sent: {err}", ExitCode.REFUSED_LOCALLY
    if isinstance(err, errors.CredentialsMissing | NoCredentialsError | PartialCredentialsError):
        return (
            "no AWS credentials found: run `aws configure` or `aws sso login`, set "
            "AWS_PROFILE, or pass --profile",
            ExitCode.NO_CREDENTIALS,
        )
    if isinstance(err, ProfileNotFound):
        return f"AWS profile not found: {err.kwargs.get('profile')}", ExitCode.AWS_CONFIG
    if isinstance(err, NoRegionError):
        return "no AWS region set: pass --region or set AWS_REGION", ExitCode.AWS_CONFIG
    if isinstance(err, errors.ClientConfigError):
        if isinstance(err.__cause__, NoRegionError | ProfileNotFound):
            return describe(err.__cause__)  # worded for the command line, not the library
        return str(err), ExitCode.AWS_CONFIG
    if isinstance(err, InvalidRegionError):
        return f"{err}: pass a region such as us-east-1", ExitCode.AWS_CONFIG
    if isinstance(err, UnknownEndpointError | EndpointConnectionError | errors.ConnectionFailed):
        if _is_local(_unreached_url(err)):
            advice = "the mock server may not be running (start it with `mock-bedrock serve`)"
        else:
            advice = "check the endpoint, and that the region offers Amazon Bedrock"
        return (
            f"cannot reach Bedrock Runtime ({_cause_text(err)}): {advice}",
            ExitCode.ENDPOINT_UNREACHABLE,
        )
    if isinstance(err, errors.ContentFiltered):
        kept = ("(--keep-filtered keeps the blurred image)" if err.result.has_image
                else "(it came without an image)")
        return (
            f"the image was content filtered ({err.result.finish_reason}, seed "
            f"{err.result.seed}); nothing kept {kept}",
            ExitCode.CONTENT_FILTERED,
        )
    if isinstance(err, errors.GenerationFailed):
        return (
            f"the service reported a generation error (finish reason "
            f"{err.result.finish_reason}, seed {err.result.seed}, request "
            f"{err.result.request_id})",
            ExitCode.GENERATION_FAILED,
        )
    if isinstance(err, errors.ContractDrift):
        return f"{err.message} (request {err.request_id})", ExitCode.CONTRACT_DRIFT
    if isinstance(err, errors.ModelEndOfLife):
        return end_of_life_message(err), ExitCode.MODEL_END_OF_LIFE
    if isinstance(err, errors.OnDemandUnsupported):
        return (f"Bedrock refused: {err.code}: {err.message} (request id {err.request_id}); "
                f"call it through its inference profile: --model-id {err.profile_id}",
                ExitCode.BEDROCK_ERROR)
    if isinstance(err, errors.BedrockError):
        text = f"Bedrock refused: {err.code}: {err.message} (request id {err.request_id})"
        if err.code in CREDENTIAL_REJECTIONS:
            return (
                f"{text}; AWS did not accept the credentials: check the profile, or renew "
                "them (`aws sso login`)",
                ExitCode.NO_CREDENTIALS,
            )
        if err.code == "AccessDeniedException":
            return (
                f"{text}; ask for access to the model in the Bedrock console (Model access) "
                "and check your IAM permissions for bedrock:InvokeModel",
                ExitCode.ACCESS_DENIED,
            )
        return text, ExitCode.BEDROCK_ERROR
    raise LookupError(f"no description for {type(err).__name__}")


def end_of_life_message(err: errors.ModelEndOfLife) -> str:
    since = f" on {err.eol.isoformat()}" if err.eol else ""
    text = (f"{err.model_id} has reached its end of life{since}: Bedrock refused it "
            f"({err.code}, request id {err.request_id})")
    if err.replacement is None:
        return text + "; choose a live model from `sdxl models`"
    return (f"{text}; move to {err.replacement}: `sdxl migrate BODY --to {err.replacement}`, "
            f"or `sdxl --model-id {err.replacement} generate`")


_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _unreached_url(err: BaseException) -> str | None:
    """The URL botocore could not reach, from the error or the one it was raised from."""
    for found in (err, err.__cause__):
        kwargs = getattr(found, "kwargs", None)
        if isinstance(kwargs, dict) and isinstance(kwargs.get("endpoint_url"), str):
            return kwargs["endpoint_url"]
    return None


def _is_local(url: str | None) -> bool:
    return url is not None and urlsplit(url).hostname in _LOCAL_HOSTS


def _cause_text(err: BaseException) -> str:
    from sdxl_adapter import errors

    cause = err.__cause__ if isinstance(err, errors.ConnectionFailed) and err.__cause__ else err
    return str(cause) or type(cause).__name__


def describable(err: BaseException) -> bool:
    try:
        describe(err)
    except LookupError:
        return False
    return True


@contextlib.contextmanager
def reported(debug: bool) -> Iterator[None]:
    """Turn the errors :func:`describe` knows into a one-line :class:`Failure` (with the
    traceback first when ``debug``)."""
    try:
        yield
    except click.ClickException:
        raise
    except KeyboardInterrupt:
        raise Failure("interrupted: nothing was saved", ExitCode.INTERRUPTED) from None
    except Exception as err:
        if not describable(err):
            raise
        if debug:
            traceback.print_exc(file=sys.stderr)
        message, code = describe(err)
        raise Failure(message, code) from err


def refusal(err: errors.InvalidRequest, hints: Sequence[str] = ()) -> Failure:
    """A local refusal for a person: one violation a line when there are several (Bedrock
    runs them together in one message, which ``--json`` shows as it is)."""
    if len(err.violations) <= 1:
        message, code = describe(err)
        return Failure(message, code, hints)
    lines = [f"  {printable(str(violation))}" for violation in err.violations]
    return Failure(f"refused locally, nothing was sent; {len(lines)} violations:",
                   ExitCode.REFUSED_LOCALLY, [*lines, *hints])


def json_syntax_error(raw: bytes, source: str) -> Failure | None:
    """A file that is not JSON at all, with where it stops being JSON (exit 4: it cannot
    be parsed); None when it is JSON (whatever the contract says of it)."""
    import json

    try:
        json.loads(raw)
    except UnicodeDecodeError as err:
        return Failure(f"{source} is not UTF-8 text (byte {err.start})",
                       ExitCode.INPUT_UNREADABLE)
    except json.JSONDecodeError as err:
        return Failure(f"{source} is not JSON: line {err.lineno}, column {err.colno}: "
                       f"{err.msg}", ExitCode.INPUT_UNREADABLE)
    except RecursionError:
        return None  # nested deeper than Python parses: the contract's check words it
    return None


def migrate_hint(contract: ModelContract, model_id: str, raw: bytes, source: str) -> list[str]:
    """Where an SDXL 1.0 body was sent to another model, how to move it (``sdxl migrate``)."""
    from bedrock_contract import InvalidRequestBody, check_request
    from sdxl_adapter.models import is_sdxl, sdxl_contract

    if is_sdxl(contract):
        return []
    try:
        check_request(sdxl_contract(), raw)
    except InvalidRequestBody:
        return []
    return [f"{source} is a Stable Diffusion XL 1.0 body: `sdxl migrate {source} --to "
            f"{model_id}` rewrites it for {contract.name}"]
