"""Spec shapes that once made a package that generated fine but broke at import, at first use or
under mypy: names that shadow what a module imports, names too long for a file system or reserved
by Windows, recursion, non-finite numbers, 300 levels of nesting, enormous integers, long allOf
chains and repeated enum values. Each package here is generated, type-checked and used."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from generator.errors import SpecError
from generator.naming import MAX_IDENTIFIER, WINDOWS_RESERVED
from generator.pipeline import GenerateOptions, generate
from generator.write import write_output
from tests.support.recording_server import RecordingServer, Reply
from tests.test_generated_types import run_mypy

BIG = 123456789012345678901234567890


def _json_response(schema: dict[str, Any]) -> dict[str, Any]:
    return {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}


def _nested_arrays(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer"}
    for _ in range(levels):
        schema = {"type": "array", "items": schema}
    return schema


def _allof_chain(levels: int) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for level in range(levels):
        part: dict[str, Any] = {"type": "object", "properties": {f"field{level}": {"type": "integer"}}}
        schemas[f"Level{level}"] = {"allOf": [{"$ref": f"#/components/schemas/Level{level + 1}"}, part]} if level < levels - 1 else part
    return schemas


SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Shapes", "version": "1.0.0"},
    "paths": {
        "/models": {"get": {"operationId": "models", "tags": ["Users"], "responses": _json_response({"$ref": "#/components/schemas/Holder"})}},
        "/datetime": {
            "get": {
                "operationId": "datetime",
                "tags": ["users"],
                "parameters": [{"name": "when", "in": "query", "schema": {"type": "string", "format": "date-time"}}],
                "responses": _json_response({"$ref": "#/components/schemas/Iterator"}),
            }
        },
        "/typing": {"get": {"operationId": "typing", "tags": ["cached_property"], "responses": {"204": {"description": "ok"}}}},
        "/operations": {"get": {"operationId": "operations", "tags": ["zeta"], "responses": {"204": {"description": "ok"}}}},
        "/deep": {"get": {"operationId": "deep", "tags": ["con"], "responses": _json_response(_nested_arrays(300))}},
        "/long": {"get": {"operationId": "x" * 5000, "tags": ["t" * 300], "responses": {"204": {"description": "ok"}}}},
        "/constant": {"get": {"operationId": "constant", "tags": ["aux"], "responses": _json_response({"const": BIG})}},
        "/chain": {"get": {"operationId": "chain", "tags": ["COM1"], "responses": _json_response({"$ref": "#/components/schemas/Level0"})}},
        "/numbers": {
            "get": {
                "operationId": "numbers",
                "tags": ["lpt9"],
                "parameters": [{"name": "freq", "in": "query", "schema": {"$ref": "#/components/schemas/Frequency"}}],
                "responses": _json_response({"$ref": "#/components/schemas/Numbers"}),
            }
        },
    },
    "components": {
        "schemas": {
            "Iterator": {"type": "object", "properties": {"n": {"type": "integer"}}},
            "Mapping": {"type": "object", "properties": {"n": {"type": "integer"}}},
            "TypeVar": {"type": "object", "properties": {"n": {"type": "integer"}}},
            "Holder": {
                "type": "object",
                "properties": {
                    "it": {"$ref": "#/components/schemas/Iterator"},
                    "m": {"$ref": "#/components/schemas/Mapping"},
                    "tv": {"$ref": "#/components/schemas/TypeVar"},
                    "big": {"const": BIG},
                    "warnings": {"type": "array", "items": {"type": "string"}},
                    "id": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
            "Clash": {
                "type": "object",
                "properties": {"userName_": {"type": "string"}, "user_name": {"type": "array", "items": {"type": "integer"}}},
            },
            "SelfList": {"type": "array", "items": {"$ref": "#/components/schemas/SelfList"}},
            "SelfMap": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/SelfMap"}},
            "Frequency": {"type": "string", "enum": ["DAY", "WEEK", "WEEK", "MONTH"]},
            "Numbers": {
                "type": "object",
                "properties": {
                    "ratio": {"type": "number", "enum": [float("nan"), float("inf"), float("-inf"), 1.5]},
                    "level": {"type": "number", "default": float("inf")},
                    "floor": {"type": "number", "default": float("-inf")},
                    "lists": {"$ref": "#/components/schemas/SelfList"},
                    "maps": {"$ref": "#/components/schemas/SelfMap"},
                },
            },
            **_allof_chain(51),
        }
    },
}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, Path, Any]:
    spec = tmp_path_factory.mktemp("spec") / "shapes.json"
    spec.write_text(json.dumps(SPEC))  # JSON NaN/Infinity, as a careless exporter writes them
    result = generate(spec, GenerateOptions(package_name="shapes_client"))
    out = tmp_path_factory.mktemp("out")
    write_output(out, result.files, "test")
    sys.path.insert(0, str(out))
    return importlib.import_module("shapes_client"), out, result


def test_names_keep_clear_of_what_each_module_imports(shapes: tuple[ModuleType, Path, Any]) -> None:
    pkg, _, _ = shapes
    client = pkg.AuthenticatedClient(session=pkg.Session("t"))
    groups = {name for name in dir(client) if not name.startswith("_")}
    assert {"users", "users_2", "cached_property_", "zeta", "con", "aux", "com1", "lpt9"} <= groups
    assert {"models_", "models_raw"} <= set(dir(client.users))
    assert {"datetime_", "datetime_raw"} <= set(dir(client.users_2))
    assert {"typing_", "typing_raw"} <= set(dir(client.cached_property_))
    from shapes_client.api import zeta

    assert zeta.OPERATIONS["operations"] is zeta.OPERATIONS_2 and zeta.OPERATIONS_2.operation_id == "operations"
    holder = pkg.models.Holder.model_validate({"it": {"n": 1}, "m": {"n": 2}, "tv": {"n": 3}, "big": BIG, "warnings": ["w"], "id": "i", "type": "t"})
    assert type(holder.it).__name__ == "Iterator" and type(holder.m).__name__ == "Mapping" and holder.big == BIG
    assert (holder.warnings, holder.id, holder.type) == (["w"], "i", "t"), "common field names stay as they are"


def test_an_attribute_is_never_another_property_s_json_name(shapes: tuple[ModuleType, Path, Any]) -> None:
    pkg, _, _ = shapes
    clash = pkg.models.Clash.model_validate({"userName_": "ann", "user_name": [1, 2]})
    assert (clash.user_name_2, clash.user_name) == ("ann", [1, 2])
    assert clash.model_dump(by_alias=True, exclude_unset=True) == {"userName_": "ann", "user_name": [1, 2]}


def test_file_names_are_short_and_never_reserved_by_windows(shapes: tuple[ModuleType, Path, Any]) -> None:
    _, out, _ = shapes
    for path in out.rglob("*.py"):
        assert len(path.stem) <= MAX_IDENTIFIER, path.name
        assert path.stem.lower() not in WINDOWS_RESERVED, path.name
    long_group = next(p.stem for p in (out / "shapes_client" / "api").glob("ttt*.py"))
    assert len(long_group) == MAX_IDENTIFIER


def test_values_and_shapes_that_once_broke_models(shapes: tuple[ModuleType, Path, Any]) -> None:
    pkg, _, result = shapes
    models = pkg.models
    numbers = models.Numbers.model_validate({"ratio": 1.5, "lists": [[[]]], "maps": {"a": {}}})
    assert numbers.level == float("inf") and numbers.floor == float("-inf") and numbers.ratio == models.NumbersRatio.VALUE_1_5
    assert models.NumbersRatio.VALUE_INF.value == float("inf")
    assert [m.value for m in models.Frequency] == ["DAY", "WEEK", "MONTH"]
    chain = models.Level0.model_validate({f"field{i}": i for i in range(51)})
    assert len(models.Level0.model_fields) == 51 and chain.field50 == 50, "no allOf part is dropped, however deep"
    warnings = [str(w) for w in result.warnings]
    assert any("'WEEK' more than once" in w and "#/components/schemas/Frequency/enum" in w for w in warnings), warnings
    assert any("nest more than 32 levels" in w and "#/paths/~1deep/get/responses/200" in w for w in warnings), warnings


def test_every_operation_works_over_http(shapes: tuple[ModuleType, Path, Any], server: RecordingServer) -> None:
    pkg, _, _ = shapes
    server.route("GET", "/models", Reply(200, {"it": {"n": 1}}))
    server.route("GET", "/datetime", Reply(200, {"n": 5}))
    server.route("GET", "/deep", Reply(200, [[[]]]))
    server.route("GET", "/constant", Reply(200, BIG))
    server.route("GET", "/chain", Reply(200, {"field0": 0, "field50": 50}))
    server.route("GET", "/numbers", Reply(200, {"ratio": 1.5}))
    client = pkg.Client(server.url)
    assert client.users.models_().it.n == 1
    assert client.users_2.datetime_(when=__import__("datetime").datetime(2026, 1, 2)).n == 5
    assert dict(server.last().query) == {"when": "2026-01-02T00:00:00"}
    client.cached_property_.typing_()
    client.zeta.operations()
    assert client.con.deep() == [[[]]]
    assert client.aux.constant() == BIG
    assert client.com1.chain().field50 == 50
    assert client.lpt9.numbers(freq="WEEK").ratio.value == 1.5
    long_group = getattr(client, next(n for n in dir(client) if n.startswith("ttt")))
    long_method = next(n for n in dir(long_group) if n.startswith("xxx") and not n.endswith("_raw"))
    assert len(long_method) == MAX_IDENTIFIER
    getattr(long_group, long_method)()
    assert server.last().path == "/long"


def test_package_passes_mypy_strict(shapes: tuple[ModuleType, Path, Any]) -> None:
    _, out, _ = shapes
    result = run_mypy(out, "shapes_client")
    assert result.returncode == 0, result.stdout + result.stderr


def test_strict_makes_a_kept_flaw_an_error(tmp_path: Path) -> None:
    spec = tmp_path / "enum.json"
    spec.write_text(json.dumps({**SPEC, "paths": {"/numbers": SPEC["paths"]["/numbers"]}}))
    with pytest.raises(SpecError, match="'WEEK' more than once"):
        generate(spec, GenerateOptions(package_name="strict_client", strict=True))


def test_imports_in_a_fresh_interpreter(shapes: tuple[ModuleType, Path, Any]) -> None:
    _, out, _ = shapes
    probe = "import shapes_client, shapes_client.models as m; m.Holder.model_rebuild(); m.Level0.model_rebuild(); print('ok')"
    done = subprocess.run([sys.executable, "-c", probe], cwd=out, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr
