"""Fuzzing every live model family through both doors (real boto3), against a reference
that shares none of the project's code (:mod:`tests.support.live_family_reference`).

Bodies are built from each family's request schema (small real images in its image fields,
within its profile's limits), then mutated: fields dropped, replaced, added (the model's own,
other models', any name), moved; numbers past their bounds or written as everit types them
otherwise (``2.0``, ``1e0``, ``-0``, a decimal a hair past a bound); values of other types;
odd strings; images of another format, size, shape, or no image at all. Whatever arrives:

- the mock accepts what the reference accepts, with an image in the format asked for;
- a refusal is a ValidationException (400); the field check's is exactly the ``{"detail":...}``
  text the reference builds, the schema check's lists exactly the violations the reference's
  Draft 7 validator finds (everit's words where the reference can tell them, else their
  pointers), the image check's names the fields the reference finds at fault;
- no answer is a 5xx, and the door answers a valid request after each test's examples.

``SDXL_FUZZ_EXAMPLES`` (``make fuzz-long``) raises the examples per test (see ``MUTATED``).
"""

from __future__ import annotations

import base64
import functools
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import Phase, event, find, given, settings, strategies as st
from hypothesis.control import currently_in_test_context
from PIL import Image

from tests.support import live_family_reference as ref
from tests.support.fuzz_values import (
    EXAMPLES,
    FUZZ,
    Answer,
    invoke,
    json_values,
    other_type,
    past_bounds,
    value_for,
)
from tests.support.live_family_reference import Family

