"""The request options of ``sdxl generate``, built from the chosen model's request schema.

Each option sets one body field and takes exactly what the schema allows for it (``enum``
-> :class:`click.Choice`, ``minimum``/``maximum`` -> :class:`click.IntRange` or
:class:`click.FloatRange`, an image field -> a file path, an object -> JSON text), so
``--help`` lists what the contract allows and nothing is restated here. Three fields are
given another shape: the prompt fields become PROMPT and ``--negative``, and a width x
height size rule becomes ``--size WxH``. A model that takes images also gets ``--fit``,
which fits each image to the model's limits (:mod:`sdxl_adapter.fit`). The same click
parameters convert the keys of a batch line (:func:`request_from_mapping`), so a line and
the command line accept exactly the same values; image paths on a line are relative to the
batch file.

What building a request needs (the request, fitting, a batch line's error) is imported when
a request is built: ``sdxl --help`` builds ``generate``'s options and no request.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from bedrock_contract import PairsRule, format_size
from bedrock_contract.dialect import excluded_by
from bedrock_contract.paths import FieldPath, leaves, merged
from bedrock_contract.suggest import closest

if TYPE_CHECKING:
    from bedrock_contract import ModelContract
    from sdxl_adapter.request import ModelRequest

# Short flags a person types for long field names, where a model has such a field. The
# option then keeps its long spelling too (``--style-preset``), and a batch line uses the
# short name as its key.
SHORT_FLAGS = {"style_preset": "--style", "clip_guidance_preset": "--clip-guidance"}
NEGATIVE = "negative"
SIZE = "size"
FIT = "fit"
PROMPT = "prompt"
FIT_HINT = "use --fit to resize it to the model's limits"


# How a row of the options table turns its value into body fields.
VALUE = "value"  # the value itself
IMAGE = "image"  # a file path; the file's bytes (fitted with --fit)
PROMPTS = "prompts"  # PROMPT and --negative together, as the model's prompt fields hold them
PAIR = "pair"  # --size: a width x height pair


@dataclass(frozen=True)
class FieldOption:
    """One row of the table of what each request option sets in the body: it builds the
    body (:func:`request_from_options`) and names the options behind a refusal
    (:func:`options_behind`)."""

    param: str  # the click parameter name, also a batch line's key
    fields: tuple[FieldPath, ...]  # the body fields it sets
    kind: str = VALUE

    @property
    def field(self) -> FieldPath:
        return self.fields[0]

    def sets(self, pointer: str) -> bool:
        """Whether a refusal's pointer (``#/a/b``) is at or inside a field it sets."""
        key = pointer.removeprefix("#").removeprefix("/")
        return any(key == f.key or key.startswith(f.key + "/") for f in self.fields)

    @property
    def image(self) -> bool:
        return self.kind == IMAGE

    @property
    def flag(self) -> str:
        """As a person types it: ``--size``, ``--style``, ``PROMPT``."""
        return PROMPT.upper() if self.param == PROMPT else "--" + self.param.replace("_", "-")


def schema_type(spec: Mapping[str, Any]) -> click.ParamType:
    """The click type that accepts exactly what the schema allows for one field."""
    if "enum" in spec:
        # Case-sensitive: the service is, and --help then shows the values as written.
        return click.Choice([str(v) for v in spec["enum"]])
    low, high = spec.get("minimum"), spec.get("maximum")
    kind = spec.get("type")
    if kind == "integer":
        return click.IntRange(min=low, max=high)
    if kind == "number":
        return click.FloatRange(min=low, max=high)
    if kind == "boolean":
        return click.BOOL
    if kind in ("object", "array"):
        return JsonType(kind)
    return click.STRING


def _schema_help(name: str, spec: Mapping[str, Any]) -> str:
    parts = [f"[{name}]"]
    if "description" in spec:
        parts.append(spec["description"].rstrip(".") + ".")
    if "default" in spec:
        parts.append(f"Service default: {spec['default']}.")
    return " ".join(parts)


class SizeType(click.ParamType):
    """``WxH``, one of a pairs rule's allowed sizes; converts to ``(width, height)``."""

    name = "WxH"

    def __init__(self, rule: PairsRule) -> None:
        self.choices = {format_size(s): s for s in rule.allowed}

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


class JsonType(click.ParamType):
    """A JSON object (or array) given as text (a batch line may give the value itself)."""

    name = "JSON"

    def __init__(self, kind: str = "object") -> None:
        self.kind = kind

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as err:
                self.fail(f"not valid JSON: {err}", param, ctx)
        wanted = dict if self.kind == "object" else list
        if not isinstance(value, wanted):
            self.fail(f"must be a JSON {self.kind}, got {type(value).__name__}", param, ctx)
        return value


