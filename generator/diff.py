"""``accessgen diff``: changes to the generated client surface between two spec versions.

Each spec is reduced to the surface a caller of the generated client sees, named by the
``Planner`` exactly as the generated code names it: ``client.<group>.<method>(...)``, its
parameters, body and return annotation, its security, the ``Client`` credentials, and
``models.<Class>`` with its fields and enum values. Two surfaces are compared into
``Change`` records; a change is *breaking* when code written against the old client can
fail (at type-check time or at run time) against the new one.

Rules:

- Operations are matched by operationId, then by HTTP method and path. Removed, renamed
  (the method name changed) or moved to another API group (``client.<group>`` changed):
  breaking. Added: not breaking. A new path or HTTP method under the same method name, and
  deprecation, change nothing a caller writes: not breaking.
- Parameters are matched by location and spec name, path parameters by position (they
  are positional). Removed, renamed (same parameter, new Python name), new and required,
  or made required: breaking. New optional, or made optional: not breaking.
- Types are compared as the sets of top-level members of their annotations (so
  ``list[A]`` -> ``list[A | B]`` is a different member, not a widening). A value the
  caller sends (parameter, body, field of a model used in requests) may only widen: a
  superset of the old members, or ``Any``. A value the caller receives (return value,
  field of a model used in responses) may only narrow: a subset; a method that returned
  ``None`` may start returning a value. Anything else is breaking; a model used both
  ways, or by no operation, may not change at all.
- Models: removed, or turned from object to enum/alias: breaking. Fields: removed or
  renamed (same JSON name, new attribute): breaking. A field made required, or added as
  required, breaks callers that build the model for a request; a field made optional
  breaks callers that read it from a response (it may now be ``None``). Enum values
  removed: breaking; added: not breaking (generated enums accept unknown values).
- Security (DESIGN section 2). An operation that becomes token-required leaves ``Client``
  for ``AuthenticatedClient``: breaking; one that stops being token-required now also
  appears on ``Client``: not breaking. Every old way of calling (alternative) must still be
  satisfied by some new alternative needing no more schemes; otherwise a scheme was added
  to it or it was removed: breaking (a loss already explained by the operation becoming
  token-required is not repeated). Scopes added to a kept alternative: breaking (existing
  tokens may lack them); scopes removed or alternatives added: not breaking. A credential
  keyword of ``Client`` removed: breaking; added: not breaking.

Suggested semver bump: ``major`` with any breaking change, ``minor`` with other surface
changes, ``patch`` when only paths/scopes removed or text the client carries (docstrings,
descriptions) differ, ``none`` when the generated client would be the same.

A surface can be written as JSON records (``surface_record``) and read back
(``surface_from_record``): the manifest of a generated output keeps the surface it was
generated from, so the next generation can compare against it without the old spec.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from . import __version__
from .ir import AliasModel, Api, ArrayType, MapType, ModelRef, NullableType, ObjectModel, Operation, SecurityClass, TypeExpr, UnionType
from .files import DEFAULT_MAX_FILE_SIZE
from .pipeline import load_api
from .plan import PackagePlan, PlannedModel, Planner
from .render import md

Usage = frozenset[str]  # subset of {"request", "response"}
REQUEST: Usage = frozenset({"request"})
RESPONSE: Usage = frozenset({"response"})
BOTH: Usage = REQUEST | RESPONSE
Alternative = Mapping[str, frozenset[str]]  # scheme -> scopes; empty: no credentials
Bump = Literal["major", "minor", "patch", "none"]
_OTHER_MODELS_MODULE = re.compile(r"(?<![\w.])_models\.")
# Non-breaking kinds that change nothing a caller writes or reads.
PATCH_KINDS = frozenset({"operation-path-changed", "scopes-removed"})


@dataclass(frozen=True)
class Change:
    kind: str
    subject: str
    detail: str
    breaking: bool


@dataclass(frozen=True)
class DiffReport:
    old_version: str
    new_version: str
    changes: tuple[Change, ...]
    suggested_bump: Bump

    @property
    def breaking(self) -> bool:
        return any(c.breaking for c in self.changes)


# ---------------------------------------------------------------- surface


@dataclass(frozen=True)
class ParamSurface:
    name: str
    spec_name: str
    location: str
    required: bool
    annotation: str


@dataclass(frozen=True)
class OperationSurface:
    key: str
    operation_id: str | None
    http: str  # "GET /accounts"
    group: str
    name: str
    deprecated: bool
    security_class: SecurityClass
    alternatives: tuple[Alternative, ...]
    params: tuple[ParamSurface, ...]
    body: ParamSurface | None
    returns: str

    @property
    def subject(self) -> str:
        return f"{self.group}.{self.name}"

    @property
    def reference(self) -> str:
        return self.http + (f", operationId {self.operation_id}" if self.operation_id else "")


@dataclass(frozen=True)
class FieldSurface:
    name: str
    json_name: str
    annotation: str
    required: bool
    read_only: bool  # left out of requests


@dataclass(frozen=True)
class ModelSurface:
    name: str
    kind: str
    usage: Usage
    fields: tuple[FieldSurface, ...]
    enum_values: tuple[str, ...]
    target: str


@dataclass(frozen=True)
class Surface:
    version: str
    detail: str  # a digest of everything the generated client carries (docstrings too), but its version
    operations: tuple[OperationSurface, ...]
    models: Mapping[str, ModelSurface]
    credentials: frozenset[str]
    token_schemes: frozenset[str]


def build_surface(api: Api) -> Surface:
    """The generated client's surface for ``api``, named as the generated code names it."""
    return surface_of(api, Planner(api, "client", __version__).plan())


