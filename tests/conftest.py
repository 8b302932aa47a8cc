"""Fixtures shared by the generator tests: generated packages and a recording HTTP server."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support.recording_server import RecordingServer

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "specs"
SHARED_SPECS = REPO.parent / "shared" / "specs"


def our_root_specs() -> list[Path]:
    """The project's own specs that are whole OpenAPI documents (not files other specs refer to)."""
    found = []
    for path in sorted(SPECS.rglob("*.yaml")) + sorted(SPECS.rglob("*.json")):
        head = path.read_text(encoding="utf-8", errors="replace")[:2000]
        if "openapi:" in head or '"openapi"' in head:
            found.append(path)
    return found


@pytest.fixture(autouse=True, scope="session")
def _isolated_format_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ["ACCESSGEN_CACHE_DIR"] = str(tmp_path_factory.mktemp("black-cache"))


@pytest.fixture(scope="session")
def corpus_outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """Every shared root spec generated, exercised and type-checked once per session.

    ``tests/test_corpus.py`` and ``tests/test_models_complete.py`` both read it, so the large specs
    are generated once. Skips when ``../shared/specs`` is absent.
    """
    from tests.support.corpus import run_corpus, shared_specs_dir

    specs = shared_specs_dir()
    if not (specs / "README.md").is_file():
        pytest.skip(f"../shared/specs is absent (only present in the accessgen workspace): {specs} not found")
    # The session's black cache: later tests regenerating these specs reuse it.
    return run_corpus(specs, tmp_path_factory.mktemp("corpus"), Path(os.environ["ACCESSGEN_CACHE_DIR"]))


@pytest.fixture(scope="session")
def generated_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated")
    sys.path.insert(0, str(root))
    return root


@pytest.fixture(scope="session")
def generate_package(generated_root: Path) -> Callable[[Path, str], ModuleType]:
    """Generate ``spec`` as package ``name`` (once per session) and import it."""
    from generator.pipeline import GenerateOptions, generate
    from generator.write import write_output

    done: dict[str, ModuleType] = {}

    def make(spec: Path, name: str) -> ModuleType:
        if name not in done:
            result = generate(spec, GenerateOptions(package_name=name))
            out = generated_root / name
            write_output(out, result.files, "accessgen test")
            sys.path.insert(0, str(out))
            done[name] = importlib.import_module(name)
        return done[name]

    return make


def package_dir(module: ModuleType) -> Path:
    return Path(module.__file__ or "").parent.parent


@pytest.fixture()
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as running:
        yield running
