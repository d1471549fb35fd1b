"""Finding calls in the journal (Python and ``GET /_mock/journal?...``), asserting on them
with the nearest calls shown when none matches, the admin API's own index (``GET /_mock``)
and the mock's date changed while it runs (``PUT /_mock/date``)."""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

import pytest
from botocore.exceptions import ClientError

from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.journal_query import JournalQuery
from tests.support.doors import Door
from tests.support.http_json import call_json

CORE = "stability.stable-image-core-v1:1"
CORE_ARN = f"arn:aws:bedrock:us-east-1::foundation-model/{CORE}"
SD35 = "stability.sd3-5-large-v1:0"
SDXL = "stability.stable-diffusion-xl-v1"
JSON = "application/json"


def invoke(client: Any, model_id: str, body: dict[str, Any]) -> str | None:
    """The call's error code (None: answered)."""
    try:
        client.invoke_model(modelId=model_id, body=json.dumps(body), contentType=JSON,
                            accept=JSON)["body"].read()
    except ClientError as err:
        return str(err.response["Error"]["Code"])
    return None


@pytest.fixture
def three_calls(door: Door, client: Any) -> tuple[float, float]:
    """A fox on Core (seed 7), a cat on SD3.5, a refused Core body; the times around them."""
    before = time.time()
    assert invoke(client, CORE, {"prompt": "a red fox", "seed": 7}) is None
    assert invoke(client, SD35, {"prompt": "a cat", "seed": 8}) is None
    assert invoke(client, CORE, {"prompt": "a fox", "seed": -1}) == "ValidationException"
    return before, time.time()


def test_calls_are_found_by_model_prompt_fields_outcome_and_time(
    door: Door, three_calls: tuple[float, float]
) -> None:
    journal = door.app.journal
    before, after = three_calls
    by_arn = journal.find(model_id=CORE_ARN)  # any id of the model finds its calls
    assert [entry.body["seed"] for entry in by_arn] == [7, -1]
    assert [entry.body["prompt"] for entry in journal.find(prompt="fox")] == ["a red fox",
                                                                              "a fox"]
    assert [entry.model_id for entry in journal.find(fields={"/seed": 8})] == [SD35]
    assert [entry.status for entry in journal.find(outcome="ValidationException")] == [400]
    assert len(journal.find(since=before, until=after)) == 3
    assert journal.find(since=after + 1) == []
    [found] = journal.assert_called(JournalQuery(model_id=CORE, fields={"seed": 7}), times=1)
    assert found.outcome == "success"


def test_a_failed_assertion_shows_the_nearest_calls_and_what_each_missed(
    door: Door, three_calls: tuple[float, float]
) -> None:
    with pytest.raises(AssertionError) as failed:
        door.app.journal.assert_called(model_id=CORE, prompt="a red fox", fields={"seed": 9})
    lines = str(failed.value).splitlines()
    assert lines[0] == ("expected at least one call matching model_id "
                        "'stability.stable-image-core-v1:1', prompt 'a red fox', seed = 9; "
                        "found 0 among 3 journaled")
    # Nearest first: the fox missed only the seed; the refused fox the prompt and the seed.
    assert "missed seed = 9 (was 7)" in lines[1]
    assert "missed prompt containing 'a red fox' (was 'a fox'); seed = 9 (was -1)" in lines[2]
    assert len(lines) == 4
    with pytest.raises(AssertionError, match="expected 2 call"):
        door.app.journal.assert_called(prompt="fox", times=2, outcome="success")


def test_true_is_not_1_in_a_field_criterion(door: Door, client: Any) -> None:
    assert invoke(client, CORE, {"prompt": "a fox", "seed": 1}) is None
    assert door.app.journal.find(fields={"seed": True}) == []
    assert len(door.app.journal.find(fields={"seed": 1})) == 1


# --- over HTTP ------------------------------------------------------------------------------


def get(url: str) -> tuple[int, Any]:
    return call_json(url)


def put(url: str, data: Any, content_type: str = JSON) -> tuple[int, Any]:
    return call_json(url, "PUT", data, content_type)


@pytest.mark.parametrize("door", ["server"], indirect=True)
def test_the_journal_endpoint_takes_the_criteria_in_its_query_string(
    door: Door, three_calls: tuple[float, float]
) -> None:
    base = f"{door.endpoint_url}/_mock/journal?"
    status, found = get(base + urllib.parse.urlencode({"model_id": CORE_ARN,
                                                       "field.seed": "7"}))
    assert status == 200
    assert [entry["body"]["prompt"] for entry in found["entries"]] == ["a red fox"]
    assert "near_misses" not in found
    status, missed = get(base + urllib.parse.urlencode({"prompt": "a dog"}))
    assert (status, missed["entries"]) == (200, [])
    assert [near["missed"] for near in missed["near_misses"]] == [
        ["prompt containing 'a dog' (was 'a red fox')"],
        ["prompt containing 'a dog' (was 'a cat')"],
        ["prompt containing 'a dog' (was 'a fox')"],
    ]
    assert get(base + "modelid=x") == (400, {"message": (
        "unknown criterion 'modelid' (did you mean 'model_id'?); known: model_id, operation, "
        "outcome, prompt, status, since, until, field.<name or /pointer>")})
    assert get(base + "status=teapot") == (400, {"message": "status must be a number, "
                                                            "got 'teapot'"})


def test_the_admin_index_lists_every_endpoint(mock_bedrock_server: MockServer) -> None:
    status, index = get(f"{mock_bedrock_server.endpoint_url}/_mock")
    assert status == 200
    listed = {(e["method"], e["path"]) for e in index["endpoints"]}
    assert {("GET", "/_mock/health"), ("POST", "/_mock/faults"), ("DELETE", "/_mock/journal"),
            ("PUT", "/_mock/date")} <= listed
    for method, path in listed:  # each is answered (not 404 or 405)
        if method == "GET":
            assert get(f"{mock_bedrock_server.endpoint_url}{path}")[0] == 200, path


def test_the_date_changes_while_the_server_runs(mock_bedrock_server: MockServer,
                                                mock_bedrock_endpoint: str) -> None:
    url = f"{mock_bedrock_server.endpoint_url}/_mock/date"
    client = Door("server", mock_bedrock_server.app, mock_bedrock_server.endpoint_url).client()
    assert get(url) == (200, {"as_of": None})
    assert put(url, {"as_of": "2025-05-20"}) == (200, {"as_of": "2025-05-20"})
    assert invoke(client, SDXL, {"text_prompts": [{"text": "a fox"}]}) == (
        "ResourceNotFoundException")  # SDXL 1.0's end of life
    assert put(url, {"as_of": "2025-05-19"}) == (200, {"as_of": "2025-05-19"})
    assert invoke(client, SDXL, {"text_prompts": [{"text": "a fox"}]}) is None
    assert mock_bedrock_server.app.as_of is not None
    assert put(url, {"as_of": None}) == (200, {"as_of": None})
    assert put(url, {"as_of": "2025-13-01"})[0] == 400
    assert put(url, {"date": "2025-01-01"})[0] == 400
    assert put(url, {"as_of": "2025-01-01"}, content_type="text/plain")[0] == 415
    assert get(url) == (200, {"as_of": None})
    client.close()

