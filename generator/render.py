"""Render stage: the package plan through jinja2 templates into source strings.

Every spec-derived string reaches a template through ``pystr`` (a Python string
literal), ``docstring`` (a docstring that cannot close early) or ``oneline``, and in
markdown through ``md`` (text), ``mdcode`` (a code span) or ``mdblock`` (a fenced block);
identifiers come from the planner's single sanitizer.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from . import layout
from .fingerprint import file_digest
from .format import LayoutCache, cache_dir
from .layout import CannotPromise, lay_out_module, python_literal, python_string
from .plan import (
    IMPORTED_ABC_NAMES,
    IMPORTED_MODULES,
    IMPORTED_TYPING_NAMES,
    MODEL_IMPORTED_MODULES,
    API_RUNTIME_NAMES,
    CLIENT_MODULE_RUNTIME_NAMES,
    PACKAGE_EXPORTS,
    RUNTIME_EXPORTS,
    PackagePlan,
    PlannedField,
    PlannedModel,
    PlannedOperation,
    PlannedParam,
)
from .resources import RUNTIME_DIR, builtin_templates_dir

IMPORTS_MARK = "\x00imports\x00"  # control characters never survive the text filters


# ---------------------------------------------------------------- escaping filters

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_TOML_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _encodable(text: str) -> str:
    """``text`` with lone surrogates (a JSON ``"\\ud800"`` escape) spelled out as ``\\ud800``.

    They cannot be written as UTF-8; every text filter passes its input through this.
    """
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def pystr(value: Any) -> str:
    """A Python string literal for any text (escaping quotes, backslashes, newlines), quoted as black quotes."""
    return python_string(str(value))


def pylist(value: Any) -> str:
    return python_literal([str(v) for v in value])


def pytuple(value: Any) -> str:
    return python_literal(tuple(str(v) for v in value))


def oneline(value: Any) -> str:
    """Spec text on one line, safe inside a docstring or comment."""
    text = " ".join(_CONTROL.sub(" ", _encodable(str(value))).split())
    return _docsafe(text)


def _docsafe(text: str) -> str:
    """Text that cannot end a docstring early: backslashes doubled, triple quotes escaped."""
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def docbody(value: Any) -> str:
    """Spec text as docstring lines, indented as black leaves a docstring (PEP 257 trimming:
    the first line stripped, the common indentation of the others removed)."""
    lines = [_expand_leading_tabs(_CONTROL.sub(" ", line)).rstrip() for line in _encodable(str(value)).strip().splitlines()]
    if not lines:
        return ""
    rest = lines[1:]
    common = min((len(line) - len(line.lstrip()) for line in rest if line), default=0)
    body = "\n".join([lines[0].strip()] + [line[common:] for line in rest])
    return _docsafe(body)


def _expand_leading_tabs(line: str) -> str:
    stripped = line.lstrip()
    return line[: len(line) - len(stripped)].expandtabs(4) + stripped


def docstring(value: Any, indent: int = 0) -> str:
    """A complete triple-quoted docstring; continuation lines indented by ``indent``.

    Spaced as black spaces it: a space keeps a quote at either end of one line off the triple quotes.
    """
    body = docbody(value)
    if body.startswith('"'):
        body = " " + body
    pad = " " * indent
    lines = body.split("\n")
    if len(lines) == 1:
        return f'"""{body} """' if body.endswith('"') else f'"""{body}"""'
    rest = "\n".join(pad + line if line else "" for line in lines[1:])
    return f'"""{lines[0]}\n{rest}\n{pad}"""'


def tomlstr(value: Any) -> str:
    """A TOML basic string (``json.dumps`` would write surrogate pairs, which TOML refuses)."""
    text = _encodable(str(value))
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _TOML_CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", escaped) + '"'


# Markdown. Spec text must stay text: no emphasis, link, image, raw HTML, entity, math, table
# cell break or line-start construct (heading, list, quote, thematic break) may come out of it.
_MD_INLINE = re.compile(r"[\\`*\[\]<>|~$&]|_+")
_MD_ORDERED = re.compile(r"\d+(?=[.)])")
_BACKTICKS = re.compile(r"`+")


def _md_line(value: Any) -> str:
    return " ".join(_CONTROL.sub(" ", _encodable(str(value))).split())


def _md_escape(match: re.Match[str]) -> str:
    mark, text = match.group(), match.string
    if mark == "&":
        return "&amp;"
    if mark[0] == "_":  # inside a word (snake_case) an underscore cannot start or end emphasis
        before, after = text[match.start() - 1 : match.start()], text[match.end() : match.end() + 1]
        return mark if before.isalnum() and after.isalnum() else "\\_" * len(mark)
    return "\\" + mark


def md(value: Any, inline: bool = False) -> str:
    """Spec text as one line of markdown text, every character shown as written; ``inline``
    where other text comes before it on its line (it cannot start a heading or a list there)."""
    text = _MD_INLINE.sub(_md_escape, _md_line(value))
    if inline:
        return text
    # What would begin a heading, a list or a thematic break where the text starts a line.
    if text[:1] in ("#", "+", "=", "-"):
        return "\\" + text
    ordered = _MD_ORDERED.match(text)
    return text[: ordered.end()] + "\\" + text[ordered.end() :] if ordered else text


def mdcode(value: Any, table: bool = False) -> str:
    """Spec text (or an annotation) as an inline code span that no backtick in it can close;
    ``table`` for a table cell, where a pipe would end the cell."""
    text = _md_line(value)
    if not text:
        return "` `"
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    if table:
        text = text.replace("|", "\\|")
    return f"{fence}{pad}{text}{pad}{fence}"


def mdblock(value: Any, info: str = "") -> str:
    """A fenced code block holding ``value`` verbatim, fenced by more backticks than any run in it."""
    lines = [_CONTROL.sub(" ", line).rstrip() for line in _encodable(str(value)).splitlines()]
    fence = "`" * max(3, max((len(run) for run in _BACKTICKS.findall(str(value))), default=0) + 1)
    return "\n".join([fence + info, *lines, fence])


def mdanchor(heading: str) -> str:
    """The anchor a code host gives a heading of ours (GitHub's rule: lower case, punctuation
    other than ``-`` and ``_`` dropped, spaces as hyphens); our headings hold identifiers only."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def security_md(op: PlannedOperation) -> str:
    """An operation's security alternatives in markdown: "`a` (scopes `x`) and `b` or no credentials"."""
    if op.security_class == "public":
        return "never sends a credential"
    alternatives = []
    for alternative in op.security:
        schemes = [mdcode(scheme) + (f" (scopes {', '.join(mdcode(s) for s in scopes)})" if scopes else "") for scheme, scopes in alternative]
        alternatives.append(" and ".join(schemes) if schemes else "no credentials")
    return " or ".join(alternatives)


