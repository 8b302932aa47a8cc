"""Every example in the shared specs round-trips through the generated models.

For each OpenAPI 3.x root spec listed in ``../shared/specs/README.md``, every ``example``
and ``examples`` value attached to a schema or to a media type is validated into the
generated Python type that the spec location maps to (as the client parses a response:
``validate_json``), dumped back by alias with unset fields left out, and compared with
the example as a JSON value.

Where the spec location maps to a Python type:
- a schema that became a model (``Api.models``, keyed ``"<abs path>#<pointer>"``): that model;
- a property of a model: the generated field, constraints (``pattern``...) included;
- anything else reached from a typed place (media type schemas via ``Operation.responses`` /
  ``request_body``, parameters, response headers, ``items``, ``additionalProperties``, union
  members): the IR ``TypeExpr``, as ``Planner.annotation`` spells it, evaluated in the package.
Examples with no generated type (a media type the client does not decode, an inline ``allOf``
part, callbacks, ``externalValue``, a component nothing uses) are counted as not applicable.

A failure is checked against the example's own schema with openapi-schema-validator (format
checks on): an example the spec's schema rejects is a legitimate skip, reported; any other is a
generator bug and fails the test, listed by JSON pointer with its cause.

Packages are generated without black (``format_files`` is bypassed while generating: black
changes layout, not meaning), which keeps Stripe, Box and DigitalOcean affordable here.
"""

from __future__ import annotations

import datetime
import decimal
import importlib
import json
import os
import re
import sys
import typing
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pydantic
import pytest

from tests.conftest import SHARED_SPECS

README = SHARED_SPECS / "README.md"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SHOW = 40  # skipped/failed entries listed per spec


def openapi3_specs() -> list[tuple[str, str]]:
    """(name, OpenAPI version) of each README table row whose OpenAPI column is 3.x."""
    if not README.exists():
        return []
    rows = []
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.fullmatch(r"3\.\d+(\.\d+)?", cells[3]):
            rows.append((cells[0], cells[3]))
    return rows


SPECS = openapi3_specs()


# ---------------------------------------------------------------- collecting example sites


@dataclass
class Site:
    """One example value and the generated type it must round-trip through."""

    where: str  # "<spec-relative file>#<pointer of the value>"
    value: Any
    type: Any = None  # IR TypeExpr, or None when no generated type applies
    field: tuple[str, str] | None = None  # (model key, JSON name) for a model property's schema
    schema: Any = None  # NodeKey of the schema the example is of (for the validity check)
    not_applicable: str | None = None


