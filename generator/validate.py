"""Validate stage: openapi-spec-validator, then accessgen's own semantic checks.

Validator findings that real specs trip over for reasons a client does not care
about (ECMA-262 regex syntax, a ``$ref`` inside a description, an operation given
by ``$ref``, an undeclared path parameter, an enum value listed twice) are warnings
unless ``strict``. Every finding is reported where it is (file, line, pointer), in a
stable order; past ``SHOWN_PER_KIND`` findings of one kind, the rest are counted.
Semantic checks that would make the generated client wrong are always errors.

The validator is the slowest part of a generation, so ``start_validation`` runs it
beside the rest of the pipeline: each of its two phases (the OpenAPI meta-schema, then the
keyword checks) in a process forked once the documents are loaded (they share the parsed
trees); ``PendingValidation.result()``, which the pipeline calls after rendering, before
anything is written, collects them. Its verdict, the findings, is cached by the
digests of the documents it read and the versions of the validator and of this module.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import json
import os
import pickle
import re
import signal
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Diagnostic, SourceLocation, SpecError, excerpt
from .fingerprint import file_digest
from .format import cache_dir, write_cache_file
from .load import NodeKey, SpecSource, display_path, join_pointer, lines_of, lookup, split_pointer

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
TEMPLATE_VARIABLE = re.compile(r"{([^{}]+)}")

# Findings of one kind shown one by one; the rest are counted in one more finding.
SHOWN_PER_KIND = 20
# Whether the validator may run in a forked process (tests switch it off to count calls).
CONCURRENT = hasattr(os, "fork")
# The validator's two phases, in the order one run of it goes through them.
PHASES = ("schema", "keywords")
VALIDATOR_DISTRIBUTIONS = ("openapi-spec-validator", "openapi-schema-validator", "jsonschema", "jsonschema-path")


@dataclass(frozen=True)
class ValidationResult:
    warnings: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class Finding:
    """One validator finding where it is: a document, a pointer in it. Plain data, to cache."""

    message: str
    document: Path
    pointer: str
    benign: bool
    kind: str  # what findings are counted together when there are many


def validate(source: SpecSource, *, strict: bool = False) -> ValidationResult:
    """Raise ``SpecError`` with every error; return the warnings otherwise."""
    return start_validation(source, strict=strict, concurrent=False).result()


def start_validation(source: SpecSource, *, strict: bool = False, concurrent: bool = True) -> PendingValidation:
    """Start validating ``source``: from the cache, in a forked process, or (not concurrent) later, inline."""
    cache_key = _cache_key(source)
    cached = _read_verdict(source, cache_key)
    if cached is not None:
        return PendingValidation(source, strict, cache_key, findings=cached)
    children: dict[str, _ValidatorProcess] = {}
    if concurrent and CONCURRENT:
        for name in PHASES:
            child = _ValidatorProcess.start(source, name)
            if child is not None:
                children[name] = child
    return PendingValidation(source, strict, cache_key, children=children)


class PendingValidation:
    """A validation under way; ``result()`` waits for it and raises ``SpecError`` with the errors."""

    def __init__(
        self,
        source: SpecSource,
        strict: bool,
        cache_key: str | None,
        *,
        findings: list[Finding] | None = None,
        children: dict[str, _ValidatorProcess] | None = None,
    ) -> None:
        self.source = source
        self.strict = strict
        self.cache_key = cache_key
        self._findings = findings
        self._children = dict(children or {})  # by phase
        self._result: ValidationResult | None = None

    def result(self) -> ValidationResult:
        if self._result is None:
            findings = self._validator_findings()
            diagnostics = _diagnostics(self.source, findings, strict=self.strict)
            semantic = list(_semantic_findings(self.source))
            if self.strict:
                semantic = [Diagnostic(d.message, d.location, "error") for d in semantic]
            diagnostics.extend(semantic)
            errors = [d for d in diagnostics if d.severity == "error"]
            if errors:
                raise SpecError(errors)
            self._result = ValidationResult(tuple(diagnostics))
        return self._result

    def cancel(self) -> None:
        """Stop the validator (an interrupted or failed run does not wait for it)."""
        for child in self._children.values():
            child.kill()
        self._children.clear()

    def _validator_findings(self) -> list[Finding]:
        if self._findings is None:
            if not self._children:
                findings, read = run_validator(self.source)
            else:
                run = _ValidatorRun(self.source)
                phases = {}
                for name in PHASES:  # a phase whose child died (or never started) runs here
                    child = self._children.pop(name, None)
                    phases[name] = (child.join() if child is not None else None) or run.phase(name)
                findings = _combined(run.description_findings, phases["schema"], phases["keywords"])
                read = _digests(self.source, run.read.union(*(p.read for p in phases.values())))
            self._findings = findings
            _write_verdict(self.source, self.cache_key, findings, read)
        return self._findings


def join_first(pending: Iterable[PendingValidation]) -> None:
    """After a failure elsewhere: raise the validation errors, if any, as the failure to report."""
    validations = list(pending)
    try:
        for validation in validations:
            validation.result()
    finally:
        for validation in validations:
            validation.cancel()


# ---------------------------------------------------------------- running the validator


class _ValidatorProcess:
    """One phase of the validator in a forked child; its ``Phase`` comes back pickled through a pipe."""

    def __init__(self, pid: int, reader: int) -> None:
        self.pid = pid
        self.reader = reader

    @classmethod
    def start(cls, source: SpecSource, phase: str) -> _ValidatorProcess | None:
        try:
            reader, writer = os.pipe()
            pid = os.fork()
        except OSError:
            return None
        if pid == 0:  # pragma: no cover - the child; its work is measured by the parent's tests
            status = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to report
                os.close(reader)
                _exit_with_parent()
                payload = pickle.dumps(_ValidatorRun(source).phase(phase), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(writer, "wb") as pipe:
                    pipe.write(payload)
                status = 0
            finally:
                os._exit(status)
        os.close(writer)
        return cls(pid, reader)

    def join(self) -> Phase | None:
        with os.fdopen(self.reader, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        if status != 0 or not payload:
            return None
        answer: Phase = pickle.loads(payload)
        return answer

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except OSError:
            pass
        try:
            os.close(self.reader)
        except OSError:
            pass


def _exit_with_parent() -> None:
    """On Linux, have the kernel end this process when its parent dies (a killed run leaves nothing behind)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@dataclass(frozen=True)