# Not click.Path(exists=True): an unreadable image is reported when the request reads it,
# with the exit code for unreadable input rather than click's usage error.
IMAGE_FILE = click.Path(dir_okay=False, path_type=Path)


def _image_help(contract: ModelContract, path: FieldPath, spec: Mapping[str, Any]) -> str:
    kinds = contract.image_rule(path).formats_text
    return (f"{_schema_help(path.key, spec)} The path of a {kinds} file (--fit fits it to "
            "the model's limits).")


@dataclass(frozen=True)
class ModelOptions:
    """The request options of one model: click parameters, and what each sets."""

    contract: ModelContract
    params: tuple[click.Parameter, ...]  # PROMPT, where the model takes one, is the caller's
    fields: tuple[FieldOption, ...]  # every option that sets body fields, PROMPT included

    def field_option(self, field: FieldPath) -> FieldOption | None:
        """The option that sets ``field`` by its value (not a prompt or a size)."""
        return next((f for f in self.fields if f.field == field and f.kind in (VALUE, IMAGE)),
                    None)


class Built(NamedTuple):
    """A request made from options, and what fitting its images did (one note a change)."""

    request: ModelRequest
    notes: list[str]


def takes_prompt(contract: ModelContract) -> bool:
    """Whether the model's body has a prompt (PROMPT is then an argument)."""
    return bool(contract.prompts.list_field or contract.prompts.text_field)


def requires_prompt(contract: ModelContract) -> bool:
    fields = (contract.prompts.list_field, contract.prompts.text_field)
    return any(f.top in contract.required for f in fields if f)


def _param_name(path: FieldPath, leaf_names: Mapping[str, int]) -> str:
    """A field's option name: its own name where that names one field, else its whole
    location (``in_painting_params_image``); camelCase spelled as snake_case, as the
    other options are (``cfgScale`` -> ``--cfg-scale``)."""
    steps = path.steps[-1:] if len(path.steps) == 1 or leaf_names[path.name] == 1 \
        else path.steps
    return "_".join(_CAMEL.sub("_", step).lower() for step in steps)


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@cache
def model_options(contract: ModelContract) -> ModelOptions:
    """Every request option of ``contract``'s model, in the schema's order."""
    prompts = contract.prompts
    positive = prompts.list_field or prompts.text_field
    negative = prompts.negative_field or prompts.list_field
    params: list[click.Parameter] = []
    fields: list[FieldOption] = []
    if positive:
        fields.append(FieldOption(PROMPT, (positive,), PROMPTS))
    if negative:
        params.append(click.Option(
            ["--negative", "--negative-prompt", "-n", NEGATIVE], multiple=True, metavar="TEXT",
            help="A negative prompt: what the image should not show; repeat for more."))
        fields.append(FieldOption(NEGATIVE, (negative,), PROMPTS))
    if isinstance(contract.size, PairsRule):
        params.append(click.Option(
            ["--size", SIZE], type=SizeType(contract.size),
            help="[width, height] Output size, width x height; the service's default is "
                 f"{format_size(contract.size.default)}."))
        fields.append(FieldOption(SIZE, contract.size.fields, PAIR))
    skip = {*prompts.fields}
    if isinstance(contract.size, PairsRule):
        skip.update(contract.size.fields)
    # Every field at any depth is an option: a nested one (Canvas's
    # /imageGenerationConfig/cfgScale) as well as one at the top.
    found = [(path, spec) for path, spec in leaves(contract.request_schema)
             if path not in skip]
    leaf_names = Counter(path.name for path, _ in found)
    for path, spec in found:
        name = _param_name(path, leaf_names)
        long_flag = "--" + name.replace("_", "-")
        short = SHORT_FLAGS.get(name)
        param = short.lstrip("-").replace("-", "_") if short else name
        decls = [short, long_flag, param] if short else [long_flag, param]
        image = path in contract.image_fields
        if image and spec.get("type") != "array":
            option = click.Option(decls, type=IMAGE_FILE, metavar="PATH",
                                  help=_image_help(contract, path, spec))
        else:
            image = False  # a list of images is given as JSON, its images as base64
            option = click.Option(decls, type=schema_type(spec),
                                  help=_schema_help(path.key, spec))
        params.append(option)
        fields.append(FieldOption(param, (path,), IMAGE if image else VALUE))
    if contract.image_fields:
        params.append(click.Option(
            ["--fit", FIT], is_flag=True,
            help="Fit each image to the model's limits first: downsize or upsize it "
                 "(keeping its shape), pad it to an allowed aspect ratio (repeating its "
                 "edge pixels), convert it to PNG if the model does not take its format. "
                 "Each change is said on stderr; an image that fits is sent unchanged."))
    return ModelOptions(contract, tuple(params), tuple(fields))


