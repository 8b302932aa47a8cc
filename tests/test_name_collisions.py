"""The one collision check, checked from the outside: in every generated module, no name is bound
twice in one scope (module or class body), and every name a module imports is one the planner
knows it may import, so no spec-derived name can take it."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

from generator.pipeline import GenerateOptions, generate
from generator.plan import MODEL_SCOPE_TAKEN, MODULE_SCOPE_TAKEN
from tests.conftest import our_root_specs, SPECS
from tests.test_hostile_shapes import SPEC as SHAPES_SPEC

OUR_SPECS = our_root_specs()


def _bindings(body: list[ast.stmt]) -> tuple[list[str], list[str]]:
    """(every name bound in this scope, the names bound by imports), entering `if` blocks."""
    bound: list[str] = []
    imported: list[str] = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            # The API group classes client.py imports are planned names, not imports to reserve.
            planned = isinstance(node, ast.ImportFrom) and (node.module or "").startswith("api.")
            for alias in node.names:
                name = alias.asname or alias.name.split(".")[0]
                if name != "annotations":
                    bound.append(name)
                    if not planned:
                        imported.append(name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.append(node.name)
        elif isinstance(node, ast.Assign):
            bound.extend(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            bound.append(node.target.id)
        elif isinstance(node, ast.If):
            for branch in (node.body, node.orelse):
                more, more_imported = _bindings(branch)
                bound.extend(more)
                imported.extend(more_imported)
    return bound, imported


def _check(files: dict[str, str]) -> list[str]:
    problems = []
    for path, text in sorted(files.items()):
        if not path.endswith(".py") or "/_runtime/" in path:
            continue
        tree = ast.parse(text)
        module_bound, module_imported = _bindings(tree.body)
        scopes = [("module", tree.body)] + [(f"class {n.name}", n.body) for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
        for scope, body in scopes:
            bound, imported = _bindings(body)
            twice = sorted(name for name, count in Counter(bound).items() if count > 1)
            if twice:
                problems.append(f"{path}: {scope} binds {twice} more than once")
            # A class body's decorators and annotations see its own names before the module's.
            shadowing = sorted(set(module_imported) & set(bound)) if scope != "module" else []
            if shadowing:
                problems.append(f"{path}: {scope} shadows the imports {shadowing}")
            if scope == "module":
                allowed = MODEL_SCOPE_TAKEN if "/models/" in path else MODULE_SCOPE_TAKEN
                unknown = sorted(set(imported) - allowed - {"client", "api", "session"})
                if unknown:
                    problems.append(f"{path}: imports {unknown}, which the planner does not reserve")
    return problems


@pytest.mark.parametrize("spec", OUR_SPECS, ids=lambda p: str(p.relative_to(SPECS)))
def test_no_name_is_bound_twice_in_one_scope(spec: Path) -> None:
    files = generate(spec, GenerateOptions(package_name="collision_probe")).files
    assert not _check(files)


def test_no_name_is_bound_twice_in_the_hostile_shapes(tmp_path: Path) -> None:
    import json

    spec = tmp_path / "shapes.json"
    spec.write_text(json.dumps(SHAPES_SPEC))
    assert not _check(generate(spec, GenerateOptions(package_name="collision_probe")).files)


def test_the_check_sees_a_collision() -> None:
    text = "from typing import Any\n\nclass Any:\n    pass\n\nclass C:\n    def f(self) -> None: ...\n    f = 1\n"
    problems = _check({"pkg/models/__init__.py": text})
    assert problems == [
        "pkg/models/__init__.py: module binds ['Any'] more than once",
        "pkg/models/__init__.py: class C binds ['f'] more than once",
    ]
    shadow = "from functools import cached_property\n\nclass Client:\n    @cached_property\n    def cached_property(self) -> int: ...\n"
    assert _check({"pkg/client.py": shadow}) == ["pkg/client.py: class Client shadows the imports ['cached_property']"]
