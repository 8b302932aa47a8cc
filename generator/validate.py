"""Validate stage: openapi-spec-validator, then accessgen's own semantic checks.

Validator findings that real specs trip over for reasons a client does not care
about (ECMA-262 regex syntax, a ``$ref`` inside a description, an operation given
by ``$ref``, an undeclared path parameter) are warnings unless ``strict``.
Semantic checks that would make the generated client wrong are always errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .errors import Diagnostic, SpecError, excerpt
from .load import NodeKey, SpecSource, join_pointer, lookup, split_pointer

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
TEMPLATE_VARIABLE = re.compile(r"{([^{}]+)}")


@dataclass(frozen=True)
class ValidationResult:
    warnings: tuple[Diagnostic, ...]


def validate(source: SpecSource, *, strict: bool = False) -> ValidationResult:
    """Raise ``SpecError`` with every error; return the warnings otherwise."""
    findings = list(_validator_findings(source))
    findings.extend(_semantic_findings(source))
    if strict:
        findings = [Diagnostic(d.message, d.location, "error") for d in findings]
    errors = [d for d in findings if d.severity == "error"]
    if errors:
        raise SpecError(errors)
    return ValidationResult(tuple(findings))


# ---------------------------------------------------------------- openapi-spec-validator


def _description_refs(tree: Any, pointer: str = "") -> Iterator[str]:
    """Pointers of ``description: {$ref: ...}`` nodes, which OpenAPI does not allow."""
    stack = [(tree, pointer)]
    seen: set[int] = set()  # YAML aliases share containers: each is walked once
    while stack:
        node, at = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            for key, child in node.items():
                child_at = join_pointer(at, key)
                if key == "description" and isinstance(child, dict) and "$ref" in child:
                    yield child_at
                elif isinstance(child, (dict, list)):
                    stack.append((child, child_at))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                if isinstance(child, (dict, list)):
                    stack.append((child, join_pointer(at, index)))


def _replace_at(tree: Any, pointer: str, value: Any) -> Any:
    """A copy of ``tree`` with the node at ``pointer`` replaced, copying only the path to it."""
    tokens = split_pointer(pointer)

    def rebuild(node: Any, depth: int) -> Any:
        if depth == len(tokens):
            return value
        token = tokens[depth]
        if isinstance(node, dict):
            copy = dict(node)
            copy[token] = rebuild(node[token], depth + 1)
            return copy
        copy_list = list(node)
        copy_list[int(token)] = rebuild(node[int(token)], depth + 1)
        return copy_list

    return rebuild(tree, 0)


_DUPLICATE_ENUM = "enum repeats a value"  # reported, with the values, when the IR is built
_REF_OPERATION = "an operation given by $ref is not allowed by OpenAPI; accessgen resolves it"


def _classify_validator_error(error: Exception, tree: Any) -> tuple[str, str, bool]:
    """(pointer, message, benign) for one validator finding."""
    path = getattr(error, "absolute_path", None) or getattr(error, "path", None) or ()
    pointer = join_pointer("", *path) if path else ""
    message = getattr(error, "message", None) or str(error).split("\n", 1)[0]
    name = type(error).__name__
    validator = getattr(error, "validator", None)
    tokens = [str(t) for t in path]
    if len(tokens) == 3 and tokens[0] == "paths" and tokens[2] in HTTP_METHODS:
        node = lookup(tree, pointer)
        if isinstance(node, dict) and "$ref" in node:
            return pointer, _REF_OPERATION, True
    if validator == "uniqueItems" and tokens and tokens[-1] == "enum":
        return pointer, _DUPLICATE_ENUM, True
    if validator == "format" and "regex" in message:
        return pointer, f"pattern uses syntax Python's re does not accept ({message})", True
    if validator == "unevaluatedProperties" and "'$ref'" in message:
        return pointer, _REF_OPERATION, True
    if name == "UnresolvableParameterError":
        return pointer, f"{message}; accessgen treats it as a required string path parameter", True
    return pointer, message, False


_NO_INSTANCE = object()


def _locate(tree: Any, pointer: str, instance: Any) -> str:
    """The document pointer of a finding; nested schema checks report paths relative to the schema."""
    if instance is _NO_INSTANCE or lookup(tree, pointer) == instance or not pointer:
        return pointer
    stack: list[tuple[Any, str]] = [(tree, "")]
    seen: set[int] = set()  # YAML aliases share containers: each is walked once
    while stack:
        node, at = stack.pop()
        if at.endswith(pointer) and node == instance:
            return at
        if isinstance(node, (dict, list)):
            if id(node) in seen:
                continue
            seen.add(id(node))
        if isinstance(node, dict):
            stack.extend((child, join_pointer(at, key)) for key, child in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((child, join_pointer(at, i)) for i, child in reversed(list(enumerate(node))))
    return pointer


def _validator_findings(source: SpecSource) -> Iterator[Diagnostic]:
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    tree = source.root.tree
    root_key = NodeKey(source.root_path, "")
    for pointer in sorted(_description_refs(tree)):
        key = NodeKey(source.root_path, pointer)
        yield Diagnostic("a $ref inside a description is not allowed by OpenAPI; it is ignored", source.location(key), "warning")
        tree = _replace_at(tree, pointer, "")
    validator_class = OpenAPIV31SpecValidator if str(tree.get("openapi", "")).startswith("3.1") else OpenAPIV30SpecValidator
    seen: set[tuple[str, str]] = set()
    ref_operations: list[str] = []
    try:
        for error in validator_class(tree, base_uri=source.root_path.as_uri()).iter_errors():
            pointer, message, benign = _classify_validator_error(error, tree)
            if message == _DUPLICATE_ENUM:
                continue
            if message == _REF_OPERATION:
                if pointer not in ref_operations:
                    ref_operations.append(pointer)
                continue
            pointer = _locate(tree, pointer, getattr(error, "instance", _NO_INSTANCE))
            if (pointer, message) in seen:
                continue
            seen.add((pointer, message))
            location = source.location(NodeKey(source.root_path, pointer))
            yield Diagnostic(message, location, "warning" if benign else "error")
    except RecursionError:
        yield Diagnostic("openapi-spec-validator could not check this document (nesting too deep)", source.location(root_key), "warning")
    except Exception as exc:  # the validator is third-party code fed untrusted input
        yield Diagnostic(
            f"openapi-spec-validator failed on this document ({type(exc).__name__}); accessgen's own checks still apply",
            source.location(root_key),
            "warning",
        )
    if ref_operations:
        more = f" (and {len(ref_operations) - 1} more operations)" if len(ref_operations) > 1 else ""
        yield Diagnostic(_REF_OPERATION + more, source.location(NodeKey(source.root_path, ref_operations[0])), "warning")


# ---------------------------------------------------------------- semantic checks


def iter_operations(source: SpecSource) -> Iterator[tuple[str, str, Any, NodeKey, Any, NodeKey]]:
    """(path, method, operation, its key, path item, its key) for each operation, refs resolved."""
    paths = source.root.tree.get("paths") or {}
    if not isinstance(paths, dict):
        return
    for path, raw_item in paths.items():
        item_key = NodeKey(source.root_path, join_pointer("/paths", path))
        item, item_key = source.resolve(raw_item, item_key)
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op, op_key = source.resolve(item[method], NodeKey(item_key.path, join_pointer(item_key.pointer, method)))
            if isinstance(op, dict):
                yield str(path), method, op, op_key, item, item_key


def _semantic_findings(source: SpecSource) -> Iterator[Diagnostic]:
    tree = source.root.tree
    components = tree.get("components") or {}
    schemes = components.get("securitySchemes") or {} if isinstance(components, dict) else {}
    declared = set(schemes) if isinstance(schemes, dict) else set()

    def check_security(raw: Any, key: NodeKey) -> Iterator[Diagnostic]:
        if raw is None:
            return
        if not isinstance(raw, list):
            yield Diagnostic("security must be a list of requirement objects", source.location(key))
            return
        for index, requirement in enumerate(raw):
            if not isinstance(requirement, dict):
                yield Diagnostic("a security requirement must be an object", source.location(NodeKey(key.path, join_pointer(key.pointer, index))))
                continue
            for name in requirement:
                if name not in declared:
                    known = ", ".join(excerpt(d) for d in sorted(declared)[:10]) or "none"
                    yield Diagnostic(
                        f"security requirement names scheme {excerpt(name)}, which components.securitySchemes does not declare (declared: {known})",
                        source.location(NodeKey(key.path, join_pointer(key.pointer, index, name))),
                    )

    yield from check_security(tree.get("security"), NodeKey(source.root_path, "/security"))

    seen_ids: dict[str, NodeKey] = {}
    for path, method, op, op_key, item, item_key in iter_operations(source):
        yield from check_security(op.get("security"), NodeKey(op_key.path, join_pointer(op_key.pointer, "security")))
        op_id = op.get("operationId")
        if isinstance(op_id, str):
            if op_id in seen_ids:
                first = seen_ids[op_id]
                yield Diagnostic(
                    f"duplicate operationId {excerpt(op_id)} (first used at {source.location(first)})",
                    source.location(NodeKey(op_key.path, join_pointer(op_key.pointer, "operationId"))),
                )
            else:
                seen_ids[op_id] = NodeKey(op_key.path, join_pointer(op_key.pointer, "operationId"))
        template_vars = set(TEMPLATE_VARIABLE.findall(path))
        for raw_param, param_key in _parameters(source, item, item_key, op, op_key):
            if raw_param.get("in") == "path" and raw_param.get("name") not in template_vars:
                yield Diagnostic(
                    f"path parameter {excerpt(raw_param.get('name'))} does not appear in the path template {excerpt(path)}",
                    source.location(param_key),
                )


def _parameters(
    source: SpecSource, item: dict[str, Any], item_key: NodeKey, op: dict[str, Any], op_key: NodeKey
) -> Iterator[tuple[dict[str, Any], NodeKey]]:
    for owner, owner_key in ((item, item_key), (op, op_key)):
        raw = owner.get("parameters")
        if not isinstance(raw, list):
            continue
        for index, param in enumerate(raw):
            key = NodeKey(owner_key.path, join_pointer(owner_key.pointer, "parameters", index))
            resolved, resolved_key = source.resolve(param, key)
            if isinstance(resolved, dict):
                yield resolved, resolved_key