def reference_signature(op: PlannedOperation, call: str, name: str | None = None, returns: str | None = None) -> str:
    """A method as API.md shows it: ``call.name(params, **options) -> returns``, the per-call
    options (the same for every method) as ``**options``, one parameter a line when long."""
    own = [p for p in op.signature_params if p.location]
    parts = [f"{p.name}: {p.annotation}" for p in own if p.positional]
    keyword = [f"{p.name}: {p.annotation}" + (f" = {p.default}" if p.default is not None else "") for p in own if not p.positional]
    if keyword:
        parts += ["*", *keyword]
    parts.append("**options")
    head = f"{call}.{name or op.name}("
    tail = f") -> {returns or op.return_annotation}"
    line = head + ", ".join(parts) + tail
    if len(line) <= 100:
        return line
    return head + "\n" + "".join(f"    {part},\n" for part in parts) + tail.lstrip()


def field_default(field: PlannedField) -> str:
    args = []
    if field.default is not None:
        args.append(field.default)
    if field.alias is not None:
        args.append(f"validation_alias={python_string(field.alias)}")
        args.append(f"serialization_alias={python_string(field.alias)}")
    if field.pattern is not None:
        args.append(f"pattern={python_string(field.pattern)}")
    if not args:
        return ""
    if len(args) == 1 and field.default is not None:
        return f" = {field.default}"
    return f" = pydantic.Field({', '.join(args)})"


def signature(op: PlannedOperation, mode: str = "sync") -> str:
    """The parameters of a generated method; ``mode`` "async" for the async client's."""
    parts = ["self"]
    positional = [p for p in op.signature_params if p.positional]
    keyword = [p for p in op.signature_params if not p.positional]

    def annotation(p: PlannedParam) -> str:
        return p.async_annotation if mode == "async" and p.async_annotation else p.annotation

    for p in positional:
        parts.append(f"{p.name}: {annotation(p)}")
    if keyword:
        parts.append("*")
        for p in keyword:
            parts.append(f"{p.name}: {annotation(p)}" + (f" = {p.default}" if p.default is not None else ""))
    parts.append("**options: Unpack[CallOptions]")  # the per-call options, the same for every method
    return ", ".join(parts)


def call_tuple(op: PlannedOperation) -> str:
    if not op.call_args:
        return ""
    return ", ".join(op.call_args) + ("," if len(op.call_args) == 1 else "")


