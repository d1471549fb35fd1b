"""``ModelContract``: one model family's folder (request and response schemas, profile) as a
typed object. Everything else reads models through it, never through raw schema dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bedrock_contract.dialect import check_dialect, fast_validator
from bedrock_contract.field_check import FieldCheck
from bedrock_contract.invoke_parameters import Offered, merged
from bedrock_contract.lifecycle import Lifecycle, ModelVersion
from bedrock_contract.loader import (
    PROFILE,
    REQUEST,
    RESPONSE,
    ContractFileError,
    built_in,
    read_json,
)
from bedrock_contract.operations import Operation
from bedrock_contract.paths import FieldPath, leaves
from bedrock_contract.request_fields import AlphaRule, ImageRule, PromptFields
from bedrock_contract.response_shape import ResponseShape
from bedrock_contract.sizes import Size, SizeRule, bounded, size_rule

if TYPE_CHECKING:
    # The validators are imported when first compiled: a process that only reads the
    # catalogue (``sdxl models``, ``--help``) never loads them.
    import jsonschema_rs

    from bedrock_contract.everit import JavaSchema


@dataclass(frozen=True)
class RefusalFrame:
    """How the service frames a refused body's violations."""

    prefix: str
    separator: str
    suffix: str

    def message(self, violations: list[str]) -> str:
        return f"{self.prefix}{self.separator.join(violations)}{self.suffix}"

    def bare(self) -> str:
        """The refusal of a body that is not a JSON object: the frame with no violations,
        ``Malformed input request, please reformat your input and try again.``"""
        return f"{self.prefix.rstrip(': ')}{self.suffix}"