def plan_digest(plan: PackagePlan) -> str:
    """What the generated client carries, as a digest: the plan without its package name and version."""
    return hashlib.sha256(repr(replace(plan, package="", version="")).encode("utf-8", "backslashreplace")).hexdigest()


def surface_of(api: Api, plan: PackagePlan) -> Surface:
    """The surface of the client ``plan`` (planned from ``api``) describes."""
    by_http = {(op.method.upper(), op.path): op for op in api.operations}
    operations = []
    for group in plan.groups:
        for planned in sorted(group.operations, key=lambda p: (p.path, p.http_method)):
            op = by_http[(planned.http_method, planned.path)]
            annotations = {p.name: p for p in planned.signature_params}
            params = tuple(  # an idempotency header is the `idempotency_key` option, no parameter
                ParamSurface(name, p.name, p.location, p.required, annotations[name].annotation)
                for p, name in zip(op.parameters, planned.call_args)
                if name in annotations
            )
            body = None
            if op.request_body is not None and planned.body_arg is not None:
                body = ParamSurface("body", "body", "body", op.request_body.required, annotations[planned.body_arg].annotation)
            alternatives = tuple(
                {use.scheme: frozenset(use.scopes) for use in req.schemes} for req in op.security.alternatives
            ) or ({},)
            operations.append(
                OperationSurface(
                    key=op.operation_id or f"{op.method.upper()} {op.path}",
                    operation_id=op.operation_id,
                    http=f"{op.method.upper()} {op.path}",
                    group=group.attribute,
                    name=planned.name,
                    deprecated=op.deprecated,
                    security_class=op.security.security_class,
                    alternatives=alternatives,
                    params=params,
                    body=body,
                    returns=planned.return_annotation,
                )
            )
    usage = _model_usage(api)
    models = {m.name: _model_surface(m, usage.get(m.key, BOTH)) for m in plan.models}
    credentials = frozenset(c.kwarg for c in plan.credentials)
    token_schemes = frozenset(s.name for s in api.security_schemes if s.is_token)
    operations.sort(key=lambda o: (o.key, o.http))  # the order records keep
    return Surface(api.version, plan_digest(plan), tuple(operations), models, credentials, token_schemes)