FILTERS: dict[str, Callable[..., str]] = {
    "pystr": pystr,
    "pytuple": pytuple,
    "pylist": pylist,
    "oneline": oneline,
    "docbody": docbody,
    "docstring": docstring,
    "tomlstr": tomlstr,
    "field_default": field_default,
    "signature": signature,
    "call_tuple": call_tuple,
    "md": md,
    "mdcode": mdcode,
    "mdblock": mdblock,
    "reference_signature": reference_signature,
    "mdanchor": mdanchor,
    "security_md": security_md,
}


def make_environment(user_templates: Path | None = None) -> jinja2.Environment:
    search = [str(user_templates)] if user_templates else []
    search.append(str(builtin_templates_dir()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(FILTERS)
    return env


# ---------------------------------------------------------------- imports

# pydantic is imported as a module so that schemas may be called Field, Tag or Discriminator.



# String literals (docstrings included) and comments, left to right, so a quote inside a
# comment or a '#' inside a string is read as what it is. Rendered strings are always
# complete literals (the text filters escape quotes), which keeps this exact.
_NOT_CODE = re.compile(r'''"""(?:\\.|[^\\])*?"""|\'\'\'(?:\\.|[^\\])*?\'\'\'|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|#[^\n]*''')
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _names_used(body: str) -> set[str]:
    """Identifiers in the code itself (not in strings, docstrings or comments)."""
    return set(_IDENTIFIER.findall(_NOT_CODE.sub(" ", body.replace(IMPORTS_MARK, ""))))


def imports_for(
    body: str, extra: list[str], runtime_prefix: str = ".", *,
    also_used: Iterable[str] = (),
    modules: Iterable[str] = IMPORTED_MODULES,
    abc_names: Iterable[str] = IMPORTED_ABC_NAMES,
) -> str:
    """The import block a module body needs, so no module carries unused imports.

    ``also_used`` names identifiers that only appear inside strings evaluated later
    (the values of recursive type aliases).
    """
    used = _names_used(body) | set(also_used)
    lines = [f"import {module}" for module in modules if module in used]
    abc_used = [n for n in abc_names if n in used]
    if abc_used:
        lines.append(f"from collections.abc import {', '.join(abc_used)}")
    if "cached_property" in used:
        lines.append("from functools import cached_property")
    typing_names = [n for n in IMPORTED_TYPING_NAMES if n in used]
    if typing_names:
        lines.append(f"from typing import {', '.join(typing_names)}")
    lines.sort(key=lambda line: (line.startswith("from "), line.split()[1]))
    if lines and ("pydantic" in used or "TypeAliasType" in used or "Unpack" in used):
        lines.append("")
    if "pydantic" in used:
        lines.append("import pydantic")
    extensions = [name for name in ("TypeAliasType", "Unpack") if name in used]
    if extensions:
        # Recursive aliases and typed **kwargs on Python 3.10; typing_extensions is pydantic's dependency.
        lines.append(f"from typing_extensions import {', '.join(extensions)}")
    if "tag_by_property" in used and not any("_runtime.models import" in line for line in extra):
        lines.extend(["", f"from {runtime_prefix}._runtime.models import tag_by_property"])
    if lines and extra:
        lines.append("")
    lines.extend(extra)
    return "\n".join(lines)


# ---------------------------------------------------------------- package


@dataclass(frozen=True)
class SubPackage:
    """One spec's part of the package: at the root (one spec) or in a sub-package (several)."""

    plan: PackagePlan
    directory: str  # "" for the root package, else the sub-package's name


@dataclass(frozen=True)
class RenderedPackage:
    """Relative path -> text of every file of the project, and the Python files black must see
    (rendered from user templates, or with a line whose layout ``layout`` cannot promise)."""

    files: dict[str, str]
    needs_black: frozenset[str]


def render_package(
    plan: PackagePlan, package_version: str, user_templates: Path | None = None, *, subpackages: tuple[SubPackage, ...] = ()
) -> RenderedPackage:
    """Every file of the project, laid out in black's style where that can be promised.

    ``plan`` describes the package as a whole; with ``subpackages`` each spec goes in a
    sub-package of its own, all sharing one ``_runtime`` and one ``Session``.
    """
    files = _render_files(plan, package_version, user_templates, subpackages)
    needs_black: set[str] = set()
    cache = cache_dir()
    layouts = LayoutCache(cache / "layout" / f"{plan.package}.json" if cache is not None else None, _layout_version())
    for path, text in files.items():
        if not path.endswith((".py", ".pyi")) or "/_runtime/" in path:
            continue  # the runtime's sources are black-formatted in the repository
        if user_templates is not None:
            needs_black.add(path)  # a user's template makes no promise about its layout
            continue
        try:
            files[path] = layouts.lay_out(text, lay_out_module)
        except CannotPromise:
            needs_black.add(path)
    layouts.save()
    return RenderedPackage(files, frozenset(needs_black))


@functools.cache
def _layout_version() -> str:
    return file_digest(Path(layout.__file__)) or "unreadable"


def _render_files(
    plan: PackagePlan, package_version: str, user_templates: Path | None, subpackages: tuple[SubPackage, ...]
) -> dict[str, str]:
    env = make_environment(user_templates)
    pkg = plan.package
    files: dict[str, str] = {}
    for module in sorted(RUNTIME_DIR.glob("*.py")):
        files[f"{pkg}/_runtime/{module.name}"] = module.read_text(encoding="utf-8")
    files[f"{pkg}/py.typed"] = ""
    files[f"{pkg}/session.py"] = env.get_template("session.py.jinja").render(plan=plan)
    if subpackages:
        for sub in subpackages:
            files.update(_render_api(env, sub.plan, f"{pkg}/{sub.directory}", up="."))
            files[f"{pkg}/{sub.directory}/__init__.py"] = _package_init(env, sub.plan, up=".")
        exports = sorted(PACKAGE_EXPORTS | {"Session"})
        files[f"{pkg}/__init__.py"] = env.get_template("multi_init.py.jinja").render(
            plan=plan, subpackages=subpackages, runtime_exports=RUNTIME_EXPORTS, exports=exports
        )
    else:
        files.update(_render_api(env, plan, pkg, up=""))
        files[f"{pkg}/__init__.py"] = _package_init(env, plan, up="")
    files["pyproject.toml"] = env.get_template("pyproject.toml.jinja").render(plan=plan, version=package_version)
    files["README.md"] = env.get_template("README.md.jinja").render(plan=plan, subpackages=subpackages)
    files["API.md"] = env.get_template("API.md.jinja").render(plan=plan, subpackages=subpackages)
    return files


def _package_init(env: jinja2.Environment, plan: PackagePlan, *, up: str) -> str:
    exports = sorted(PACKAGE_EXPORTS | {"AsyncAuthenticatedClient", "AsyncClient", "AuthenticatedClient", "Client", "Session", "models"})
    return env.get_template("package_init.py.jinja").render(plan=plan, up=up, runtime_exports=RUNTIME_EXPORTS, exports=exports)


def _render_api(env: jinja2.Environment, plan: PackagePlan, root: str, *, up: str) -> dict[str, str]:
    """Models, API groups and clients of one spec under ``root``; ``up`` leads from there to the package root."""
    files = _render_models(env, plan, root, runtime=f".{up}._runtime")
    api_template = env.get_template("api_module.py.jinja")
    for group in plan.groups:
        body = api_template.render(group=group, plan=plan, imports=IMPORTS_MARK)
        extra = _api_runtime_imports(body, f".{up}._runtime")
        if "models." in body:
            extra.append("from .. import models")
        files[f"{root}/api/{group.module}.py"] = body.replace(IMPORTS_MARK, imports_for(body, extra, runtime_prefix=f".{up}"), 1)
    files[f"{root}/api/__init__.py"] = env.get_template("api_init.py.jinja").render(plan=plan)

    client_body = env.get_template("client.py.jinja").render(plan=plan, imports=IMPORTS_MARK)
    client_imports = ["import httpx", "", _runtime_import(client_body, f"{up}._runtime", CLIENT_MODULE_RUNTIME_NAMES)]
    if plan.groups:
        client_imports += ["", "if TYPE_CHECKING:"]
        for group in plan.groups:
            names = ", ".join(sorted([group.public_class, group.authenticated_class, group.async_public_class, group.async_authenticated_class]))
            client_imports.append(f"    from .api.{group.module} import {names}")
    block = imports_for(client_body, client_imports)
    if "from typing import " in block:
        block = block.replace("from typing import ", "from typing import TYPE_CHECKING, ", 1)
    else:
        block = block.replace("\n\nimport httpx", "\nfrom typing import TYPE_CHECKING\n\nimport httpx", 1)
    files[f"{root}/client.py"] = client_body.replace(IMPORTS_MARK, block, 1)
    return files


def _render_models(env: jinja2.Environment, plan: PackagePlan, root: str, *, runtime: str) -> dict[str, str]:
    """models/__init__.py, or for large APIs a lazy index over modules of classes and one of aliases."""
    template = env.get_template("models.py.jinja")
    by_module: dict[str, list[PlannedModel]] = {}
    for model in plan.models:
        by_module.setdefault(model.module, []).append(model)
    files: dict[str, str] = {}
    for module, models in sorted(by_module.items()):
        # Enums first: field defaults like `Kind.A` are evaluated when the class body runs.
        classes = [m for m in models if m.kind == "enum"] + [m for m in models if m.kind == "object"]
        aliases = [m for m in models if m.kind == "alias"]  # the plan put them in a working order
        exports = sorted(m.name for m in models)  # what `from .module import *` gives the stub index
        body = template.render(plan=plan, classes=classes, aliases=aliases, exports=exports, imports=IMPORTS_MARK, lazy_import=bool(module) and bool(classes))
        bases = {m.enum_base for m in classes if m.kind == "enum"}
        bases |= {"ReadOnlyAwareModel" if m.has_read_only else "ApiModel" for m in classes if m.kind == "object"}
        runtime_names = sorted(bases)
        if "tag_by_property" in _names_used(body):
            runtime_names.append("tag_by_property")
        extra = [f"from {runtime}.models import {', '.join(runtime_names)}"] if runtime_names else []
        if module and not classes:  # the aliases module: its expressions run at import
            extra.append("from .. import models as _models")
        path = f"{root}/models/{module}.py" if module else f"{root}/models/__init__.py"
        deferred = {name for m in aliases if m.recursive for name in _IDENTIFIER.findall(m.target)}
        files[path] = body.replace(IMPORTS_MARK, imports_for(body, extra, runtime_prefix=runtime.removesuffix("._runtime"), also_used=deferred, modules=MODEL_IMPORTED_MODULES, abc_names=()), 1)
    if not by_module:
        files[f"{root}/models/__init__.py"] = f'"""Models of {oneline(plan.title)}: this API declares none."""\n'
    elif "" not in by_module:
        index = ModelIndex.of(plan.models)
        files[f"{root}/models/__init__.py"] = env.get_template("models_index.py.jinja").render(plan=plan, index=index)
        files[f"{root}/models/__init__.pyi"] = env.get_template("models_index.pyi.jinja").render(plan=plan, index=index)
    return files


@dataclass(frozen=True)
class ModelIndex:
    """How the lazy models index finds a model's module (see models_index.py.jinja)."""

    names: tuple[tuple[str, str], ...]  # (model, module), by name
    aliases: tuple[str, ...]
    prefixes: tuple[tuple[str, str], ...]  # (lower-cased name prefix, module)
    longest_prefix: int

    @staticmethod
    def of(models: tuple[PlannedModel, ...]) -> ModelIndex:
        prefixes = sorted({(m.module[1:], m.module) for m in models if m.module != "_aliases"})
        index = ModelIndex(
            names=tuple(sorted((m.name, m.module) for m in models)),
            aliases=tuple(sorted(m.name for m in models if m.module == "_aliases")),
            prefixes=tuple(prefixes),
            longest_prefix=max((len(prefix) for prefix, _ in prefixes), default=0),
        )
        for name, module in index.names:
            if index.module_of(name) != module:  # the plan's buckets must partition the names
                raise AssertionError(f"accessgen bug: model {name} would be looked up in {index.module_of(name)}, not {module}")
        return index

    @property
    def by_module(self) -> list[tuple[str, list[str]]]:
        """The model names of each module, modules and names in order."""
        grouped: dict[str, list[str]] = {}
        for name, module in self.names:
            grouped.setdefault(module, []).append(name)
        return sorted(grouped.items())

    def module_of(self, name: str) -> str | None:
        """What the generated index's ``_module_of`` answers."""
        if name in self.aliases:
            return "_aliases"
        lookup = dict(self.prefixes)
        lowered = name.lower()
        for length in range(min(len(lowered), self.longest_prefix), 0, -1):
            if lowered[:length] in lookup:
                return lookup[lowered[:length]]
        return None


_UNQUALIFIED = re.compile(r"(?<![.\w])[A-Za-z_][A-Za-z0-9_]*")


def _runtime_import(body: str, runtime: str, candidates: tuple[str, ...]) -> str:
    """The import of the runtime names ``body`` uses (``httpx.Timeout`` is not ``Timeout``)."""
    used = set(_UNQUALIFIED.findall(_NOT_CODE.sub(" ", body.replace(IMPORTS_MARK, ""))))
    names = sorted(name for name in candidates if name in used)
    return f"from {runtime}.client import {', '.join(names)}"


def _api_runtime_imports(body: str, runtime: str) -> list[str]:
    return [_runtime_import(body, runtime, API_RUNTIME_NAMES)]
