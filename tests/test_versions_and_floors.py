"""Versions of generated packages (PEP 440), the pydantic floor they declare, the runtime copied
verbatim, and the project's own licence and single version."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import black
import pytest

from generator import __version__
from generator.format import mode_for

MODE = mode_for("module.py")
from generator.pipeline import GenerateOptions, generate, pep440_version
from generator.render import RUNTIME_DIR
from generator.write import write_output
from tests.conftest import REPO, SPECS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2.4.2", "2.4.2"),
        ("3.0.0.dev1", "3.0.0.dev1"),  # a dev release is never published as the final one
        ("1.0.post2", "1.0.post2"),
        ("1.0-1", "1.0.post1"),
        ("v2.1-beta", "2.1b0"),
        ("V1.0.0-RC.1", "1.0.0rc1"),
        ("1!2.0", "1!2.0"),
        ("1.0+build.5", "1.0"),  # indexes refuse local versions: the public part is the release
        ("2024.01.05", "2024.1.5"),
        ("2023-10-16", "2023.10.16"),
        ("2023-10-16-preview", "2023.10.16rc0"),
        ("1.2.0-beta.3-SNAPSHOT", "1.2.0b3"),
        ("11.0.0-SNAPSHOT", "11.0.0"),
        ("latest", "0.0.0"),
        ("", "0.0.0"),
    ],
)
def test_pep440_version(raw: str, expected: str) -> None:
    assert pep440_version(raw) == expected


# ---------------------------------------------------------------- the runtime, verbatim


@pytest.mark.parametrize("module", sorted(p.name for p in RUNTIME_DIR.glob("*.py")))
def test_runtime_sources_are_black_formatted(module: str) -> None:
    text = (RUNTIME_DIR / module).read_text(encoding="utf-8")
    assert (
        black.format_str(text, mode=MODE) == text
    ), f"run: black -l 100 -t py310 generator/runtime/{module}"


def test_generated_runtime_is_byte_identical_to_the_sources() -> None:
    files = generate(SPECS / "mixed-security.yaml", GenerateOptions(package_name="verbatim")).files
    copied = {
        path.rsplit("/", 1)[1]: text
        for path, text in files.items()
        if path.startswith("verbatim/_runtime/")
    }
    sources = {p.name: p.read_text(encoding="utf-8") for p in RUNTIME_DIR.glob("*.py")}
    assert copied == sources


# ---------------------------------------------------------------- the pydantic floor

# The first pydantic release with each part of its API that generated packages use. A part
# not listed fails the test below: add it with the release that introduced it (changelog).
PYDANTIC_SINCE = {
    "pydantic.BaseModel": "2.0",
    "pydantic.ConfigDict": "2.0",
    "pydantic.TypeAdapter": "2.0",
    "pydantic.SerializationInfo": "2.0",
    "pydantic.SerializerFunctionWrapHandler": "2.0",
    "pydantic.model_serializer": "2.0",
    "pydantic.ValidationError": "2.0",
    "pydantic.PydanticUserError": "2.0",
    "pydantic.Field": "2.0",
    "pydantic.Tag": "2.5",
    "pydantic.Discriminator": "2.5",
    "ConfigDict.extra": "2.0",
    "ConfigDict.defer_build": "2.0",
    "ConfigDict.protected_namespaces": "2.0",
    "ConfigDict.validate_by_name": "2.11",
    "ConfigDict.validate_by_alias": "2.11",
    "ConfigDict.serialize_by_alias": "2.11",
    "Field.default": "2.0",
    "Field.default_factory": "2.0",
    "Field.validation_alias": "2.0",
    "Field.serialization_alias": "2.0",
    "Field.pattern": "2.0",
    "model_dump.mode": "2.0",
    "model_dump.by_alias": "2.0",
    "model_dump.exclude_unset": "2.0",
    "model_dump.context": "2.7",
    "model_dump_json.by_alias": "2.0",
    "model_dump_json.exclude_unset": "2.0",
    "model_dump_json.context": "2.7",
}


def _pydantic_uses(source: str) -> set[str]:
    """The parts of pydantic's API ``source`` uses, named as in ``PYDANTIC_SINCE``."""
    uses: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "pydantic":
            uses.update(f"pydantic.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "pydantic"
        ):
            uses.add(f"pydantic.{node.attr}")
        elif isinstance(node, ast.Call):
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id if isinstance(func, ast.Name) else ""
            )
            if name in ("ConfigDict", "Field", "model_dump", "model_dump_json"):
                uses.update(f"{name}.{keyword.arg}" for keyword in node.keywords if keyword.arg)
                if name == "Field" and node.args:
                    uses.add("Field.default")
    return uses