def _model_surface(model: PlannedModel, usage: Usage) -> ModelSurface:
    fields = tuple(
        FieldSurface(f.name, f.alias or f.name, _in_models(f.annotation), f.default is None, f.read_only) for f in model.fields
    )
    return ModelSurface(model.name, model.kind, usage, fields, tuple(m.value for m in model.members), _in_models(model.target))


def _in_models(annotation: str) -> str:
    """A model's annotation as written in ``models``, whichever models submodule holds it."""
    return _OTHER_MODELS_MODULE.sub("", annotation)


def _model_usage(api: Api) -> dict[str, Usage]:
    """Which models (by key) each direction reaches: sent in requests, received in responses."""
    models = {m.key: m for m in api.models}

    def reach(types: Iterable[TypeExpr]) -> set[str]:
        seen: set[str] = set()
        stack = list(types)
        while stack:
            t = stack.pop()
            if isinstance(t, ModelRef) and t.key not in seen and t.key in models:
                seen.add(t.key)
                model = models[t.key]
                if isinstance(model, ObjectModel):
                    stack.extend(p.type for p in model.properties)
                    stack.extend([model.additional_properties] if model.additional_properties else [])
                elif isinstance(model, AliasModel):
                    stack.append(model.target)
            elif isinstance(t, ArrayType):
                stack.append(t.items)
            elif isinstance(t, MapType):
                stack.append(t.values)
            elif isinstance(t, NullableType):
                stack.append(t.inner)
            elif isinstance(t, UnionType):
                stack.extend(t.members)
        return seen

    sent = reach(
        [p.type for op in api.operations for p in op.parameters]
        + [op.request_body.type for op in api.operations if op.request_body]
    )
    received = reach([r.type for op in api.operations for r in op.responses])
    none: Usage = frozenset()
    return {key: (REQUEST if key in sent else none) | (RESPONSE if key in received else none) for key in sent | received}


# ---------------------------------------------------------------- comparison


def compare(old: Surface, new: Surface) -> tuple[Change, ...]:
    changes: list[Change] = []
    for before, after in _match_operations(old.operations, new.operations):
        if before is None and after is not None:
            changes.append(Change("operation-added", after.subject, f"new method ({after.http})", False))
        elif after is None and before is not None:
            changes.append(Change("operation-removed", before.subject, f"removed ({before.reference})", True))
        elif before is not None and after is not None:
            changes.extend(_operation_changes(before, after, old.token_schemes | new.token_schemes))
    for kwarg in sorted(old.credentials - new.credentials):
        changes.append(Change("credential-removed", f"Client({kwarg}=...)", "the client no longer takes this credential", True))
    for kwarg in sorted(new.credentials - old.credentials):
        changes.append(Change("credential-added", f"Client({kwarg}=...)", "new credential keyword", False))
    for name in sorted(old.models.keys() | new.models.keys()):
        changes.extend(_model_changes(old.models.get(name), new.models.get(name)))
    return tuple(sorted(changes, key=lambda c: (not c.breaking, c.subject.startswith("models."), c.subject, c.kind, c.detail)))


def _match_operations(
    old: tuple[OperationSurface, ...], new: tuple[OperationSurface, ...]
) -> Iterator[tuple[OperationSurface | None, OperationSurface | None]]:
    """Pairs by key (operationId), then the rest by HTTP method and path; unmatched ones alone."""
    new_by_key = {op.key: op for op in new}
    old_keys = {op.key for op in old}
    unmatched_new = {op.http: op for op in new if op.key not in old_keys}
    for op in old:
        yield op, new_by_key.get(op.key) or unmatched_new.pop(op.http, None)
    yield from ((None, op) for op in unmatched_new.values())