class Collector:
    """Walks the spec structurally (paths first, with the IR types known there; then
    components), following ``$ref``s into every file, and records each example site."""

    def __init__(self, source: Any, api: Any) -> None:
        from generator import ir

        self.ir = ir
        self.source = source
        self.api = api
        self.models = {m.key: m for m in api.models}
        self.routes = {(op.method.lower(), op.path): op for op in api.operations}
        self.sites: dict[str, Site] = {}
        self.visited: set[tuple[Any, str, bool]] = set()
        self.root_dir = source.root_path.parent

    # -- plumbing

    def key(self, base: Any, *tokens: str | int) -> Any:
        from generator.load import NodeKey, join_pointer

        return NodeKey(base.path, join_pointer(base.pointer, *tokens))

    def deref(self, node: Any, key: Any) -> tuple[Any, Any]:
        from generator.errors import SpecError

        try:
            return self.source.resolve(node, key)
        except SpecError:
            return None, key

    def where(self, key: Any) -> str:
        return f"{Path(os.path.relpath(key.path, self.root_dir)).as_posix()}#{key.pointer}"

    def first_visit(self, key: Any, kind: str, typed: bool) -> bool:
        marker = (key, kind, typed)
        if marker in self.visited or (key, kind, True) in self.visited:
            return False
        self.visited.add(marker)
        return True

    def add(self, site: Site) -> None:
        known = self.sites.get(site.where)
        if known is None or (known.type is None and known.field is None and (site.type is not None or site.field is not None)):
            self.sites[site.where] = site

    def unwrap(self, t: Any) -> Any:
        ir = self.ir
        for _ in range(50):
            if isinstance(t, ir.NullableType):
                t = t.inner
            elif isinstance(t, ir.ModelRef) and t.key in self.models:
                model = self.models[t.key]
                if isinstance(model, ir.AliasModel):
                    t = model.target
                else:
                    return model
            else:
                return t
        return t

    # -- the walk

    def run(self) -> dict[str, Site]:
        from generator.load import NodeKey

        root_key = NodeKey(self.source.root_path, "")
        root = self.source.root.tree
        for path, item in (root.get("paths") or {}).items():
            self.path_item(item, self.key(root_key, "paths", path), path)
        for name, item in (root.get("webhooks") or {}).items():
            self.path_item(item, self.key(root_key, "webhooks", name), None)
        components = root.get("components") or {}
        at = self.key(root_key, "components")
        walkers: dict[str, Callable[[Any, Any], None]] = {
            "schemas": lambda n, k: self.schema(n, k, None, None),
            "responses": lambda n, k: self.response(n, k, None, None),
            "parameters": lambda n, k: self.parameter(n, k, None),
            "requestBodies": lambda n, k: self.request_body(n, k, None),
            "headers": lambda n, k: self.header(n, k, None),
            "pathItems": lambda n, k: self.path_item(n, k, None),
            "callbacks": lambda n, k: self.callback(n, k),
        }
        for section, walk in walkers.items():
            for name, node in (components.get(section) or {}).items():
                walk(node, self.key(at, section, name))
        return self.sites

    def path_item(self, node: Any, key: Any, path: str | None) -> None:
        node, key = self.deref(node, key)
        if not isinstance(node, dict) or not self.first_visit(key, "path", path is not None):
            return
        for method in HTTP_METHODS:
            if isinstance(node.get(method), dict):
                op = self.routes.get((method, path)) if path is not None else None
                self.operation(node[method], self.key(key, method), op)
                for index, param in enumerate(node.get("parameters") or []):
                    self.parameter(param, self.key(key, "parameters", index), op)

    def operation(self, node: Any, key: Any, op: Any) -> None:
        node, key = self.deref(node, key)
        if not isinstance(node, dict):
            return
        for index, param in enumerate(node.get("parameters") or []):
            self.parameter(param, self.key(key, "parameters", index), op)
        if "requestBody" in node:
            self.request_body(node["requestBody"], self.key(key, "requestBody"), op)
        for status, response in (node.get("responses") or {}).items():
            ir_response = None
            if op is not None:
                ir_response = next((r for r in op.responses if r.status.upper() == str(status).upper()), None)
            self.response(response, self.key(key, "responses", status), ir_response, op)
        for name, callback in (node.get("callbacks") or {}).items():
            self.callback(callback, self.key(key, "callbacks", name))

    def callback(self, node: Any, key: Any) -> None:
        node, key = self.deref(node, key)
        if isinstance(node, dict):
            for expression, item in node.items():
                self.path_item(item, self.key(key, expression), None)

    def parameter(self, node: Any, key: Any, op: Any) -> None:
        node, key = self.deref(node, key)
        if not isinstance(node, dict):
            return
        t = None
        if op is not None:
            found = next((p for p in op.parameters if p.name == node.get("name") and p.location == node.get("in")), None)
            t = found.type if found is not None else None
        if not self.first_visit(key, "parameter", t is not None):
            return
        if "schema" in node:
            self.schema(node["schema"], self.key(key, "schema"), t, None)
        for media_type, media in (node.get("content") or {}).items():
            self.media(media, self.key(key, "content", media_type), t if t is not None else None, f"parameter {media_type}")

    def request_body(self, node: Any, key: Any, op: Any) -> None:
        node, key = self.deref(node, key)
        if not isinstance(node, dict):
            return
        body = op.request_body if op is not None else None
        for media_type, media in (node.get("content") or {}).items():
            typed = body is not None and body.media_type == media_type and body.kind in ("json", "form", "multipart", "text")
            self.media(media, self.key(key, "content", media_type), body.type if typed else None, media_type)

    def response(self, node: Any, key: Any, ir_response: Any, op: Any = None) -> None:
        node, key = self.deref(node, key)
        if not isinstance(node, dict):
            return
        for name, header in (node.get("headers") or {}).items():
            t = None
            if ir_response is not None:
                found = next((h for h in ir_response.headers if h.name.lower() == name.lower()), None)
                t = found.type if found is not None else None
            self.header(header, self.key(key, "headers", name), t)
        content = node.get("content") or {}
        chosen = self.schema_of(content, key, ir_response.media_type) if ir_response is not None else None
        for media_type, media in content.items():
            typed = ir_response is not None and ir_response.kind in ("json", "text") and (
                ir_response.media_type == media_type
                # the client decodes any JSON body of this status with the same type
                or (ir_response.kind == "json" and _json_like(media_type) and chosen is not None and self.schema_of(content, key, media_type) == chosen)
            )
            self.media(media, self.key(key, "content", media_type), ir_response.type if typed else None, media_type)

    def schema_of(self, content: dict[str, Any], key: Any, media_type: str | None) -> Any:
        """Where the schema of one media type of ``content`` (at ``key``) finally lives."""
        media = content.get(media_type or "")
        if not isinstance(media, dict):
            return None
        media, media_key = self.deref(media, self.key(key, "content", media_type or ""))
        if not isinstance(media, dict) or "schema" not in media:
            return None
        return self.deref(media["schema"], self.key(media_key, "schema"))[1]

    def header(self, node: Any, key: Any, t: Any) -> None:
        node, key = self.deref(node, key)
        if not isinstance(node, dict) or not self.first_visit(key, "header", t is not None):
            return
        if "schema" in node:
            self.schema(node["schema"], self.key(key, "schema"), t, None)
        for media_type, media in (node.get("content") or {}).items():
            self.media(media, self.key(key, "content", media_type), t, media_type)

    def media(self, node: Any, key: Any, t: Any, media_type: str) -> None:
        node, key = self.deref(node, key)
        if not isinstance(node, dict) or not self.first_visit(key, "media", t is not None):
            return
        schema_key = self.key(key, "schema") if "schema" in node else None
        if "schema" in node:
            self.schema(node["schema"], schema_key, t, None)
        reason = None if t is not None else f"no generated type decodes this media type ({media_type})"
        if "example" in node:
            self.add(Site(self.where(self.key(key, "example")), node["example"], t, None, schema_key, reason))
        examples = node.get("examples")
        if isinstance(examples, dict):
            for name, example in examples.items():
                example, example_key = self.deref(example, self.key(key, "examples", name))
                if not isinstance(example, dict):
                    continue
                if "value" in example:
                    self.add(Site(self.where(self.key(example_key, "value")), example["value"], t, None, schema_key, reason))
                elif "externalValue" in example:
                    self.add(Site(self.where(example_key), None, None, None, None, "externalValue (not in the spec)"))
        for name, encoding in (node.get("encoding") or {}).items():
            for header_name, header in ((encoding or {}).get("headers") or {}).items():
                self.header(header, self.key(key, "encoding", name, "headers", header_name), None)

    def schema(self, node: Any, key: Any, t: Any, prop: tuple[str, str] | None, own: bool = True, whole: Any = None) -> None:
        """``t``/``prop``: the generated type of the value this schema describes; ``whole``: the
        schema that value is checked against when this one only decorates it (an allOf or
        oneOf part whose examples are examples of the whole)."""
        ir = self.ir
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            target, target_key = self.deref(node, key)
            if str(target_key) in self.models:
                t, prop, own, whole = ir.ModelRef(str(target_key)), None, True, None
            self.schema_examples(node, key, t, prop, whole or key, own)  # beside the $ref (OpenAPI 3.1)
            if target is not None:
                self.schema(target, target_key, t, prop, own, whole)
            return
        if str(key) in self.models:
            t, prop, own, whole = ir.ModelRef(str(key)), None, True, None
        if not self.first_visit(key, "schema", t is not None or prop is not None):
            return
        self.schema_examples(node, key, t, prop, whole or key, own)
        inner = self.unwrap(t)
        props = node.get("properties")
        if isinstance(props, dict):
            for name, child in props.items():
                child_type, child_prop = None, None
                if isinstance(inner, ir.ObjectModel):
                    found = next((p for p in inner.properties if p.json_name == name), None)
                    if found is not None:
                        child_type, child_prop = found.type, (inner.key, name)
                self.schema(child, self.key(key, "properties", name), child_type, child_prop)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            values = None
            if isinstance(inner, ir.ObjectModel):
                values = inner.additional_properties
            elif isinstance(inner, ir.MapType):
                values = inner.values
            self.schema(extra, self.key(key, "additionalProperties"), values, None)
        items = node.get("items")
        if isinstance(items, dict):
            self.schema(items, self.key(key, "items"), inner.items if isinstance(inner, ir.ArrayType) else None, None)
        parts = node.get("allOf") or []
        for index, part in enumerate(parts):
            others = [other for i, other in enumerate(parts) if i != index]
            if _annotation_only(part) or all(_annotation_only(other) for other in others):
                # allOf: [the schema, {description: ..., example: ...}]: a decoration, or the one
                # part that is the whole: its examples are the whole's
                self.schema(part, self.key(key, "allOf", index), t, prop, whole=whole or key)
            else:
                # merged into an object model: the part's properties map, its own examples do not
                self.schema(part, self.key(key, "allOf", index), inner if isinstance(inner, ir.ObjectModel) else None, None, own=False)
        for keyword in ("oneOf", "anyOf"):
            members = node.get(keyword) or []
            union = inner if isinstance(inner, ir.UnionType) and len(inner.members) == len(members) else None
            for index, member in enumerate(members):
                # a member's example is a value of the union too: without a member type of its own
                # it round-trips through the union's
                if union is not None:
                    self.schema(member, self.key(key, keyword, index), union.members[index], None)
                else:
                    self.schema(member, self.key(key, keyword, index), t, prop, whole=whole or key)
        for keyword in ("not", "if", "then", "else", "contains", "propertyNames", "unevaluatedProperties", "unevaluatedItems"):
            if isinstance(node.get(keyword), dict):
                self.schema(node[keyword], self.key(key, keyword), None, None)
        for keyword in ("patternProperties", "dependentSchemas", "$defs", "definitions"):
            for name, child in (node.get(keyword) or {}).items() if isinstance(node.get(keyword), dict) else ():
                self.schema(child, self.key(key, keyword, name), None, None)
        for index, child in enumerate(node.get("prefixItems") or []):
            self.schema(child, self.key(key, "prefixItems", index), None, None)

    def schema_examples(self, node: Any, key: Any, t: Any, prop: tuple[str, str] | None, schema_key: Any, own: bool) -> None:
        if not own:
            t, prop = None, None
        typed = t is not None or prop is not None
        reason = None if typed else ("an inline allOf part has no type of its own" if not own else "no generated type for this schema (no operation or model uses it)")
        if "example" in node:
            self.add(Site(self.where(self.key(key, "example")), node["example"], t, prop, schema_key, reason))
        examples = node.get("examples")
        if isinstance(examples, list):
            for index, value in enumerate(examples):
                self.add(Site(self.where(self.key(key, "examples", index)), value, t, prop, schema_key, reason))
        elif examples is not None:
            self.add(Site(self.where(self.key(key, "examples")), None, None, None, None, "schema 'examples' is not an array"))


