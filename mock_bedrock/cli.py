"""``mock-bedrock``: run the mock Bedrock Runtime on a port.

The mock itself (the app, the server, the recorder) is imported when ``serve`` runs:
``mock-bedrock --help`` needs only the options' defaults.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bedrock_contract import ContractFileError, default_catalogue, parse_as_of
from bedrock_contract.printable import printable
from bedrock_contract.version import __version__
from mock_bedrock.client_setup import ADMIN_TOKEN_VARIABLE, admin_lines, setup_lines
from mock_bedrock.doors.cors import origin_of
from mock_bedrock.doors.limits import MAX_CONNECTIONS
from mock_bedrock.service.journal import DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES

if TYPE_CHECKING:
    from mock_bedrock.service.app import MockBedrock, WSGIApplication


def _origins(ctx: click.Context, param: click.Parameter,
             value: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return tuple(map(origin_of, value))
    except ValueError as err:
        raise click.BadParameter(str(err)) from None


def _as_of(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return parse_as_of(value)
    except ValueError as err:
        raise click.BadParameter(str(err), ctx=ctx, param=param) from None


# A Bearer token's characters (RFC 6750 2.1, b64token), so the header it goes in is valid.
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def _admin_token(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    if not _TOKEN.fullmatch(value):
        raise click.BadParameter("a token is letters, digits and - . _ ~ + / (then any '='), "
                                 "as an Authorization: Bearer header takes it", ctx=ctx,
                                 param=param)
    return value


def _credential_pair(ctx: click.Context, param: click.Parameter,
                     values: tuple[str, ...]) -> dict[str, str] | None:
    if not values:
        return None
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, secret = value.partition(":")
        if not sep or not key or not secret:
            raise click.BadParameter(f"{value!r} is not KEY:SECRET", ctx=ctx, param=param)
        pairs[key] = secret
    return pairs


class _ModelsGroup(click.Group):
    """The group, whose help ends with the model families served (read from the catalogue
    when help is asked for, not at every start)."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_help_text(ctx, formatter)
        with formatter.section("Models (each family's newest id; --as-of DATE serves a "
                               "model only in its lifetime)"):
            # One line each, unwrapped: an id is for copying whole.
            for contract in default_catalogue():
                formatter.write(f"{'':{formatter.current_indent}}{contract.invocation_id}  "
                                f"({contract.name})\n")


@click.group(cls=_ModelsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="mock-bedrock")
def main() -> None:
    """A local Amazon Bedrock Runtime for the image models Bedrock serves and has served
    (listed below).

    Real AWS clients (boto3, the AWS CLI, other SDKs) call it unchanged, by pointing their
    endpoint at it, e.g. AWS_ENDPOINT_URL_BEDROCK_RUNTIME=http://127.0.0.1:8787
    """
    try:
        default_catalogue()  # a contract folder that cannot be read: one line, its file named
    except ContractFileError as err:
        raise click.ClickException(str(err)) from None


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 or :: exposes the mock to the network).")
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port; 0 picks a free one (the first line of output names it).")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Also answer requests sent to this host name (repeatable; '*': any). "
                   "It answers to its own address and loopback names (bound to 0.0.0.0 or "
                   "::, any IP address) and refuses others: a web page could otherwise "
                   "reach it by DNS rebinding.")
@click.option("--cors-origin", "cors_origins", multiple=True, metavar="ORIGIN",
              callback=_origins,
              help="Let web pages of this origin (e.g. http://localhost:3000) call the "
                   "models: their preflights are answered, and the answers readable "
                   "(repeatable). The admin endpoints never answer a page; other origins "
                   "are refused.")
@click.option("--max-connections", default=MAX_CONNECTIONS, show_default=True,
              type=click.IntRange(min=1),
              help="Connections served at once; past it the longest-idle one is closed, "
                   "or the newcomer is answered 503.")
@click.option("--admin-token", envvar=ADMIN_TOKEN_VARIABLE, show_envvar=True, metavar="TOKEN",
              callback=_admin_token,
              help="The token admin calls (/_mock/faults, /_mock/journal) must send, as "
                   "'Authorization: Bearer TOKEN'; needed on any address then, loopback "
                   "included. Without it, a token is made and printed where the admin API "
                   "needs one: on any --host but loopback, and with --strict-credentials.")
@click.option("--admin-open", is_flag=True,
              help="The admin API without a token on any --host: whoever reaches the port "
                   "may read the journal (every prompt) and set faults.")
