"""Where a part of a body lives: a JSON Pointer (RFC 6901) that a profile gives, e.g.
``/imageGenerationConfig/seed``, read and written through one typed path.

Every place that reads or writes a field a profile names goes through :class:`FieldPath`,
so a model whose fields are nested (Nova Canvas, Titan Image Generator) is data like one
whose fields sit at the top (Stability's). A bare name (``"seed"``) is the top-level field
of that name, ``/seed``: the form profiles used before pointers, still read.

A path's :attr:`~FieldPath.key` (the pointer without its leading ``/``) names the field
where a plain string is needed: the decoded images of a body are keyed by it, and a
refusal points at ``#/<key>``, as everit does (``#/textToImageParams/text``). For a
top-level field the key is its name, so such keys read as they always did.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_MISSING = object()


def _unescape(step: str) -> str:
    return step.replace("~1", "/").replace("~0", "~")  # RFC 6901, in this order


def _escape(step: str) -> str:
    return step.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True, order=True)
class FieldPath:
    """The steps from a body's top to one of its parts (object keys, or list indexes as
    digits)."""

    steps: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> FieldPath:
        """A profile's location: a JSON Pointer (``/a/b``) or a bare top-level name."""
        if not isinstance(text, str) or not text or text == "/":
            raise ValueError(f"a field location is a JSON Pointer such as /seed, not {text!r}")
        if not text.startswith("/"):
            return cls((text,))
        return cls(tuple(_unescape(s) for s in text[1:].split("/")))

    @classmethod
    def optional(cls, text: str | None) -> FieldPath | None:
        return None if text is None else cls.parse(text)

    @classmethod
    def of_key(cls, key: str) -> FieldPath:
        """The path a :attr:`key` names (a pointer less its leading ``/``)."""
        return cls.parse("/" + key)

    def __str__(self) -> str:
        return self.pointer

    @property
    def key(self) -> str:
        return "/".join(_escape(s) for s in self.steps)

    @property
    def pointer(self) -> str:
        return "/" + self.key

    @property
    def name(self) -> str:
        """The last step: the field's own name inside its object."""
        return self.steps[-1]

    @property
    def top(self) -> str:
        return self.steps[0]

    @property
    def parent(self) -> FieldPath | None:
        return FieldPath(self.steps[:-1]) if len(self.steps) > 1 else None

    def child(self, step: str | int) -> FieldPath:
        return FieldPath((*self.steps, str(step)))

    def _walk(self, body: Any) -> Any:
        node = body
        for step in self.steps:
            if isinstance(node, Mapping):
                node = node.get(step, _MISSING)
            elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
                node = node[int(step)]
            else:
                return _MISSING
            if node is _MISSING:
                return _MISSING
        return node

    def get(self, body: Any, default: Any = None) -> Any:
        """The value at this path in ``body``, or ``default`` where there is none."""
        found = self._walk(body)
        return default if found is _MISSING else found

    def has(self, body: Any) -> bool:
        return self._walk(body) is not _MISSING

    def put(self, body: dict[str, Any], value: Any) -> None:
        """Set the value at this path, making the objects on the way where they are missing
        (a body is built by putting each field in turn)."""
        node: Any = body
        for step in self.steps[:-1]:
            if isinstance(node, list) and step.isdigit() and int(step) < len(node):
                inner = node[int(step)]
            else:
                inner = node.get(step)
            if not isinstance(inner, dict | list):
                inner = node[step] = {}  # a list is only ever stepped into, not made
            node = inner
        if isinstance(node, list):
            node[int(self.name)] = value
        else:
            node[self.name] = value

    def without(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``body`` less this path's value (the objects on its way copied, the
        rest shared)."""
        copy = dict(body)
        if len(self.steps) == 1:
            copy.pop(self.name, None)
            return copy
        inner = copy.get(self.top)
        if isinstance(inner, Mapping):
            copy[self.top] = FieldPath(self.steps[1:]).without(inner)
        return copy

    def schema(self, root: Mapping[str, Any]) -> Mapping[str, Any]:
        """The schema of this path's value inside a request or response schema (object
        steps through ``properties``, list steps through ``items``); KeyError where the
        schema does not describe it."""
        node: Mapping[str, Any] = root
        for step in self.steps:
            if "properties" in node and step in node["properties"]:
                node = node["properties"][step]
            elif step.isdigit() and isinstance(node.get("items"), Mapping):
                node = node["items"]
            else:
                raise KeyError(f"{self.pointer} is not described by the schema")
        return node


def merged(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` laid over it, objects merged key by key at every depth (two
    parts of a body built apart, e.g. the prompts and the other options of a nested body)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def leaves(schema: Mapping[str, Any], under: FieldPath | None = None) -> Iterator[
        tuple[FieldPath, Mapping[str, Any]]]:
    """Every field a schema describes by its ``properties``, at any depth, with its schema:
    an object of properties is descended into, anything else is a leaf (an image list is
    one field)."""
    for name, spec in schema.get("properties", {}).items():
        path = under.child(name) if under is not None else FieldPath((name,))
        if isinstance(spec, Mapping) and spec.get("properties"):
            yield from leaves(spec, path)
        else:
            yield path, spec
