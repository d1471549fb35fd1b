"""The request options of ``sdxl generate``, built from the request schema.

Each option's choices and range come from the schema field it sets
(``enum`` -> :class:`click.Choice`, ``minimum``/``maximum`` -> :class:`click.IntRange` or
:class:`click.FloatRange`, the size rule -> ``--size`` choices), so ``--help`` lists what
the contract allows and nothing is restated here. The same click parameters convert the
keys of a batch line (:func:`request_from_mapping`), so a line and the command line accept
exactly the same values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from bedrock_contract.loader import field
from bedrock_contract.sizes import DEFAULT_SIZE, allowed_sizes, format_size
from sdxl_adapter.request import SDXLRequest

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class SchemaOption:
    """An option that sets one schema field of the same type: ``--steps`` -> ``steps``."""

    flag: str
    request_field: str  # the SDXLRequest field (also the body field)

    @property
    def param(self) -> str:
        """The click parameter name, also the key a batch line uses."""
        return self.flag.lstrip("-").replace("-", "_")


# Short flags a person types, for body fields whose names are long (style_preset).
SCHEMA_OPTIONS = (
    SchemaOption("--cfg-scale", "cfg_scale"),
    SchemaOption("--steps", "steps"),
    SchemaOption("--seed", "seed"),
    SchemaOption("--sampler", "sampler"),
    SchemaOption("--style", "style_preset"),
    SchemaOption("--clip-guidance", "clip_guidance_preset"),
    SchemaOption("--samples", "samples"),
    SchemaOption("--init-image-mode", "init_image_mode"),
    SchemaOption("--image-strength", "image_strength"),
    SchemaOption("--step-schedule-start", "step_schedule_start"),
    SchemaOption("--step-schedule-end", "step_schedule_end"),
    SchemaOption("--mask-source", "mask_source"),
)

# Parameters whose names differ from the SDXLRequest field they fill.
RENAMED = {"negative": "negative_prompt"} | {
    o.param: o.request_field for o in SCHEMA_OPTIONS if o.param != o.request_field
}


def schema_type(name: str) -> click.ParamType:
    """The click type that accepts exactly what the schema allows for field ``name``."""
    spec = field(name)
    if "enum" in spec:
        # Case-sensitive: the service is, and --help then shows the values as written.
        return click.Choice(spec["enum"])
    low, high = spec.get("minimum"), spec.get("maximum")
    if spec.get("type") == "integer":
        return click.IntRange(min=low, max=high)
    if spec.get("type") == "number":
        return click.FloatRange(min=low, max=high)
    return click.STRING


def _schema_help(name: str) -> str:
    spec = field(name)
    parts = [f"[{name}]"]
    if "description" in spec:
        parts.append(spec["description"].rstrip(".") + ".")
    if "default" in spec:
        parts.append(f"Service default: {spec['default']}.")
    return " ".join(parts)


class SizeType(click.ParamType):
    """``WxH``, one of the schema's allowed pairs; converts to ``(width, height)``."""

    name = "WxH"

    def __init__(self) -> None:
        self.choices = {format_size(s): s for s in allowed_sizes()}

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(self.choices) + "]"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, int]:
        if isinstance(value, tuple | list) and len(value) == 2:  # a batch line's [w, h]
            value = format_size((value[0], value[1]))
        text = str(value).lower().replace("*", "x").replace(" ", "")
        if text in self.choices:
            return self.choices[text]
        self.fail(f"{value!r} is not one of {', '.join(self.choices)} (width x height)", param,
                  ctx)


class JsonObjectType(click.ParamType):
    """A JSON object given as text (a batch line may give the object itself)."""

    name = "JSON"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as err:
                self.fail(f"not valid JSON: {err}", param, ctx)
        if not isinstance(value, dict):
            self.fail(f"must be a JSON object, got {type(value).__name__}", param, ctx)
        return value


# Not click.Path(exists=True): an unreadable image is reported when the request reads it,
# with the exit code for unreadable input rather than click's usage error.
IMAGE_FILE = click.Path(dir_okay=False, path_type=Path)


def request_options(command: F) -> F:
    """Decorate a command with every request option; they arrive as keyword arguments."""
    decorators = [
        click.option("--negative", "-n", multiple=True, metavar="TEXT",
                     help="A negative prompt (weight below 0); repeat for more."),
        click.option("--size", type=SizeType(),
                     help="[width, height] Output size, width x height; the service's default is "
                          f"{format_size(DEFAULT_SIZE)}."),
        *(
            click.option(o.flag, o.param, type=schema_type(o.request_field),
                         help=_schema_help(o.request_field))
            for o in SCHEMA_OPTIONS
        ),
        click.option("--init-image", type=IMAGE_FILE,
                     help="Image to image: the PNG or JPEG to start from. [init_image]"),
        click.option("--mask-image", type=IMAGE_FILE,
                     help="Masking: the mask PNG or JPEG, init image's size. [mask_image]"),
        click.option("--extras", type=JsonObjectType(),
                     help="Experimental engine parameters, a JSON object. [extras]"),
    ]
    for decorate in reversed(decorators):
        command = decorate(command)
    return command


def request_from_options(prompt: str, options: Mapping[str, Any]) -> SDXLRequest:
    """The request the parsed options describe; unset options are left to the service."""
    fields = {RENAMED.get(k, k): v for k, v in options.items() if v not in (None, ())}
    if "negative_prompt" in fields:
        fields["negative_prompt"] = list(fields["negative_prompt"])
    return SDXLRequest(prompt=prompt, **fields)


class BadLine(ValueError):
    """A batch line that does not describe a request; the message says why."""


def request_from_mapping(data: Mapping[str, Any], base_dir: Path | None = None) -> SDXLRequest:
    """The request a batch line's object describes: its keys are named like ``generate``'s
    parameters and each value is converted by the same click type as on the command line.
    Image paths are read relative to ``base_dir`` (the batch file's folder)."""
    params = {p.name: p for p in _LINE_TEMPLATE.params if p.name}
    unknown = sorted(set(data) - set(params))
    if unknown:
        raise BadLine(
            f"unknown key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(params))}"
        )
    if not isinstance(data.get("prompt"), str):
        raise BadLine('needs a "prompt" string')
    ctx = click.Context(_LINE_TEMPLATE)
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key == "prompt" or value is None:
            continue
        param = params[key]
        if param.type is IMAGE_FILE and isinstance(value, str) and base_dir is not None:
            value = str(base_dir / value)
        if param.multiple:
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list):
                raise BadLine(f"{key}: must be a string or a list of strings")
        try:
            _refuse_lossy_number(value, param)
            values[key] = (
                tuple(param.type.convert(v, param, ctx) for v in items)
                if param.multiple
                else param.type.convert(value, param, ctx)
            )
        except click.BadParameter as err:
            raise BadLine(f"{key}: {err.message}") from None
    return request_from_options(data["prompt"], values)


def _refuse_lossy_number(value: Any, param: click.Parameter) -> None:
    # click's INT converts with int(), which would turn JSON 30.5 into 30 and true into 1.
    if isinstance(param.type, click.IntRange | click.FloatRange) and isinstance(value, bool):
        raise click.BadParameter(f"{value!r} is not a number")
    integral = isinstance(value, float) and value.is_integer()
    if isinstance(param.type, click.IntRange) and isinstance(value, float) and not integral:
        raise click.BadParameter(f"{value!r} is not an integer")


@click.command()
@click.argument("prompt")
@request_options
def _line_template(**_: Any) -> None:
    """Never run: its parameters are the keys a batch line may use."""


_LINE_TEMPLATE: click.Command = _line_template