# ---------------------------------------------------------------- checking one site


@dataclass
class Outcome:
    tried: int = 0
    passed: int = 0
    normalised: int = 0  # passed, equal up to the text of a date-time / UUID
    invalid: list[str] = field(default_factory=list)  # the spec's example breaks its own schema
    failed: list[str] = field(default_factory=list)  # generator bugs: "<where>: <cause>"
    not_applicable: Counter[str] = field(default_factory=Counter)


class Checker:
    def __init__(self, pkg: ModuleType, source: Any, api: Any, openapi_version: str) -> None:
        from generator.plan import Planner

        self.pkg = pkg
        self.source = source
        self.api = api
        self.planner = Planner(api, pkg.__name__, "0")
        self.models = importlib.import_module(f"{pkg.__name__}.models")
        runtime = importlib.import_module(f"{pkg.__name__}._runtime.models")
        self.namespace: dict[str, Any] = {
            "models": self.models, "datetime": datetime, "uuid": uuid, "decimal": decimal,
            "Any": Any, "Literal": typing.Literal, "Annotated": typing.Annotated, "Union": typing.Union,
            "pydantic": pydantic,
            "tag_by_property": getattr(runtime, "tag_by_property", None),
        }  # fmt: skip
        self.adapters: dict[Any, pydantic.TypeAdapter[Any]] = {}
        self.version = openapi_version
        self._registry: Any = None

    def python_type(self, site: Site) -> Any:
        if site.field is not None:
            model_key, json_name = site.field
            cls = getattr(self.models, self.planner.class_names[model_key])
            cls.model_rebuild()
            for info in cls.model_fields.values():
                if json_name in (info.validation_alias, info.alias, info.serialization_alias):
                    break
            else:
                info = cls.model_fields.get(json_name)
            if info is not None:
                return typing.Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        annotation = self.planner.annotation(site.type, "models.")
        return eval(annotation, dict(self.namespace))  # noqa: S307 - an annotation the planner wrote

    def adapter(self, site: Site) -> pydantic.TypeAdapter[Any]:
        tp = self.python_type(site)
        cache_key = repr(tp)
        if cache_key not in self.adapters:
            self.adapters[cache_key] = pydantic.TypeAdapter(tp)
        return self.adapters[cache_key]

    def check(self, site: Site, outcome: Outcome) -> None:
        if site.not_applicable is not None:
            outcome.not_applicable[site.not_applicable] += 1
            return
        outcome.tried += 1
        try:
            adapter = self.adapter(site)
        except Exception as error:
            outcome.failed.append(f"{site.where}: no usable generated type: {type(error).__name__}: {error}")
            return
        problem = None
        try:
            value = adapter.validate_json(json.dumps(site.value))
            dumped = adapter.dump_python(value, mode="json", by_alias=True, exclude_unset=True)
        except pydantic.ValidationError as error:
            problem = f"does not validate: {_first_lines(str(error), 4)}"
        except Exception as error:
            problem = f"{type(error).__name__}: {_first_lines(str(error), 4)}"
        else:
            verdict = json_equal(dumped, site.value)
            if verdict == "equal":
                outcome.passed += 1
                return
            if verdict == "normalised":
                outcome.passed += 1
                outcome.normalised += 1
                return
            problem = f"dumps to a different value: {verdict}"
        invalid = self.schema_rejects(site)
        if invalid:
            outcome.invalid.append(f"{site.where}: {invalid} (generated type: {problem[:200]})")
        else:
            outcome.failed.append(f"{site.where}: {problem}")

    def schema_rejects(self, site: Site) -> str | None:
        """Why the spec's own schema rejects the example (None when it accepts it)."""
        if site.schema is None:
            return None
        import openapi_schema_validator as osv
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT4, DRAFT202012

        if self._registry is None:  # every file of the spec, by its URI, so relative $refs resolve
            spec = DRAFT202012 if self.version.startswith("3.1") else DRAFT4
            resources = [(doc.path.as_uri(), Resource.from_contents(doc.tree, default_specification=spec)) for doc in self.source.documents.values()]
            self._registry = Registry().with_resources(resources)
        cls = osv.OAS31Validator if self.version.startswith("3.1") else osv.OAS30Validator
        checker = osv.oas31_format_checker if self.version.startswith("3.1") else osv.oas30_format_checker
        schema = {"$ref": f"{site.schema.path.as_uri()}#{site.schema.pointer}"}
        try:
            validator = cls(schema, registry=self._registry, format_checker=checker)
            error = next(iter(validator.iter_errors(site.value)), None)
        except Exception:  # an unresolvable or unsupported schema: the example cannot be called wrong
            return None
        if error is None:
            return None
        at = "/".join(str(p) for p in error.absolute_path)
        return f"the spec's schema rejects it{' at /' + at if at else ''}: {_first_lines(error.message, 1)[:300]}"


