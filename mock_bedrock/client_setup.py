"""What a client needs to call a served mock from a machine with no AWS set-up: the
endpoint, a region and (unless signatures are checked) placeholder credentials, as the
shell lines ``mock-bedrock serve`` prints under its URL, and what a client of its admin API
needs (a token, where it asks for one). The in-process door fills the same gaps with the
same values."""

from __future__ import annotations

from collections.abc import Iterable

ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"
# The control plane's (GetFoundationModel, ListFoundationModels: the models' lifecycle).
CONTROL_PLANE_VARIABLE = "AWS_ENDPOINT_URL_BEDROCK"
REGION = "us-east-1"
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
# The mock accepts any signature, or none, unless --strict-credentials is given.
PLACEHOLDER_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


def setup_lines(url: str, *, all_interfaces: bool = False,
                strict_keys: Iterable[str] | None = None) -> list[str]:
    """Shell lines (comments and exports, pasteable as a block) for a client of ``url``.
    ``strict_keys``: the access key ids the mock checks signatures against, if it does."""
    lines = []
    if all_interfaces:
        lines.append("# Listening on all interfaces: clients on this machine use the URL "
                     "above, others this machine's address.")
    lines.append("# For a client on a machine with no AWS set-up, paste:")
    keys = list(strict_keys) if strict_keys is not None else None
    if keys:
        lines.append("# --strict-credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                     f"to one of the pairs given (keys: {', '.join(keys)}).")
    else:
        lines.append("# The key and secret are placeholders: the mock accepts any.")
    lines += [f"export {name}={url}" for name in (ENDPOINT_VARIABLE, CONTROL_PLANE_VARIABLE)]
    lines += [f"export {name}={REGION}" for name in REGION_VARIABLES]
    if not keys:
        lines += [f"export {name}={value}" for name, value in PLACEHOLDER_CREDENTIALS.items()]
    return lines


ADMIN_TOKEN_VARIABLE = "MOCK_BEDROCK_ADMIN_TOKEN"
ADMIN_PATHS = "/_mock/faults, /_mock/journal"


def admin_lines(token: str | None, *, given: bool, open_: bool) -> list[str]:
    """Shell lines for a client of the admin API: the token in force (exported when the
    server made it; one given by the user is not repeated), or that the API is open."""
    if open_:
        return [f"# The admin API ({ADMIN_PATHS}) is open to every client (--admin-open)."]
    if token is None:
        return []
    if given:
        return [f"# The admin API ({ADMIN_PATHS}) needs 'Authorization: Bearer TOKEN', "
                f"TOKEN as given (--admin-token or {ADMIN_TOKEN_VARIABLE})."]
    return [f"# The admin API ({ADMIN_PATHS}) needs 'Authorization: Bearer "
            f"${ADMIN_TOKEN_VARIABLE}' (/_mock/health does not), with the token made for this run:",
            f"export {ADMIN_TOKEN_VARIABLE}={token}"]
