"""Schema features, each asserted at the level a user sees: parsed responses and request bytes."""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import SPECS
from tests.support.recording_server import RecordingServer, Reply


@pytest.fixture(scope="module")
def schemas(generate_package: Any) -> ModuleType:
    return generate_package(SPECS / "features" / "schemas.yaml", "schemas_client")


def test_discriminator_with_explicit_mapping_picks_the_member(schemas: ModuleType, server: RecordingServer) -> None:
    server.route("POST", "/pets", Reply(200, {"petType": "kitten", "name": "Tom", "id": "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"}))
    client = schemas.Client(server.url)
    pet = client.pets.create_pet(body={"petType": "dog", "name": "Rex", "goodBoy": True})
    assert type(pet).__name__ == "Cat" and pet.indoor is True and pet.id == uuid.UUID("9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d")
    assert server.last().body == b'{"petType":"dog","name":"Rex","goodBoy":true}'


def test_implicit_discriminator_uses_schema_names(schemas: ModuleType, server: RecordingServer) -> None:
    server.route("GET", "/shapes", Reply(200, [{"kind": "Square", "side": 2}, {"kind": "Circle", "radius": 1}]))
    shapes = schemas.Client(server.url).shapes.list_shapes()
    assert [type(s).__name__ for s in shapes] == ["Square", "Circle"]


def test_read_only_fields_are_not_sent_and_write_only_are(schemas: ModuleType, server: RecordingServer) -> None:
    server.route("POST", "/pets", Reply(200, {"petType": "dog", "name": "Rex", "goodBoy": True}))
    dog = schemas.models.Dog(pet_type="dog", name="Rex", good_boy=True, id=uuid.uuid4(), password="s3cret")
    schemas.Client(server.url).pets.create_pet(body=dog)
    assert json.loads(server.last().body) == {"petType": "dog", "name": "Rex", "goodBoy": True, "password": "s3cret"}
    assert "id" in dog.model_dump(), "a plain dump keeps read-only fields"


def test_values_formats_and_nullability(schemas: ModuleType, server: RecordingServer) -> None:
    server.route(
        "GET",
        "/everything",
        Reply(200, {
            "nullable31": None, "constant": "v1", "count": 7, "mixed": True, "amount": "12.30",
            "blob": "aGk=", "when": "2026-11-28T10:00:00Z", "day": "2026-11-28", "labels": {"a": "b"},
            "anything": [1, "x"], "freeForm": {"k": {"n": 1}}, "choice": 3, "maybeCircle": None,
            "schema": "s", "copy": "c", "model_dump": "m", "json": "j", "addedLater": {"x": 1},
        }),
    )
    result = schemas.Client(server.url).everything.get_everything()
    assert result.nullable31 is None and result.constant == "v1"
    assert result.count == 7 and result.count.name == "UNKNOWN", "enums accept values added after generation"
    assert result.amount == decimal.Decimal("12.30")
    assert result.when == datetime.datetime(2026, 11, 28, 10, tzinfo=datetime.timezone.utc)
    assert result.day == datetime.date(2026, 11, 28)
    assert result.free_form == {"k": {"n": 1}} and result.anything == [1, "x"] and result.choice == 3
    assert (result.schema_, result.copy_, result.model_dump_, result.json_) == ("s", "c", "m", "j")
    assert result.model_extra == {"addedLater": {"x": 1}}, "unknown properties are kept"
    assert result.model_dump(by_alias=True, exclude_unset=True, mode="json")["addedLater"] == {"x": 1}


def test_recursive_and_mutually_recursive_models(schemas: ModuleType, server: RecordingServer) -> None:
    tree = {"name": "root", "children": [{"name": "leaf", "owner": {"name": "ann", "favouriteNode": {"name": "root"}}}]}
    server.route("GET", "/tree", Reply(200, tree))
    node = schemas.Client(server.url).tree.get_tree()
    assert node.children[0].owner.favourite_node.name == "root"


def test_recursive_aliases_work_at_runtime(schemas: ModuleType, server: RecordingServer) -> None:
    report = {
        "errors": {"user": {"name": {"code": "too_long", "message": "at most 32"}}, "id": {"code": "missing"}},
        "path": ["a", ["b", ["c"]]],
        "tags": {"x": {"y": {}}},
    }
    server.route("POST", "/errors", Reply(200, report))
    body = {"list": [1, "two", None, {"deep": [True, {"deeper": []}]}]}
    result = schemas.Client(server.url).errors.report_errors(body=body)
    assert json.loads(server.last().body) == body
    assert type(result.errors["user"]["name"]).__name__ == "InnerErrors" and result.errors["user"]["name"].code == "too_long"
    assert result.path == ["a", ["b", ["c"]]] and result.tags == {"x": {"y": {}}}
    from pydantic import TypeAdapter

    assert TypeAdapter(schemas.models.JsonValue).validate_python([{"a": [1.5, None]}]) == [{"a": [1.5, None]}]
    with pytest.raises(ValueError):
        TypeAdapter(schemas.models.Path).validate_python([{"not": "a step"}])


def test_large_apis_split_models_into_lazily_imported_modules(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """What Stripe-sized specs get, shown on the small schema spec by lowering the threshold."""
    import subprocess
    import sys
    from pathlib import Path

    import generator.plan
    from generator.pipeline import GenerateOptions, generate
    from generator.write import write_output
    from tests.test_generated_types import run_mypy

    monkeypatch.setattr(generator.plan, "INLINE_MODELS_LIMIT", 0)
    out = Path(tmp_path) / "out"
    write_output(out, generate(SPECS / "features" / "schemas.yaml", GenerateOptions(package_name="split_models")).files, "test")
    modules = sorted(p.name for p in (out / "split_models" / "models").iterdir())
    assert modules == ["__init__.py", "__init__.pyi", "_aliases.py", "_c.py", "_d.py", "_e.py", "_i.py", "_p.py", "_s.py", "_t.py"]
    assert run_mypy(out, "split_models").returncode == 0
    probe = """
import sys
import split_models.models as m
assert not [k for k in sys.modules if k.startswith("split_models.models._")], "nothing loaded up front"
node = m.TreeNode.model_validate({"name": "a", "owner": {"favouriteNode": {"name": "b"}}})
assert node.owner.favourite_node.name == "b"
loaded = sorted(k.rsplit(".", 1)[1] for k in sys.modules if k.startswith("split_models.models._"))
assert loaded == ["_p", "_t"], loaded
from pydantic import TypeAdapter
assert type(TypeAdapter(m.Pet).validate_python({"petType": "cat", "name": "c"})).__name__ == "Cat"
report = m.ErrorReport.model_validate({"errors": {"a": {"b": {"code": "x"}}}, "path": ["s", ["t"]]})
assert type(report.errors["a"]["b"]).__name__ == "InnerErrors" and report.path == ["s", ["t"]]
assert TypeAdapter(m.JsonValue).validate_python({"k": [1, None]}) == {"k": [1, None]}
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", probe], cwd=out, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "ok", result.stderr