_ANNOTATIONS = frozenset(
    {"description", "title", "example", "examples", "deprecated", "readOnly", "writeOnly", "externalDocs", "xml", "$comment", "nullable"}
)


def _json_like(media_type: str) -> bool:
    bare = media_type.split(";")[0].strip().lower()
    return bare == "application/json" or bare.endswith("+json")


def _annotation_only(schema: Any) -> bool:
    """A schema that constrains nothing (only annotations, and ``x-`` extensions)."""
    return isinstance(schema, dict) and "$ref" not in schema and all(k in _ANNOTATIONS or k.startswith("x-") for k in schema)


def _first_lines(text: str, n: int) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[:n])


def _as_instant(text: str) -> Any:
    """The date-time or UUID a string spells, or None."""
    try:
        return datetime.datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text)
    except ValueError:
        pass
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def json_equal(dumped: Any, example: Any, at: str = "") -> str:
    """"equal", "normalised" (equal up to the spelling of a date-time or UUID), or where they differ."""
    if isinstance(dumped, bool) or isinstance(example, bool):
        return "equal" if type(dumped) is type(example) and dumped == example else f"at {at or '/'}: {dumped!r} != {example!r}"
    if isinstance(dumped, (int, float)) and isinstance(example, (int, float)):
        return "equal" if dumped == example else f"at {at or '/'}: {dumped!r} != {example!r}"
    if isinstance(dumped, dict) and isinstance(example, dict):
        if set(dumped) != set(example):
            missing, added = sorted(set(example) - set(dumped)), sorted(set(dumped) - set(example))
            return f"at {at or '/'}: keys lost {missing[:5]}, keys added {added[:5]}"
        verdicts = [json_equal(dumped[k], example[k], f"{at}/{k}") for k in example]
        return _combine(verdicts)
    if isinstance(dumped, list) and isinstance(example, list):
        if len(dumped) != len(example):
            return f"at {at or '/'}: {len(dumped)} items != {len(example)}"
        return _combine([json_equal(d, e, f"{at}/{i}") for i, (d, e) in enumerate(zip(dumped, example))])
    if dumped == example and type(dumped) is type(example):
        return "equal"
    if isinstance(dumped, str) and isinstance(example, str):
        a, b = _as_instant(dumped), _as_instant(example)
        if a is not None and a == b:
            return "normalised"
    return f"at {at or '/'}: {json.dumps(dumped)[:120]} != {json.dumps(example)[:120]}"


def _combine(verdicts: list[str]) -> str:
    for verdict in verdicts:
        if verdict not in ("equal", "normalised"):
            return verdict
    return "normalised" if "normalised" in verdicts else "equal"


# ---------------------------------------------------------------- generation


@dataclass
class Generated:
    pkg: ModuleType
    api: Any
    source: Any


def package_name(spec: str) -> str:
    return "examples_" + re.sub(r"[^a-z0-9]+", "_", spec.lower()).strip("_") + "_client"


@pytest.fixture(scope="module")
def generated(generated_root: Path) -> Iterator[Callable[[str], Generated]]:
    """``spec`` (relative to ../shared/specs, or an absolute path) generated once and imported."""
    import generator.pipeline as pipeline
    from generator.errors import SpecError
    from generator.load import load_spec
    from generator.write import write_output

    done: dict[str, Generated] = {}

    def make(spec: str) -> Generated:
        if spec not in done:
            path = SHARED_SPECS / spec
            name = package_name(spec if not Path(spec).is_absolute() else Path(spec).stem)
            original = pipeline.format_files
            pipeline.format_files = lambda files, *_, **__: (dict(files), 0)  # type: ignore[assignment]
            try:
                # Split specs (Apiture's) reach "../" within the corpus, which is not a git repository.
                result = pipeline.generate(path, pipeline.GenerateOptions(package_name=name, ref_root=SHARED_SPECS))
            except SpecError as error:
                pytest.skip(f"accessgen rejects {spec} as a spec, so it has no generated models: {_first_lines(str(error), 2)}")
            finally:
                pipeline.format_files = original  # type: ignore[assignment]
            out = generated_root / name
            write_output(out, result.files, "accessgen test")
            sys.path.insert(0, str(out))
            done[spec] = Generated(importlib.import_module(name), result.apis[0], load_spec(path, ref_root=SHARED_SPECS))
        return done[spec]

    yield make


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest) -> Iterator[dict[str, Outcome]]:
    outcomes: dict[str, Outcome] = {}
    yield outcomes
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or not outcomes:
        return
    if capture is not None:
        with capture.global_and_fixture_disabled():
            _write_tally(reporter, outcomes)
    else:
        _write_tally(reporter, outcomes)


