"""The control plane's view of the catalogue: ``bedrock`` ``GetFoundationModel`` and
``ListFoundationModels``, answered as of the mock's date, so that code which checks a model's
lifecycle at start-up (as AWS recommends) can be tested against the same mock it calls.

What each summary says comes from the contract folders: the profile's name and provider, the
modalities (an image input where the request schema has an image field), the inference types
(``INFERENCE_PROFILE`` where the model has no in-Region endpoint) and the lifecycle dates.
Shapes as botocore's ``bedrock`` model states them; what the service was seen to send:

- image models carry no ``responseStreamingSupported`` key (``list-foundation-models``
  outputs for Titan Image Generator and SDXL, 2023-2024);
- an active model's ``modelLifecycle`` gives ``status`` and ``startOfLifeTime`` only; a legacy
  one adds ``legacyTime``, ``publicExtendedAccessTime`` and ``endOfLifeTime`` (a 2026-09
  ``get-foundation-model`` of a legacy and an active Claude model);
- a model past its end of life is no longer listed (AWS drops it from its pages and lists).

Ours, for want of evidence: ``GetFoundationModel`` of an id the service does not know (or no
longer has) answers ``ResourceNotFoundException`` with the words below; filters compare
providers without regard to case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from bedrock_contract import Catalogue, ModelContract, ModelVersion
from bedrock_contract.lifecycle import EOL, LEGACY, NOT_YET
from mock_bedrock.service.errors import BedrockError

NOT_FOUND = "Could not find model with identifier {model_id}"  # ours (see the docstring)
ARN = "arn:aws:bedrock:{region}::foundation-model/{model_id}"


def _time(day: dt.date | None) -> str | None:
    # botocore reads these members as ISO 8601 timestamps.
    return None if day is None else f"{day.isoformat()}T00:00:00Z"


def lifecycle(version: ModelVersion, day: dt.date) -> dict[str, str] | None:
    """``modelLifecycle`` on ``day``; None when the model is not offered then."""
    state = version.lifecycle.state_on(day)
    if state == NOT_YET:
        return None
    life = version.lifecycle
    found = {"status": "ACTIVE" if state not in (LEGACY, EOL) else "LEGACY",
             "startOfLifeTime": _time(life.released)}
    if found["status"] == "LEGACY":
        found.update(endOfLifeTime=_time(life.eol), legacyTime=_time(life.legacy),
                     publicExtendedAccessTime=_time(life.extended_access))
    return {key: value for key, value in found.items() if value is not None}


def summary(contract: ModelContract, version: ModelVersion, region: str,
            model_lifecycle: Mapping[str, str]) -> dict[str, Any]:
    """One ``FoundationModelSummary`` (and ``FoundationModelDetails``: the same members)."""
    inputs = ["TEXT", "IMAGE"] if contract.image_fields else ["TEXT"]
    return {
        "modelArn": ARN.format(region=region, model_id=version.id),
        "modelId": version.id,
        "modelName": contract.name,
        "providerName": contract.provider,
        "inputModalities": inputs,
        "outputModalities": ["IMAGE"],
        "customizationsSupported": [],
        "inferenceTypesSupported": ["ON_DEMAND" if contract.in_region else "INFERENCE_PROFILE"],
        "modelLifecycle": dict(model_lifecycle),
    }


class FoundationModels:
    """The two operations over a catalogue, as of ``as_of`` (None: today, with every
    version the schemas describe offered, as the mock serves them all)."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def _offered(self, as_of: dt.date | None) -> Iterator[tuple[ModelContract, ModelVersion,
                                                                  dict[str, str]]]:
        day = as_of or dt.date.today()
        for contract, version in self.catalogue.versions():
            if not version.described and as_of is None:
                continue
            found = lifecycle(version, day)
            if found is None or (as_of is not None and version.lifecycle.state_on(day) == EOL):
                continue
            yield contract, version, found

    def get(self, identifier: str, region: str, as_of: dt.date | None) -> dict[str, Any]:
        """``GetFoundationModel``: by id or foundation-model ARN."""
        found = self.catalogue.find(identifier)
        for contract, version, model_lifecycle in self._offered(as_of):
            if found is not None and version == found.version and not found.through_profile:
                return {"modelDetails": summary(contract, version, region, model_lifecycle)}
        raise BedrockError("ResourceNotFoundException", NOT_FOUND.format(model_id=identifier))

    def list(self, query: Mapping[str, str], region: str, as_of: dt.date | None
             ) -> dict[str, Any]:
        """``ListFoundationModels`` with its filters."""
        summaries = [summary(c, v, region, life) for c, v, life in self._offered(as_of)]
        wanted = {
            "providerName": query.get("byProvider"),
            "outputModalities": query.get("byOutputModality"),
            "inferenceTypesSupported": query.get("byInferenceType"),
            "customizationsSupported": query.get("byCustomizationType"),
        }
        return {"modelSummaries": [s for s in summaries if _matches(s, wanted)]}


def _matches(found: Mapping[str, Any], wanted: Mapping[str, str | None]) -> bool:
    for member, value in wanted.items():
        if value is None:
            continue
        have = found[member]
        if isinstance(have, list) and value not in have:
            return False
        if isinstance(have, str) and have.casefold() != value.casefold():
            return False
    return True