@dataclass(frozen=True, eq=False)
class ModelContract:
    """One model family: its folder's schemas and profile, read once."""

    family: str
    folder: Path
    name: str
    provider: str
    engine: str
    models: tuple[ModelVersion, ...]
    inference_profiles: tuple[str, ...]
    in_region: bool  # callable by its own id; else only through an inference profile
    replacement: str | None
    streaming: bool
    request_schema: Mapping[str, Any]
    response_schema: Mapping[str, Any]
    prompts: PromptFields
    seed_field: FieldPath | None
    style_field: FieldPath | None
    size: SizeRule
    image_rules: Mapping[str, ImageRule]
    alpha_rule: AlphaRule | None
    image_to_image: Mapping[str, Any]
    # Where a masking body names its input image, mask and which pixels it paints
    # ({"image", "source", "mask", "painted": {source value: white|black|transparent}}).
    masking: Mapping[str, Any]
    operation: Operation | None
    cheapest: tuple[str, ...]  # fields that, at their minimum, make the cheapest generation
    response: ResponseShape
    frame: RefusalFrame
    field_check: FieldCheck | None  # the model's own check of field names, if it has one
    # What every model offers of InvokeModel's per-model parameters, and what the profile
    # offers otherwise: read by ``invoke_parameters``.
    service_offer: Callable[[], Offered]
    profile_offer: Mapping[str, Any] | None

    @classmethod
    def from_folder(
        cls, folder: Path, frame: RefusalFrame, field_detail: str | None = None,
        offered: Callable[[], Offered] | None = None,
    ) -> ModelContract:
        profile = read_json(folder / PROFILE)
        request, response = read_json(folder / REQUEST), read_json(folder / RESPONSE)
        where = str(folder / PROFILE)
        # The built-in schemas are checked against the draft-07 meta-schema by the test
        # suite; a user's folder is checked here, when it is loaded.
        checked = not built_in(folder)
        check_dialect(request, folder / REQUEST, against_metaschema=checked)
        check_dialect(response, folder / RESPONSE, against_metaschema=checked)
        try:
            spec = profile["request"]
            alpha = spec.get("alpha_required")
            # A profile may state the model's own frame (its source beside it).
            own_frame = {k: v for k, v in profile.get("refusal_frame", {}).items()
                         if k != "source"}
            contract = cls(
                family=folder.name,
                folder=folder,
                name=profile["name"],
                provider=profile.get("provider", ""),
                engine=profile["engine"],
                models=tuple(
                    ModelVersion(
                        m["id"],
                        m.get("version", ""),
                        Lifecycle.from_json(m["lifecycle"], f"{where}: {m['id']}"),
                        m.get("described", True),
                    )
                    for m in profile["models"]
                ),
                inference_profiles=tuple(profile.get("inference_profiles", ())),
                in_region=bool(profile.get("in_region", True)),
                replacement=profile.get("replacement"),
                streaming=bool(profile["streaming"]),
                request_schema=request,
                response_schema=response,
                prompts=PromptFields.from_profile(spec["prompts"], request),
                seed_field=FieldPath.optional(spec.get("seed")),
                style_field=FieldPath.optional(spec.get("style")),
                size=size_rule(spec["size"], request),
                image_rules={
                    FieldPath.parse(name).key: ImageRule.from_profile(rule)
                    for name, rule in spec.get("images", {}).items()
                },
                alpha_rule=AlphaRule(FieldPath.parse(alpha["image"]).key, alpha["when"])
                if alpha else None,
                image_to_image=spec.get("image_to_image", {}),
                masking=spec.get("masking", {}),
                operation=Operation.from_profile(spec.get("operation")),
                cheapest=tuple(spec.get("cheapest", ())),
                response=ResponseShape.from_profile(profile["response"]),
                frame=RefusalFrame(**{**frame.__dict__, **(own_frame or {})}),
                field_check=FieldCheck.from_profile(
                    profile.get("field_check"), field_detail, request),
                service_offer=offered or dict,
                profile_offer=profile.get("invoke_parameters"),
            )
            if checked:
                contract.invoke_parameters  # noqa: B018  (a user's folder: checked now)
            return contract
        except (KeyError, TypeError, ValueError) as err:
            problem = f"{type(err).__name__}: {err}"
            raise ContractFileError(f"{where}: not a valid model profile ({problem})") from err

    def __repr__(self) -> str:
        return f"<ModelContract {self.family}>"

    @cached_property
    def invoke_parameters(self) -> Offered:
        """What of InvokeModel's per-model header parameters it offers (botocore member ->
        values): the service's defaults, or its profile's invoke_parameters where it
        differs. Checked against botocore's model when first asked, since reading that
        model costs a start-up more than the rest of the catalogue (the built-in profiles
        are checked by the test suite; a user's folder when it is loaded)."""
        return merged(self.service_offer(), self.profile_offer, str(self.folder / PROFILE))

    # --- the request schema, read ---------------------------------------------------

    @property
    def properties(self) -> Mapping[str, Any]:
        props: Mapping[str, Any] = self.request_schema.get("properties", {})
        return props

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(self.request_schema.get("required", ()))

    def field(self, name: str | FieldPath) -> Mapping[str, Any]:
        """The schema of one request field, by its name at the top or its location, e.g.
        ``field("steps")["maximum"]``, ``field(FieldPath.parse("/config/seed"))``."""
        path = name if isinstance(name, FieldPath) else FieldPath((name,))
        return path.schema(self.request_schema)

    @cached_property
    def image_fields(self) -> tuple[FieldPath, ...]:
        """The request fields that carry images, at any depth: those the schema encodes as
        base64, and lists of such (Canvas's ``/imageVariationParams/images``)."""
        return tuple(path for path, spec in leaves(self.request_schema) if _is_image(spec))

    def body_images(self, body: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The base64 images a body carries, each with its key (:attr:`FieldPath.key`; an
        image of a list keyed by its index, ``imageVariationParams/images/0``)."""
        found: list[tuple[str, str]] = []
        for path in self.image_fields:
            value = path.get(body)
            if isinstance(value, str):
                found.append((path.key, value))
            elif isinstance(value, list):
                found += [(path.child(i).key, v) for i, v in enumerate(value)
                          if isinstance(v, str)]
        return found

    def output_size(self, body: Mapping[str, Any], images: Mapping[str, Any]) -> Size:
        """The size of the image a valid body gets: the size rule's, then the operation's
        change to it (an upscale, an outpaint), within the largest picture any output
        format holds (:func:`~bedrock_contract.sizes.bounded`)."""
        size = self.size.output_size(body, images)
        op = self.operation_for(body)
        return bounded(op.output_size(size, body) if op else size)

    def operation_for(self, body: Mapping[str, Any]) -> Operation | None:
        """What the model does with the body's input images, where the profile says."""
        return self.operation.for_body(body) if self.operation else None

    def image_rule(self, name: str | FieldPath) -> ImageRule:
        """The rule of an image by its location or key (an image of a list: the list's)."""
        key = name.key if isinstance(name, FieldPath) else name
        found = self.image_rules.get(key)
        if found is None and key.rsplit("/", 1)[-1].isdigit():
            found = self.image_rules.get(key.rsplit("/", 1)[0])
        return found or ImageRule()

    def seed_range(self) -> tuple[int, int]:
        if self.seed_field is None:
            return (0, 0)
        spec = self.field(self.seed_field)
        return spec.get("minimum", 0), spec["maximum"]

    def seed_of(self, body: Mapping[str, Any]) -> Any:
        """The seed a body asks for (None where it names none)."""
        return self.seed_field.get(body) if self.seed_field else None

    @property
    def output_formats(self) -> tuple[str, ...]:
        if self.response.format_field is None:
            return (self.response.fixed_format or "png",)
        return tuple(self.field(self.response.format_field)["enum"])

    def output_format(self, body: Mapping[str, Any]) -> str:
        """The image format a body asks for (``png``, ``jpeg``, ``webp``)."""
        if self.response.format_field is None:
            return self.response.fixed_format or "png"
        spec = self.field(self.response.format_field)
        return str(self.response.format_field.get(body, spec.get("default", spec["enum"][0])))

    @cached_property
    def finish_reasons(self) -> tuple[str | None, ...]:
        """Every finish reason the response schema allows, the success value first."""
        spec = self.response.finish_reason_schema(self.response_schema)
        values = list(spec["enum"])
        if self.response.success not in values:
            values.append(self.response.success)  # an envelope that says nothing on success
        values.sort(key=lambda v: v != self.response.success)
        return tuple(values)

    # --- ids ------------------------------------------------------------------------

    @property
    def primary(self) -> ModelVersion:
        """The newest version the schemas describe (the family's first described id)."""
        return next(m for m in self.models if m.described)

    def id_to_call(self, version: ModelVersion) -> str:
        """The id a call names ``version`` by: its own, or where the model has no in-Region
        endpoint, its first inference profile's."""
        if self.in_region or not self.inference_profiles:
            return version.id
        return f"{self.inference_profiles[0]}.{version.id}"

    @property
    def invocation_id(self) -> str:
        """The id a call names the newest version by (:meth:`id_to_call`)."""
        return self.id_to_call(self.primary)

    @property
    def model_ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.models)

    # --- validators, compiled once -----------------------------------------------------

    @cached_property
    def fast_request_validator(self) -> jsonschema_rs.Validator:
        """The verdict on the hot path (~2 us a body); the pure-Python validator below is
        asked for the verdict on the rest, and for the words of a refusal."""
        return fast_validator(self.request_schema)

    @cached_property
    def java_request_schema(self) -> JavaSchema:
        """The service's validator, emulated: the verdict and the words of a refusal."""
        from bedrock_contract.everit import JavaSchema

        return JavaSchema.from_file(self.folder / REQUEST)

    @cached_property
    def fast_response_validator(self) -> jsonschema_rs.Validator:
        return fast_validator(self.response_schema)

    @cached_property
    def java_response_schema(self) -> JavaSchema:
        from bedrock_contract.everit import JavaSchema

        return JavaSchema.from_file(self.folder / RESPONSE)


def _is_image(spec: Mapping[str, Any]) -> bool:
    items = spec.get("items")
    if spec.get("type") == "array" and isinstance(items, Mapping):
        spec = items
    return spec.get("contentEncoding") == "base64"
