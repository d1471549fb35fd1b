"""Which model a call names, as the service answers it: the catalogue's contract and the
engine that draws for it, or the service's refusal of the id (unknown, or past its end of
life on the mock's date)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from bedrock_contract import Catalogue, ModelContract, ModelRefused, default_catalogue
from bedrock_contract.retired import RetiredCall, retired_call
from mock_bedrock.engines import Engine, default_engines
from mock_bedrock.service.errors import BedrockError

# The one body type these models read and write (Content-Type, Accept).
MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class ServedModel:
    contract: ModelContract
    model_id: str  # the version's plain id, also when the call named it by profile or ARN
    engine: Engine
    # Set when the model is past its end of life today and served anyway (the mock's date,
    # or no date, allows it): the call log, the journal and the pytest plugin flag it.
    retired: RetiredCall | None = None


class ModelTable:
    """The catalogue as one mock serves it: on ``as_of`` (None: every described model,
    whatever its lifecycle), each family drawn by the engine its profile names."""

    def __init__(
        self,
        catalogue: Catalogue | None = None,
        *,
        as_of: dt.date | None = None,
        engines: Mapping[str, Engine] | None = None,
    ) -> None:
        self.catalogue = catalogue or default_catalogue()
        self.as_of = as_of
        self.engines = {**default_engines(), **(engines or {})}
        for contract in self.catalogue:
            if contract.engine not in self.engines:
                raise ValueError(
                    f"{contract.folder}: engine {contract.engine!r} is not one of "
                    f"{', '.join(sorted(self.engines))}"
                )

    def resolve(self, model_id: str) -> ServedModel:
        """The model ``model_id`` (an id, profile id or ARN) names, or the service's
        error for it."""
        try:
            found = self.catalogue.resolve(model_id, self.as_of)
        except ModelRefused as refused:
            raise BedrockError(refused.error, refused.message) from None
        contract = found.contract
        return ServedModel(contract, found.version.id, self.engines[contract.engine],
                           retired_call(found))