def request_from_options(
    model_id: str, contract: ModelContract, prompt: str | None, options: Mapping[str, Any]
) -> Built:
    """The request the parsed options describe; unset options (and no prompt) are left to
    the service, so the contract refuses what it requires. With ``fit`` set, each image is
    fitted to the model's limits first. Raises OSError when an image file cannot be read,
    FitError when one cannot be fitted."""
    from sdxl_adapter.request import ModelRequest

    body: dict[str, Any] = {}
    notes: list[str] = []
    for option in model_options(contract).fields:
        value = options.get(option.param)
        if value is None or option.kind == PROMPTS:  # both prompt options at once, below
            continue
        if option.kind == PAIR and isinstance(contract.size, PairsRule):
            body = merged(body, contract.size.body_fields(value))
            continue
        if option.image:
            value = _read_image(contract, option.field.key, Path(value),
                                bool(options.get(FIT)), notes)
        option.field.put(body, value)
    negatives = [str(t) for t in options.get(NEGATIVE) or ()]
    positives = [prompt] if prompt is not None else []
    body = merged(contract.prompts.body_fields(positives, negatives, body), body)
    return Built(ModelRequest(model_id, body), notes)


def _read_image(contract: ModelContract, field: str, path: Path, fit: bool,
                notes: list[str]) -> bytes:
    from sdxl_adapter.fit import FitError, fit_image
    from sdxl_adapter.images import read_image_file

    data = read_image_file(path)
    if not fit:
        return data
    try:
        fitted = fit_image(contract, field, data)
    except FitError as err:
        raise FitError(f"{path}: {err}") from err
    notes += [f"{path}: {note}" for note in fitted.notes]
    return fitted.data


def _is_given(value: Any) -> bool:
    return value is not None and value != () and value is not False


def given_options(contract: ModelContract, options: Mapping[str, Any]) -> list[str]:
    """The request options that were set, as flags (for messages)."""
    names = {FIT} | {f.param for f in model_options(contract).fields}
    return [f"--{k.replace('_', '-')}" for k, v in options.items()
            if k in names and _is_given(v)]


def options_behind(contract: ModelContract, pointers: Iterable[str],
                   given: Mapping[str, Any]) -> str | None:
    """Which of the options given (PROMPT under its parameter name) set the body fields a
    refusal points at, e.g. ``--size sets width and height`` for ``#/height``; None when no
    given option did, or only ones spelled as their field (``--image`` for ``#/image``).
    A pointer at or inside a field names the option that sets it
    (``#/text_prompts/0/text``); a refusal of the body as a whole (``#``) names none."""
    pointers = list(pointers)
    setters: dict[tuple[str, ...], list[str]] = {}  # SDXL's PROMPT and --negative share one
    for option in model_options(contract).fields:
        if option.flag == "--" + option.field.key.replace("_", "-"):
            continue  # says itself
        if any(option.sets(p) for p in pointers) and _is_given(given.get(option.param)):
            setters.setdefault(tuple(f.key for f in option.fields), []).append(option.flag)
    behind = [
        f"{' and '.join(flags)} {'sets' if len(flags) == 1 else 'set'} {' and '.join(fields)}"
        for fields, flags in setters.items()
    ]
    pointed = {_top_field(p) for p in pointers} - {None}
    behind += _excluded_by(contract, pointed, given)
    return "; ".join(behind) or None


def _excluded_by(contract: ModelContract, pointed: set[str | None],
                 given: Mapping[str, Any]) -> list[str]:
    """``--init-image excludes width and height``: the given options whose field forbids a
    pointed one."""
    found = []
    for trigger, excluded in excluded_by(contract.request_schema).items():
        forbidden = sorted(f for f in excluded if f in pointed)
        flags = [o.flag for o in model_options(contract).fields
                 if FieldPath((trigger,)) in o.fields and _is_given(given.get(o.param))]
        if forbidden and flags:
            found.append(f"{flags[0]} excludes {' and '.join(forbidden)}")
    return found


