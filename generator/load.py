"""Load stage: read a spec and every file its ``$ref``s reach.

Documents are kept as parsed (refs unresolved); ``SpecSource`` resolves refs on
demand relative to the referring file, which is what multi-file specs (Apiture,
DigitalOcean) need. Line numbers are computed only when an error is reported.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import sys
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml

from .errors import Diagnostic, SourceLocation, SpecError, excerpt
from .files import DEFAULT_MAX_FILE_SIZE, UnreadableFile, read_regular_file


try:  # fastyaml-rs: a YAML 1.2 parser in Rust, some 20x faster than libyaml through PyYAML
    import fast_yaml as _fast_yaml
except ImportError:  # pragma: no cover - PyYAML alone still reads every spec, only slower
    _fast_yaml = None  # type: ignore[assignment]


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
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)

# The fast parser reads YAML 1.2 (core schema); ``_SpecLoader`` reads YAML 1.1 with the
# changes above. Both agree on booleans, nulls and the ordinary numbers; they differ on a
# few plain scalars (``017``, ``1e5``, ``0o17``, ``1_000``, ``1:30``, ``=``), on tags, on
# multi-document streams and on YAML 1.1's extra line breaks. The fast parser is used only
# where none of those can occur, so both give the same tree; anything else goes to PyYAML.
#
# Where a plain scalar ends: a line end, a comment, a flow indicator or ``: ``.
_SCALAR_END = r"(?=[ \t]*(?:[\r\n,\]}#]|:(?:[ \t\r\n]|$)|$))"
# Numbers of the fast parser (the core schema, plus signed and upper-case 0o/0x forms).
_FAST_NUMBER = (
    r"[-+]?[0-9]+|[-+]?0[oO][0-7]+|[-+]?0[xX][0-9a-fA-F]+"
    r"|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
# Numbers of PyYAML's YAML 1.1 resolver (int, then float), as in yaml/resolver.py.
_PYYAML_NUMBER = (
    r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
    r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"
    r"|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
# Plain scalars that both read as the same number.
_SAME_NUMBER = (
    r"[-+]?(?:0|[1-9][0-9]*)|[-+]?[0-9]+\.[0-9]*(?:[eE][-+][0-9]+)?|\.[0-9]+(?:[eE][-+][0-9]+)?"
    r"|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
# Text the fast parser would read differently: a tag, an anchor name beyond PyYAML's
# [0-9A-Za-z_-] or anchored twice, a merge key, colons libyaml refuses, ``=`` or ``<<`` as
# a value (PyYAML refuses both, even where a repeated key drops them), and what may be a
# plain scalar it reads as a number PyYAML reads otherwise. Prose that only looks so costs
# a slower parse. An alias needs its anchor, so an alias name the two read differently
# fails the fast parser, as do the control characters PyYAML refuses.
#
# Each pattern starts with one literal character, and they run one by one: that keeps
# the whole check to a few milliseconds per MiB. They run on "\n" + text, so that the
# text start is a line start.
_VALUE = (
    r"(?:&[0-9A-Za-z_-]+[ \t]+)?(?:(?:=|<<)" + _SCALAR_END
    + r"|(?!(?:" + _SAME_NUMBER + ")" + _SCALAR_END + r")(?:" + _FAST_NUMBER + ")" + _SCALAR_END + ")"
)
_NOT_FOR_FAST_PARSER = tuple(
    re.compile(pattern)
    for pattern in (
        r"!(?<![^\s\[{,:]!)",  # a tag
        r"&(?<![^\s\[{,:]&)[0-9A-Za-z_-]*[^0-9A-Za-z_\s-]",  # an anchor PyYAML names otherwise
        r"<<['\"]?[ \t]*:",  # a merge key
        r":(?:(?<![^\s\[{,]:)|(?<=['\"]:):|[,\[\]{}])",  # a colon starting a node, or before a flow indicator
        r"\n(?:%|\.\.\.(?:[ \t\r]|$))",  # a directive, a document end
        # A value after "key:", in a flow collection, or on a line of its own (after "- ", "? ").
        r":[ \t]*(?=[-+.0-9=<&])" + _VALUE,
        r"[,\[{][ \t]*(?=[-+.0-9=<&])" + _VALUE,
        r"\n(?=([ \t]*))\1(?:[-?][ \t]+)*(?=[-+.0-9=<&])" + _VALUE,
    )
)
_ANCHOR = re.compile(r"&(?<![^\s\[{,:]&)([0-9A-Za-z_-]+)")
_LONE_CR = re.compile(r"\r(?!\n)")
_DOCUMENT_START = re.compile(r"^---(?=[ \t\r\n]|$)", re.M)
_NOT_CONTENT = re.compile(r"(?:[ \t]*(?:#[^\n]*)?(?:\r?\n|$))*")
# Strings the fast parser gives that PyYAML would have read otherwise, were they plain.
_SUSPECT_FIRST = frozenset("-+0123456789.=<")
_PYYAML_NOT_STRING = re.compile(r"(?:" + _PYYAML_NUMBER + r"|=|<<)")
_FAST_NOT_STRING = re.compile(r"(?:" + _FAST_NUMBER + ")")


def _parse_yaml(text: str) -> Any:
    """``yaml.load(text, Loader=_SpecLoader)``, through the fast parser where it gives the same tree."""
    if _fast_yaml is not None and _fast_parser_agrees(text):
        try:
            tree = _fast_yaml.safe_load(text)
        except Exception:  # anything it refuses, PyYAML reads or explains with a line number
            tree = _FALLBACK
        if tree is not _FALLBACK and _settle_fast_tree(tree):
            return tree
    return yaml.load(text, Loader=_SpecLoader)


_FALLBACK = object()


def _fast_parser_agrees(text: str) -> bool:
    # Without a final line break, the fast parser adds one to a last block scalar.
    if not text.endswith("\n") or "\x85" in text or "\u2028" in text or "\u2029" in text:
        return False  # the last three are line breaks to PyYAML (YAML 1.1), not to the fast parser
    if "\r" in text and _LONE_CR.search(text):
        return False
    lines = "\n" + text
    if any(pattern.search(lines) for pattern in _NOT_FOR_FAST_PARSER):
        return False
    anchors = _ANCHOR.findall(lines)
    if len(set(anchors)) != len(anchors):
        return False
    starts = _DOCUMENT_START.finditer(text)
    first = next(starts, None)
    if first is None:
        return True
    # One document: at most one "---", with nothing but comments and blank lines before it.
    return next(starts, None) is None and _NOT_CONTENT.fullmatch(text, 0, first.start()) is not None


def _settle_fast_tree(tree: Any) -> bool:
    """Give the fast parser's tree string keys, as ``_SpecLoader`` does; False if PyYAML would differ.

    A string the fast parser returns that PyYAML reads as a number (``1_000``), a merge
    key or the value tag (``=``) when plain is ambiguous here: quoted, both read a string;
    plain, they differ. Such a document goes to PyYAML.
    """
    stack: list[Any] = [[tree]]  # the root as an item, so that a root scalar is checked too
    while stack:
        node = stack.pop()
        if type(node) is dict:
            if not all(type(key) is str for key in node):
                items = [(_key_text(key), value) for key, value in node.items()]
                node.clear()
                node.update(items)
            for key, value in node.items():
                if key and key[0] in _SUSPECT_FIRST and _ambiguous(key):
                    return False
                if type(value) is str:
                    if value and value[0] in _SUSPECT_FIRST and _ambiguous(value):
                        return False
                elif type(value) is dict or type(value) is list:
                    stack.append(value)
        elif type(node) is list:
            for value in node:
                if type(value) is str:
                    if value and value[0] in _SUSPECT_FIRST and _ambiguous(value):
                        return False
                elif type(value) is dict or type(value) is list:
                    stack.append(value)
    return True


def _ambiguous(text: str) -> bool:
    return _PYYAML_NOT_STRING.fullmatch(text) is not None and _FAST_NOT_STRING.fullmatch(text) is None


@dataclass
class Document:
    path: Path
    text: str
    tree: Any


_JSON_START = re.compile(r"\s*[{\[]")


def parse_text(text: str, path: Path) -> Any:
    """Parse YAML or JSON text, raising ``SpecError`` with the line on syntax errors."""
    if _JSON_START.match(text):
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
        return _parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(
            Diagnostic(f"YAML syntax error: {problem}", SourceLocation(str(path), "", line))
        ) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: binary data
        line = text.count("\n", 0, exc.position) + 1
        raise SpecError(
            Diagnostic(
                f"not a text file: character U+{exc.character if isinstance(exc.character, int) else ord(exc.character):04X} "
                "is not allowed in YAML",
                SourceLocation(str(path), "", line),
            )
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(Diagnostic(f"YAML error: {exc}", SourceLocation(str(path)))) from None


_MAX_DIGITS: int = getattr(sys, "get_int_max_str_digits", lambda: 4300)() or 4300
_LONG_INTEGER = re.compile(r"[0-9][0-9_]{%d,}" % _MAX_DIGITS)
# Aliases may add at most this many nodes beyond twice the document's own (billion laughs).
ALIAS_ALLOWANCE = 100_000


def read_document(path: Path, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> Document:
    """Read and parse one file: a regular file of at most ``max_file_size`` bytes, as text."""
    try:
        raw = read_regular_file(path, max_file_size)
    except UnreadableFile as exc:
        raise SpecError(Diagnostic(exc.reason, SourceLocation(str(path)))) from None
    text = decode_text(raw, path)
    try:
        tree = parse_text(text, path)
    except ValueError as exc:  # int(): more digits than Python converts (json and yaml both raise it)
        if "integer" not in str(exc):
            raise SpecError(Diagnostic(f"cannot be parsed: {excerpt(str(exc))}", SourceLocation(str(path)))) from None
        match = _LONG_INTEGER.search(text)
        line = text.count("\n", 0, match.start()) + 1 if match else None
        digits = len(match.group().replace("_", "")) if match else None
        size = f"{digits:,} digits" if digits else "too many digits"
        raise SpecError(
            Diagnostic(
                f"an integer of {size}: more than Python converts ({_MAX_DIGITS:,} digits)",
                SourceLocation(str(path), "", line),
            )
        ) from None
    except RecursionError:
        raise SpecError(Diagnostic("the document nests too deeply to parse", SourceLocation(str(path)))) from None
    _check_aliases(tree, path, text)  # linear: 0.1 s for Stripe's spec, whose YAML takes 2 s to parse
    return Document(path=path, text=text, tree=tree)


def decode_text(raw: bytes, path: Path) -> str:
    """UTF-8 (a BOM allowed), or UTF-16/32 with a byte-order mark, as YAML allows."""
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding = "utf-32"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
        head = raw[:4096]
        if len(head) >= 4 and head.count(0) * 3 >= len(head):
            order = "little" if head[1::2].count(0) > head[0::2].count(0) else "big"
            raise SpecError(
                Diagnostic(
                    f"looks like UTF-16 ({order}-endian) without a byte-order mark; save it as UTF-8 "
                    "(UTF-16 is read when the file starts with a byte-order mark)",
                    SourceLocation(str(path), "", 1),
                )
            )
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding != "utf-8-sig":
            raise SpecError(
                Diagnostic(f"not valid {encoding.upper()} text after its byte-order mark (byte {exc.start:,})", SourceLocation(str(path)))
            ) from None
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError(
            Diagnostic(
                f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at line {line}, column {column} (byte {exc.start:,}); "
                "is this a binary file? Save specs as UTF-8",
                SourceLocation(str(path), "", line),
            )
        ) from None


def _check_aliases(tree: Any, path: Path, text: str) -> None:
    """Refuse a YAML alias that contains itself, or aliases that blow the document up.

    Aliases make parsed nodes shared Python objects: the tree is a graph. Its size as a
    tree is computed once per shared node, so the check is linear in the document.
    """
    if not isinstance(tree, (dict, list)):
        return
    sizes: dict[int, int] = {}
    unique = 0
    active: set[int] = {id(tree)}
    # Each frame: [node, its pointer, iterator over (token, child), size so far]
    stack: list[list[Any]] = [[tree, "", iter(_children(tree)), 1]]
    while stack:
        frame = stack[-1]
        node, at, children = frame[0], frame[1], frame[2]
        pushed = False
        for token, child in children:
            unique += 1
            if not isinstance(child, (dict, list)):
                frame[3] += 1
                continue
            known = sizes.get(id(child))
            if known is not None:
                unique -= 1  # a shared node: counted where it was first met
                frame[3] += known
                continue
            if id(child) in active:
                pointer = join_pointer(at, token)
                raise SpecError(
                    Diagnostic(
                        "a YAML alias refers to a node that contains it (a structure without end); use a $ref instead",
                        SourceLocation(str(path), "#" + pointer, line_of(text, pointer)),
                    )
                )
            active.add(id(child))
            stack.append([child, join_pointer(at, token), iter(_children(child)), 1])
            pushed = True
            break
        if pushed:
            continue
        stack.pop()
        active.discard(id(node))
        sizes[id(node)] = frame[3]
        if stack:
            stack[-1][3] += frame[3]
    expanded = sizes[id(tree)]
    if expanded > 2 * unique + ALIAS_ALLOWANCE:
        raise SpecError(
            Diagnostic(
                f"YAML aliases expand this document to {expanded:,} nodes from {unique:,} written "
                "(an alias bomb?); accessgen refuses aliases that add more than the document itself plus "
                f"{ALIAS_ALLOWANCE:,} nodes",
                SourceLocation(str(path), "", 1),
            )
        )


def _children(node: Any) -> Iterator[tuple[str | int, Any]]:
    if isinstance(node, dict):
        return iter(node.items())
    return enumerate(node)


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


def default_ref_root(specs: Iterable[str | Path]) -> Path:
    """The folder ``$ref``s may not leave when none is given (``--ref-root``).

    The nearest folder holding a ``.git`` (a repository root) that encloses every spec
    (symbolic links resolved), else the specs' common parent folder.
    """
    folders = [os.path.dirname(os.path.realpath(spec)) for spec in specs]
    common = Path(os.path.commonpath(folders)) if folders else Path.cwd()
    for folder in (common, *common.parents):
        if os.path.lexists(folder / ".git"):
            return folder
    return common


class SpecSource:
    """The root document plus every document reached through ``$ref``.

    ``$ref``s may reach only regular files inside ``ref_root`` (symbolic links resolved),
    each at most ``max_file_size`` bytes.
    """

    def __init__(
        self,
        root: Document,
        *,
        allow_remote: bool = False,
        ref_root: Path | None = None,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    ) -> None:
        self.root = root
        self.allow_remote = allow_remote
        self.ref_root = Path(os.path.realpath(ref_root if ref_root is not None else default_ref_root([root.path])))
        self.max_file_size = max_file_size
        self.documents: dict[Path, Document] = {root.path: root}

    @property
    def root_path(self) -> Path:
        return self.root.path

    def document(self, path: Path) -> Document:
        doc = self.documents.get(path)
        if doc is None:
            doc = read_document(path, self.max_file_size)
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
                Diagnostic(f"$ref {excerpt(ref)}: only JSON-pointer fragments are supported", self.location(base))
            )
        if not target:
            return NodeKey(base.path, fragment)
        if urllib.parse.urlsplit(target).scheme or target.startswith(("//", "\\\\")):
            raise SpecError(
                Diagnostic(
                    f"$ref {excerpt(ref)} is a URL or a network path; accessgen reads local files only",
                    self.location(base),
                )
            )
        relative = urllib.parse.unquote(target)
        try:
            if "\x00" in relative:
                raise ValueError("a NUL character")
            path = Path(os.path.realpath(base.path.parent / relative))
        except (OSError, ValueError) as exc:
            raise SpecError(Diagnostic(f"$ref {excerpt(ref)} is not a usable file path ({exc})", self.location(base))) from None
        if not path.is_relative_to(self.ref_root):
            raise SpecError(
                Diagnostic(
                    f"$ref {excerpt(ref)} leads outside the folder $refs may read ({self.ref_root}); "
                    "it was not read. The ref root is the repository enclosing the specs, else their folder: "
                    "widen it with --ref-root DIR",
                    self.location(base),
                )
            )
        return NodeKey(path, fragment)

    def get(self, key: NodeKey, referrer: NodeKey | None = None) -> Any:
        try:
            doc = self.document(key.path)
        except SpecError as exc:
            if referrer is None:
                raise
            reason = exc.diagnostics[0].message
            where = exc.diagnostics[0].location
            at_line = f" (line {where.line})" if where is not None and where.line is not None else ""
            raise SpecError(
                Diagnostic(
                    f"$ref to {display_path(key.path)}#{key.pointer} cannot be resolved: {reason}{at_line}",
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
        """Load every reachable document; the dangling ``$ref``s found (at most 20).

        Every container is walked once (YAML aliases share them), however many
        ``$ref``s lead into it.
        """
        visited: set[NodeKey] = set()
        walked: set[int] = set()
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
            for ref, at in _iter_refs(node, start.pointer, walked):
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


def _iter_refs(node: Any, pointer: str, walked: set[int] | None = None) -> Iterator[tuple[Any, str]]:
    """``$ref`` values under ``node`` with their pointers, each container visited once.

    ``walked`` (ids of containers already visited) may be shared between calls; the
    containers must stay alive meanwhile, as a ``SpecSource``'s documents do.
    """
    seen = walked if walked is not None else set()
    stack: list[tuple[Any, str]] = [(node, pointer)]
    while stack:
        current, at = stack.pop()
        if not isinstance(current, (dict, list)) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, dict):
            ref = current.get("$ref")
            if ref is not None and (isinstance(ref, str) or not isinstance(ref, (dict, list))):
                yield ref, at
            for name, child in current.items():
                if isinstance(child, (dict, list)) and id(child) not in seen:
                    stack.append((child, join_pointer(at, name)))
        else:
            for index, child in enumerate(current):
                if isinstance(child, (dict, list)) and id(child) not in seen:
                    stack.append((child, join_pointer(at, index)))


def display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def line_of(text: str, pointer: str) -> int | None:
    """1-based line of the node at ``pointer`` (composed lazily, only for error reports)."""
    return lines_of(text, [pointer])[0]


def lines_of(text: str, pointers: list[str]) -> list[int | None]:
    """``line_of`` for each pointer, composing the text once."""
    try:
        root = yaml.compose(text, Loader=yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader)
    except yaml.YAMLError:
        return [None] * len(pointers)
    return [_line_in(root, pointer) for pointer in pointers]


def _line_in(root: Any, pointer: str) -> int | None:
    node = root
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


def load_spec(
    path: str | Path,
    *,
    check_refs: bool = True,
    ref_root: Path | None = None,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
) -> SpecSource:
    """Load a root spec, check it is OpenAPI, and load the documents its refs reach.

    Dangling refs are errors here unless ``check_refs`` is false (``--allow-skip``), where
    the operations that use them are skipped later, each with a warning. ``$ref``s may
    not leave ``ref_root`` (default: ``default_ref_root``).
    """
    resolved = Path(path).resolve()
    shown = str(path)
    try:
        doc = read_document(resolved, max_file_size)
    except SpecError as exc:
        raise SpecError(
            [
                Diagnostic(d.message, SourceLocation(shown, d.location.pointer if d.location else "", d.location.line if d.location else None))
                for d in exc.diagnostics
            ]
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
                f"unsupported OpenAPI version {excerpt(version)}: accessgen reads 3.0 and 3.1",
                SourceLocation(shown, "#/openapi", line_of(doc.text, "/openapi")),
            )
        )
    source = SpecSource(doc, ref_root=ref_root if ref_root is not None else default_ref_root([resolved]), max_file_size=max_file_size)
    if check_refs:
        errors = source.check_all_refs()
        if errors:
            raise SpecError(errors)
    return source