FAMILIES = ref.live_families()
JSON = "application/json"
# Each test runs per family and per door (32 runs): at the default 120, 30 mutated and 10 valid
# bodies a run (~1 s of CPU a family); ``make fuzz-long``'s 6,000 gives 600 and 200.
MUTATED = settings(FUZZ, max_examples=max(30, EXAMPLES // 10))
VALID = settings(FUZZ, max_examples=max(10, EXAMPLES // 30))
# Names a caller may send by mistake: every model's fields, and SDXL's.
ANY_MODELS_FIELDS = sorted({name for f in FAMILIES for name in f.properties}
                           | {"text_prompts", "cfg_scale", "steps", "width", "height"})


# --- images ----------------------------------------------------------------------------------


def _encoded(size: tuple[int, int], fmt: str = "PNG", mode: str = "RGB", cut: int = 0) -> str:
    buffer = io.BytesIO()
    image = Image.new(mode, size, (90, 140, 200, 128)[: len(mode)] if mode != "L" else 200)
    extra = {"save_all": True, "append_images": [image]} if fmt == "MPO" else {}
    image.save(buffer, fmt, **extra)
    data = buffer.getvalue()
    return base64.b64encode(data[: len(data) - cut]).decode("ascii")


SQUARE = _encoded((64, 64))
IMAGES = [
    SQUARE, _encoded((64, 64), "JPEG"), _encoded((64, 64), "WEBP"),
    _encoded((96, 64), "PNG", "RGBA"),
    _encoded((64, 64), "MPO"),  # a JPEG with an MPF extension, as phones write them
    _encoded((160, 64)), _encoded((64, 160)),  # aspect 2.5 and 0.4: the edges
    _encoded((161, 64)), _encoded((64, 161)),  # just past them
    _encoded((63, 64)), _encoded((32, 32), "PNG", "L"), _encoded((40, 25)),  # small ones
    _encoded((1537, 16)),  # a side past 1536
    _encoded((64, 64), "GIF"), _encoded((64, 64), "BMP"), _encoded((64, 64), "TIFF"),
    _encoded((64, 64), cut=20),  # truncated: the header reads, the pixels do not
    base64.b64encode(b"not an image at all").decode(), "%%% not base64 %%%", "",
    "data:image/png;base64," + SQUARE, SQUARE[:40] + "\n" + SQUARE[40:],
]
# Over 9,437,184 pixels (3072 x 3072) yet small as a PNG; only where a rule bounds pixels
# (elsewhere it would be accepted and a 9-megapixel answer drawn).
TOO_MANY_PIXELS = _encoded((3072, 3073), "PNG", "L")


def images_for(family: Family, name: str) -> list[str]:
    extra = [TOO_MANY_PIXELS] if "max_pixels" in family.image_rule(name) else []
    return IMAGES + extra


def good_images(family: Family, name: str) -> list[str]:
    return [i for i in IMAGES if not ref.image_faults(family, {name: i})]


# --- bodies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """A number as written in the body's text (``1e0``, ``-0``, ``2.0``)."""

    text: str


def encode(body: Any) -> bytes:
    """The body's JSON text, each :class:`Written` number as written."""
    written: list[str] = []

    def mark(value: object) -> str:
        assert isinstance(value, Written)
        written.append(value.text)
        return f"\0{len(written) - 1}\0"

    text = json.dumps(body, default=mark)
    for index, literal in enumerate(written):
        text = text.replace(json.dumps(f"\0{index}\0"), literal)
    return text.encode()


def spellings(rule: dict[str, Any]) -> list[Written]:
    """Numbers a JSON parser reads as numbers and everit types or compares otherwise."""
    found = ["-0", "-0.0", "0.0", "1.50", "1e0", "1E+2", "1e400", "-1e-400", "1e-400"]
    for key in ("minimum", "maximum"):
        if key in rule:
            edge = Decimal(str(rule[key]))
            hair = Decimal("1e-20")
            found += [f"{edge}e0", f"{edge:f}.0" if "." not in str(edge) else f"{edge}0",
                      str(edge + hair), str(edge - hair)]
    return [Written(text) for text in found]


ODD_STRINGS = ["", " ", "\ud800", "\udc00x", "a\ud83d", "\x00", 'a"b\\', "ключ", "#/x: y",
               "x" * 10_001, "text-to-image ", "PNG"]


def field_values(family: Family, name: str) -> st.SearchStrategy[Any]:
    """Values the field's schema allows; for an image field, images its rule allows."""
    if name in family.image_fields:
        return st.sampled_from(good_images(family, name))
    return value_for(family.properties[name])


@st.composite
def built(draw: st.DrawFn, family: Family) -> dict[str, Any]:
    """A body from the schema: its required fields and some others, each of its type and
    within its bounds (conditions between fields left to chance)."""
    required = family.schema.get("required", [])
    body: dict[str, Any] = draw(st.fixed_dictionaries(
        {name: field_values(family, name) for name in required},
        optional={name: field_values(family, name) for name in family.properties
                  if name not in required},
    ))
    return body


def valid(family: Family) -> st.SearchStrategy[dict[str, Any]]:
    return built(family).filter(lambda body: ref.verdict(family, encode(body)).accepted)


@st.composite
def mutated(draw: st.DrawFn, family: Family) -> dict[str, Any]:
    """A built body with up to three mutations."""
    body = draw(built(family))
    props = family.properties
    numeric = [n for n, r in props.items() if r.get("type") in ("integer", "number")]
    bounded = [n for n, r in props.items() if {"minimum", "maximum", "maxLength"} & set(r)]
    strings = [n for n, r in props.items() if r.get("type") == "string"]
    for _ in range(draw(st.integers(0, 3))):
        # Adding a field and changing an image twice as often: what the model's own checks
        # see comes after the schema's, so it needs more tries.
        how = draw(st.sampled_from(["drop", "replace", "add", "add", "move", "bound", "retype",
                                    "written", "string", "image", "image"]))
        event(f"mutation: {how}")
        keys = list(body)
        if how == "drop" and keys:
            del body[draw(st.sampled_from(keys))]
        elif how == "replace" and keys:
            body[draw(st.sampled_from(keys))] = draw(json_values)
        elif how == "add":
            key = draw(st.sampled_from(ANY_MODELS_FIELDS) | st.text(max_size=12))
            body[key] = draw(field_values(family, key) if key in props else json_values)
        elif how == "move" and keys:
            key = draw(st.sampled_from(keys))
            body[key] = body.pop(key)  # to the end: the field check names the first unknown
        elif how == "bound" and bounded:
            name = draw(st.sampled_from(bounded))
            body[name] = draw(st.sampled_from(past_bounds(props[name])))
        elif how == "retype" and keys:
            key = draw(st.sampled_from(keys))
            body[key] = draw(st.sampled_from(other_type(body[key])))
        elif how == "written":
            name = draw(st.sampled_from(numeric + strings))
            body[name] = draw(st.sampled_from(spellings(props[name])))
        elif how == "string" and strings:
            body[draw(st.sampled_from(strings))] = draw(st.sampled_from(ODD_STRINGS))
        elif how == "image" and family.image_fields:
            name = draw(st.sampled_from(family.image_fields))
            body[name] = draw(st.sampled_from(images_for(family, name)))
    return body


# --- calls and verdicts ---------------------------------------------------------------------


def call(client: Any, family: Family, raw: bytes) -> Answer:
    return invoke(client, {"modelId": family.model_id, "body": raw, "contentType": JSON,
                           "accept": JSON})


PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


def check_answer(family: Family, raw: bytes, answer: Answer) -> None:
    """The answer is the reference's verdict, worded as the reference expects."""
    assert answer.status < 500, f"{answer.status} {answer.code}: {answer.message}"
    expected = ref.verdict(family, raw)
    if currently_in_test_context():
        event(f"verdict: {expected.check or 'accepted'}")
    if expected.accepted:
        assert (answer.status, answer.code) == (200, None), f"{answer.code}: {answer.message}"
        images = json.loads(answer.payload)[family.profile["response"]["image"]]
        with Image.open(io.BytesIO(base64.b64decode(images[0], validate=True))) as image:
            asked = family.output_format(ref.parse(raw))
            assert image.format == PILLOW_FORMATS[asked]
        return
    assert (answer.code, answer.status) == ("ValidationException", 400), answer
    if expected.message is not None:
        assert answer.message == expected.message
        return
    assert expected.violations is not None
    prefix, suffix = family.frame
    assert answer.message.startswith(prefix) and answer.message.endswith(suffix), answer.message
    listed = answer.message[len(prefix): len(answer.message) - len(suffix)]
    assert ref.lists_exactly(listed, expected.violations), (
        f"{expected.check} check: {listed!r} is not {expected.violations}")


@functools.cache
def sample(family: Family) -> dict[str, Any]:
    """A body the reference accepts (the first one drawn: not shrunk, which takes seconds)."""
    found: dict[str, Any] = find(valid(family), lambda _: True,
                                 settings=settings(database=None, phases=[Phase.generate]))
    return found


@pytest.fixture(params=FAMILIES, ids=str)
def family(request: pytest.FixtureRequest) -> Family:
    found: Family = request.param
    return found


@pytest.fixture
def answering(client: Any, family: Family) -> Iterator[Any]:
    """The door's client; after the test, the door still answers a valid body."""
    yield client
    raw = encode(sample(family))
    check_answer(family, raw, call(client, family, raw))


# --- the tests ------------------------------------------------------------------------------


@MUTATED
@given(data=st.data())
def test_mutated_bodies_get_the_reference_verdict(
    answering: Any, family: Family, data: st.DataObject
) -> None:
    # A quarter of them any JSON value: mostly not an object, refused before any check.
    bodies = st.one_of(mutated(family), mutated(family), mutated(family), json_values)
    raw = encode(data.draw(bodies, label="body"))
    check_answer(family, raw, call(answering, family, raw))


@VALID
@given(data=st.data())
def test_every_body_the_reference_accepts_is_answered_with_an_image(
    answering: Any, family: Family, data: st.DataObject
) -> None:
    raw = encode(data.draw(valid(family), label="body"))
    check_answer(family, raw, call(answering, family, raw))


# --- found by this file, kept as regressions ---------------------------------------------


def test_a_lone_surrogate_in_an_enum_field_is_refused_in_everits_words(client: Any) -> None:
    # "\ud800" is valid JSON; the fast validator could not take it as UTF-8 and the mock
    # answered 500. everit (1.14.3, org.json 20231013) lists it as any other string.
    core = next(f for f in FAMILIES if f.folder == "stable-image-core")
    raw = b'{"prompt": "a cat", "mode": "\\ud800"}'
    answer = call(client, core, raw)
    assert (answer.status, answer.code) == (400, "ValidationException")
    assert answer.message == ("Malformed input request: #/mode: \ud800 is not a valid enum "
                              "value, please reformat your input and try again.")
    check_answer(core, raw, answer)


def test_a_lone_surrogate_in_a_search_prompt_is_answered_with_an_image(client: Any) -> None:
    # The engine placed the searched region by a hash of the prompt's strict UTF-8, which a
    # lone surrogate has not: a valid body was answered 500.
    recolor = next(f for f in FAMILIES if f.folder == "stable-image-search-recolor")
    raw = encode({"image": SQUARE, "prompt": "red", "select_prompt": "\ud800"})
    answer = call(client, recolor, raw)
    assert (answer.status, answer.code) == (200, None), answer.message
    check_answer(recolor, raw, answer)