def _top_field(pointer: str) -> str | None:
    steps = pointer.removeprefix("#").split("/")
    if len(steps) < 2 or not steps[1]:
        return None
    return steps[1].replace("~1", "/").replace("~0", "~")  # RFC 6901 escapes, in this order


def request_from_mapping(
    data: Mapping[str, Any], model_id: str, contract: ModelContract,
    base_dir: Path | None = None, *, fit: bool = False,
) -> Built:
    """The request a batch line's object describes: its keys are named like ``generate``'s
    parameters, its options or the body fields (:func:`line_keys`), and each value is
    converted by the same click type as on the command line.
    Image paths are read relative to ``base_dir`` (the batch file's folder). ``fit`` is
    the default of the line's own ``fit`` key."""
    from sdxl_adapter.batch_lines import BadLine

    template = _line_template(contract)
    params = {p.name: p for p in template.params if p.name}
    named = _by_param(data, line_keys(contract))
    prompt = named.get(PROMPT, (PROMPT, None))[1]
    if prompt is not None and not isinstance(prompt, str):
        raise BadLine(f'"{PROMPT}" must be a string')
    ctx = click.Context(template)
    values: dict[str, Any] = {FIT: fit} if contract.image_fields else {}
    for name, (key, value) in named.items():
        if name == PROMPT or value is None:
            continue
        param = params[name]
        if param.type is IMAGE_FILE and isinstance(value, str) and base_dir is not None:
            value = str(base_dir / value)
        if param.multiple:
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list):
                raise BadLine(f"{key}: must be a string or a list of strings")
        try:
            _refuse_lossy_number(value, param)
            values[name] = (
                tuple(param.type.convert(v, param, ctx) for v in items)
                if param.multiple
                else param.type.convert(value, param, ctx)
            )
        except click.BadParameter as err:
            raise BadLine(f"{key}: {err.message}") from None
    return request_from_options(model_id, contract, prompt, values)


def _by_param(data: Mapping[str, Any], keys: Mapping[str, str]) -> dict[str, tuple[str, Any]]:
    """A line's values by parameter name, each with the key the line spelled it as."""
    from sdxl_adapter.batch_lines import BadLine

    unknown = [key for key in data if key not in keys]
    if unknown:
        guesses = [_unknown_key(key, keys) for key in unknown]
        known = sorted(set(keys.values()))
        raise BadLine(f"{'; '.join(guesses)}; known keys: {', '.join(known)}")
    named: dict[str, tuple[str, Any]] = {}
    for key, value in data.items():
        name = keys[key]
        if name in named:
            raise BadLine(f"{named[name][0]} and {key} are the same key: give one")
        named[name] = (key, value)
    return named


def _unknown_key(key: str, keys: Mapping[str, str]) -> str:
    near = closest(key, keys)
    return f"unknown key {key}" + (f" (did you mean {near}?)" if near else "")


@cache
def line_keys(contract: ModelContract) -> dict[str, str]:
    """Every key a batch line may use -> the parameter it sets: the parameter's name, each
    long option spelled with dashes or underscores, and the body field it sets
    (``style``, ``style-preset``, ``style_preset`` -> ``style``)."""
    keys: dict[str, str] = {}
    for param in _line_template(contract).params:
        if param.name is None:
            continue
        keys[param.name] = param.name
        for flag in param.opts:
            if flag.startswith("--"):
                spelled = flag.removeprefix("--")
                keys[spelled] = keys[spelled.replace("-", "_")] = param.name
    for option in model_options(contract).fields:
        if option.kind in (VALUE, IMAGE):  # a prompt or size key is spelled as its option
            keys.setdefault(option.field.key, option.param)
    return keys


def _refuse_lossy_number(value: Any, param: click.Parameter) -> None:
    # click's INT converts with int(), which would turn JSON 30.5 into 30 and true into 1.
    if isinstance(param.type, click.IntRange | click.FloatRange) and isinstance(value, bool):
        raise click.BadParameter(f"{value!r} is not a number")
    integral = isinstance(value, float) and value.is_integer()
    if isinstance(param.type, click.IntRange) and isinstance(value, float) and not integral:
        raise click.BadParameter(f"{value!r} is not an integer")


@cache
def _line_template(contract: ModelContract) -> click.Command:
    """Never run: its parameters are the keys a batch line may use."""
    prompt = [click.Argument([PROMPT], required=False)] if takes_prompt(contract) else []
    return click.Command("line", params=[*prompt, *model_options(contract).params])