def _write_tally(reporter: Any, outcomes: dict[str, Outcome]) -> None:
    total = Outcome()
    reporter.write_line("")
    reporter.write_line("examples round-trip: spec: tried / passed (normalised) / invalid in spec (skipped) / failed; not applicable")
    for spec, o in outcomes.items():
        total.tried += o.tried
        total.passed += o.passed
        total.normalised += o.normalised
        total.invalid += o.invalid
        total.failed += o.failed
        total.not_applicable.update(o.not_applicable)
        na = sum(o.not_applicable.values())
        reporter.write_line(f"  {spec}: {o.tried} / {o.passed} ({o.normalised}) / {len(o.invalid)} / {len(o.failed)}; {na}")
        for line in o.invalid[:SHOW]:
            reporter.write_line(f"      invalid in the spec, skipped: {line}")
        for line in o.failed[:SHOW]:
            reporter.write_line(f"      FAILED: {line}")
    reporter.write_line(
        f"  TOTAL: {total.tried} tried, {total.passed} passed ({total.normalised} equal up to date-time/UUID spelling), "
        f"{len(total.invalid)} invalid in the spec (skipped), {len(total.failed)} failed, "
        f"{sum(total.not_applicable.values())} not applicable: {dict(total.not_applicable.most_common())}"
    )