@click.option("--faults", "faults_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="JSON file with a list of fault rules to start with.")
@click.option("--strict-credentials", "credentials", multiple=True, metavar="KEY:SECRET",
              callback=_credential_pair,
              help="Check SigV4 signatures against these access keys (repeatable); without "
                   "it any signature, or none, is accepted.")
@click.option("--as-of", "as_of", metavar="DATE", callback=_as_of,
              help="Answer each model as Bedrock did on DATE (YYYY-MM-DD, or 'today'): "
                   "unknown before its release, ResourceNotFoundException after its end of "
                   "life. Default: serve every model, retired ones included.")
@click.option("--journal-max-entries", default=DEFAULT_MAX_ENTRIES, show_default=True,
              type=click.IntRange(min=1),
              help="Calls the journal keeps (/_mock/journal); the oldest go first, counted.")
@click.option("--journal-max-bytes", default=DEFAULT_MAX_BYTES, show_default=True,
              type=click.IntRange(min=1),
              help="Bytes of bodies the journal keeps, about.")
@click.option("--log-requests", is_flag=True,
              help="Log one line per call to stderr: time, operation, model, status, error "
                   "code, fault rules fired, request id, milliseconds (off by default: it "
                   "costs latency).")
@click.option("--record", "record_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Forward every call on a model the mock knows to real Bedrock "
                   "(--upstream), re-signed with this process's AWS credentials, and store "
                   "each answer as a cassette in this directory (other model ids are refused "
                   "as unknown). Anyone who can reach the port spends your credentials: "
                   "--host stays on loopback unless --record-on-network is given; "
                   "--strict-credentials makes callers sign.")
@click.option("--record-on-network", is_flag=True,
              help="With --record: allow a --host other than loopback (anyone who can reach "
                   "the port spends your AWS money; add --strict-credentials).")
@click.option("--upstream", metavar="URL",
              help="With --record: where to forward (default: Bedrock Runtime in --region).")
@click.option("--region", help="With --record: the region of the default upstream and of the "
                               "signature (default: the AWS configuration's, else us-east-1).")
@click.option("--replay", "replay_dir", type=click.Path(exists=True, file_okay=False,
              path_type=Path), help="Answer calls from the cassettes in this directory; a "
                                    "call with no cassette is a CassetteNotFoundException.")
@click.option("--replay-fallthrough", is_flag=True,
              help="With --replay: answer calls with no cassette from the placeholder mock.")
def serve(host: str, port: int, allow_hosts: tuple[str, ...], cors_origins: tuple[str, ...],
          max_connections: int,
          admin_token: str | None, admin_open: bool, faults_file: Path | None,
          credentials: dict[str, str] | None, as_of: dt.date | None,
          journal_max_entries: int, journal_max_bytes: int, log_requests: bool,
          record_dir: Path | None, record_on_network: bool,
          upstream: str | None, region: str | None, replay_dir: Path | None,
          replay_fallthrough: bool) -> None:
    """Serve the mock over HTTP/1.1 and HTTP/2 (cleartext, prior knowledge).

    The first line printed is the endpoint URL; under it, the shell lines that point a
    client with no AWS set-up at it. Stops cleanly on Ctrl-C or SIGTERM.
    """
    from mock_bedrock.doors.allocator import map_large_blocks
    from mock_bedrock.doors.server import MockServer

    if admin_token is not None and admin_open:
        raise click.UsageError("--admin-token and --admin-open exclude each other")
    map_large_blocks()
    if record_dir is not None and not record_on_network:
        _refuse_recording_on_network(host)
    if record_on_network and record_dir is None:
        raise click.UsageError("--record-on-network goes with --record")
    journal = (journal_max_entries, journal_max_bytes)
    app = _app(faults_file, credentials, as_of, journal, record_dir, upstream, region,
               replay_dir, replay_fallthrough)
    server = MockServer(app, host=host, port=port, log_requests=log_requests,
                        allow_hosts=allow_hosts, cors_origins=cors_origins,
                        max_connections=max_connections,
                        admin_token=admin_token, admin_open=admin_open)
    with _stop_signals_held():
        try:
            server.start()
        except OSError as err:
            raise click.ClickException(
                printable(f"cannot listen on {host}:{port}: {err.strerror}")) from None
        try:
            click.echo(server.endpoint_url)  # the first line: scripts read the URL from it
            for line in setup_lines(server.endpoint_url, all_interfaces=server.all_interfaces,
                                    strict_keys=credentials):
                click.echo(line)
            for line in admin_lines(server.admin_token, given=admin_token is not None,
                                    open_=admin_open):
                click.echo(line)
            sys.stdout.flush()
            _wait_for_stop_signal()
        finally:
            server.stop()


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# POSIX: stop signals blocked and taken with sigwait. Windows has neither call; there
# Ctrl-C interrupts the main thread's sleep.
_SIGWAIT = hasattr(signal, "sigwait") and hasattr(signal, "pthread_sigmask")


@contextlib.contextmanager
def _stop_signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM blocked in this thread, and so in every thread started in the block:
    they stay pending until :func:`_wait_for_stop_signal` takes one. Waiting with ``sigwait``
    rather than a handler and a sleep, no stop is lost: a handler's flag raised just before
    the main thread enters its sleep is acted on when the sleep ends, an hour later (a CI
    run met such a server). One left pending at the end (a second Ctrl-C) is discarded."""
    if not _SIGWAIT:
        yield
        return
    handlers = {sig: signal.signal(sig, signal.SIG_DFL) for sig in STOP_SIGNALS}  # not ignored
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)  # discards a pending one (POSIX)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def _wait_for_stop_signal() -> None:
    if _SIGWAIT:
        signal.sigwait(STOP_SIGNALS)
        return
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            time.sleep(3600)


def _refuse_recording_on_network(host: str) -> None:
    """--record listens on loopback only, unless --record-on-network says otherwise: the
    recorder signs what it forwards with the user's AWS credentials."""
    if _is_loopback(host):
        return
    raise click.UsageError(
        f"--record with --host {printable(host)}: anyone who can reach the port could make "
        "calls on Bedrock signed with your AWS credentials, and spend your AWS money. Keep "
        "--host on loopback (127.0.0.1), or add --record-on-network to allow it (with "
        "--strict-credentials KEY:SECRET, so only callers who know a key are forwarded)."
    )


def _is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is a loopback one (an address is its own; a name
    is looked up, and one that cannot be is not known to be loopback)."""
    from mock_bedrock.doors.guard import is_loopback

    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    return bool(found) and all(is_loopback(str(info[4][0])) for info in found)


def _mock(faults_file: Path | None, credentials: dict[str, str] | None,
          as_of: dt.date | None, journal: tuple[int, int]) -> MockBedrock:
    from mock_bedrock.service.app import MockBedrock
    from mock_bedrock.service.faults import FaultRuleError

    app = MockBedrock(credentials=credentials, as_of=as_of,
                      journal_max_entries=journal[0], journal_max_bytes=journal[1])
    if faults_file is not None:
        try:
            app.faults.load_file(faults_file)
        except FaultRuleError as err:
            # The file's own words (a rule's name, a pattern) are quoted: shown escaped.
            raise click.BadParameter(printable(str(err)), param_hint="--faults") from None
    return app


def _app(faults_file: Path | None, credentials: dict[str, str] | None, as_of: dt.date | None,
         journal: tuple[int, int], record_dir: Path | None, upstream: str | None,
         region: str | None, replay_dir: Path | None,
         replay_fallthrough: bool) -> WSGIApplication:
    """The placeholder mock, or a recorder or replayer in front of it, as the options say."""
    import botocore.session

    from mock_bedrock.testing.recorder import bedrock_url, recording_app, replaying_app

    if record_dir is not None and replay_dir is not None:
        raise click.UsageError("--record and --replay exclude each other")
    if (upstream or region) and record_dir is None:
        raise click.UsageError("--upstream and --region go with --record")
    if replay_fallthrough and replay_dir is None:
        raise click.UsageError("--replay-fallthrough goes with --replay")
    if record_dir is not None:
        if faults_file is not None or as_of is not None:
            raise click.UsageError("--faults and --as-of do not apply to --record")
        region = region or botocore.session.get_session().get_config_variable("region")
        try:
            return recording_app(upstream or bedrock_url(region or "us-east-1"), record_dir,
                                 region=region, caller_credentials=credentials)
        except ValueError as err:  # no AWS credentials to sign the forwarded calls with
            raise click.ClickException(str(err)) from None
    if replay_dir is not None:
        fallthrough = (_mock(faults_file, credentials, as_of, journal)
                       if replay_fallthrough else None)
        return replaying_app(replay_dir, fallthrough)
    return _mock(faults_file, credentials, as_of, journal)


if __name__ == "__main__":
    main()
