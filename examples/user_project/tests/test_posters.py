"""The project's own tests: only the mock's pytest fixtures, no AWS account, no network."""

from __future__ import annotations

import io
from typing import Any

import posters
import pytest
from PIL import Image

from mock_bedrock.service.faults import FaultRule


def test_a_poster_is_a_portrait_png(bedrock_runtime: Any) -> None:
    poster = posters.draw_poster("Lisbon", client=bedrock_runtime)
    image = Image.open(io.BytesIO(poster.png))
    assert (image.format, image.size) == ("PNG", posters.POSTER_SIZE)


def test_the_request_carries_the_house_style(mock_bedrock: Any, bedrock_runtime: Any) -> None:
    posters.draw_poster("Lisbon", client=bedrock_runtime)
    [call] = mock_bedrock.journal.entries()
    assert call.status == 200
    assert call.body["prompt"].startswith(posters.STYLE)
    assert call.body["negative_prompt"] == "lettering, watermark"


def test_the_same_seed_draws_the_same_poster(bedrock_runtime: Any) -> None:
    first = posters.draw_poster("Porto", seed=1234, client=bedrock_runtime)
    again = posters.draw_poster("Porto", seed=1234, client=bedrock_runtime)
    assert first.seed == again.seed == 1234
    assert first.png == again.png


def test_seed_zero_reports_the_seed_the_service_picked(bedrock_runtime: Any) -> None:
    assert posters.draw_poster("Faro", client=bedrock_runtime).seed != 0


def test_a_throttled_call_is_retried(mock_bedrock: Any, bedrock_runtime: Any) -> None:
    mock_bedrock.faults.add(FaultRule(error="ThrottlingException", times=1))
    posters.draw_poster("Braga", client=bedrock_runtime)
    outcomes = [call.outcome for call in mock_bedrock.journal.entries()]
    assert outcomes == ["ThrottlingException", "success"]


def test_a_filtered_poster_is_refused(mock_bedrock: Any, bedrock_runtime: Any) -> None:
    mock_bedrock.faults.add(FaultRule(finish_reason="Filter reason: prompt"))
    with pytest.raises(posters.PosterRefused, match="Filter reason: prompt"):
        posters.draw_poster("Sintra", client=bedrock_runtime)


def test_the_projects_own_client_reaches_the_mock_server(
    mock_bedrock_server: Any, mock_bedrock_endpoint: str
) -> None:
    poster = posters.draw_poster("Coimbra")  # boto3 finds the endpoint in the environment
    [call] = mock_bedrock_server.journal.entries()
    assert call.seed == poster.seed


# The old SDXL path, as of dates around its end of life (2025-05-20). The call answered
# before it is one Bedrock refuses today: the plugin adds an EndOfLifeWarning to that test,
# naming the model, the date and the replacement.


@pytest.mark.mock_bedrock_as_of("2025-05-19")
def test_the_legacy_path_drew_posters_before_sdxls_end_of_life(bedrock_runtime: Any) -> None:
    poster = posters.draw_legacy_poster("Evora", client=bedrock_runtime)
    assert Image.open(io.BytesIO(poster.png)).size == posters.POSTER_SIZE


@pytest.mark.mock_bedrock_as_of("2025-05-20")
def test_after_it_the_legacy_path_says_what_to_use(bedrock_runtime: Any) -> None:
    moved = r"end of its life.*Use stability\.stable-image-core-v1:1"
    with pytest.raises(posters.ModelRetired, match=moved):
        posters.draw_legacy_poster("Evora", client=bedrock_runtime)
