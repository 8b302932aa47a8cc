"""Prove a generated package by use: every model built, every operation called over loopback HTTP.

Run in a fresh interpreter (the generated packages on ``PYTHONPATH``)::

    python tests/support/exercise.py PACKAGE [PACKAGE ...]

prints one line ``EXERCISE {json report}`` per package. :func:`run_exercise` does that from a
test and returns the reports. For each package the checker

- imports the package, every ``api`` module and every ``models`` module (the lazy index of large
  APIs included), and counts the classes and ``TypeAlias`` names each models file declares (read
  with ``ast``, so a module that fails to import still counts its models as not usable);
- asserts every model class is complete (``model_rebuild()`` then ``__pydantic_complete__``; an
  enum by ``TypeAdapter``) and every alias builds a ``TypeAdapter``;
- builds a minimal instance of every model and alias from its JSON schema, validates it and
  round-trips it through ``model_dump_json(by_alias=True)``;
- resolves the annotations of every method of every API class and client class
  (``typing.get_type_hints``);
- for every operation in every ``OPERATIONS`` table, builds the required arguments from their
  annotations, calls the method on an ``AuthenticatedClient`` (every fixed credential set) against
  a real HTTP server on loopback that answers each declared 2xx response with a minimal instance
  of its type, and checks the request arrived (method, path, a JSON body the body's type accepts)
  and the call returned that value parsed; then the ``_raw`` and ``iter_`` variants, and the async
  client with every optional argument given too.

A value the builder cannot make is a *harness limit*, reported apart from the failures.
"""

from __future__ import annotations

import ast
import asyncio
import collections.abc
import dataclasses
import decimal
import importlib
import inspect
import json
import math
import os
import pkgutil
import re
import subprocess
import sys
import time
import traceback
import types
import typing
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import httpx
import jsonschema
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.json_schema import GenerateJsonSchema

try:  # Python 3.11+
    from re import _constants as _sre, _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sre  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

REPORT_PREFIX = "EXERCISE "
EXERCISE_TIMEOUT = 600.0


class CannotBuild(Exception):
    """The builder has no value for a schema: a limit of this harness, not a generator failure."""


# ---------------------------------------------------------------- shortest string matching a regex

_CANDIDATE_CHARS = "a0A_ -.x" + "".join(chr(c) for c in range(0x21, 0x7F)) + "é\u00a0"


def _category_char(category: Any) -> str:
    return {
        _sre.CATEGORY_DIGIT: "0",
        _sre.CATEGORY_NOT_DIGIT: "a",
        _sre.CATEGORY_SPACE: " ",
        _sre.CATEGORY_NOT_SPACE: "a",
        _sre.CATEGORY_WORD: "a",
        _sre.CATEGORY_NOT_WORD: " ",
        _sre.CATEGORY_LINEBREAK: "\n",
        _sre.CATEGORY_NOT_LINEBREAK: "a",
    }[category]


def _category_has(category: Any, char: str) -> bool:
    word = char.isalnum() or char == "_"
    return {
        _sre.CATEGORY_DIGIT: char.isdigit(),
        _sre.CATEGORY_NOT_DIGIT: not char.isdigit(),
        _sre.CATEGORY_SPACE: char.isspace(),
        _sre.CATEGORY_NOT_SPACE: not char.isspace(),
        _sre.CATEGORY_WORD: word,
        _sre.CATEGORY_NOT_WORD: not word,
        _sre.CATEGORY_LINEBREAK: char == "\n",
        _sre.CATEGORY_NOT_LINEBREAK: char != "\n",
    }[category]


def _class_has(items: list[tuple[Any, Any]], char: str) -> bool:
    code = ord(char)
    for op, av in items:
        if op is _sre.LITERAL and av == code:
            return True
        if op is _sre.RANGE and av[0] <= code <= av[1]:
            return True
        if op is _sre.CATEGORY and _category_has(av, char):
            return True
    return False


def _class_char(items: list[tuple[Any, Any]]) -> str:
    negated = bool(items) and items[0][0] is _sre.NEGATE
    members = items[1:] if negated else items
    if not negated:
        op, av = members[0]
        if op is _sre.LITERAL:
            return chr(av)
        if op is _sre.RANGE:
            return chr(av[0])
        if op is _sre.CATEGORY:
            return _category_char(av)
        raise CannotBuild(f"regex class item {op}")
    for char in _CANDIDATE_CHARS:
        if not _class_has(members, char):
            return char
    raise CannotBuild("regex negated class excludes every candidate character")


