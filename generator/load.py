"""Load stage: read a spec and every file its ``$ref``s reach.

Documents are kept as parsed (refs unresolved); ``SpecSource`` resolves refs on
demand relative to the referring file, which is what multi-file specs (Apiture,
DigitalOcean) need. Line numbers are computed only when an error is reported.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml

from .errors import Diagnostic, SourceLocation, SpecError


class _SpecLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """YAML as OpenAPI means it: no timestamps, only true/false booleans, string keys."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[str, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        if all(type(key) is str for key in mapping):
            return mapping  # type: ignore[no-any-return]
        return {_key_text(key): value for key, value in mapping.items()}


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


_SpecLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    __import__("re").compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


@dataclass
class Document:
    path: Path
    text: str
    tree: Any


def parse_text(text: str, path: Path) -> Any:
    """Parse YAML or JSON text, raising ``SpecError`` with the line on syntax errors."""
    stripped = text.lstrip()
    if stripped.startswith("{") or stripped.startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            if path.suffix.lower() == ".json":
                raise SpecError(
                    Diagnostic(
                        f"JSON syntax error: {exc.msg} (column {exc.colno})",
                        SourceLocation(str(path), "", exc.lineno),
                    )
                ) from None
    try:
        return yaml.load(text, Loader=_SpecLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(
            Diagnostic(f"YAML syntax error: {problem}", SourceLocation(str(path), "", line))
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(Diagnostic(f"YAML error: {exc}", SourceLocation(str(path)))) from None


def read_document(path: Path) -> Document:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(Diagnostic("file not found", SourceLocation(str(path)))) from None
    except IsADirectoryError:
        raise SpecError(Diagnostic("is a directory, not a spec file", SourceLocation(str(path)))) from None
    except OSError as exc:
        raise SpecError(
            Diagnostic(f"cannot read file: {exc.strerror or exc}", SourceLocation(str(path)))
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(
            Diagnostic(f"not UTF-8 text (byte {exc.start})", SourceLocation(str(path)))
        ) from None
    return Document(path=path, text=text, tree=parse_text(text, path))


def escape_pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def unescape_pointer_token(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join_pointer(pointer: str, *tokens: str | int) -> str:
    return pointer + "".join("/" + escape_pointer_token(str(t)) for t in tokens)


def split_pointer(pointer: str) -> list[str]:
    if pointer in ("", "/"):
        return [] if pointer == "" else [""]
    if not pointer.startswith("/"):
        raise ValueError(pointer)
    return [unescape_pointer_token(t) for t in pointer[1:].split("/")]


_MISSING = object()


def lookup(tree: Any, pointer: str) -> Any:
    """The node at ``pointer`` in ``tree``, or ``_MISSING``."""
    node = tree
    for token in split_pointer(pointer):
        if isinstance(node, dict):
            node = node.get(token, _MISSING)
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


@dataclass(frozen=True)
class NodeKey:
    """Where a node lives: a file and a JSON pointer in it."""

    path: Path
    pointer: str

    def __str__(self) -> str:
        return f"{self.path}#{self.pointer}"


class SpecSource:
    """The root document plus every document reached through ``$ref``."""

    def __init__(self, root: Document, *, allow_remote: bool = False) -> None:
        self.root = root
        self.allow_remote = allow_remote
        self.documents: dict[Path, Document] = {root.path: root}

    @property
    def root_path(self) -> Path:
        return self.root.path

    def document(self, path: Path) -> Document:
        doc = self.documents.get(path)
        if doc is None:
            doc = read_document(path)
            self.documents[path] = doc
        return doc

    def location(self, key: NodeKey) -> SourceLocation:
        return SourceLocation(display_path(key.path), "#" + key.pointer, self.line_of(key))

    def line_of(self, key: NodeKey) -> int | None:
        doc = self.documents.get(key.path)
        if doc is None:
            return None
        return line_of(doc.text, key.pointer)

    def ref_target(self, ref: str, base: NodeKey) -> NodeKey:
        """The key a ``$ref`` string points to, relative to the referring file."""
        if not isinstance(ref, str):
            raise SpecError(Diagnostic("$ref must be a string", self.location(base)))
        target, _, fragment = ref.partition("#")
        fragment = urllib.parse.unquote(fragment)
        if fragment and not fragment.startswith("/"):
            raise SpecError(
                Diagnostic(f"$ref {ref!r}: only JSON-pointer fragments are supported", self.location(base))
            )
        if not target:
            return NodeKey(base.path, fragment)
        if "://" in target:
            raise SpecError(
                Diagnostic(
                    f"$ref {ref!r} points to a remote document; accessgen reads local files only",
                    self.location(base),
                )
            )
        path = (base.path.parent / urllib.parse.unquote(target)).resolve()
        return NodeKey(path, fragment)

    def get(self, key: NodeKey, referrer: NodeKey | None = None) -> Any:
        try:
            doc = self.document(key.path)
        except SpecError as exc:
            if referrer is None:
                raise
            reason = exc.diagnostics[0].message
            raise SpecError(
                Diagnostic(
                    f"$ref to {display_path(key.path)}#{key.pointer} cannot be resolved: {reason}",
                    self.location(referrer),
                )
            ) from None
        node = lookup(doc.tree, key.pointer)
        if node is _MISSING:
            where = self.location(referrer) if referrer else self.location(key)
            raise SpecError(
                Diagnostic(
                    f"$ref target {display_path(key.path)}#{key.pointer} does not exist", where
                )
            )
        return node

    def resolve(self, node: Any, key: NodeKey) -> tuple[Any, NodeKey]:
        """Follow ``$ref`` chains from ``node`` (found at ``key``) to a concrete node."""
        seen: set[NodeKey] = set()
        while isinstance(node, dict) and "$ref" in node:
            target = self.ref_target(node["$ref"], key)
            if target in seen:
                raise SpecError(Diagnostic("$ref chain loops back on itself", self.location(key)))
            seen.add(target)
            node, key = self.get(target, referrer=key), target
        return node, key

    def check_all_refs(self) -> list[Diagnostic]:
        """Load every reachable document; the dangling ``$ref``s found (at most 20)."""
        visited: set[NodeKey] = set()
        pending = [NodeKey(self.root.path, "")]
        errors: list[Diagnostic] = []
        while pending:
            start = pending.pop()
            if start in visited:
                continue
            visited.add(start)
            try:
                node = self.get(start)
            except SpecError as exc:
                errors.extend(exc.diagnostics)
                continue
            for ref, at in _iter_refs(node, start.pointer):
                referrer = NodeKey(start.path, at)
                try:
                    target = self.ref_target(ref, referrer)
                    self.get(target, referrer=referrer)
                except SpecError as exc:
                    errors.extend(exc.diagnostics)
                    continue
                pending.append(target)
            if len(errors) >= 20:
                break
        return errors


def _iter_refs(node: Any, pointer: str) -> Iterator[tuple[Any, str]]:
    stack: list[tuple[Any, str]] = [(node, pointer)]
    while stack:
        current, at = stack.pop()
        if isinstance(current, dict):
            ref = current.get("$ref")
            if ref is not None and (isinstance(ref, str) or not isinstance(ref, (dict, list))):
                yield ref, at
            for name, child in current.items():
                if isinstance(child, (dict, list)):
                    stack.append((child, join_pointer(at, name)))
        elif isinstance(current, list):
            for index, child in enumerate(current):
                if isinstance(child, (dict, list)):
                    stack.append((child, join_pointer(at, index)))


def display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def line_of(text: str, pointer: str) -> int | None:
    """1-based line of the node at ``pointer`` (composed lazily, only for error reports)."""
    try:
        node = yaml.compose(text, Loader=yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    try:
        tokens = split_pointer(pointer)
    except ValueError:
        return line
    for token in tokens:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == token:
                    line = key_node.start_mark.line + 1
                    node = value_node
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and token.isdigit() and int(token) < len(node.value):
            node = node.value[int(token)]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def load_spec(path: str | Path, *, check_refs: bool = True) -> SpecSource:
    """Load a root spec, check it is OpenAPI, and load the documents its refs reach.

    Dangling refs are errors here unless ``check_refs`` is false (``--allow-skip``), where
    the operations that use them are skipped later, each with a warning.
    """
    resolved = Path(path).resolve()
    shown = str(path)
    try:
        doc = read_document(resolved)
    except SpecError as exc:
        raise SpecError(
            [Diagnostic(d.message, SourceLocation(shown, d.location.pointer if d.location else "", d.location.line if d.location else None)) for d in exc.diagnostics]
        ) from None
    tree = doc.tree
    if not isinstance(tree, dict):
        raise SpecError(
            Diagnostic(
                "not an OpenAPI document: the top level must be a mapping with an 'openapi' field",
                SourceLocation(shown, "", 1),
            )
        )
    version = tree.get("openapi")
    if version is None:
        if "swagger" in tree:
            raise SpecError(
                Diagnostic(
                    "Swagger 2.0 documents are not supported: convert the document to OpenAPI 3 "
                    "(for example with swagger2openapi) and generate from the result",
                    SourceLocation(shown, "#/swagger", line_of(doc.text, "/swagger")),
                )
            )
        raise SpecError(
            Diagnostic(
                "not an OpenAPI document: there is no 'openapi' field at the top level",
                SourceLocation(shown, "", 1),
            )
        )
    if not (isinstance(version, str) and (version.startswith("3.0") or version.startswith("3.1"))):
        raise SpecError(
            Diagnostic(
                f"unsupported OpenAPI version {version!r}: accessgen reads 3.0 and 3.1",
                SourceLocation(shown, "#/openapi", line_of(doc.text, "/openapi")),
            )
        )
    source = SpecSource(doc)
    if check_refs:
        errors = source.check_all_refs()
        if errors:
            raise SpecError(errors)
    return source