def _operation_changes(old: OperationSurface, new: OperationSurface, token_schemes: frozenset[str]) -> Iterator[Change]:
    subject = new.subject
    if old.name != new.name:
        yield Change("operation-renamed", old.subject, f"now client.{subject} ({new.reference})", True)
    elif old.group != new.group:
        yield Change("operation-moved", old.subject, f"now client.{subject} (its tag or resource changed)", True)
    if old.http != new.http:
        yield Change("operation-path-changed", subject, f"{old.http} -> {new.http}", False)
    if new.deprecated and not old.deprecated:
        yield Change("operation-deprecated", subject, "now deprecated: calls emit a DeprecationWarning", False)
    yield from _security_changes(subject, old, new, token_schemes)
    yield from _param_changes(subject, old.params, new.params)
    yield from _body_changes(subject, old.body, new.body)
    if old.returns != new.returns:
        breaks = old.returns != "None" and _type_breaks(old.returns, new.returns, RESPONSE)
        yield Change("response-type-changed", subject, f"returns {new.returns} (was {old.returns})", breaks)


def _security_changes(subject: str, old: OperationSurface, new: OperationSurface, token_schemes: frozenset[str]) -> Iterator[Change]:
    token_required = SecurityClass.TOKEN_REQUIRED
    class_changed = old.security_class is not new.security_class
    became_token_required = class_changed and new.security_class is token_required
    if class_changed:
        detail = f"{old.security_class.value} -> {new.security_class.value}"
        if became_token_required:
            detail += ": now requires a token; callers of Client lose this method (AuthenticatedClient keeps it)"
        elif old.security_class is token_required:
            detail += ": now also on Client"
        yield Change("security-class-changed", subject, detail, became_token_required)
    for before in old.alternatives:
        kept = next((after for after in new.alternatives if after.keys() == before.keys()), None)
        if kept is not None:
            yield from _scope_changes(subject, before, kept)
        elif any(after.keys() <= before.keys() for after in new.alternatives):
            continue  # still satisfied, by an alternative needing fewer schemes
        elif became_token_required and not before.keys() & token_schemes:
            continue  # explained by the class change
        else:
            wider = [after.keys() - before.keys() for after in new.alternatives if after.keys() >= before.keys()]
            if wider:
                fewest = min(wider, key=len)
                yield Change("security-scheme-added", subject, f"calling with {_alternative(before)} now also needs {_list(fewest)}", True)
            else:
                yield Change("security-alternative-removed", subject, f"can no longer be called with {_alternative(before)}", True)
    for after in new.alternatives:
        if class_changed and after.keys() <= token_schemes:
            continue  # a token or no credentials: explained by the class change
        if not any(before.keys() <= after.keys() for before in old.alternatives):
            yield Change("security-alternative-added", subject, f"can now also be called with {_alternative(after)}", False)


def _scope_changes(subject: str, old: Alternative, new: Alternative) -> Iterator[Change]:
    for scheme in sorted(old):
        if added := new[scheme] - old[scheme]:
            yield Change("scopes-added", subject, f"{scheme} now also needs scopes {_list(added)}: existing tokens may lack them", True)
        if removed := old[scheme] - new[scheme]:
            yield Change("scopes-removed", subject, f"{scheme} no longer needs scopes {_list(removed)}", False)


def _param_changes(subject: str, old: tuple[ParamSurface, ...], new: tuple[ParamSurface, ...]) -> Iterator[Change]:
    before, after = _by_key(old), _by_key(new)
    for key in sorted(before.keys() | after.keys()):
        o, n = before.get(key), after.get(key)
        if n is None and o is not None:
            yield Change("parameter-removed", f"{subject}({o.name})", f"{o.location} parameter {o.spec_name!r} removed", True)
        elif o is None and n is not None:
            needed = "required" if n.required else "optional"
            yield Change("parameter-added", f"{subject}({n.name})", f"new {needed} {n.location} parameter {n.spec_name!r}: {n.annotation}", n.required)
        elif o is not None and n is not None:
            if o.name != n.name:
                yield Change("parameter-renamed", f"{subject}({o.name})", f"renamed to {n.name} ({n.location} parameter {o.spec_name!r} -> {n.spec_name!r})", True)
            yield from _value_changes("parameter", f"{subject}({n.name})", o.annotation, n.annotation, o.required, n.required, REQUEST)


