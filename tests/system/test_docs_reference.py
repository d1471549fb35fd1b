"""docs/mock-reference.md against the code: every admin endpoint, fault-rule field, journal
entry field and cassette field has its row, and no row names one that does not exist."""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

from mock_bedrock.service.admin import AdminEndpoints
from mock_bedrock.service.app import CLIENT_DISCONNECTED, STUBBED, DropConnection
from mock_bedrock.service.faults import FaultRule, FaultSet
from mock_bedrock.service.journal import Journal, JournalEntry
from mock_bedrock.service.models import ModelTable
from mock_bedrock.testing.cassettes import Cassette
from tests.support.paths import REPO

PAGE = (REPO / "docs" / "mock-reference.md").read_text()


def table(heading: str) -> list[list[str]]:
    """The rows (cells, backticks dropped) of the first table under ``## heading``."""
    section = PAGE.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip().strip("`") for cell in row.strip("|").split("|")]
            for row in rows[2:]]  # past the head and its rule


def test_every_admin_endpoint_has_its_row() -> None:
    admin = AdminEndpoints(FaultSet(), Journal(), ModelTable())
    served = {(method, f"/_mock/{path}".rstrip("/")) for path, method, _, _ in admin.routes()}
    assert {(row[0], row[1]) for row in table("Admin API")} == served


def test_every_fault_rule_field_has_its_row() -> None:
    assert [row[0] for row in table("Fault rules and stubs")] == [
        f.name for f in fields(FaultRule)]


def test_every_journal_field_and_outcome_is_documented() -> None:
    kept = [f.name for f in fields(JournalEntry) if f.name not in ("raw_body", "epoch")]
    assert [row[0] for row in table("Journal entries")] == kept
    for outcome in ("success", STUBBED, CLIENT_DISCONNECTED, DropConnection.outcome):
        assert f"`{outcome}`" in PAGE


def flattened(data: dict[str, Any], prefix: str = "") -> list[str]:
    names = []
    for key, value in data.items():
        if isinstance(value, dict) and key in ("request", "response"):
            names += flattened(value, f"{key}.")
        else:
            names.append(prefix + key)
    return names


def test_every_cassette_field_has_its_row() -> None:
    made = Cassette(key="k", operation="InvokeModel", model_id="m", request_headers={},
                    request_body=b"{}", status=200).to_json()
    assert [row[0] for row in table("Cassettes")] == flattened(made)


def test_the_page_is_linked_from_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    assert re.search(r"\]\(docs/mock-reference\.md\)", readme)
