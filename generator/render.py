"""Render stage: the package plan through jinja2 templates into source strings.

Every spec-derived string reaches a template through ``pystr`` (a Python string
literal), ``docstring`` (a docstring that cannot close early) or ``oneline``;
identifiers come from the planner's single sanitizer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from .plan import PackagePlan, PlannedField, PlannedGroup, PlannedModel, PlannedOperation
from .resources import RUNTIME_DIR, builtin_templates_dir

IMPORTS_MARK = "\x00imports\x00"  # control characters never survive the text filters


# ---------------------------------------------------------------- escaping filters

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def pystr(value: Any) -> str:
    """A Python string literal for any text (repr escapes quotes, backslashes, newlines)."""
    return repr(str(value))


def pylist(value: Any) -> str:
    return repr([str(v) for v in value])


def pytuple(value: Any) -> str:
    return repr(tuple(str(v) for v in value))


def oneline(value: Any) -> str:
    """Spec text on one line, safe inside a docstring or comment."""
    text = " ".join(_CONTROL.sub(" ", str(value)).split())
    return _docsafe(text)


def _docsafe(text: str) -> str:
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    return text


def docbody(value: Any) -> str:
    lines = [_CONTROL.sub(" ", line).rstrip() for line in str(value).strip().splitlines()]
    return _docsafe("\n".join(lines))


def docstring(value: Any, indent: int = 0) -> str:
    """A complete triple-quoted docstring; continuation lines indented by ``indent``."""
    body = docbody(value)
    pad = " " * indent
    lines = body.split("\n")
    if len(lines) == 1:
        return f'"""{lines[0]}"""'
    rest = "\n".join(pad + line if line else "" for line in lines[1:])
    return f'"""{lines[0]}\n{rest}\n{pad}"""'


def tomlstr(value: Any) -> str:
    return json.dumps(str(value))


def field_default(field: PlannedField) -> str:
    args = []
    if field.default is not None:
        args.append(field.default)
    if field.alias is not None:
        args.append(f"validation_alias={field.alias!r}")
        args.append(f"serialization_alias={field.alias!r}")
    if field.pattern is not None:
        args.append(f"pattern={field.pattern!r}")
    if not args:
        return ""
    if len(args) == 1 and field.default is not None:
        return f" = {field.default}"
    return f" = pydantic.Field({', '.join(args)})"


def signature(op: PlannedOperation) -> str:
    parts = ["self"]
    positional = [p for p in op.signature_params if p.positional]
    keyword = [p for p in op.signature_params if not p.positional]
    for p in positional:
        parts.append(f"{p.name}: {p.annotation}")
    if keyword:
        parts.append("*")
        for p in keyword:
            parts.append(f"{p.name}: {p.annotation}" + (f" = {p.default}" if p.default is not None else ""))
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

_MODULES = ("datetime", "decimal", "typing", "uuid", "warnings")
# pydantic is imported as a module so that schemas may be called Field, Tag or Discriminator.
_ABC_NAMES = ("AsyncIterator", "Iterator", "Mapping")
_TYPING_NAMES = ("Annotated", "Any", "ClassVar", "Literal", "TypeAlias", "TypeVar", "Union")



# String literals (docstrings included) and comments, left to right, so a quote inside a
# comment or a '#' inside a string is read as what it is. Rendered strings are always
# complete literals (the text filters escape quotes), which keeps this exact.
_NOT_CODE = re.compile(r'''"""(?:\\.|[^\\])*?"""|\'\'\'(?:\\.|[^\\])*?\'\'\'|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|#[^\n]*''')
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _names_used(body: str) -> set[str]:
    """Identifiers in the code itself (not in strings, docstrings or comments)."""
    return set(_IDENTIFIER.findall(_NOT_CODE.sub(" ", body.replace(IMPORTS_MARK, ""))))


def imports_for(body: str, extra: list[str], runtime_prefix: str = ".") -> str:
    """The import block a module body needs, so no module carries unused imports."""
    used = _names_used(body)
    lines = [f"import {module}" for module in _MODULES if module in used]
    abc_names = [n for n in _ABC_NAMES if n in used]
    if abc_names:
        lines.append(f"from collections.abc import {', '.join(abc_names)}")
    if "cached_property" in used:
        lines.append("from functools import cached_property")
    typing_names = [n for n in _TYPING_NAMES if n in used]
    if typing_names:
        lines.append(f"from typing import {', '.join(typing_names)}")
    lines.sort(key=lambda line: (line.startswith("from "), line.split()[1]))
    if "pydantic" in used:
        lines.extend(["", "import pydantic"])
    if "tag_by_property" in used and not any("_runtime.models import" in line for line in extra):
        lines.extend(["", f"from {runtime_prefix}._runtime.models import tag_by_property"])
    if lines and extra:
        lines.append("")
    lines.extend(extra)
    return "\n".join(lines)


# ---------------------------------------------------------------- package


def _alias_order(aliases: list[PlannedModel]) -> list[PlannedModel]:
    """Aliases evaluated at import time must follow the aliases they mention."""
    by_name = {a.name: a for a in aliases}
    ordered: list[PlannedModel] = []
    state: dict[str, int] = {}

    def visit(alias: PlannedModel) -> None:
        if state.get(alias.name) == 2:
            return
        if state.get(alias.name) == 1:
            return  # a cycle; Python evaluates it as written, which fails loudly only at import
        state[alias.name] = 1
        for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", alias.target):
            if word in by_name and word != alias.name:
                visit(by_name[word])
        state[alias.name] = 2
        ordered.append(alias)

    for alias in aliases:
        visit(alias)
    return ordered


@dataclass(frozen=True)
class SubPackage:
    """One spec's part of the package: at the root (one spec) or in a sub-package (several)."""

    plan: PackagePlan
    directory: str  # "" for the root package, else the sub-package's name