def _declared_floor() -> str:
    template = (REPO / "templates" / "pyproject.toml.jinja").read_text()
    match = re.search(r'"pydantic>=([0-9.]+),', template)
    assert match, "templates/pyproject.toml.jinja declares no pydantic floor"
    return match.group(1)


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def test_the_pydantic_floor_is_the_first_release_with_everything_used() -> None:
    files = generate(
        SPECS / "features" / "schemas.yaml", GenerateOptions(package_name="floor")
    ).files
    sources = [text for path, text in files.items() if path.endswith(".py")]
    uses: set[str] = set()
    for source in sources:
        uses |= _pydantic_uses(source)
    unknown = sorted(uses - set(PYDANTIC_SINCE))
    assert not unknown, f"add to PYDANTIC_SINCE, with the release that introduced each: {unknown}"
    needed = max((PYDANTIC_SINCE[use] for use in uses), key=_key)
    assert "ConfigDict.validate_by_name" in uses
    assert _declared_floor() == needed, f"generated packages need pydantic>={needed}"
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert f"pydantic>={needed}" in " ".join(
        project["project"]["optional-dependencies"]["test"]
    ), "tests run what packages declare"


SMOKE = textwrap.dedent("""
    import httpx, pydantic
    from banking_client import AuthenticatedClient, Session, models

    page = {"start": "0", "limit": 5, "items": [
        {"id": "a1", "name": "Main", "productType": "checking", "balance": {"value": "1.00", "currency": "USD"}}]}

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer t"
        return httpx.Response(200, json=page)

    print("pydantic", pydantic.VERSION, "httpx", httpx.__version__)
    http = httpx.Client(transport=httpx.MockTransport(handler), base_url="https://bank.example")
    client = AuthenticatedClient(session=Session("t"), http_client=http)
    accounts = client.accounts.list_accounts(limit=5)
    assert accounts.items[0].product_type == models.ProductType.CHECKING, accounts
    built = models.Account(name="x", product_type="savings", balance=models.Money(value="1.00", currency="EUR"))
    assert built.model_dump(mode="json", by_alias=True, exclude_unset=True)["productType"] == "savings"
    print("ok")
    """)


@pytest.mark.slow
def test_a_generated_package_works_with_its_declared_floors(tmp_path: Path) -> None:
    """Install pydantic and httpx at the floors the generated pyproject declares, and use a client."""
    out = tmp_path / "out"
    write_output(
        out,
        generate(SPECS / "banking.yaml", GenerateOptions(package_name="banking_client")).files,
        "test",
    )
    declared = tomllib.loads((out / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [re.sub(r">=([0-9.]+),<.*", r"==\1.*", requirement) for requirement in declared]
    assert pins == [f"httpx==0.27.*", f"pydantic=={_declared_floor()}.*"]
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(site), *pins],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if install.returncode != 0:
        pytest.skip(
            f"cannot install {' '.join(pins)} (no package index reachable?): {install.stderr.strip()[-300:]}"
        )
    # -S: no site-packages, so only the floors (and the standard library) are importable.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(out)]))
    result = subprocess.run(
        [sys.executable, "-S", "-c", SMOKE], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        result.stdout.startswith(f"pydantic {_declared_floor()}.")
        and " httpx 0.27." in result.stdout
    )
    assert result.stdout.strip().endswith("ok")


# ---------------------------------------------------------------- the project itself


def test_licence_and_a_single_version() -> None:
    licence = (REPO / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "Copyright (c) the accessgen authors" in licence
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert "version" not in project and project["dynamic"] == ["version"]
    assert (
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["hatch"]["version"]["path"]
        == "generator/__init__.py"
    )
    assert "Programming Language :: Python :: 3" in project["classifiers"]
    assert not [
        c for c in project["classifiers"] if c.startswith("License ::")
    ], "PEP 639: the licence expression says it"
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    assert "packaging" in " ".join(project["dependencies"])