class _RegexWriter:
    """Writes the shortest string a parsed pattern matches, growing repeats to reach ``min_length``."""

    def __init__(self, deficit: int) -> None:
        self.deficit = deficit
        self.groups: dict[int, str] = {}

    def write(self, items: Iterable[tuple[Any, Any]]) -> str:
        return "".join(self.item(op, av) for op, av in items)

    def item(self, op: Any, av: Any) -> str:
        if op is _sre.LITERAL:
            return chr(av)
        if op is _sre.NOT_LITERAL:
            return next(c for c in _CANDIDATE_CHARS if ord(c) != av)
        if op is _sre.ANY:
            return "a"
        if op is _sre.IN:
            return _class_char(av)
        if op is _sre.AT:
            return ""  # anchors and boundaries: the final check decides
        if op is _sre.BRANCH:
            options = []
            for alternative in av[1]:
                try:
                    options.append(_RegexWriter(0).write(alternative))
                except CannotBuild:
                    continue
            if not options:
                raise CannotBuild("no alternative of a regex branch can be written")
            shortest = min(range(len(options)), key=lambda i: len(options[i]))
            return self.write(av[1][shortest])
        if op is _sre.SUBPATTERN:
            group, _add, _del, sub = av
            text = self.write(sub)
            if group is not None:
                self.groups[group] = text
            return text
        if op is getattr(_sre, "ATOMIC_GROUP", None):
            return self.write(av)
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)):
            low, high, sub = av
            unit = _RegexWriter(0).write(sub)
            count = low
            if self.deficit > 0 and unit and (high is _sre.MAXREPEAT or high > low):
                extra = -(-self.deficit // len(unit))
                if high is not _sre.MAXREPEAT:
                    extra = min(extra, high - low)
                count += extra
                self.deficit -= extra * len(unit)
            return "".join(self.write(sub) for _ in range(count))
        if op is _sre.GROUPREF:
            if av not in self.groups:
                raise CannotBuild("regex backreference to a group not yet written")
            return self.groups[av]
        if op in (_sre.ASSERT, _sre.ASSERT_NOT):
            raise CannotBuild("regex lookaround")
        if op is _sre.GROUPREF_EXISTS:
            raise CannotBuild("regex conditional group")
        raise CannotBuild(f"regex construct {op}")


def shortest_match(pattern: str, min_length: int = 0, max_length: int | None = None) -> str:
    """A shortest string ``s`` with ``re.search(pattern, s)``, at least ``min_length`` long.

    Supports literals, classes, categories, repeats (at their minimum count, grown to reach
    ``min_length``), branches, groups, backreferences and anchors; raises ``CannotBuild`` on
    lookarounds and conditionals, or when no string within the lengths matches.
    """
    try:
        parsed = _sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise CannotBuild(f"regex does not parse: {exc}") from None
    text = _RegexWriter(0).write(parsed.data)
    if len(text) < min_length:
        text = _RegexWriter(min_length - len(text)).write(parsed.data)
    if len(text) < min_length:
        padding = "a" * (min_length - len(text))
        for candidate in (text + padding, padding + text):
            if re.search(pattern, candidate):
                text = candidate
                break
    if len(text) < min_length or (max_length is not None and len(text) > max_length):
        raise CannotBuild(
            f"no string of {min_length}..{max_length} characters found for pattern {pattern!r}"
        )
    if not re.search(pattern, text):
        raise CannotBuild(
            f"the string written for pattern {pattern!r} does not match it (anchors or boundaries)"
        )
    return text


# ---------------------------------------------------------------- minimal instance of a JSON schema

_FORMATS: dict[str, str] = {
    "date-time": "2000-01-01T00:00:00Z",
    "date": "2000-01-01",
    "time": "00:00:00",
    "duration": "PT0S",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "email": "a@example.com",
    "idn-email": "a@example.com",
    "uri": "http://example.com",
    "iri": "http://example.com",
    "uri-reference": "/",
    "iri-reference": "/",
    "url": "http://example.com",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "ipvanyaddress": "127.0.0.1",
    "ipvanyinterface": "127.0.0.1/32",
    "ipvanynetwork": "127.0.0.0/8",
    "binary": "",
    "byte": "",
    "base64": "",
    "decimal": "0",
    "regex": "a",
    "json-pointer": "",
    "password": "",
    "path": "a",
    "json-string": "null",
}

# How far a branch is from a leaf: recursion is cut by preferring the lowest.
_COST = {"null": 0, "boolean": 1, "integer": 1, "number": 1, "string": 1, "array": 2, "object": 3}

# The same $ref expanded this many times on one path: from there on, prefer the smallest branch.
_REPEATS_BEFORE_CUT = 1
# $ref expansions on one path beyond which a required recursion cannot be cut.
_DEPTH_LIMIT = 64


class InstanceBuilder:
    """A deterministic minimal instance of a pydantic-generated JSON schema.

    Objects get their required properties only, arrays ``minItems`` items, strings their enum's
    first value, ``const``, a fixed value per ``format``, or the shortest match of ``pattern``
    within the length bounds; numbers the value nearest 0 that meets the bounds. ``anyOf`` and
    ``oneOf`` take the first branch that can be built, a non-null one first; inside a recursion
    (the same ``$ref`` twice on the path) the cheapest branch first, so a required self-reference
    ends in ``null``, ``[]`` or ``{}``. Raises ``CannotBuild`` where it has no value.
    """

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.defs: Mapping[str, Any] = root.get("$defs", {})

    def build(self, schema: Any = None) -> Any:
        return self._build(self.root if schema is None else schema, ())

    # ------------------------------------------------------------ dispatch

    def _build(self, schema: Any, path: tuple[str, ...]) -> Any:
        if schema is True:
            return None
        if schema is False:
            raise CannotBuild("a schema that accepts nothing")
        if not isinstance(schema, Mapping):
            raise CannotBuild(f"not a schema: {schema!r:.80}")
        if "$ref" in schema:
            target, path = self._deref(schema["$ref"], path)
            siblings = {k: v for k, v in schema.items() if k not in ("$ref", "$defs")}
            if siblings:
                return self._build({"allOf": [target, siblings]}, path)
            return self._build(target, path)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            values = list(schema["enum"])
            if not values:
                raise CannotBuild("an empty enum")
            non_null = [v for v in values if v is not None]
            return non_null[0] if non_null and not self._cutting(path) else values[0]
        if "allOf" in schema:
            return self._all_of(schema, path)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return self._union(schema[key], path)
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = (
                [k for k in kind if k != "null"]
                if not self._cutting(path)
                else sorted(kind, key=lambda k: _COST.get(k, 9))
            )
            if not kinds:
                return None
            return self._build({**schema, "type": kinds[0]}, path)
        if kind is None:
            kind = self._implied_type(schema)
        if kind is None:
            return None  # no constraint: null is as good as anything
        builder = getattr(self, f"_{kind}", None)
        if builder is None:
            raise CannotBuild(f"JSON schema type {kind!r}")
        return builder(schema, path)

    @staticmethod
    def _implied_type(schema: Mapping[str, Any]) -> str | None:
        if any(
            k in schema for k in ("properties", "additionalProperties", "required", "minProperties")
        ):
            return "object"
        if any(k in schema for k in ("items", "prefixItems", "minItems")):
            return "array"
        if any(k in schema for k in ("pattern", "minLength", "maxLength", "format")):
            return "string"
        if any(
            k in schema
            for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
        ):
            return "number"
        return None

    def _deref(self, ref: str, path: tuple[str, ...]) -> tuple[Any, tuple[str, ...]]:
        if not ref.startswith("#/$defs/"):
            raise CannotBuild(f"$ref outside $defs: {ref}")
        name = ref[len("#/$defs/") :].replace("~1", "/").replace("~0", "~")
        if name not in self.defs:
            raise CannotBuild(f"$ref to a missing definition: {ref}")
        if len(path) >= _DEPTH_LIMIT:
            raise CannotBuild(f"a required recursion through {name!r} cannot be cut")
        return self.defs[name], path + (name,)

    @staticmethod
    def _cutting(path: tuple[str, ...]) -> bool:
        return any(path.count(name) > _REPEATS_BEFORE_CUT for name in set(path))

    # ------------------------------------------------------------ combinations

    def _union(self, branches: Sequence[Any], path: tuple[str, ...]) -> Any:
        order = list(range(len(branches)))
        if self._cutting(path):
            order.sort(key=lambda i: self._cost(branches[i]))
        else:
            order.sort(key=lambda i: self._is_null(branches[i]))
        reasons = []
        for index in order:
            try:
                return self._build(branches[index], path)
            except CannotBuild as exc:
                reasons.append(str(exc))
        raise CannotBuild("no branch of a union can be built: " + "; ".join(reasons[:3]))

    def _is_null(self, schema: Any) -> bool:
        return isinstance(schema, Mapping) and (
            schema.get("type") == "null" or schema.get("const", 0) is None
        )

    def _cost(self, schema: Any) -> int:
        if not isinstance(schema, Mapping):
            return 5
        if "$ref" in schema:
            return 6
        if any(k in schema for k in ("anyOf", "oneOf", "allOf")):
            return 5
        if "const" in schema or "enum" in schema:
            return 1
        kind = schema.get("type")
        if isinstance(kind, list):
            return min((_COST.get(k, 4) for k in kind), default=4)
        kind = kind or self._implied_type(schema)
        if kind == "object" and schema.get("required"):
            return 4
        if kind == "array" and schema.get("minItems"):
            return 4
        return _COST.get(kind or "null", 4)

    def _all_of(self, schema: Mapping[str, Any], path: tuple[str, ...]) -> Any:
        parts: list[Mapping[str, Any]] = []
        pending = list(schema["allOf"]) + [{k: v for k, v in schema.items() if k != "allOf"}]
        while pending:
            part = pending.pop(0)
            if part is True or part == {}:
                continue
            if not isinstance(part, Mapping):
                raise CannotBuild("allOf holding a boolean false schema")
            if "$ref" in part:
                target, path = self._deref(part["$ref"], path)
                pending.insert(0, {**target, **{k: v for k, v in part.items() if k != "$ref"}})
                continue
            if "allOf" in part:
                pending[:0] = list(part["allOf"]) + [
                    {k: v for k, v in part.items() if k != "allOf"}
                ]
                continue
            parts.append(part)
        for index, part in enumerate(parts):
            for key in ("anyOf", "oneOf"):
                if key in part:  # distribute: (A | B) & C is (A & C) | (B & C)
                    rest = [p for i, p in enumerate(parts) if i != index]
                    own = {k: v for k, v in part.items() if k != key}
                    branches = [{"allOf": [branch, own, *rest]} for branch in part[key]]
                    return self._union(branches, path)
        return self._build(_merge(parts), path)

    # ------------------------------------------------------------ types

    def _object(self, schema: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
        properties: Mapping[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        result: dict[str, Any] = {}
        for name in schema.get("required", []):
            sub = properties.get(name, extra if isinstance(extra, Mapping) else {})
            result[name] = self._build(sub, path)
        wanted = schema.get("minProperties", 0)
        for name, sub in properties.items():
            if len(result) >= wanted:
                break
            result.setdefault(name, self._build(sub, path))
        counter = 0
        while len(result) < wanted:
            if extra is False:
                raise CannotBuild("minProperties beyond the declared properties")
            counter += 1
            result.setdefault(
                f"key{counter}", self._build(extra if isinstance(extra, Mapping) else {}, path)
            )
        return result

    def _array(self, schema: Mapping[str, Any], path: tuple[str, ...]) -> list[Any]:
        count = int(schema.get("minItems", 0))
        prefix = list(schema.get("prefixItems", []))
        items = schema.get("items", {})
        result = [self._build(sub, path) for sub in prefix[:count]]
        if len(result) < count:
            if items is False:
                raise CannotBuild("minItems beyond prefixItems")
            item = self._build(items, path)
            if schema.get("uniqueItems") and count - len(result) > 1:
                values = items.get("enum") if isinstance(items, Mapping) else None
                if not values or len(values) < count:
                    raise CannotBuild("several unique items")
                return list(values[:count])
            result.extend(json.loads(json.dumps(item)) for _ in range(count - len(result)))
        return result

    def _string(self, schema: Mapping[str, Any], path: tuple[str, ...]) -> str:
        low = int(schema.get("minLength", 0))
        high = schema.get("maxLength")
        pattern = schema.get("pattern")
        fmt = schema.get("format")
        if fmt in _FORMATS:
            text = _FORMATS[fmt]
            if low <= len(text) <= (high if high is not None else len(text)) and (
                pattern is None or re.search(pattern, text)
            ):
                return text
            if fmt not in ("binary", "byte", "base64", "password", "regex", "json-pointer", "path"):
                raise CannotBuild(f"format {fmt!r} with length bounds or a pattern")
        if pattern is not None:
            return shortest_match(pattern, low, high)
        if high is not None and low > high:
            raise CannotBuild("minLength above maxLength")
        return "a" * low

    def _integer(self, schema: Mapping[str, Any], path: tuple[str, ...]) -> int:
        low = schema.get("minimum")
        high = schema.get("maximum")
        if "exclusiveMinimum" in schema and not isinstance(schema["exclusiveMinimum"], bool):
            bound = math.floor(schema["exclusiveMinimum"]) + 1
            low = bound if low is None else max(math.ceil(low), bound)
        if "exclusiveMaximum" in schema and not isinstance(schema["exclusiveMaximum"], bool):
            bound = math.ceil(schema["exclusiveMaximum"]) - 1
            high = bound if high is None else min(math.floor(high), bound)
        low = None if low is None else math.ceil(low)
        high = None if high is None else math.floor(high)
        step = schema.get("multipleOf")
        value = _nearest_zero(low, high, step)
        return int(value)

    def _number(self, schema: Mapping[str, Any], path: tuple[str, ...]) -> float:
        low = schema.get("minimum")
        high = schema.get("maximum")
        exclusive_low = schema.get("exclusiveMinimum")
        exclusive_high = schema.get("exclusiveMaximum")
        step = schema.get("multipleOf")
        if isinstance(exclusive_low, bool) or isinstance(exclusive_high, bool):
            raise CannotBuild("draft-4 boolean exclusive bounds")
        if exclusive_low is not None:
            nudged = exclusive_low + (step or 1)
            if (
                high is not None
                and nudged > high
                or exclusive_high is not None
                and nudged >= exclusive_high
            ):
                nudged = (exclusive_low + (high if high is not None else exclusive_high)) / 2
            low = nudged if low is None else max(low, nudged)
        if exclusive_high is not None:
            nudged = exclusive_high - (step or 1)
            if low is not None and nudged < low:
                nudged = (exclusive_high + low) / 2
            high = nudged if high is None else min(high, nudged)
        return float(_nearest_zero(low, high, step))

    def _boolean(self, schema: Mapping[str, Any], path: tuple[str, ...]) -> bool:
        return False

    def _null(self, schema: Mapping[str, Any], path: tuple[str, ...]) -> None:
        return None


def _nearest_zero(low: float | None, high: float | None, step: float | None) -> float:
    """The value nearest 0 in [low, high] (a multiple of ``step`` when given)."""
    if low is not None and high is not None and low > high:
        raise CannotBuild(f"an empty range {low}..{high}")
    value: float = 0
    if low is not None and value < low:
        value = low
    if high is not None and value > high:
        value = high
    if step:
        exact = decimal.Decimal(str(step))
        here = decimal.Decimal(str(value))
        quotient = here / exact
        candidates = [
            quotient.to_integral_value(decimal.ROUND_CEILING),
            quotient.to_integral_value(decimal.ROUND_FLOOR),
        ]
        for count in sorted(candidates, key=abs):
            multiple = count * exact
            if (low is None or multiple >= decimal.Decimal(str(low))) and (
                high is None or multiple <= decimal.Decimal(str(high))
            ):
                return (
                    int(multiple) if multiple == multiple.to_integral_value() else float(multiple)
                )
        raise CannotBuild(f"no multiple of {step} in {low}..{high}")
    return value


def _merge(parts: list[Mapping[str, Any]]) -> dict[str, Any]:
    """One schema for the conjunction of plain (reference-free, union-free) schemas."""
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key == "properties":
                properties = dict(merged.get("properties", {}))
                for name, sub in value.items():
                    properties[name] = (
                        {"allOf": [properties[name], sub]} if name in properties else sub
                    )
                merged["properties"] = properties
            elif key == "required":
                merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
            elif key == "additionalProperties":
                if value is False or "additionalProperties" not in merged:
                    merged[key] = value
            elif key in ("const", "enum"):
                if "const" not in merged:
                    merged[key] = value
            elif key in ("minimum", "minLength", "minItems", "minProperties", "exclusiveMinimum"):
                merged[key] = max(merged[key], value) if key in merged else value
            elif key in ("maximum", "maxLength", "maxItems", "exclusiveMaximum"):
                merged[key] = min(merged[key], value) if key in merged else value
            elif key == "type" and "type" in merged and merged["type"] != value:
                ours = set(merged["type"] if isinstance(merged["type"], list) else [merged["type"]])
                theirs = set(value if isinstance(value, list) else [value])
                if (
                    "number" in ours
                    and "integer" in theirs
                    or "integer" in ours
                    and "number" in theirs
                ):
                    ours |= {"integer"}
                    theirs |= {"integer"}
                both = sorted(ours & theirs)
                if not both:
                    raise CannotBuild(f"allOf of types {sorted(ours)} and {sorted(theirs)}")
                merged["type"] = both[0] if len(both) == 1 else both
            elif key not in merged:
                merged[key] = value
    if "const" in merged:
        merged.pop("enum", None)
    return merged


# ---------------------------------------------------------------- JSON schemas pydantic can't tell us


class TaggedUnionSchema(GenerateJsonSchema):
    """pydantic's schema, plus what a callable discriminator selects on.

    A generated tagged union picks its member with ``tag_by_property(name, mapping)``, a callable
    the JSON schema cannot show; each branch is given the ``const`` value of ``name`` that selects
    it, so a built instance reaches the member it was built from.
    """

    def default_schema(self, schema: Any) -> Any:
        return self.generate_inner(schema["schema"])  # defaults play no part in a minimal instance

    def tagged_union_schema(self, schema: Any) -> Any:
        selector = schema.get("discriminator")
        if not callable(selector):
            return super().tagged_union_schema(schema)
        try:
            captured = inspect.getclosurevars(selector).nonlocals
        except TypeError:
            captured = {}
        name, mapping = captured.get("name"), captured.get("mapping")
        if not isinstance(name, str) or not isinstance(mapping, Mapping):
            return super().tagged_union_schema(schema)
        branches = []
        for tag, choice in schema["choices"].items():
            values = [value for value, selected in mapping.items() if selected == tag]
            if not values:
                continue  # reachable only from a model instance, never from JSON
            selects = {
                "type": "object",
                "properties": {name: {"const": values[0]}},
                "required": [name],
            }
            branches.append({"allOf": [self.generate_inner(choice), selects]})
        if not branches:
            return super().tagged_union_schema(schema)
        return {"oneOf": branches}


def _annotation_for_values(annotation: Any) -> Any:
    """``annotation`` without the members a value is never built for (plain dicts, file objects)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = typing.get_args(annotation)
        kept = [m for m in members if not _is_loose_member(m)]
        if kept and len(kept) < len(members):
            return kept[0] if len(kept) == 1 else typing.Union[tuple(kept)]
    return annotation


def _is_loose_member(member: Any) -> bool:
    """Members accepted besides the one values are built for: file objects and byte streams
    beside ``bytes``, plain dicts beside models."""
    if (
        member in (typing.BinaryIO, typing.IO, typing.TextIO, bytearray, memoryview)
        or typing.get_origin(member) in (typing.IO, collections.abc.Iterable, collections.abc.AsyncIterable)
    ):
        return True
    return typing.get_origin(member) is dict and typing.get_args(member) == (str, Any)


class Values:
    """A value of a Python type: its TypeAdapter, JSON schema and minimal instance, made once."""

    def __init__(self) -> None:
        self._adapters: dict[Any, TypeAdapter[Any]] = {}
        self._schemas: dict[Any, Any] = {}
        self._validators: dict[Any, Any] = {}

    @staticmethod
    def _key(annotation: Any) -> Any:
        try:
            hash(annotation)
            return annotation
        except TypeError:
            return repr(annotation)

    def adapter(self, annotation: Any) -> TypeAdapter[Any]:
        key = self._key(annotation)
        adapter = self._adapters.get(key)
        if adapter is None:
            adapter = TypeAdapter(annotation)
            if not getattr(
                adapter, "pydantic_complete", True
            ):  # deferred: build it now, or say why not
                adapter.rebuild(raise_errors=True)
                if not adapter.pydantic_complete:
                    raise RuntimeError(
                        f"TypeAdapter({_type_name(annotation)}) is not complete after rebuild()"
                    )
            self._adapters[key] = adapter
        return adapter

    def prime(self, annotations: Iterable[Any]) -> None:
        """Generate the JSON schemas of many types in one pass (shared ``$defs``), where they all build."""
        todo = []
        for annotation in annotations:
            key = self._key(annotation)
            if key in self._schemas:
                continue
            try:
                todo.append((key, self.adapter(annotation)))
            except Exception:
                continue  # reported when the type is used
        if not todo:
            return
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mapping, top = TypeAdapter.json_schemas(
                    [(key, "validation", adapter) for key, adapter in dict(todo).items()],
                    schema_generator=TaggedUnionSchema,
                )
        except Exception:
            return  # one bad apple: the schemas are made one at a time instead
        defs = top.get("$defs", {})
        for (key, _mode), schema in mapping.items():
            self._schemas[key] = {**schema, "$defs": defs}

    def schema(self, annotation: Any) -> Any:
        key = self._key(annotation)
        if key not in self._schemas:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._schemas[key] = self.adapter(annotation).json_schema(
                    schema_generator=TaggedUnionSchema
                )
        return self._schemas[key]

    def check_against_schema(self, annotation: Any, data: Any, what: str) -> None:
        """``data`` is valid by the JSON schema of ``annotation`` (JSON Schema 2020-12 semantics)."""
        key = self._key(annotation)
        validator = self._validators.get(key)
        if validator is None:
            validator = jsonschema.Draft202012Validator(_reachable(self.schema(annotation)))
            self._validators[key] = validator
        error = jsonschema.exceptions.best_match(validator.iter_errors(data))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            raise AssertionError(
                f"{what} is not valid by its type's JSON schema at {where}: {error.message[:200]}"
            )

    def data(self, annotation: Any) -> Any:
        """A minimal JSON instance the type accepts; ``CannotBuild`` when the harness has none."""
        adapter = self.adapter(annotation)
        try:
            schema = self.schema(annotation)
        except Exception as exc:
            raise CannotBuild(f"no JSON schema: {_describe(exc)}") from None
        data = InstanceBuilder(schema).build()
        try:
            adapter.validate_python(data)
        except ValidationError as exc:
            raise CannotBuild(
                f"the instance built from the JSON schema is rejected: {_describe(exc)}"
            ) from None
        return data

    def value(self, annotation: Any) -> Any:
        """A minimal Python value of ``annotation`` (models as instances, not dicts)."""
        narrowed = _annotation_for_values(annotation)
        return self.adapter(narrowed).validate_python(self.data(narrowed))


def _refs(node: Any) -> set[str]:
    """The ``$defs`` names a schema refers to directly (not through other definitions)."""
    found: set[str] = set()
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, Mapping):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                found.add(ref[len("#/$defs/") :].replace("~1", "/").replace("~0", "~"))
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


_DEF_REFS: dict[int, tuple[Any, dict[str, set[str]]]] = {}


def _reachable(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with only the ``$defs`` its references reach (validators crawl all of them)."""
    defs = schema.get("$defs", {})
    cached = _DEF_REFS.get(id(defs))
    if cached is None or cached[0] is not defs:
        cached = (defs, {name: _refs(body) for name, body in defs.items()})
        _DEF_REFS[id(defs)] = cached
    graph = cached[1]
    top = {k: v for k, v in schema.items() if k != "$defs"}
    kept: set[str] = set()
    pending = [name for name in _refs(top) if name in graph]
    while pending:
        name = pending.pop()
        if name not in kept:
            kept.add(name)
            pending.extend(n for n in graph[name] if n in graph and n not in kept)
    return {**top, "$defs": {name: defs[name] for name in kept}}


# ---------------------------------------------------------------- reporting


def _describe(exc: BaseException) -> str:
    """``Type: first line`` (for a validation error, its first error)."""
    if isinstance(exc, ValidationError):
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = ".".join(str(p) for p in first.get("loc", ()))
        return f"ValidationError: {exc.title}: {loc or '(root)'}: {first.get('msg', '')} [{first.get('type', '')}]"[
            :400
        ]
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:400]


@dataclasses.dataclass
class Report:
    package: str
    import_error: str | None = None
    groups: int = 0
    operation_keys: list[list[str]] = dataclasses.field(default_factory=list)
    models_total: int = 0
    models_complete: int = 0
    aliases_total: int = 0
    aliases_usable: int = 0
    instances_built: int = 0
    instances_limited: int = 0
    operations_total: int = 0
    operations_request_built: int = 0
    operations_response_parsed: int = 0
    operations_limited: int = 0
    responses_checked: int = 0
    bodies_checked: int = 0
    bodies_unchecked: int = 0
    methods_hinted: int = 0
    failures: list[dict[str, str]] = dataclasses.field(default_factory=list)
    limits: list[dict[str, str]] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    def fail(self, kind: str, where: str, exc: BaseException | str) -> None:
        error = exc if isinstance(exc, str) else _describe(exc)
        self.failures.append({"kind": kind, "where": where, "error": error})

    def limit(self, where: str, reason: str) -> None:
        self.limits.append({"where": where, "reason": reason[:400]})


# ---------------------------------------------------------------- models


def _declared_names(path: Path) -> tuple[list[str], list[str]]:
    """(classes, ``TypeAlias`` names) a models file declares at its top level."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    classes = [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
    aliases = [
        node.target.id
        for node in tree.body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and isinstance(node.annotation, (ast.Name, ast.Attribute))
        and (node.annotation.id if isinstance(node.annotation, ast.Name) else node.annotation.attr)
        == "TypeAlias"
    ]
    return classes, aliases


def _models_files(package_dir: Path) -> list[tuple[str, Path]]:
    """(module suffix, file) of every models module: ``models`` and, for large APIs, ``models._x``."""
    models_dir = package_dir / "models"
    files = [("models", models_dir / "__init__.py")]
    files += [
        (f"models.{p.stem}", p) for p in sorted(models_dir.glob("*.py")) if p.name != "__init__.py"
    ]
    return [(name, path) for name, path in files if path.is_file()]


def check_models(
    package: str, package_dir: Path, report: Report, values: Values
) -> list[tuple[str, Any]]:
    """Completeness of every class and alias; returns (name, type) of those usable."""
    usable: list[tuple[str, Any]] = []
    for suffix, path in _models_files(package_dir):
        classes, aliases = _declared_names(path)
        report.models_total += len(classes)
        report.aliases_total += len(aliases)
        module_name = f"{package}.{suffix}"
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            report.fail("import", module_name, exc)
            continue
        for name in classes:
            where = f"{suffix}.{name}"
            try:
                cls = module.__dict__[name]
                if isinstance(cls, type) and issubclass(cls, BaseModel):
                    cls.model_rebuild()
                    if not cls.__pydantic_complete__:
                        raise RuntimeError("__pydantic_complete__ is False after model_rebuild()")
                values.adapter(cls)
            except Exception as exc:
                report.fail("model", where, exc)
                continue
            report.models_complete += 1
            usable.append((where, cls))
        for name in aliases:
            where = f"{suffix}.{name}"
            try:
                alias = module.__dict__[name]
                values.adapter(alias)
            except Exception as exc:
                report.fail("alias", where, exc)
                continue
            report.aliases_usable += 1
            usable.append((where, alias))
    return usable


def check_instances(usable: list[tuple[str, Any]], report: Report, values: Values) -> None:
    """A minimal instance of every model and alias, validated and round-tripped through JSON."""
    for where, annotation in usable:
        try:
            data = values.data(annotation)
        except CannotBuild as exc:
            report.instances_limited += 1
            report.limit(where, str(exc))
            continue
        except Exception as exc:
            report.fail("instance", where, exc)
            continue
        try:
            adapter = values.adapter(annotation)
            value = adapter.validate_python(data)
            if isinstance(value, BaseModel):
                text = value.model_dump_json(by_alias=True)
            else:
                text = adapter.dump_json(value, by_alias=True).decode()
            values.check_against_schema(annotation, json.loads(text), "the serialised instance")
            again = adapter.validate_json(text)
            if again != value and adapter.dump_python(again, mode="json") != adapter.dump_python(
                value, mode="json"
            ):
                raise AssertionError(
                    f"serialised and parsed again, {again!r:.120} != {value!r:.120}"
                )
        except Exception as exc:
            report.fail("instance", where, exc)
            continue
        report.instances_built += 1


# ---------------------------------------------------------------- loopback server


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1: records each request and answers with the reply set."""

    def __init__(self) -> None:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from recording_server import RecordingServer, Reply  # the suite's own recording server

        self._reply_type = Reply
        self.server = RecordingServer()
        self.server.default = self._answer  # every path, every method
        self.reply = Reply(204)

    def _answer(self, request: Any) -> Any:
        return self.reply

    def set_reply(self, status: int, body: bytes, content_type: str) -> None:
        self.reply = self._reply_type(status, body if body else None, content_type=content_type)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def requests(self) -> list[Any]:
        return self.server.requests

    def __enter__(self) -> LoopbackServer:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)


# ---------------------------------------------------------------- operations


@dataclasses.dataclass
class Exchange:
    """One declared success response to serve, and what the call should return for it."""

    status: int
    body: bytes
    content_type: str
    expected: Any  # the parsed value the client must return
    type: Any  # the response type (None: nothing to compare beyond ``expected``)


@dataclasses.dataclass
class Operation:
    module: str
    name: str
    spec: Any  # the OperationSpec
    method: Callable[..., Any] | None
    async_method: Callable[..., Any] | None
    raw_method: Callable[..., Any] | None
    iter_method: Callable[..., Any] | None
    required: dict[str, Any] = dataclasses.field(default_factory=dict)
    keywords: dict[str, Any] = dataclasses.field(
        default_factory=dict
    )  # every parameter, optional too
    positional: list[str] = dataclasses.field(default_factory=list)
    exchanges: list[Exchange] = dataclasses.field(default_factory=list)
    return_hint: Any = None
    body_hint: Any = None
    hints: dict[str, Any] = dataclasses.field(default_factory=dict)
    signature: inspect.Signature | None = None
    statuses: list[tuple[int, Any]] = dataclasses.field(default_factory=list)
    failed: bool = False
    limited: bool = False
    request_built: bool = False
    body_counted: bool = False

    @property
    def where(self) -> str:
        return f"api.{self.module}.{self.name}"


def _success_statuses(spec: Any) -> list[tuple[int, Any]]:
    """(status to answer with, ResponseSpec) for every declared success response."""
    responses = list(spec.responses)
    declared = {r.status for r in responses}
    chosen: list[tuple[int, Any]] = []
    for response in responses:
        status = response.status.upper()
        if status.isdigit() and status.startswith("2"):
            chosen.append((int(status), response))
        elif status == "2XX":
            free = next(
                (
                    code
                    for code in range(200, 300)
                    if str(code) not in declared and code not in (204, 205)
                ),
                299,
            )
            chosen.append((free, response))
    if not chosen:
        default = next((r for r in responses if r.status == "default"), None)
        if default is not None:
            chosen.append((200, default))
    return chosen


def _exchange(status: int, response: Any, values: Values) -> Exchange:
    if status in (204, 205) or response.kind == "empty":
        return Exchange(status, b"", "application/json", None, None)
    if response.kind == "binary":
        return Exchange(
            status, b"\x00\x01binary", "application/octet-stream", b"\x00\x01binary", None
        )
    if response.kind == "text":
        return Exchange(status, "text ✓".encode(), "text/plain; charset=utf-8", "text ✓", None)
    response_type = response.type  # loads the models it names
    if response_type is None:
        return Exchange(status, b'{"any":[1]}', "application/json", {"any": [1]}, None)
    data = values.data(response_type)
    body = json.dumps(data, ensure_ascii=False).encode()
    return Exchange(
        status,
        body,
        "application/json",
        values.adapter(response_type).validate_json(body),
        response_type,
    )


_PATH_PARAM = re.compile(r"\{[^{}]*\}")


def _path_pattern(template: str) -> re.Pattern[str]:
    """The paths a request for ``template`` may go to (a ``#fragment`` in the template is not sent)."""
    parts = _PATH_PARAM.split(template.split("#", 1)[0])
    return re.compile(".*?".join(re.escape(part) for part in parts), re.DOTALL)


def _same(got: Any, expected: Any, adapter: TypeAdapter[Any] | None) -> bool:
    if got == expected:
        return True
    if adapter is None:
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return bool(
                adapter.dump_python(got, mode="json") == adapter.dump_python(expected, mode="json")
            )
    except Exception:
        return False


class OperationRunner:
    def __init__(self, report: Report, values: Values, server: LoopbackServer) -> None:
        self.report = report
        self.values = values
        self.server = server

    # ------------------------------------------------------------ preparation

    def resolve(self, op: Operation) -> list[Any]:
        """The method's annotations and the response types (loading their models); returns the types."""
        if op.method is None:
            return []
        try:
            op.hints = typing.get_type_hints(op.method, include_extras=True)
            op.signature = inspect.signature(op.method)
        except Exception as exc:
            self._fail(op, "hints", exc)
            return []
        op.return_hint = op.hints.get("return")
        try:
            op.statuses = _success_statuses(op.spec)
        except Exception as exc:
            self._fail(op, "response", exc, "responses")
            return []
        types = [
            _annotation_for_values(op.hints.get(name, Any))
            for name, param in op.signature.parameters.items()
            if param.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        for _status, response in op.statuses:
            if response.kind == "json":
                try:
                    types.append(response.type)
                except Exception as exc:
                    self._fail(op, "response", exc, f"response {response.status} type")
                    return []
        return types

    def prepare(self, op: Operation) -> None:
        """Arguments and exchanges; marks the operation failed or limited when it cannot be made."""
        if op.method is None or op.failed or op.signature is None:
            return
        for name, param in op.signature.parameters.items():
            if param.kind is inspect.Parameter.VAR_KEYWORD:
                continue  # **options: the runtime's per-call options (timeout, retries...), not the spec's
            annotation = op.hints.get(name, Any)
            if name == "body":
                op.body_hint = _annotation_for_values(annotation)
            required = param.default is inspect.Parameter.empty
            try:
                value = self.values.value(annotation)
            except CannotBuild as exc:
                if required:
                    self._limit(op, f"argument {name}: {exc}")
                    return
                continue  # an optional argument left out of the all-arguments call
            except Exception as exc:
                self._fail(op, "request", exc, f"argument {name} ({_type_name(annotation)})")
                return
            if (
                param.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
                or param.kind is inspect.Parameter.POSITIONAL_ONLY
            ):
                op.positional.append(name)
            if required:
                op.required[name] = value
            op.keywords[name] = value
        if not op.statuses:
            op.exchanges.append(Exchange(204, b"", "application/json", None, None))
        for status, response in op.statuses:
            try:
                op.exchanges.append(_exchange(status, response, self.values))
            except CannotBuild as exc:
                self._limit(op, f"response {response.status}: {exc}")
                return
            except Exception as exc:
                self._fail(op, "response", exc, f"response {response.status} type")
                return
        if (
            op.spec.method.upper() == "HEAD"
        ):  # a response to HEAD has no body, whatever the spec declares
            op.exchanges = [
                Exchange(e.status, b"", e.content_type, None, None) for e in op.exchanges
            ]

    def _fail(self, op: Operation, kind: str, exc: BaseException | str, detail: str = "") -> None:
        op.failed = True
        self.report.fail(kind, op.where + (f" [{detail}]" if detail else ""), exc)

    def _limit(self, op: Operation, reason: str) -> None:
        op.limited = True
        self.report.limit(op.where, reason)

    @staticmethod
    def _arguments(op: Operation, values: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        args = [values[name] for name in op.positional if name in values]
        kwargs = {name: value for name, value in values.items() if name not in op.positional}
        return args, kwargs

    # ------------------------------------------------------------ checks

    def _check_request(self, op: Operation, before: int, sent: Mapping[str, Any]) -> None:
        """One request arrived, with the operation's method and path, and the body as sent."""
        received = self.server.requests[before:]
        if len(received) != 1:
            raise AssertionError(f"the server received {len(received)} requests, expected 1")
        request = received[0]
        spec = op.spec
        if request.method != spec.method.upper():
            raise AssertionError(f"sent {request.method}, the operation is {spec.method.upper()}")
        # The request-target as sent; not urlsplit, which reads a leading "//x" as a host.
        sent_path = (request.target or request.path).split("?", 1)[0]
        if not _path_pattern(spec.path).fullmatch(unquote(sent_path)):
            raise AssertionError(f"sent to {sent_path!r}, the operation's path is {spec.path!r}")
        if op.body_hint is not None and sent.get("body") is not None:
            checked = self._check_body(op, request, sent["body"])
            if not op.body_counted:
                op.body_counted = True
                if checked:
                    self.report.bodies_checked += 1
                else:
                    self.report.bodies_unchecked += 1

    def _check_body(self, op: Operation, request: Any, value: Any) -> bool:
        """The body the server received is the value sent, as its declared type reads it back."""
        kind = op.spec.body_kind
        content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
        declared = (op.spec.body_media_type or "").lower()
        if kind == "json":
            if content_type != declared:
                raise AssertionError(f"body sent as {content_type!r}, declared {declared!r}")
            self.values.check_against_schema(
                op.body_hint, json.loads(request.body), "the JSON body sent"
            )
            received = _parsed_body(
                lambda: self.values.adapter(op.body_hint).validate_json(request.body), "JSON"
            )
        elif kind == "form":
            if content_type != "application/x-www-form-urlencoded":
                raise AssertionError(f"form body sent as {content_type!r}")
            pairs = parse_qsl(request.body.decode("ascii"), keep_blank_values=True)
            expected = _form_pairs(_request_json(value))
            if sorted(pairs) != sorted(expected):
                raise AssertionError(f"form body {pairs!r:.160}, expected {expected!r:.160}")
            data = _unflatten(pairs)
            if _has_empty_container(_request_json(value)):
                return True  # an empty object or list has no form encoding to read back
            received = _parsed_body(
                lambda: self.values.adapter(op.body_hint).validate_python(data), "form"
            )
        elif kind == "multipart":
            if content_type != "multipart/form-data":
                raise AssertionError(f"multipart body sent as {content_type!r}")
            data = _multipart_fields(request.header("Content-Type") or "", request.body)
            received = _parsed_body(
                lambda: self.values.adapter(op.body_hint).validate_python(data), "multipart"
            )
        elif kind == "text":
            if request.body != str(value).encode():
                raise AssertionError(
                    f"text body {request.body[:80]!r} is not the {value!r:.80} sent"
                )
            return True
        elif isinstance(value, (bytes, bytearray)):
            if request.body != bytes(value):
                raise AssertionError(
                    f"binary body {request.body[:80]!r} is not the {value!r:.80} sent"
                )
            return True
        else:
            return False
        if not _same(received, value, self.values.adapter(op.body_hint)):
            raise AssertionError(
                f"the {kind} body read back is {received!r:.160}, sent {value!r:.160}"
            )
        return True

    def _check_result(self, op: Operation, exchange: Exchange, got: Any) -> None:
        adapter = self.values.adapter(exchange.type) if exchange.type is not None else None
        if not _same(got, exchange.expected, adapter):
            raise AssertionError(f"returned {got!r:.160}, expected {exchange.expected!r:.160}")
        if (
            isinstance(exchange.type, type)
            and got is not None
            and not isinstance(got, exchange.type)
        ):
            raise AssertionError(
                f"returned a {type(got).__name__}, the response type is {exchange.type.__name__}"
            )
        if op.return_hint is not None and op.return_hint is not Any:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self.values.adapter(op.return_hint).validate_python(got)
            except ValidationError as exc:
                raise AssertionError(
                    f"the method's return annotation rejects what it returned: {_describe(exc)}"
                ) from None

    @staticmethod
    def _warned(op: Operation, caught: list[warnings.WarningMessage]) -> None:
        deprecated = any(
            issubclass(w.category, DeprecationWarning) and op.name in str(w.message) for w in caught
        )
        if op.spec.deprecated and not deprecated:
            raise AssertionError("a deprecated operation called without a DeprecationWarning")

    # ------------------------------------------------------------ calls

    def run_sync(self, op: Operation) -> None:
        if op.failed or op.limited:
            return
        if op.method is None:
            self._fail(op, "request", "no method of that name on the AuthenticatedClient's group")
            return
        args, kwargs = self._arguments(op, op.required)
        parsed_all = True
        for index, exchange in enumerate(op.exchanges):
            self.server.set_reply(exchange.status, exchange.body, exchange.content_type)
            before = len(self.server.requests)
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    got = op.method(*args, **kwargs)
                self._warned(op, caught)
            except Exception as exc:
                sent = len(self.server.requests) > before
                self._fail(op, "response" if sent else "request", exc, f"status {exchange.status}")
                if sent and index == 0:
                    op.request_built = self._request_ok(op, before)
                return
            try:
                self._check_request(op, before, op.required)
            except Exception as exc:
                self._fail(op, "request", exc)
                return
            op.request_built = True
            try:
                self._check_result(op, exchange, got)
                self.report.responses_checked += 1
            except Exception as exc:
                self._fail(op, "response", exc, f"status {exchange.status}")
                parsed_all = False
        if not parsed_all:
            return
        first = op.exchanges[0]
        self.server.set_reply(first.status, first.body, first.content_type)
        if op.raw_method is not None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    raw = op.raw_method(*args, **kwargs)
                if raw.status_code != first.status:
                    raise AssertionError(f"status_code {raw.status_code}, served {first.status}")
                self._check_result(op, first, raw.parsed)
            except Exception as exc:
                self._fail(op, "response", exc, "raw method")
        if op.iter_method is not None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    list(op.iter_method(*args, **kwargs))
            except Exception as exc:
                self._fail(op, "response", exc, "iter method")

    def _request_ok(self, op: Operation, before: int) -> bool:
        try:
            self._check_request(op, before, op.required)
            return True
        except Exception:
            return False

    async def run_async(self, op: Operation) -> None:
        """The async twin, with every argument (optional ones too) and the first exchange."""
        if op.failed or op.limited or op.async_method is None:
            if op.async_method is None and not (op.failed or op.limited):
                self._fail(
                    op, "request", "no method of that name on the AsyncAuthenticatedClient's group"
                )
            return
        exchange = op.exchanges[0]
        self.server.set_reply(exchange.status, exchange.body, exchange.content_type)
        before = len(self.server.requests)
        args, kwargs = self._arguments(op, op.keywords)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = await op.async_method(*args, **kwargs)
            self._check_request(op, before, op.keywords)
            self._check_result(op, exchange, got)
        except Exception as exc:
            self._fail(
                op,
                "response" if len(self.server.requests) > before else "request",
                exc,
                "async, every argument",
            )


def _parsed_body(parse: Callable[[], Any], kind: str) -> Any:
    try:
        return parse()
    except ValidationError as exc:
        raise AssertionError(
            f"the {kind} body sent is rejected by its own type: {_describe(exc)}"
        ) from None


def _request_json(value: Any) -> Any:
    """The JSON data of a body value, as a request sends it (by alias, unset fields left out)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return json.loads(json.dumps(value, default=str))


def _form_pairs(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """The documented form encoding: ``a[b][c]=v``, ``a[0]=v``, an empty array ``a=``, no nulls."""
    if isinstance(data, dict):
        return [
            pair
            for key, item in data.items()
            for pair in _form_pairs(item, f"{prefix}[{key}]" if prefix else str(key))
        ]
    if isinstance(data, list):
        if not data:
            return [(prefix, "")] if prefix else []
        return [
            pair
            for index, item in enumerate(data)
            for pair in _form_pairs(item, f"{prefix}[{index}]")
        ]
    if data is None:
        return []
    text = "true" if data is True else "false" if data is False else str(data)
    return [(prefix, text)]


def _has_empty_container(data: Any) -> bool:
    if isinstance(data, dict):
        return not data or any(_has_empty_container(v) for v in data.values())
    if isinstance(data, list):
        return not data or any(_has_empty_container(v) for v in data)
    return False


def _unflatten(pairs: Sequence[tuple[str, str]]) -> Any:
    """Form pairs ``a[b][0]=v`` back into nested objects and arrays (the runtime's form encoding)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, *rest = re.findall(r"^[^\[]*|(?<=\[)[^\]]*(?=\])", key) or [key]
        parts = [head, *rest]
        node: Any = root
        for part, following in zip(parts, parts[1:] + [None]):
            slot = int(part) if isinstance(node, list) else part
            if following is None:
                if isinstance(node, list):
                    node.extend([None] * (slot + 1 - len(node)))
                node[slot] = value
                break
            child_kind: type = list if following.isdigit() else dict
            if isinstance(node, list):
                node.extend([None] * (slot + 1 - len(node)))
                if node[slot] is None:
                    node[slot] = child_kind()
            elif slot not in node or node[slot] == "":
                node[slot] = child_kind()
            node = node[slot]
    return root


def _multipart_fields(content_type: str, body: bytes) -> dict[str, Any]:
    """The fields of a multipart/form-data body: JSON parts parsed, files as bytes, the rest text."""
    import email.parser
    import email.policy

    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body
    )
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_content_type() == "application/json":
            fields[str(name)] = json.loads(payload)
        elif part.get_param("filename", header="content-disposition") is not None:
            fields[str(name)] = payload
        else:
            fields[str(name)] = payload.decode("utf-8")
    return fields


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or repr(annotation)[:80]


def _credential_kwargs(client_class: type) -> dict[str, Any]:
    """A value for every fixed credential the client takes (api keys, basic auth pairs)."""
    hints = typing.get_type_hints(client_class.__init__)
    ordinary = {"self", "base_url", "session", "timeout", "headers", "http_client", "return"}
    kwargs: dict[str, Any] = {}
    for name, hint in hints.items():
        if name in ordinary:
            continue
        if hint == (tuple[str, str] | None):
            kwargs[name] = ("user", "password")
        elif hint == (str | None):
            kwargs[name] = f"{name}-value"
    return kwargs


def _groups(client: Any) -> dict[str, Any]:
    """Every API group of a client, by attribute, touching each ``cached_property``."""
    names = sorted(
        {
            n
            for klass in type(client).__mro__
            for n, a in vars(klass).items()
            if isinstance(a, cached_property)
        }
    )
    return {name: getattr(client, name) for name in names}


def _methods_by_docstring(cls: type, lead: str) -> dict[str, str]:
    """Method name by the operation its docstring names (``Like `op`,`` / ``Every item of `op`,``)."""
    found: dict[str, str] = {}
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        match = re.match(
            re.escape(lead) + r" `([A-Za-z_][A-Za-z0-9_]*)`,", (member.__doc__ or "").strip()
        )
        if match:
            found.setdefault(match.group(1), name)
    return found


def _hint_everything(
    module: Any, report: Report, type_checking: Mapping[str, Any] | None = None
) -> None:
    """``get_type_hints`` on the module's constants and every method of every class it defines.

    ``type_checking`` holds the names the module imports only under ``TYPE_CHECKING`` (the client
    module's API classes, imported lazily at run time).
    """
    try:
        typing.get_type_hints(module)
    except Exception as exc:
        report.fail("hints", f"{module.__name__} (module constants)", exc)
    classes = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and obj.__module__ == module.__name__
    ]
    for cls in classes:
        for name, member in vars(cls).items():
            function = member.func if isinstance(member, cached_property) else member
            if not inspect.isfunction(function):
                continue
            try:
                typing.get_type_hints(
                    function, localns=dict(type_checking or {}), include_extras=True
                )
            except Exception as exc:
                report.fail("hints", f"{cls.__module__}.{cls.__qualname__}.{name}", exc)
                continue
            report.methods_hinted += 1


def _import_api_modules(package: str, report: Report) -> list[Any]:
    modules = []
    api = importlib.import_module(f"{package}.api")
    for info in sorted(pkgutil.iter_modules(api.__path__), key=lambda i: i.name):
        try:
            modules.append(importlib.import_module(f"{package}.api.{info.name}"))
        except Exception as exc:
            report.fail("import", f"{package}.api.{info.name}", exc)
    return modules


# Never sends a request: shared by the unauthenticated clients of every package exercised.
_IDLE_HTTP: dict[str, Any] = {"Client": httpx.Client(), "AsyncClient": httpx.AsyncClient()}


def _make_clients(
    root: Any, base_url: str, report: Report
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The four clients (every fixed credential set, one session) and, per client, its API groups
    by module name."""
    names = ("Client", "AuthenticatedClient", "AsyncClient", "AsyncAuthenticatedClient")
    try:
        credentials = _credential_kwargs(root.AuthenticatedClient)
    except Exception as exc:
        report.fail("hints", f"{root.__name__}.AuthenticatedClient.__init__", exc)
        credentials = {}
    session = root.Session("token")
    clients: dict[str, Any] = {}
    groups: dict[str, Any] = {}
    for name in names:
        extra: dict[str, Any] = {"session": session} if "Authenticated" in name else {}
        if (
            name in _IDLE_HTTP
        ):  # only their groups are looked at: no transport (and TLS setup) of their own
            extra["http_client"] = _IDLE_HTTP[name]
        try:
            clients[name] = getattr(root, name)(
                base_url=base_url, timeout=10.0, **extra, **credentials
            )
            found = _groups(clients[name])
        except Exception as exc:
            report.fail("client", f"{root.__name__}.{name}", exc)
            found = {}
        report.groups = max(report.groups, len(found))
        groups[name] = {
            type(group).__module__.rsplit(".", 1)[-1]: group for group in found.values()
        }
    return clients, groups


def _collect_operations(
    api_modules: list[Any], groups: dict[str, Any], report: Report
) -> list[Operation]:
    """Every ``OPERATIONS`` entry with its methods on the authenticated clients (sync, async,
    ``_raw`` and ``iter_``)."""
    operations: list[Operation] = []
    for module in api_modules:
        short = module.__name__.rsplit(".", 1)[-1]
        table = getattr(module, "OPERATIONS", None)
        if not isinstance(table, Mapping):
            report.fail("import", module.__name__, "no OPERATIONS table")
            continue
        sync_group = groups["AuthenticatedClient"].get(short)
        async_group = groups["AsyncAuthenticatedClient"].get(short)
        group_class = type(sync_group) if sync_group is not None else object
        raws = _methods_by_docstring(group_class, "Like")
        iters = _methods_by_docstring(group_class, "Every item of")
        for op_name, spec in table.items():
            report.operations_total += 1
            try:
                report.operation_keys.append([spec.method.upper(), spec.path])
            except Exception as exc:
                report.fail("request", f"api.{short}.{op_name}", exc)
                continue
            operations.append(
                Operation(
                    module=short,
                    name=op_name,
                    spec=spec,
                    method=getattr(sync_group, op_name, None),
                    async_method=getattr(async_group, op_name, None),
                    raw_method=getattr(sync_group, raws[op_name]) if op_name in raws else None,
                    iter_method=getattr(sync_group, iters[op_name]) if op_name in iters else None,
                )
            )
    return operations


def exercise_package(package: str, server: LoopbackServer) -> Report:
    started = time.monotonic()
    report = Report(package)
    values = Values()
    try:
        root = importlib.import_module(package)
    except Exception as exc:
        report.import_error = _describe(exc)
        report.fail("import", package, exc)
        _count_unimported(package, report)
        report.seconds = time.monotonic() - started
        return report
    usable = check_models(package, Path(root.__file__ or "").parent, report, values)
    api_modules = _import_api_modules(package, report)
    api_classes = {
        name: obj
        for module in api_modules
        for name, obj in vars(module).items()
        if isinstance(obj, type) and obj.__module__ == module.__name__
    }
    for module in api_modules:
        _hint_everything(module, report)
    _hint_everything(importlib.import_module(f"{package}.client"), report, api_classes)

    clients, groups = _make_clients(root, server.url, report)
    operations = _collect_operations(api_modules, groups, report)
    runner = OperationRunner(report, values, server)
    operation_types = [t for op in operations for t in runner.resolve(op)]
    values.prime([*(t for _, t in usable), *operation_types])  # every JSON schema in one pass
    check_instances(usable, report, values)
    for op in operations:
        runner.prepare(op)
    for op in operations:
        runner.run_sync(op)

    async def run_async() -> None:
        for op in operations:
            await runner.run_async(op)
        for name, client in clients.items():
            if name.startswith("Async"):
                await client.aclose()

    asyncio.run(run_async())
    for name, client in clients.items():
        if not name.startswith("Async"):
            client.close()
    for op in operations:
        report.operations_limited += op.limited
        report.operations_request_built += op.request_built
        report.operations_response_parsed += op.request_built and not op.failed and not op.limited
    report.seconds = time.monotonic() - started
    return report


def _count_unimported(package: str, report: Report) -> None:
    """Models and operations of a package that does not import, counted from its files."""
    for entry in sys.path:
        package_dir = Path(entry or ".") / package
        if (package_dir / "__init__.py").is_file():
            break
    else:
        return
    for _suffix, path in _models_files(package_dir):
        try:
            classes, aliases = _declared_names(path)
        except SyntaxError:
            continue
        report.models_total += len(classes)
        report.aliases_total += len(aliases)


# ---------------------------------------------------------------- running it


def main(argv: Sequence[str]) -> int:
    with LoopbackServer() as server:  # one server for every package: shutting one down takes 0.5 s
        for package in argv:
            try:
                report = exercise_package(package, server)
            except BaseException as exc:  # the checker's own crash is reported, not swallowed
                report = Report(package)
                trace = traceback.format_exc()[-1500:]
                report.fail("checker", package, f"{_describe(exc)} | {trace}")
            print(REPORT_PREFIX + json.dumps(dataclasses.asdict(report)), flush=True)
    return 0


def run_exercise(
    packages: Sequence[tuple[Path, str]], timeout: float = EXERCISE_TIMEOUT
) -> list[dict[str, Any]]:
    """Exercise each (output directory, package) in one fresh interpreter; one report per package."""
    if not packages:
        return []
    path = os.pathsep.join(str(out) for out, _ in packages)
    env = dict(os.environ, PYTHONPATH=path, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONWARNINGS", None)
    names = [name for _, name in packages]
    command = [sys.executable, str(Path(__file__).resolve()), *names]
    try:
        done = subprocess.run(
            command,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=str(packages[0][0]),
        )
        stdout, stderr, code = done.stdout, done.stderr, done.returncode
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        stderr, code = f"the checker did not finish in {timeout:.0f} s", -1
    reports = {}
    for line in stdout.splitlines():
        if line.startswith(REPORT_PREFIX):
            report = json.loads(line[len(REPORT_PREFIX) :])
            reports[report["package"]] = report
    results = []
    for name in names:
        if name in reports:
            results.append(reports[name])
            continue
        crashed = dataclasses.asdict(Report(name))
        crashed["failures"] = [
            {
                "kind": "checker",
                "where": name,
                "error": f"no report (exit {code}): {stderr.strip()[-1500:]}",
            }
        ]
        results.append(crashed)
    return results


def failure_lines(report: Mapping[str, Any], limit: int | None = None) -> list[str]:
    lines = [f"{f['kind']}: {f['where']}: {f['error']}" for f in report["failures"]]
    return lines if limit is None else lines[:limit]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