def _by_key(params: tuple[ParamSurface, ...]) -> dict[tuple[str, str], ParamSurface]:
    """Parameters by location and spec name; path parameters (positional) by position."""
    path = [p for p in params if p.location == "path"]
    return {("path", str(path.index(p))) if p.location == "path" else (p.location, p.spec_name): p for p in params}


def _body_changes(subject: str, old: ParamSurface | None, new: ParamSurface | None) -> Iterator[Change]:
    where = f"{subject}(body)"
    if old is not None and new is None:
        yield Change("body-removed", where, "the operation no longer takes a body", True)
    elif old is None and new is not None:
        yield Change("body-added", where, f"new {'required' if new.required else 'optional'} body: {new.annotation}", new.required)
    elif old is not None and new is not None:
        yield from _value_changes("body", where, old.annotation, new.annotation, old.required, new.required, REQUEST)


def _model_changes(old: ModelSurface | None, new: ModelSurface | None) -> Iterator[Change]:
    if old is None or new is None:
        if new is not None:
            yield Change("model-added", f"models.{new.name}", f"new {new.kind}", False)
        if old is not None:
            yield Change("model-removed", f"models.{old.name}", "removed", True)
        return
    subject, usage = f"models.{new.name}", old.usage | new.usage
    if old.kind != new.kind:
        yield Change("model-kind-changed", subject, f"{old.kind} -> {new.kind}", True)
        return
    if old.target != new.target:
        yield Change("model-type-changed", subject, f"now {new.target} (was {old.target})", _type_breaks(old.target, new.target, usage))
    for value in old.enum_values:
        if value not in new.enum_values:
            yield Change("enum-value-removed", subject, f"value {value} removed", True)
    for value in new.enum_values:
        if value not in old.enum_values:
            yield Change("enum-value-added", subject, f"new value {value}", False)
    before = {f.json_name: f for f in old.fields}
    after = {f.json_name: f for f in new.fields}
    for json_name in sorted(before.keys() | after.keys()):
        o, n = before.get(json_name), after.get(json_name)
        if n is None and o is not None:
            yield Change("field-removed", f"{subject}.{o.name}", f"field {json_name!r} removed", True)
        elif o is None and n is not None:
            breaks = n.required and "request" in usage
            yield Change("field-added", f"{subject}.{n.name}", f"new {'required' if n.required else 'optional'} field {json_name!r}: {n.annotation}", breaks)
        elif o is not None and n is not None:
            if o.name != n.name:
                yield Change("field-renamed", f"{subject}.{o.name}", f"attribute renamed to {n.name} (field {json_name!r})", True)
            field_usage = usage if not (o.read_only and n.read_only) else usage - REQUEST
            yield from _value_changes("field", f"{subject}.{n.name}", o.annotation, n.annotation, o.required, n.required, field_usage)


def _value_changes(what: str, subject: str, old: str, new: str, was_required: bool, required: bool, usage: Usage) -> Iterator[Change]:
    """Requiredness and type of a parameter, body or field used in ``usage``."""
    if was_required != required:
        sent, received = "request" in usage, "response" in usage
        if required:
            yield Change(f"{what}-required", subject, "now required" + (": callers must pass it" if sent else " (always sent by the server)"), sent)
        else:
            yield Change(f"{what}-optional", subject, "now optional" + (": may be None" if received else ""), received)
    old_members, new_members = _members(old), _members(new)
    if was_required != required:  # the "| None" of an optional value is the requiredness change above
        old_members, new_members = old_members - {"None"}, new_members - {"None"}
    if old_members != new_members:
        yield Change(f"{what}-type-changed", subject, f"{new} (was {old})", _type_breaks(old, new, usage))


