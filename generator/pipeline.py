"""The whole pipeline: load -> validate -> IR -> plan -> render -> format."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .build import build_api
from .errors import Diagnostic
from .format import format_files
from .ir import Api
from .load import load_spec
from .naming import package_name as to_package_name
from .plan import Planner, default_package_name
from .render import render_package
from .validate import validate


@dataclass(frozen=True)
class GenerateOptions:
    package_name: str | None = None
    strict: bool = False
    allow_skip: bool = False
    templates: Path | None = None
    package_version: str | None = None


@dataclass(frozen=True)
class Generated:
    api: Api
    package: str
    files: dict[str, str]
    warnings: tuple[Diagnostic, ...]
    formatted_count: int


def load_api(spec: str | Path, *, strict: bool = False, allow_skip: bool = False) -> tuple[Api, tuple[Diagnostic, ...]]:
    source = load_spec(spec, check_refs=not allow_skip)
    result = validate(source, strict=strict)
    api, build_warnings = build_api(source, allow_skip=allow_skip)
    return api, result.warnings + tuple(build_warnings)


def pep440_version(raw: str) -> str:
    """``info.version`` as a PEP 440 version (``2.4.2`` stays, ``v1.0-beta`` becomes ``1.0b0``)."""
    text = raw.strip().lower().lstrip("v")
    match = re.match(r"^(\d+(?:\.\d+)*)(?:[-_.]?(a|alpha|b|beta|rc|c|pre|preview)[-_.]?(\d*))?", text)
    if not match:
        return "0.0.0"
    release, label, number = match.groups()
    version = release
    if label:
        kind = {"alpha": "a", "beta": "b", "c": "rc", "pre": "rc", "preview": "rc"}.get(label, label)
        version += f"{kind}{number or 0}"
    return version


def generate(spec: str | Path, options: GenerateOptions = GenerateOptions(), progress: Callable[[str], None] | None = None) -> Generated:
    api, warnings = load_api(spec, strict=options.strict, allow_skip=options.allow_skip)
    package = to_package_name(options.package_name) if options.package_name else default_package_name(api)
    plan = Planner(api, package, __version__).plan()
    version = options.package_version or pep440_version(api.version)
    files = render_package(plan, version, options.templates)
    if progress:
        progress(f"{len(api.operations)} operations, {len(plan.models)} models, {len(files)} files")
    formatted, count = format_files(files)
    return Generated(api, package, formatted, warnings, count)