class Phase:
    """What one phase of the validator found, and the finding that says it failed, if it did."""

    located: list[Finding]
    failure: Finding | None
    read: frozenset[Path] = frozenset()  # the documents the validator had read by its end


def run_validator(source: SpecSource) -> tuple[list[Finding], dict[Path, str]]:
    """openapi-spec-validator's findings, located, and the documents it read (with their digests)."""
    run = _ValidatorRun(source)
    schema = run.phase("schema")
    keywords = run.phase("keywords") if schema.failure is None else Phase([], None)
    return _combined(run.description_findings, schema, keywords), _digests(source, run.read)


def _combined(description: list[Finding], schema: Phase, keywords: Phase) -> list[Finding]:
    """The findings of both phases as one run of the validator gives them: each once, and the
    keyword phase only if the schema phase did not fail; the operations given by ``$ref`` in one."""
    findings = list(description)
    seen: set[tuple[Path, str, str]] = set()
    ref_operations: list[Finding] = []
    for phase in (schema, keywords):
        for finding in phase.located:
            if finding.kind == _DUPLICATE_ENUM:
                continue  # building the IR keeps one of each value and says so (3.1 too, which this misses)
            if finding.kind == _REF_OPERATION:
                if finding.pointer not in {f.pointer for f in ref_operations}:
                    ref_operations.append(finding)
            elif (finding.document, finding.pointer, finding.message) not in seen:
                seen.add((finding.document, finding.pointer, finding.message))
                findings.append(finding)
        if phase.failure is not None:
            findings.append(phase.failure)
            break
    if ref_operations:
        first = ref_operations[0]
        more = f" (and {len(ref_operations) - 1} more operations)" if len(ref_operations) > 1 else ""
        findings.append(Finding(_REF_OPERATION + more, first.document, first.pointer, True, _REF_OPERATION))
    return findings


# ---------------------------------------------------------------- the verdict cache


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _digests(source: SpecSource, read: Iterable[Path]) -> dict[Path, str]:
    """The digest of each document the validator read, by path."""
    return {path: _digest(source.documents[path].text) for path in sorted(read) if path in source.documents}