def render_package(
    plan: PackagePlan, package_version: str, user_templates: Path | None = None, *, subpackages: tuple[SubPackage, ...] = ()
) -> dict[str, str]:
    """Relative path -> source text for every file of the project (before formatting).

    ``plan`` describes the package as a whole; with ``subpackages`` each spec goes in a
    sub-package of its own, all sharing one ``_runtime`` and one ``Session``.
    """
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
            files[f"{pkg}/{sub.directory}/__init__.py"] = env.get_template("package_init.py.jinja").render(plan=sub.plan, up=".")
        files[f"{pkg}/__init__.py"] = env.get_template("multi_init.py.jinja").render(plan=plan, subpackages=subpackages)
    else:
        files.update(_render_api(env, plan, pkg, up=""))
        files[f"{pkg}/__init__.py"] = env.get_template("package_init.py.jinja").render(plan=plan, up="")
    files["pyproject.toml"] = env.get_template("pyproject.toml.jinja").render(plan=plan, version=package_version)
    files["README.md"] = env.get_template("README.md.jinja").render(plan=plan, subpackages=subpackages)
    return files


def _render_api(env: jinja2.Environment, plan: PackagePlan, root: str, *, up: str) -> dict[str, str]:
    """Models, API groups and clients of one spec under ``root``; ``up`` leads from there to the package root."""
    files = _render_models(env, plan, root, runtime=f".{up}._runtime")
    api_template = env.get_template("api_module.py.jinja")
    for group in plan.groups:
        body = api_template.render(group=group, plan=plan, imports=IMPORTS_MARK)
        extra = _api_runtime_imports(group, f".{up}._runtime")
        if "models." in body:
            extra.append("from .. import models")
        files[f"{root}/api/{group.module}.py"] = body.replace(IMPORTS_MARK, imports_for(body, extra, runtime_prefix=f".{up}"), 1)
    files[f"{root}/api/__init__.py"] = env.get_template("api_init.py.jinja").render(plan=plan)

    client_body = env.get_template("client.py.jinja").render(plan=plan, imports=IMPORTS_MARK)
    client_imports = ["import httpx", "", f"from {up}._runtime.client import AsyncClientCore, SchemeSpec, SyncClientCore, TokenProvider"]
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
        aliases = _alias_order([m for m in models if m.kind == "alias"])
        exports = [m.name for m in models] if not module else []
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
        files[path] = body.replace(IMPORTS_MARK, imports_for(body, extra, runtime_prefix=runtime.removesuffix("._runtime")), 1)
    if not by_module:
        files[f"{root}/models/__init__.py"] = f'"""Models of {oneline(plan.title)}: this API declares none."""\n'
    elif "" not in by_module:
        lazy = sorted((m.name, m.module) for m in plan.models)
        files[f"{root}/models/__init__.py"] = env.get_template("models_index.py.jinja").render(plan=plan, lazy=lazy)
    return files


def _api_runtime_imports(group: PlannedGroup, runtime: str) -> list[str]:
    names = ["ApiResponse", "AsyncClientCore", "OperationSpec", "SyncClientCore"]
    if any(op.spec_source.count("ParamSpec(") for op in group.operations):
        names.append("ParamSpec")
    if any("ResponseSpec(" in op.spec_source for op in group.operations):
        names.append("ResponseSpec")
    return [f"from {runtime}.client import {', '.join(sorted(names))}"]