# Generator bugs this test found that are not fixed yet: example site -> the bug. Such a site
# makes its spec's test xfail (strict: a listed site that passes fails the test, so an entry
# cannot outlive its bug); any failure not listed here fails the test.
KNOWN_GENERATOR_BUGS: dict[str, str] = {}


def _has_examples(source: Any) -> bool:
    """Whether any document of the spec has an ``example``/``examples`` key at all (cheap)."""
    for document in source.documents.values():
        stack = [document.tree]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if "example" in node or "examples" in node:
                    return True
                stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
            elif isinstance(node, list):
                stack.extend(v for v in node if isinstance(v, (dict, list)))
    return False


@pytest.mark.slow
@pytest.mark.parametrize(
    ("spec", "openapi"),
    [pytest.param(s, v, id=s) for s, v in SPECS]
    or [pytest.param("", "", id="no-shared-specs", marks=pytest.mark.skip(reason=f"{SHARED_SPECS} is absent (../shared/specs is laid beside the repository only in the accessgen workspace)"))],
)
def test_examples_round_trip(spec: str, openapi: str, generated: Callable[[str], Generated], tally: dict[str, Outcome]) -> None:
    from generator.errors import SpecError
    from generator.load import load_spec

    try:
        source = load_spec(SHARED_SPECS / spec, ref_root=SHARED_SPECS)  # reads every file the $refs reach
    except SpecError:
        source = None  # generating it reports why
    if source is not None and not _has_examples(source):
        tally[spec] = Outcome()
        pytest.skip(f"{spec} has no example or examples value (in any of its files)")
    g = generated(spec)
    sites = Collector(g.source, g.api).run()
    checker = Checker(g.pkg, g.source, g.api, openapi)
    outcome = Outcome()
    for site in sites.values():
        checker.check(site, outcome)
    tally[spec] = outcome
    report = (
        f"{spec}: {outcome.tried} examples tried, {outcome.passed} passed, {len(outcome.invalid)} invalid in the spec, "
        f"{len(outcome.failed)} failed, {sum(outcome.not_applicable.values())} not applicable"
    )
    failed_at = {line.split(": ", 1)[0] for line in outcome.failed}
    new = [line for line in outcome.failed if line.split(": ", 1)[0] not in KNOWN_GENERATOR_BUGS]
    if new:
        pytest.fail(report + "\ngenerator bugs:\n" + "\n".join(new[:SHOW]) + _invalid_lines(outcome), pytrace=False)
    checked = {site.where for site in sites.values() if site.not_applicable is None}
    fixed = sorted(where for where in KNOWN_GENERATOR_BUGS if where in checked and where not in failed_at)
    if fixed:
        pytest.fail(f"{report}\nthese examples pass now: remove them from KNOWN_GENERATOR_BUGS: {fixed}", pytrace=False)
    if outcome.failed:
        bugs = sorted({KNOWN_GENERATOR_BUGS[where] for where in failed_at})
        pytest.xfail(f"{report}; known generator bugs: " + " || ".join(bugs))
    if not outcome.tried:
        pytest.skip(f"{report}: no example with a generated type")


