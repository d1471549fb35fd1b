"""The catalogue: every model folder, and which contract a model id names on a given date.

A model id reaches the service as a plain id, a cross-region inference-profile id
(``us.<id>``), or an ARN of either (``...:foundation-model/<id>``,
``...:inference-profile/us.<id>``); all name the same model. The service's words for ids it
will not serve are in ``schemas/service.json``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any, NamedTuple

from bedrock_contract.contract import ModelContract, RefusalFrame
from bedrock_contract.invoke_parameters import Offered, ParameterRefusal, offered_from_json
from bedrock_contract.lifecycle import EOL, NOT_YET, ModelVersion
from bedrock_contract.loader import SERVICE, model_folders, read_json, schemas_dir


class ModelRefusal(NamedTuple):
    """How the service refuses a model id or a call: an error code and its message."""

    error: str
    message: str


class ModelRefused(Exception):
    """The service would not serve this model id (unknown, or past its end of life)."""

    def __init__(self, refusal: ModelRefusal, model_id: str) -> None:
        super().__init__(refusal.message)
        self.error, self.message, self.model_id = refusal.error, refusal.message, model_id


@dataclass(frozen=True)
class ServiceWords:
    unknown_model: ModelRefusal
    end_of_life: ModelRefusal
    streaming_unsupported: ModelRefusal
    on_demand_unsupported: ModelRefusal  # its message names the id: {model_id}
    frame: RefusalFrame
    geographies: tuple[str, ...]
    field_detail: str  # how a model words a field outside its list (field_check.py)
    offered_data: Mapping[str, Any]  # service.json's invoke_parameters, read by ``offered``
    parameter_refusals: Mapping[str, ParameterRefusal]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServiceWords:
        def refusal(name: str) -> ModelRefusal:
            return ModelRefusal(data[name]["error"], data[name]["message"])

        frame = data["refusal_frame"]
        return cls(
            refusal("unknown_model"),
            refusal("end_of_life"),
            refusal("streaming_unsupported"),
            refusal("on_demand_unsupported"),
            RefusalFrame(frame["prefix"], frame["separator"], frame["suffix"]),
            tuple(data["geographies"]),
            data["field_check"]["detail"],
            data["invoke_parameters"],
            {member: ParameterRefusal.from_json(words)
             for member, words in data["invoke_parameter_refusals"].items()
             if not member.startswith("$")},
        )

    @cached_property
    def offered(self) -> Offered:
        """What every model offers of InvokeModel's per-model parameters, checked against
        botocore's model when first asked (reading it costs more than a start-up's rest)."""
        return offered_from_json(self.offered_data, SERVICE)

    @cached_property
    def service_checked(self) -> frozenset[str]:
        """The members whose constraints the service checks, not the AWS framework."""
        return frozenset(m for m, r in self.parameter_refusals.items() if r.checked_by_service)

    def parameter_refusal(self, offered: Offered, given: Mapping[str, str], model_id: str,
                          region: str) -> ModelRefusal | None:
        """The service's refusal of the first ``given`` header parameter (``offered`` is in
        the model's member order) that ``model_id``'s model, offering ``offered``, does not
        offer in ``region``; None when it offers every one."""
        for member, values in offered.items():
            value = given.get(member)
            if value is not None and value not in values:
                words = self.parameter_refusals[member].words(value, model_id, region)
                return ModelRefusal(*words)
        return None


@dataclass(frozen=True)
class Resolved:
    """What a model id names: the family's contract, the version asked for, and whether
    the id named it through an inference profile."""

    contract: ModelContract
    version: ModelVersion
    through_profile: bool = False


# arn:<partition>:bedrock:<region>:<account>:<kind>/<id>; the account is empty for
# foundation models. Partitions other than "aws" (aws-cn, aws-us-gov) name the same models.
_ARN = re.compile(
    r"arn:aws(?:-[a-z-]+)?:bedrock:[a-z0-9-]{1,20}:(?P<account>\d{12})?:"
    r"(?P<kind>foundation-model|inference-profile|system-defined-inference-profile)/(?P<id>[^/]+)"
)


class Catalogue:
    """The model families known to this process, by id."""

    def __init__(self, contracts: tuple[ModelContract, ...], words: ServiceWords) -> None:
        self.words = words
        self._families = {c.family: c for c in contracts}
        self._ids: dict[str, tuple[ModelContract, ModelVersion]] = {}
        for contract in self._families.values():
            for version in contract.models:
                self._ids[version.id] = (contract, version)

    @classmethod
    def load(cls, extra: tuple[Path, ...] = ()) -> Catalogue:
        """The built-in folders, ``extra``, and ``BEDROCK_CONTRACT_PATH``'s."""
        words = ServiceWords.from_json(read_json(schemas_dir() / SERVICE))
        folders = model_folders(extra)
        return cls(tuple(ModelContract.from_folder(f, words.frame, words.field_detail,
                                                   lambda: words.offered)
                         for f in folders), words)

    def __iter__(self) -> Iterator[ModelContract]:
        return iter(self._families.values())

    def family(self, name: str) -> ModelContract:
        return self._families[name]

    def versions(self) -> Iterator[tuple[ModelContract, ModelVersion]]:
        return iter(self._ids.values())

    def find(self, model_id: str) -> Resolved | None:
        """The family and version an id, profile id or ARN names, whatever its lifecycle."""
        found = _ARN.fullmatch(model_id)
        if found is not None:
            plain = found["id"]
            if found["kind"] == "foundation-model":
                hit = self._ids.get(plain)
                return Resolved(*hit) if hit else None
        else:
            plain = model_id
        hit = self._ids.get(plain)
        if hit is not None and found is None:
            return Resolved(*hit)
        geo, _, rest = plain.partition(".")
        hit = self._ids.get(rest)
        if hit is not None and geo in hit[0].inference_profiles:
            return Resolved(*hit, through_profile=True)
        return None

    def resolve(self, model_id: str, as_of: dt.date | None = None) -> Resolved:
        """The contract the service answers ``model_id`` with, or :class:`ModelRefused`.

        Without ``as_of`` every version the schemas describe is served, retired or not (so
        code written against SDXL keeps running on the mock); older versions they do not
        describe are refused as retired. With ``as_of`` each id is answered as the service
        answered it on that date: unknown before its release, refused after its end of life.
        """
        found = self.find(model_id)
        if found is None:
            raise ModelRefused(self.words.unknown_model, model_id)
        if as_of is None:
            if not found.version.described:
                raise ModelRefused(self.words.end_of_life, model_id)
            return self._on_demand(found, model_id)
        state = found.version.lifecycle.state_on(as_of)
        if state == NOT_YET:
            raise ModelRefused(self.words.unknown_model, model_id)
        if state == EOL:
            raise ModelRefused(self.words.end_of_life, model_id)
        return self._on_demand(found, model_id)

    def _on_demand(self, found: Resolved, model_id: str) -> Resolved:
        """``found``, unless the call names by its own id a model that has no in-Region
        endpoint (the model card's "In-Region: No"): the service refuses that."""
        if found.through_profile or found.contract.in_region:
            return found
        words = self.words.on_demand_unsupported
        raise ModelRefused(
            ModelRefusal(words.error, words.message.format(model_id=model_id)), model_id)


@cache
def default_catalogue() -> Catalogue:
    """The catalogue of this process: built-in folders and ``BEDROCK_CONTRACT_PATH``'s,
    read once."""
    return Catalogue.load()


def contract_for(model_id: str) -> ModelContract:
    """The contract of a model id, profile id or ARN, whatever its lifecycle."""
    found = default_catalogue().find(model_id)
    if found is None:
        raise ModelRefused(default_catalogue().words.unknown_model, model_id)
    return found.contract


def parse_as_of(text: str) -> dt.date:
    """``YYYY-MM-DD`` or ``today``, as ``--as-of`` takes it."""
    if text.strip().lower() == "today":
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date: give YYYY-MM-DD or 'today'") from None