def _type_breaks(old: str, new: str, usage: Usage) -> bool:
    """Whether code that sends (request) or receives (response) an ``old`` value breaks with ``new``."""
    old_members, new_members = _members(old), _members(new)
    widened = new_members >= old_members or "Any" in new_members
    narrowed = new_members <= old_members
    return ("request" in usage and not widened) or ("response" in usage and not narrowed)


def _members(annotation: str) -> frozenset[str]:
    """The top-level members of a ``A | B[C | D] | None`` annotation."""
    members, depth, start = [], 0, 0
    for i, char in enumerate(annotation):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "|" and depth == 0:
            members.append(annotation[start:i].strip())
            start = i + 1
    members.append(annotation[start:].strip())
    return frozenset(members)


def _list(items: Iterable[str]) -> str:
    return ", ".join(sorted(items))


def _alternative(alternative: Alternative) -> str:
    return " AND ".join(sorted(alternative)) if alternative else "no credentials"


# ---------------------------------------------------------------- report


def diff_apis(old: Api, new: Api) -> DiffReport:
    return diff_surfaces(build_surface(old), build_surface(new))


def diff_surfaces(before: Surface, after: Surface) -> DiffReport:
    changes = compare(before, after)
    bump: Bump
    if any(c.breaking for c in changes):
        bump = "major"
    elif any(c.kind not in PATCH_KINDS for c in changes):
        bump = "minor"
    elif changes or before.detail != after.detail:
        bump = "patch"
    else:
        bump = "none"
    return DiffReport(before.version, after.version, changes, bump)


# ---------------------------------------------------------------- the surface as JSON records


def surface_record(surface: Surface) -> dict[str, Any]:
    """``surface`` as JSON: one record per operation and per model, empty values left out."""
    operations = []
    for op in sorted(surface.operations, key=lambda o: (o.key, o.http)):
        record: dict[str, Any] = {"key": op.key, "call": f"{op.group}.{op.name}", "http": op.http, "class": op.security_class.value}
        if op.operation_id != op.key:  # the key is the operationId where there is one
            record["operation_id"] = op.operation_id
        if op.deprecated:
            record["deprecated"] = True
        if op.alternatives != ({},):
            record["security"] = [{scheme: sorted(scopes) for scheme, scopes in sorted(alt.items())} for alt in op.alternatives]
        if op.params:
            record["params"] = [[p.name, p.spec_name, p.location, p.required, p.annotation] for p in op.params]
        if op.body is not None:
            record["body"] = [op.body.required, op.body.annotation]
        record["returns"] = op.returns
        operations.append(record)
    models = []
    for name in sorted(surface.models):
        model = surface.models[name]
        entry: dict[str, Any] = {"model": model.name, "kind": model.kind, "usage": sorted(model.usage)}
        if model.fields:
            entry["fields"] = [[f.name, f.json_name, f.annotation, f.required, f.read_only] for f in model.fields]
        if model.enum_values:
            entry["enum"] = list(model.enum_values)
        if model.target:
            entry["target"] = model.target
        models.append(entry)
    return {
        "api_version": surface.version,
        "detail": surface.detail,
        "credentials": sorted(surface.credentials),
        "token_schemes": sorted(surface.token_schemes),
        "operations": operations,
        "models": models,
    }


def surface_from_record(record: Mapping[str, Any]) -> Surface:
    """The surface ``surface_record`` wrote; ``ValueError`` when ``record`` is not one."""
    try:
        operations = []
        for op in record["operations"]:
            group, name = str(op["call"]).split(".", 1)
            security = op.get("security", [{}])
            operations.append(
                OperationSurface(
                    key=str(op["key"]),
                    operation_id=op["operation_id"] if "operation_id" in op else str(op["key"]),
                    http=str(op["http"]),
                    group=group,
                    name=name,
                    deprecated=bool(op.get("deprecated", False)),
                    security_class=SecurityClass(op["class"]),
                    alternatives=tuple({str(k): frozenset(map(str, v)) for k, v in alt.items()} for alt in security),
                    params=tuple(ParamSurface(str(n), str(s), str(loc), bool(req), str(ann)) for n, s, loc, req, ann in op.get("params", [])),
                    body=ParamSurface("body", "body", "body", bool(op["body"][0]), str(op["body"][1])) if "body" in op else None,
                    returns=str(op["returns"]),
                )
            )
        models = {}
        for model in record["models"]:
            fields = tuple(FieldSurface(str(n), str(j), str(a), bool(r), bool(ro)) for n, j, a, r, ro in model.get("fields", []))
            usage: Usage = frozenset(str(u) for u in model["usage"])
            models[str(model["model"])] = ModelSurface(
                str(model["model"]), str(model["kind"]), usage, fields, tuple(map(str, model.get("enum", []))), str(model.get("target", ""))
            )
        return Surface(
            version=str(record["api_version"]),
            detail=str(record["detail"]),
            operations=tuple(operations),
            models=models,
            credentials=frozenset(map(str, record["credentials"])),
            token_schemes=frozenset(map(str, record["token_schemes"])),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"not a recorded API surface ({type(exc).__name__}: {exc})") from None


def diff_specs(old: str | Path, new: str | Path, *, ref_root: Path | None = None, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> DiffReport:
    """Each spec is read under its own default ref root unless ``ref_root`` is given."""
    return diff_apis(
        load_api(old, ref_root=ref_root, max_file_size=max_file_size)[0],
        load_api(new, ref_root=ref_root, max_file_size=max_file_size)[0],
    )


def render(report: DiffReport, fmt: str) -> str:
    """The report as "text", "markdown" or "json"."""
    return {"text": render_text, "markdown": render_markdown, "json": render_json}[fmt](report)


def render_json(report: DiffReport) -> str:
    document = {
        "breaking": report.breaking,
        "suggested_bump": report.suggested_bump,
        "old_version": report.old_version,
        "new_version": report.new_version,
        "changes": [
            {"kind": c.kind, "subject": c.subject, "detail": c.detail, "breaking": c.breaking} for c in report.changes
        ],
    }
    return json.dumps(document, indent=2)


def _summary(report: DiffReport) -> str:
    if not report.changes:
        note = "no changes" if report.suggested_bump == "none" else "no changes to the client surface (text or details differ)"
        return f"{note}; suggested version bump: {report.suggested_bump}"
    breaking = sum(c.breaking for c in report.changes)
    return f"{len(report.changes)} changes, {breaking} breaking; suggested version bump: {report.suggested_bump}"


def render_text(report: DiffReport) -> str:
    lines = [_clean(f"API {report.old_version} -> {report.new_version}: {_summary(report)}")]
    for title, breaking in (("Breaking changes", True), ("Other changes", False)):
        group = [c for c in report.changes if c.breaking is breaking]
        if group:
            lines += ["", f"{title} ({len(group)}):"]
            width = max(len(c.kind) for c in group)
            marker = "BREAKING  " if breaking else ""
            lines += [_clean(f"  {marker}{c.kind.ljust(width)}  {c.subject}: {c.detail}") for c in group]
    return "\n".join(lines)


def render_markdown(report: DiffReport) -> str:
    lines = [f"### API changes {_cell(report.old_version)} → {_cell(report.new_version)}", "", f"**{_summary(report)}**"]
    if report.changes:
        lines += ["", "| | Change | Where | Detail |", "|---|---|---|---|"]
        lines += [
            f"| {'⚠️ **breaking**' if c.breaking else ''} | {c.kind} | `{c.subject}` | {_cell(c.detail)} |"
            for c in report.changes
        ]
    return "\n".join(lines)


def _clean(text: str) -> str:
    """Spec text without control characters (a spec is untrusted; this goes to a terminal)."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _cell(text: str) -> str:
    """Spec text in markdown (a changelog, a pull-request comment): text only, whatever it holds."""
    return md(_clean(text), inline=True)