def _invalid_lines(outcome: Outcome) -> str:
    if not outcome.invalid:
        return ""
    return "\nexamples the spec's own schema rejects (skipped):\n" + "\n".join(outcome.invalid[:SHOW])


def test_readme_lists_openapi3_specs() -> None:
    if not README.exists():
        pytest.skip(f"{README} is absent (../shared/specs is not laid beside the repository)")
    assert len(SPECS) >= 10 and all((SHARED_SPECS / name).exists() for name, _ in SPECS)


TINY_SPEC = """
openapi: 3.0.3
info: {title: Tiny, version: "1"}
paths:
  /things/{id}:
    get:
      operationId: getThing
      parameters:
        - {name: id, in: path, required: true, schema: {type: string, example: t-1}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Thing'}
              examples:
                full: {value: {id: t-1, createdAt: '2024-05-01T10:00:00Z', size: 3, tags: [a], mode: 2, extra: true}}
                wrong: {value: {id: 7}}
            application/xml:
              schema: {$ref: '#/components/schemas/Thing'}
              example: <thing/>
components:
  schemas:
    Thing:
      type: object
      required: [id]
      properties:
        id: {type: string, example: t-9}
        createdAt: {type: string, format: date-time, example: '2024-05-01T10:00:00.5Z'}
        size:
          allOf:
            - {type: integer, minimum: 0}
            - {description: decorated, example: 4}
        tags: {type: array, items: {type: string, example: blue}}
        mode:
          oneOf:
            - {type: string, example: auto}
            - {type: integer, example: 2}
      example: {id: t-2}
"""


def test_the_round_trip_itself_on_a_small_spec(tmp_path: Path, generated: Callable[[str], Generated]) -> None:
    """The machinery, on a spec made for it: every kind of site is found, typed and judged."""
    spec = tmp_path / "tiny_examples.yaml"
    spec.write_text(TINY_SPEC, encoding="utf-8")
    g = generated(str(spec))
    sites = Collector(g.source, g.api).run()
    outcome = Outcome()
    checker = Checker(g.pkg, g.source, g.api, "3.0.3")
    for site in sites.values():
        checker.check(site, outcome)
    media = "tiny_examples.yaml#/paths/~1things~1{id}/get/responses/200/content"
    assert set(sites) == {
        "tiny_examples.yaml#/paths/~1things~1{id}/get/parameters/0/schema/example",
        f"{media}/application~1json/examples/full/value",
        f"{media}/application~1json/examples/wrong/value",
        f"{media}/application~1xml/example",
        "tiny_examples.yaml#/components/schemas/Thing/example",
        "tiny_examples.yaml#/components/schemas/Thing/properties/id/example",
        "tiny_examples.yaml#/components/schemas/Thing/properties/createdAt/example",
        "tiny_examples.yaml#/components/schemas/Thing/properties/size/allOf/1/example",
        "tiny_examples.yaml#/components/schemas/Thing/properties/tags/items/example",
        "tiny_examples.yaml#/components/schemas/Thing/properties/mode/oneOf/0/example",
        "tiny_examples.yaml#/components/schemas/Thing/properties/mode/oneOf/1/example",
    }
    assert (outcome.tried, outcome.passed, outcome.normalised) == (10, 9, 1), outcome
    assert outcome.failed == []
    assert len(outcome.invalid) == 1 and outcome.invalid[0].startswith(f"{media}/application~1json/examples/wrong/value: the spec's schema rejects it")
    assert outcome.not_applicable == Counter({"no generated type decodes this media type (application/xml)": 1})
    # a generated type that disagrees with a schema the example satisfies is a failure, not a skip
    from generator.ir import PrimitiveType

    id_site = sites["tiny_examples.yaml#/components/schemas/Thing/properties/id/example"]
    wrong_type = Site("as if id were generated as int", "t-9", PrimitiveType("integer"), None, id_site.schema)
    checker.check(wrong_type, outcome)
    assert outcome.failed and outcome.failed[0].startswith("as if id were generated as int: does not validate")
    assert json_equal({"a": 1}, {"a": True}) != "equal" and json_equal([1.0], [1]) == "equal"
