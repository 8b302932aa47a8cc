"""The YAML loader gives the tree PyYAML with ``_SpecLoader`` gives, whichever parser reads it.

``load._parse_yaml`` reads YAML with fastyaml-rs where that gives the same tree as
PyYAML with accessgen's resolvers, and with PyYAML everywhere else. These tests hold the
two equal: on every spec of the project and of ../shared/specs, on hand-picked scalars
the two YAML versions read differently, and on a few thousand generated documents.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import load
from generator.load import _SpecLoader, _parse_yaml

REPO = Path(__file__).resolve().parents[1]
SHARED_SPECS = REPO.parent / "shared" / "specs"

pytestmark = pytest.mark.skipif(load._fast_yaml is None, reason="fastyaml-rs is not installed: PyYAML reads everything")


def canonical(tree: Any) -> str:
    """The tree as text that keeps key order and tells 1, 1.0 and True apart."""

    def default(value: Any) -> str:
        return f"<{type(value).__name__} {value!r}>"

    return json.dumps(tree, default=default)


def pyyaml_reading(text: str) -> str:
    try:
        return canonical(yaml.load(text, Loader=_SpecLoader))
    except Exception as exc:  # noqa: BLE001 - the kind of failure is what is compared
        return f"error {type(exc).__name__}"


def our_reading(text: str) -> str:
    try:
        return canonical(_parse_yaml(text))
    except Exception as exc:  # noqa: BLE001
        return f"error {type(exc).__name__}"


def yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml"))


def differently_read(files: list[Path]) -> list[str]:
    return [str(p) for p in files if our_reading(p.read_text("utf-8-sig")) != pyyaml_reading(p.read_text("utf-8-sig"))]


def test_every_spec_of_the_project_reads_the_same() -> None:
    files = yaml_files(REPO / "specs")
    assert len(files) >= 5
    assert differently_read(files) == []


def test_every_shared_spec_reads_the_same_and_stripe_takes_the_fast_parser() -> None:
    if not SHARED_SPECS.is_dir():
        pytest.skip(f"{SHARED_SPECS} is absent (it exists only in the accessgen workspace)")
    files = yaml_files(SHARED_SPECS)
    assert differently_read(files) == []
    stripe = SHARED_SPECS / "stripe" / "spec3.yaml"
    assert load._fast_parser_agrees(stripe.read_text("utf-8"))


# Plain scalars YAML 1.1 (PyYAML) and YAML 1.2 (fastyaml-rs) read differently, and some they agree on.
TRICKY_SCALARS = [
    "017", "08", "00", "0", "-0", "+12", "0o17", "0O17", "0x1F", "0X1F", "-0x1F", "0b101", "1_000", "1__0",
    "1:30", "190:20:30", "-1:30", "1:30.5", "1e5", "1E5", "1.0e5", "1.0e+5", "1.5e-3", "3e-05", ".5", "-.5",
    "+.5", "._5", "5.", "1.", "00.5", "1_0.5", ".inf", "-.inf", "+.Inf", ".INF", ".iNf", ".nan", ".NaN", "-.nan",
    "inf", "nan", "yes", "no", "on", "off", "y", "n", "Yes", "True", "TRUE", "tRue", "false", "null", "Null",
    "NULL", "nULL", "~", "=", "<<", "2023-08-16", "2001-12-14t21:59:43.10-05:00", "1,000", "0.0.1", "3.1.0",
    "-", "+", ".", "0x", "0o", "1e", "99999999999999999999999", "-99999999999999999999", "1.7976931348623157e+309",
    "a b", "#x", "x#y", "50%", "@at", "`tick`", "'q'", "\"dq\"", "a: b", "a:b", "[x]", "{x}", "!x", "&x", "*x",
]
WORDS = ["alpha", "beta", "type", "description", "x", "Ünïcödé", "emoji 😀", "tab\there", "back\\slash", "end "]


class DocumentMaker:
    """Random YAML documents (a seeded generator) built to stress the differences of the two parsers."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.anchors: list[str] = []
        self.tricky = self.rng.choice([0.0, 0.03, 0.1, 0.5])  # how often a scalar is a tricky one

    def scalar_text(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < self.tricky:
            return rng.choice(TRICKY_SCALARS)
        if roll < 0.8:
            return rng.choice(WORDS + ["12", "-3", "0", "1.5", "0.25", "true", "null", "~", "2023-08-16", "0x1f"])
        alphabet = "0123456789._+-eExXoObB:~ab"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7)))

    def scalar(self, indent: int, flow: bool) -> str:
        rng = self.rng
        text = self.scalar_text()
        style = rng.random()
        if style < 0.55 or (flow and style < 0.8):
            return text
        if style < 0.7:
            return "'" + text.replace("'", "''") + "'"
        if style < 0.82:
            escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
            return '"' + escaped + rng.choice(["", "\\n", "\\u00e9", "\\x41", "\\/", "\\L", "\\N", " \\\n  cont"]) + '"'
        if flow:
            return text
        pad = " " * (indent + 2)
        header = rng.choice(["|", "|-", "|+", ">", ">-", ">+", "|2"])
        lines = [rng.choice(WORDS + TRICKY_SCALARS) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.3:
            lines.insert(1, "")
        body = "\n".join((pad + line) if line else "" for line in lines)
        if rng.random() < 0.3:
            body += "\n" + rng.choice(["", pad])  # a trailing blank line, kept by "+" only
        return header + "\n" + body

    def key(self) -> str:
        rng = self.rng
        if rng.random() >= self.tricky:
            return rng.choice(WORDS[:5] + ["200", "404", "1.5", "null", "x y"])
        text = rng.choice(TRICKY_SCALARS[:60] + ["true", "<<", "'<<'"])
        if rng.random() < 0.3:
            return "'" + text.replace("'", "''") + "'"
        return text

    def flow(self, depth: int) -> str:
        rng = self.rng
        if depth > 2 or rng.random() < 0.5:
            return self.scalar(0, flow=True)
        if rng.random() < 0.5:
            return "[" + ", ".join(self.flow(depth + 1) for _ in range(rng.randint(0, 3))) + "]"
        pairs = [
            f'"{self.scalar_text()}":{self.flow(depth + 1)}' if rng.random() < 0.2 else f"{self.key()}: {self.flow(depth + 1)}"
            for _ in range(rng.randint(0, 3))
        ]
        return "{" + ", ".join(pairs) + "}"

    def value(self, indent: int, depth: int) -> str:
        """Text after ``key:`` or ``-`` (starting with a space or a line break)."""
        rng = self.rng
        roll = rng.random()
        if self.anchors and roll < 0.05:
            return " *" + rng.choice(self.anchors)
        prefix = ""
        if roll < 0.1:
            name = f"a{len(self.anchors)}"
            self.anchors.append(name)
            prefix = f" &{name}"
        elif roll < 0.1 + self.tricky / 10:
            prefix = " " + rng.choice(["!!str", "!!int", "!foo", "!!binary", "!!float", "!!null"])
        if depth < 3 and rng.random() < 0.4:
            return prefix + "\n" + self.block(indent + 2, depth + 1)
        if rng.random() < 0.2:
            return prefix + " " + self.flow(0)
        return prefix + " " + self.scalar(indent, flow=False)

    def block(self, indent: int, depth: int) -> str:
        rng = self.rng
        pad = " " * indent
        lines = []
        if rng.random() < 0.4:
            for _ in range(rng.randint(1, 4)):
                lines.append(f"{pad}-{self.value(indent, depth)}")
        else:
            for _ in range(rng.randint(1, 5)):
                if self.anchors and rng.random() < 0.05:
                    lines.append(f"{pad}<<: *{rng.choice(self.anchors)}")
                    continue
                lines.append(f"{pad}{self.key()}:{self.value(indent, depth)}")
                if rng.random() < 0.1:
                    lines.append(pad + "# a comment: 017")
        return "\n".join(lines)

    def document(self) -> str:
        rng = self.rng
        self.anchors = []
        body = self.block(0, 0) if rng.random() < 0.9 else self.flow(0)
        head = rng.choice(["", "", "", "---\n", "# c\n---\n", "--- # c\n"] + ["%YAML 1.1\n---\n"] * (self.tricky > 0))
        tail = rng.choice(["\n", "\n", "\n", "\n# end\n"] + ["", "\n...\n", "\n---\nb: 1\n"] * (self.tricky > 0))
        text = head + body + tail
        if rng.random() < 0.05:
            text = text.replace("\n", "\r\n")
        return text


def test_tricky_plain_scalars_read_as_pyyaml_reads_them() -> None:
    for text in TRICKY_SCALARS:
        for document in (f"a: {text}\n", f"- {text}\n", f"[{text}, x]\n", f"{{k: {text}}}\n", f"{text}: v\n"):
            assert our_reading(document) == pyyaml_reading(document), document


def read_fast(text: str) -> bool:
    """Whether ``_parse_yaml`` keeps the fast parser's tree for ``text``."""
    if not load._fast_parser_agrees(text):
        return False
    try:
        return load._settle_fast_tree(load._fast_yaml.safe_load(text))
    except Exception:  # noqa: BLE001
        return False


def test_generated_documents_read_as_pyyaml_reads_them() -> None:
    fast = 0
    for seed in range(3000):
        text = DocumentMaker(seed).document()
        assert our_reading(text) == pyyaml_reading(text), f"seed {seed}:\n{text}"
        fast += read_fast(text)
    assert fast > 500  # the comparison exercised the fast parser, not only the fallback


def test_the_fallback_keeps_pyyaml_errors_and_refusals() -> None:
    for text in ("a: !!python/object:os.system x\n", "a: 1\n---\nb: 2\n", "a: [1\n", "? [a, b]\n: c\n", "a: \x07\n"):
        assert our_reading(text).startswith("error"), text
        assert our_reading(text) == pyyaml_reading(text)


def test_keys_become_strings_as_with_pyyaml() -> None:
    tree = _parse_yaml("200: a\n1.5: b\n'200': c\nnull: d\n")
    assert tree == {"200": "c", "1.5": "b", "null": "d"}
    assert canonical(tree) == pyyaml_reading("200: a\n1.5: b\n'200': c\nnull: d\n")


def test_characters_pyyaml_refuses_are_refused_the_same_way() -> None:
    refused = [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0x85), *range(0x86, 0xA0), 0xFFFE, 0xFFFF]]
    for char in refused:
        for text in (f"a: x{char}y\n", f"a: 'x{char}y'\n", f'a: "x{char}y"\n', f"a: 1 # {char}\n", f"a: |\n  x{char}y\n", f"k{char}: v\n"):
            assert our_reading(text) == pyyaml_reading(text) != canonical({"a": "x"}), repr(text)
    for char in ("\x85", "\u2028", "\u2029"):  # line breaks to YAML 1.1, ordinary characters to YAML 1.2
        text = f"a: x{char}y\n"
        assert not load._fast_parser_agrees(text)
        assert our_reading(text) == pyyaml_reading(text)
