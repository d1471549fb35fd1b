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
    assert call.body["style_preset"] == posters.STYLE
    assert call.body["text_prompts"][1]["weight"] < 0  # the negative prompt


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
    assert outcomes == ["ThrottlingException", "SUCCESS"]


def test_a_filtered_poster_is_refused(mock_bedrock: Any, bedrock_runtime: Any) -> None:
    mock_bedrock.faults.add(FaultRule(finish_reason="CONTENT_FILTERED"))
    with pytest.raises(posters.PosterRefused, match="CONTENT_FILTERED"):
        posters.draw_poster("Sintra", client=bedrock_runtime)


def test_the_projects_own_client_reaches_the_mock_server(
    mock_bedrock_server: Any, mock_bedrock_endpoint: str
) -> None:
    poster = posters.draw_poster("Coimbra")  # boto3 finds the endpoint in the environment
    [call] = mock_bedrock_server.journal.entries()
    assert call.seed == poster.seed
