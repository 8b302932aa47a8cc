"""A spec written to attack the generator: names and text must never become code."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import SPECS, package_dir
from tests.support.recording_server import RecordingServer, Reply
from tests.test_generated_types import run_mypy

PWNED = Path("/tmp/accessgen-pwned")


@pytest.fixture(scope="module")
def hostile(generate_package: Any) -> ModuleType:
    PWNED.unlink(missing_ok=True)
    return generate_package(SPECS / "hostile.yaml", "hostile_client")


def test_imports_without_running_spec_text(hostile: ModuleType) -> None:
    import hostile_client.models as models

    assert not PWNED.exists()
    assert hostile.__doc__ is not None and '"""; import os' in hostile.__doc__
    enum = models.BaseModel  # no clash: pydantic is imported as a module
    assert {m.value for m in enum} == {'a"b', "back\\slash", "new\nline", '"""', "", "1", "None", "class"}
    fields = models.ModelImportOs.model_fields
    assert {"model_config_", "json_", "self_", "from_", "field", "class_", "a_b", "a_b_2", "date", "kind"} <= set(fields)


def test_hostile_package_passes_mypy_strict(hostile: ModuleType) -> None:
    result = run_mypy(package_dir(hostile), "hostile_client")
    assert result.returncode == 0, result.stdout + result.stderr


def test_hostile_names_work_over_http(hostile: ModuleType, server: RecordingServer) -> None:
    server.route("GET", "/things/a%2Fb", Reply(200, {"json": "j", "A B": "second", "from": "f", "kind": "brand-new", "date": "2026-01-02"}))
    client = hostile.Client(server.url)
    method = getattr(client.init, "import_os_os_system_touch_tmp_accessgen_pwned")
    result = method("a/b", self_="s", body_="b", x_y="q", x_y_2="h")
    assert server.last().path == "/things/a%2Fb"
    assert dict(server.last().query) == {"self": "s", "body": "b", "x-y": "q"}
    assert server.last().header("X_Y") == "h"
    assert result.json_ == "j" and result.a_b_2 == "second" and result.from_ == "f"
    assert result.kind is not None and result.kind.value == "brand-new"
    assert str(result.date) == "2026-01-02"
    assert not PWNED.exists()
    assert {"get_thing", "get_thing_2"} <= set(dir(client.evil))