def _cache_key(source: SpecSource) -> str | None:
    if cache_dir() is None:
        return None
    try:
        versions = {name: importlib.metadata.version(name) for name in VALIDATOR_DISTRIBUTIONS}
    except importlib.metadata.PackageNotFoundError:
        return None
    own = file_digest(Path(__file__))
    if own is None:
        return None
    identity = json.dumps({"validators": versions, "validate.py": own, "root": _digest(source.root.text)}, sort_keys=True)
    return hashlib.sha256(identity.encode()).hexdigest()


def _verdict_path(key: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / "validation" / key[:2] / f"{key}.json"


def _read_verdict(source: SpecSource, key: str | None) -> list[Finding] | None:
    """The cached findings for ``source``, if every document the validator read is as it was."""
    where = _verdict_path(key) if key else None
    if where is None:
        return None
    try:
        entry = json.loads(where.read_text(encoding="utf-8"))
        base = source.root_path.parent
        for relative, digest in entry["read"].items():
            path = Path(os.path.normpath(base / relative))
            document = source.documents.get(path)
            text = document.text if document is not None else path.read_bytes().decode("utf-8-sig")
            if _digest(text) != digest:
                return None
        return [
            Finding(message, Path(os.path.normpath(base / relative)), pointer, bool(benign), kind)
            for message, relative, pointer, benign, kind in entry["findings"]
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_verdict(source: SpecSource, key: str | None, findings: list[Finding], read: dict[Path, str]) -> None:
    where = _verdict_path(key) if key else None
    if where is None:
        return
    base = source.root_path.parent
    entry = {
        "read": {os.path.relpath(path, base): digest for path, digest in read.items() if path != source.root_path},
        "findings": [[f.message, os.path.relpath(f.document, base), f.pointer, f.benign, f.kind] for f in findings],
    }
    write_cache_file(where, json.dumps(entry))


# ---------------------------------------------------------------- openapi-spec-validator


# Keys whose value maps names (chosen by the spec's author) to objects, so a key
# ``description`` there is a name, not a description text.
_NAME_MAPS = frozenset({
    "properties", "patternProperties", "definitions", "$defs", "dependentSchemas", "schemas", "responses",
    "parameters", "requestBodies", "headers", "securitySchemes", "links", "callbacks", "pathItems", "paths",
    "webhooks", "content", "encoding", "variables", "scopes", "mapping",
})
# Keys whose value is data (examples, defaults, enum values), never OpenAPI objects.
_DATA = frozenset({"example", "default", "enum", "const", "value"})


def _description_refs(tree: Any) -> Iterator[str]:
    """Pointers of ``description: {$ref: ...}`` where ``description`` is a text, which OpenAPI does not allow.

    A ``description`` key that names a property (or a schema, a response, ...) is no text,
    and data (examples, defaults, extensions) is never looked into. The walk keeps, for
    each container, only a link to its parent, and spells a pointer out only for a hit.
    """
    stack: list[tuple[Any, Any, bool]] = [(tree, None, False)]  # (node, trail, node maps names)
    while stack:
        node, trail, names = stack.pop()
        if type(node) is dict:
            for key, child in node.items():
                if type(child) is not dict and type(child) is not list:
                    continue
                if names:
                    stack.append((child, (trail, key), False))
                elif key == "description" and type(child) is dict and "$ref" in child:
                    yield _spelled((trail, key))
                elif key in _DATA or (type(key) is str and key.startswith("x-")):
                    continue
                elif key == "examples":  # a map of Example objects, or (3.1 schemas) a list of data
                    if type(child) is dict:
                        stack.append((child, (trail, key), True))
                else:
                    stack.append((child, (trail, key), key in _NAME_MAPS))
        elif type(node) is list:
            for index, child in enumerate(node):
                if type(child) is dict or type(child) is list:
                    stack.append((child, (trail, index), False))


def _spelled(trail: Any) -> str:
    keys = []
    while trail is not None:
        trail, key = trail
        keys.append(key)
    return join_pointer("", *reversed(keys))


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




_REF_OPERATION = "an operation given by $ref is not allowed by OpenAPI; accessgen resolves it"
_PATTERN = "pattern uses syntax Python's re does not accept"
_DUPLICATE_ENUM = "an enum lists a value more than once"
# The validator's own limits, which say nothing about the spec: warnings even with --strict.
_VALIDATOR_GAVE_UP = "openapi-spec-validator could not finish"


def _classify(message: str, validator: Any, pointer: str, node: Any, type_name: str) -> tuple[str, bool, str]:
    """(message, benign, kind) for one validator finding at ``pointer``; ``node`` is what is there."""
    tokens = split_pointer(pointer) if pointer else []
    if len(tokens) == 3 and tokens[0] == "paths" and tokens[2] in HTTP_METHODS and isinstance(node, dict) and "$ref" in node:
        return _REF_OPERATION, True, _REF_OPERATION
    if validator == "format" and "regex" in message:
        return f"{_PATTERN} ({message})", True, _PATTERN
    if validator == "uniqueItems" and tokens[-1:] == ["enum"]:
        return f"{_DUPLICATE_ENUM} ({message})", True, _DUPLICATE_ENUM
    if validator == "unevaluatedProperties" and "'$ref'" in message:
        return _REF_OPERATION, True, _REF_OPERATION
    if type_name == "UnresolvableParameterError":
        return f"{message}; accessgen treats it as a required string path parameter", True, type_name
    if type_name == "ExtraParametersError":  # the library lists a set: sort it, for a stable message
        head, _, names = message.partition(": ")
        try:
            message = f"{head}: {sorted(ast.literal_eval(names))}"
        except (ValueError, SyntaxError, TypeError):
            pass
    return message, False, message


class _ValidatorRun:
    """One run of openapi-spec-validator over documents accessgen has already read.

    Its ``$ref``s are served from ``source`` (nothing is read twice, nothing remote is
    fetched). Every keyword check records the node it was checking, so that a finding is
    located in the document and at the pointer where that node is; a schema that fails its
    meta-schema check reports every failure, not only the first.
    """

    def __init__(self, source: SpecSource) -> None:
        self.source = source
        self.read: set[Path] = {source.root_path}
        self._places: dict[int, tuple[Path, str]] | None = None
        self._validator: Any = None
        tree = source.root.tree
        message = "a $ref inside a description is not allowed by OpenAPI; it is ignored"
        self.description_findings: list[Finding] = []
        for pointer in sorted(_description_refs(tree)):
            self.description_findings.append(Finding(message, source.root_path, pointer, True, message))
            tree = _replace_at(tree, pointer, "")
        self.trees: dict[Path, Any] = {source.root_path: tree}

    def phase(self, name: str) -> Phase:
        """The located findings of one phase of ``SpecValidator.iter_errors``: "schema" (the
        OpenAPI meta-schema on the root document), then "keywords" (the keyword checks, which
        follow ``$ref``s); and the finding that says the validator failed, if it did."""
        located: list[Finding] = []
        root = self.source.root_path
        try:
            validator = self._spec_validator()
            if name == "schema":
                errors = validator.schema_validator.iter_errors(validator.schema)
            else:
                errors = validator.root_validator(validator.schema_path)
            for error in errors:
                located.extend(self._located(error))
        except RecursionError:
            message = "openapi-spec-validator could not check this document (nesting too deep)"
            return Phase(located, Finding(message, root, "", True, _VALIDATOR_GAVE_UP), frozenset(self.read))
        except Exception as exc:  # the validator is third-party code fed untrusted input
            message = f"openapi-spec-validator failed on this document ({type(exc).__name__}); accessgen's own checks still apply"
            return Phase(located, Finding(message, root, "", True, _VALIDATOR_GAVE_UP), frozenset(self.read))
        return Phase(located, None, frozenset(self.read))

    def _spec_validator(self) -> Any:
        """openapi-spec-validator's validator for the root document, its keyword checks recording."""
        if self._validator is None:
            from jsonschema_path import SchemaPath
            from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator
            from openapi_spec_validator.settings import get_resolved_cache_maxsize

            tree = self.trees[self.source.root_path]
            base = OpenAPIV31SpecValidator if str(tree.get("openapi", "")).startswith("3.1") else OpenAPIV30SpecValidator
            validator_class = type(
                base.__name__,
                (base,),
                {"keyword_validators": {name: _recording(cls) for name, cls in base.keyword_validators.items()}},
            )
            path = SchemaPath.from_dict(
                tree, base_uri=self.source.root_path.as_uri(), handlers=_Documents(self), resolved_cache_maxsize=get_resolved_cache_maxsize()
            )
            self._validator = validator_class(path)
        return self._validator

    def serve(self, uri: str) -> Any:
        """The tree of the document at ``uri`` (a validator ``$ref`` handler)."""
        from jsonschema_path.handlers.utils import uri_to_path

        if not uri.startswith("file:"):
            raise ValueError(f"accessgen reads local files only, not {uri}")
        path = Path(uri_to_path(uri)).resolve()
        self.read.add(path)
        tree = self.trees.get(path)
        if tree is None:
            tree = self.trees[path] = self.source.document(path).tree
        return tree

    def _located(self, error: Any) -> Iterator[Finding]:
        node_path = getattr(error, "accessgen_node", None)
        prefix = getattr(error, "accessgen_prefix", ())
        errors = getattr(error, "accessgen_all", None) or [error]
        document, base = self.source.root_path, ""
        if node_path is not None:
            place = self._place(node_path.read_value())
            if place is None:
                base = join_pointer("", *node_path.parts)
            else:
                document, base = place
        for each in errors:
            path = list(getattr(each, "absolute_path", None) or getattr(each, "path", None) or ())
            pointer = join_pointer(base, *prefix, *path)
            message = getattr(each, "message", None) or str(each).split("\n", 1)[0]
            node = lookup(self.trees.get(document, {}), pointer)
            text, benign, kind = _classify(message, getattr(each, "validator", None), pointer, node, type(each).__name__)
            yield Finding(text, document, pointer, benign, kind)

    def _place(self, node: Any) -> tuple[Path, str] | None:
        """Where ``node`` (an object of one of the served trees) is."""
        if self._places is None:
            self._places = {}
            for document, tree in self.trees.items():
                stack: list[tuple[Any, str]] = [(tree, "")]
                while stack:
                    current, at = stack.pop()
                    if isinstance(current, dict):
                        self._places.setdefault(id(current), (document, at))
                        stack.extend((child, join_pointer(at, key)) for key, child in current.items() if isinstance(child, (dict, list)))
                    elif isinstance(current, list):
                        self._places.setdefault(id(current), (document, at))
                        stack.extend((child, join_pointer(at, i)) for i, child in enumerate(current) if isinstance(child, (dict, list)))
        return self._places.get(id(node))


class _Documents(dict):  # type: ignore[type-arg]
    """The validator's ``$ref`` handlers: one for every URI scheme, serving accessgen's documents."""

    def __init__(self, run: _ValidatorRun) -> None:
        super().__init__()
        self.run = run

    def __contains__(self, scheme: object) -> bool:
        return True

    def __getitem__(self, scheme: str) -> Any:
        return self.run.serve


class _IdSet(set):  # type: ignore[type-arg]
    """What SchemaValidator keeps in lists of ids, as a set (the same answers, without a linear search)."""

    def append(self, item: int) -> None:
        self.add(item)


def _recording(keyword_class: Any) -> type:
    """``keyword_class``, its findings marked with the node it was checking (the innermost check wins)."""

    def __init__(self: Any, registry: Any) -> None:
        keyword_class.__init__(self, registry)
        if hasattr(self, "visited_schema_ids"):
            self.visited_schema_ids = _IdSet()
            self.meta_checked_schema_ids = _IdSet()

    def __call__(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        from jsonschema_path import SchemaPath

        node = next((arg for arg in args if isinstance(arg, SchemaPath)), None)
        for error in keyword_class.__call__(self, *args, **kwargs):
            if node is not None and not hasattr(error, "accessgen_node"):
                error.accessgen_node = node
                if hasattr(keyword_class, "value_validator_cls"):  # the default value of the schema
                    error.accessgen_prefix = ("default",)
            yield error

    namespace: dict[str, Any] = {"__init__": __init__, "__call__": __call__}
    if hasattr(keyword_class, "_validate_schema_meta"):

        def _validate_schema_meta(self: Any, schema: Any, schema_value: Any) -> Any:
            error = keyword_class._validate_schema_meta(self, schema, schema_value)
            if error is not None:
                error.accessgen_all = _meta_errors(self, schema, schema_value, error)
            return error

        namespace["_validate_schema_meta"] = _validate_schema_meta
    return type(keyword_class.__name__, (keyword_class,), namespace)


def _meta_errors(keyword: Any, schema: Any, schema_value: Any, first: Any) -> list[Any]:
    """Every meta-schema error of ``schema_value``, where the library's check stops at the first.

    The check openapi-schema-validator's ``check_openapi_schema`` makes (jsonschema's
    ``check_schema`` with OpenAPI's registry): the validator for the class's meta-schema,
    with the format checker the library passes. If ``first``, the library's own error, is
    not among the errors found, the library's check is not what this repeats: ``[first]``.
    """
    from functools import partial
    from importlib import import_module

    validator_for = import_module("jsonschema.validators").validator_for
    openapi_registry = import_module("openapi_schema_validator.validators").OPENAPI_SPECIFICATIONS
    try:
        checker: Any = keyword._get_schema_checker(schema, schema_value)
        keywords = checker.keywords if isinstance(checker, partial) else {}
        schema_class: Any = getattr(checker.func if isinstance(checker, partial) else checker, "__self__")
        meta_class = validator_for(schema_class.META_SCHEMA, default=schema_class)
        format_checker = keywords.get("format_checker", schema_class.FORMAT_CHECKER)
        meta = meta_class(schema_class.META_SCHEMA, format_checker=format_checker, registry=openapi_registry)
        errors = list(meta.iter_errors(schema_value))
    except Exception:  # noqa: BLE001 - the library's own error still stands
        return [first]
    if not any(e.message == first.message and list(e.path) == list(first.path) for e in errors):
        return [first]
    return errors


def _diagnostics(source: SpecSource, findings: list[Finding], *, strict: bool = False) -> list[Diagnostic]:
    """Findings as located diagnostics: in a stable order, each kind past ``SHOWN_PER_KIND`` summed
    up; with ``strict``, every finding about the spec is an error."""
    ordered = sorted(findings, key=lambda f: (str(f.document), _pointer_order(f.pointer), f.message))
    by_kind: dict[str, list[Finding]] = {}
    for finding in ordered:
        by_kind.setdefault(finding.kind, []).append(finding)
    shown: list[tuple[Finding, str]] = []
    for kind, group in by_kind.items():
        shown.extend((finding, finding.message) for finding in group[:SHOWN_PER_KIND])
        if len(group) > SHOWN_PER_KIND:
            rest = group[SHOWN_PER_KIND:]
            files = sorted({display_path(f.document) for f in rest})
            where = ", ".join(files[:3]) + (f" and {len(files) - 3} more files" if len(files) > 3 else "")
            shown.append((rest[0], f"{len(rest)} more like the above ({_short(kind)}), from here on, in {where}"))
    lines = _lines(source, [finding for finding, _ in shown])
    return [
        Diagnostic(message, _location(finding, lines), "warning" if _is_warning(finding, strict) else "error")
        for finding, message in shown
    ]


def _is_warning(finding: Finding, strict: bool) -> bool:
    return finding.benign and (not strict or finding.kind == _VALIDATOR_GAVE_UP)


def _pointer_order(pointer: str) -> list[tuple[int, int | str]]:
    return [(0, int(t)) if t.isdigit() else (1, t) for t in (split_pointer(pointer) if pointer else [])]


def _short(kind: str) -> str:
    return kind if len(kind) <= 80 else kind[:77] + "..."


def _lines(source: SpecSource, findings: list[Finding]) -> dict[tuple[Path, str], int | None]:
    """Line numbers of the findings' places, composing each document once."""
    pointers: dict[Path, list[str]] = {}
    for finding in findings:
        pointers.setdefault(finding.document, []).append(finding.pointer)
    lines: dict[tuple[Path, str], int | None] = {}
    for path, wanted in pointers.items():
        document = source.documents.get(path)
        found = lines_of(document.text, wanted) if document is not None else [None] * len(wanted)
        lines.update(((path, pointer), line) for pointer, line in zip(wanted, found))
    return lines


def _location(finding: Finding, lines: dict[tuple[Path, str], int | None]) -> SourceLocation:
    return SourceLocation(display_path(finding.document), "#" + finding.pointer, lines.get((finding.document, finding.pointer)))


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
