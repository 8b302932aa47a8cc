"""API.md, the reference generated beside each package's README: markdown that spec text cannot
break, the errors it names agree with the runtime, and it names every operation of every package."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from generator.pipeline import GenerateOptions, generate
from generator.plan import STATUS_ERRORS, error_class
from generator.render import _encodable, md, mdblock, mdcode
from tests.conftest import SPECS

MARKDOWN = MarkdownIt("commonmark").enable("table").enable("strikethrough")

HOSTILE = [
    "`",
    "``` fence",
    "a | b || c",
    "<script>alert(1)</script>",
    "</details><details open>",
    "&lt; &amp; &#x41;",
    "# heading",
    "## heading ##",
    "- item",
    "+ item",
    "* item",
    "1. item",
    "2) item",
    "---",
    "===",
    "> quote",
    "[link](javascript:alert(1))",
    "![img](http://x/y.png)",
    "<http://autolink.test>",
    "*em* _em_ **strong** __strong__",
    "~~deleted~~",
    "$x^2$ and $$y$$",
    "back\\slash\\",
    "line one\n# heading\n\n- list\n---",
    "    indented code",
    "<!-- comment -->",
    "a\x00b\x1bc",
    "lone \ud800 surrogate",
    "trailing spaces  ",
    "{{ jinja }} {% raw %}",
    "snake_case and __dunder__ and _lead trail_ x _y_ z a__b__c",
    "ä_ö _ä_ 1_2 *_x_*",
]


def _shown(text: str) -> str:
    """What the reader should see: the text on one line, control characters as spaces."""
    return " ".join(re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", " ", _encodable(text)).split())


def _inline_children(source: str) -> list[Token]:
    tokens = MARKDOWN.parse(source)
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"], (
        source,
        tokens,
    )
    return tokens[1].children or []


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_md_keeps_spec_text_as_plain_text_at_the_start_of_a_line_and_after_other_text(
    text: str,
) -> None:
    for source, prefix in ((md(text), ""), ("Summary: " + md(text, inline=True), "Summary: ")):
        if not _shown(text):
            continue
        children = _inline_children(source)
        assert {child.type for child in children} <= {"text"}, (source, [c.type for c in children])
        assert "".join(child.content for child in children) == prefix + _shown(text)


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_mdcode_is_one_code_span_in_text_and_in_a_table_cell(text: str) -> None:
    children = _inline_children("see " + mdcode(text))
    assert [c.type for c in children] == ["text", "code_inline"]
    assert children[1].content == (_shown(text) or " ")

    tokens = MARKDOWN.parse(
        f"| a | b | c |\n|---|---|---|\n| x | {mdcode(text, table=True)} | {md(text, inline=True)} |\n"
    )
    cells = [t for t in tokens if t.type == "inline"][3:]
    assert len(cells) == 3, "a pipe in spec text never splits a cell"
    code = cells[1].children or []
    assert [c.type for c in code] == ["code_inline"] and code[0].content == (_shown(text) or " ")
    assert "".join(c.content for c in cells[2].children or []) == _shown(text)


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_mdblock_holds_the_text_in_one_fenced_block(text: str) -> None:
    tokens = MARKDOWN.parse(mdblock(text, "python") + "\n\nafter\n")
    assert tokens[0].type == "fence" and tokens[0].info == "python"
    expected = [
        re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", " ", line).rstrip()
        for line in _encodable(text).splitlines()
    ]
    assert tokens[0].content == "".join(line + "\n" for line in expected)
    assert [t.type for t in tokens[1:]] == [
        "paragraph_open",
        "inline",
        "paragraph_close",
    ], "the fence closed where it should"


def test_the_error_classes_named_are_those_the_runtime_raises() -> None:
    import httpx

    from generator.runtime import errors

    assert {code: cls.__name__ for code, cls in errors._BY_STATUS.items()} == STATUS_ERRORS
    for declared, sample in [
        ("400", 400),
        ("404", 404),
        ("412", 412),
        ("418", 418),
        ("4XX", 451),
        ("4xx", 499),
        ("500", 500),
        ("503", 503),
        ("5XX", 502),
        ("302", 302),
        ("3XX", 304),
        ("1XX", 101),
        ("429", 429),
    ]:
        raised = errors.api_error_for("op", sample, httpx.Headers(), b"", None)
        assert type(raised).__name__ == error_class(declared), declared
    assert error_class("default") == "ApiError"
    assert all(
        hasattr(errors, name)
        for name in ("ClientSideError", "InternalServerError", "UnexpectedStatusError")
    )


def test_the_options_documented_are_those_the_runtime_takes() -> None:
    from generator.plan import OPTION_PARAMS
    from generator.runtime import client

    declared = {
        name: getattr(ref, "__forward_arg__", ref) for name, ref in client.CallOptions.__annotations__.items()
    }
    assert {p.name: p.annotation for p in OPTION_PARAMS} == declared


def _plain(token: Token) -> str:
    """The text a reader sees in an inline token (code spans without their backticks)."""
    return "".join(child.content for child in token.children or [])


def _headings(tokens: list[Token]) -> list[tuple[int, str]]:
    return [
        (int(t.tag[1]), _plain(tokens[i + 1]))
        for i, t in enumerate(tokens)
        if t.type == "heading_open"
    ]


def test_markdown_hostile_spec_gives_a_reference_of_our_structure_only() -> None:
    files = generate(
        SPECS / "features" / "markdown.yaml", GenerateOptions(package_name="markdown_client")
    ).files
    for name in ("API.md", "README.md"):
        tokens = MARKDOWN.parse(files[name])
        kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or []}
        assert not kinds & {
            "html_block",
            "html_inline",
            "image",
            "s_open",
            "hr",
            "blockquote_open",
        }, name
        links = [
            c.attrs.get("href") for t in tokens for c in t.children or [] if c.type == "link_open"
        ]
        assert all(str(href).startswith(("#", "API.md", "README.md")) for href in links), links
    tokens = MARKDOWN.parse(files["API.md"])
    assert _headings(tokens) == [
        (1, "Markdown `API` | <b>bold</b> & [link](javascript:alert(1)): API reference"),
        (2, "Calling conventions"),
        (2, "Errors"),
        (2, "Groups"),
        (2, "Group table"),
        (3, "get_thing"),
    ]
    text = files["API.md"]
    summary = (
        "# Heading? ``` fence | pipe <img src=x onerror=alert(1)> *em* _em_ ~~del~~ $x$ \\ end"
    )
    paragraphs = [_plain(t) for t in tokens if t.type == "inline"]
    assert summary in paragraphs
    assert "`` key|`tick` `` or `oauth` (scopes `read|all`, `` write`it` ``)" in text
    assert (
        "  - `NotFoundError` for `404`, its `body` a `models.Problem`. Not \\| found \\<br\\> \\`x\\`"
        in text
    )
    assert "  - `ApiError` for any other status, its `body` a `models.Problem`." in text


def test_every_group_and_method_is_in_the_reference_with_its_variants() -> None:
    variants = set()
    for spec in ("pagination.yaml", "requests.yaml"):
        files = generate(SPECS / "features" / spec, GenerateOptions(package_name="features")).files
        text = files["API.md"]
        for path, source in files.items():
            if "/api/" not in path or path.endswith("__init__.py"):
                continue
            for name in re.findall(r"^    (?:async )?def (\w+)\(", source, re.MULTILINE):
                if name != "__init__":
                    assert f"`{name}" in text, f"{name} of {path} is not in API.md"
                    variants.update(v for v in ("_raw", "iter_", "_stream") if v in name)
    assert variants == {"_raw", "iter_", "_stream"}
    multi = generate(
        [SPECS / "banking.yaml", SPECS / "mixed-security.yaml"],
        GenerateOptions(package_name="bank"),
    ).files["API.md"]
    headings = _headings(MARKDOWN.parse(multi))
    assert (2, "bank.example_bank_banking: Example Bank Banking 2.3.0") in headings
    assert (3, "Group example_bank_banking.accounts") in headings and (
        3,
        "Group mixed_security.basic",
    ) in headings
    assert "[`client.accounts`](#group-example_bank_bankingaccounts)" in multi


def _api_modules(package_dir: Path) -> dict[str, dict[str, Any]]:
    """Each API module's public class, and its operations' method names with their HTTP method and path."""
    modules = {}
    for path in sorted((package_dir / "api").glob("*.py")):
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        classes = [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
        operations = {}
        for node in tree.body:
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", "") == "OperationSpec"
            ):
                keywords = {
                    k.arg: k.value.value
                    for k in node.value.keywords
                    if isinstance(k.value, ast.Constant)
                }
                operations[keywords["name"]] = f"{keywords['method']} {keywords['path']}"
        modules[path.stem] = {"class": classes[0], "operations": operations}
    return modules


def _reference_sections(text: str) -> dict[str, tuple[set[str], str]]:
    """Group class -> (method headings, section text) of an API.md."""
    sections = {}
    for section in re.split(r"^## Group ", text, flags=re.MULTILINE)[1:]:
        match = re.search(r"^`client\.\w+` is `(\w+)` on `Client`", section, re.MULTILINE)
        assert match, section[:300]
        sections[match.group(1)] = (
            set(re.findall(r"^### `(\w+)`$", section, re.MULTILINE)),
            section,
        )
    return sections


@pytest.mark.slow
def test_reference_names_every_operation_of_every_shared_spec_package(
    corpus_outcomes: list[Any],
) -> None:
    checked = 0
    for outcome in corpus_outcomes:
        if outcome.status != "generated" or outcome.out is None:
            continue
        text = (outcome.out / "API.md").read_text(encoding="utf-8")
        package = next(p for p in outcome.out.iterdir() if (p / "api").is_dir())
        modules = _api_modules(package)
        sections = _reference_sections(text)
        assert set(sections) == {m["class"] for m in modules.values()}, outcome.entry.name
        http_seen = set()
        for module in modules.values():
            names, section = sections[module["class"]]
            assert names == set(module["operations"]), f"{outcome.entry.name}: {module['class']}"
            for name, http in module["operations"].items():
                assert mdcode(http) in section, f"{outcome.entry.name}: {name} {http}"
                http_seen.add(tuple(http.split(" ", 1)))
        assert sum(len(m["operations"]) for m in modules.values()) == outcome.generated
        if outcome.facts.operation_keys:
            assert set(outcome.facts.operation_keys) <= http_seen, outcome.entry.name
        checked += 1
    assert checked, "no shared spec generated a package"
