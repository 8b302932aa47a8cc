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
from .options import GenerateOptions
from .load import load_spec
from .naming import USER_NAME_LIMIT, package_name as to_package_name, snake_case, unique
from .plan import MODULE_SCOPE_TAKEN, Planner, combine_plans, default_package_name
from .render import SubPackage, render_package
from .validate import validate


# Names a sub-package cannot take: the package's own modules, and what its __init__ imports.
RESERVED_SUBPACKAGES = frozenset({"session", "client", "models", "api"}) | MODULE_SCOPE_TAKEN


@dataclass(frozen=True)
class Generated:
    apis: tuple[Api, ...]
    package: str
    files: dict[str, str]
    warnings: tuple[Diagnostic, ...]
    formatted_count: int
    inputs: tuple[Path, ...] = ()

    @property
    def operation_count(self) -> int:
        return sum(len(api.operations) for api in self.apis)


def load_api(spec: str | Path, *, strict: bool = False, allow_skip: bool = False) -> tuple[Api, tuple[Diagnostic, ...]]:
    api, warnings, _ = _load(spec, strict=strict, allow_skip=allow_skip)
    return api, warnings


def _load(spec: str | Path, *, strict: bool, allow_skip: bool) -> tuple[Api, tuple[Diagnostic, ...], tuple[Path, ...]]:
    """The IR, the warnings, and every document read (for the manifest's fingerprint)."""
    source = load_spec(spec, check_refs=not allow_skip)
    result = validate(source, strict=strict)
    api, build_warnings = build_api(source, allow_skip=allow_skip, strict=strict)
    return api, result.warnings + tuple(build_warnings), tuple(source.documents)


def pep440_version(raw: str) -> str:
    """``info.version`` as a PEP 440 version (``2.4.2`` stays, ``v1.0-beta`` becomes ``1.0b0``)."""
    text = raw.strip().lower().lstrip("v")
    text = re.sub(r"(?<=\d)-(?=\d)", ".", text)  # date versions: 2023-10-16 -> 2023.10.16
    match = re.match(r"^(\d+(?:\.\d+)*)(?:[-_.]?(alpha|beta|preview|pre|rc|a|b|c)[-_.]?(\d*))?", text)
    if not match:
        return "0.0.0"
    release, label, number = match.groups()
    version = ".".join(str(int(part)) for part in release.split("."))
    if label:
        kind = {"alpha": "a", "beta": "b", "c": "rc", "pre": "rc", "preview": "rc"}.get(label, label)
        version += f"{kind}{number or 0}"
    return version


def generate(specs: str | Path | list[str | Path], options: GenerateOptions = GenerateOptions(), progress: Callable[[str], None] | None = None) -> Generated:
    """Generate one package from one spec, or from several (a sub-package per spec)."""
    spec_list = [specs] if isinstance(specs, (str, Path)) else list(specs)
    report = progress or (lambda message: None)
    loaded = []
    for spec in spec_list:
        report(f"reading {spec}")
        loaded.append(_load(spec, strict=options.strict, allow_skip=options.allow_skip))
    warnings = tuple(w for _, spec_warnings, _ in loaded for w in spec_warnings)
    apis = [api for api, _, _ in loaded]
    inputs = tuple(sorted({path for _, _, paths in loaded for path in paths}))
    if len(apis) == 1:
        api = apis[0]
        package = to_package_name(options.package_name, limit=USER_NAME_LIMIT) if options.package_name else default_package_name(api)
        plan = Planner(api, package, __version__).plan()
        version = options.package_version or pep440_version(api.version)
        rendered = render_package(plan, version, options.templates)
        counts = (len(api.operations), len(plan.models))
    else:
        package = to_package_name(options.package_name, limit=USER_NAME_LIMIT) if options.package_name else "api_clients"
        names = unique(
            [to_package_name(name or snake_case(api.title)) for api, name in zip(apis, _padded(options.subpackage_names, len(apis)))],
            taken=RESERVED_SUBPACKAGES,
        )
        plans = [Planner(api, f"{package}.{name}", __version__).plan() for api, name in zip(apis, names)]
        top = combine_plans(package, plans)
        version = options.package_version or pep440_version(apis[0].version)
        subpackages = tuple(SubPackage(plan, name) for plan, name in zip(plans, names))
        rendered = render_package(top, version, options.templates, subpackages=subpackages)
        counts = (sum(len(a.operations) for a in apis), sum(len(p.models) for p in plans))
    files = rendered.files
    black_files = None if options.format_all else rendered.needs_black
    report(f"{counts[0]} operations, {counts[1]} models, {len(files)} files")
    formatted, count = format_files(files, black_files)
    through_black = len(rendered.needs_black) if black_files is not None else sum(p.endswith(".py") for p in files)
    report(f"in black's style: {through_black} modules through black ({count} formatted, the rest from its cache)")
    return Generated(tuple(apis), package, formatted, warnings, count, inputs)


def _padded(names: tuple[str, ...], count: int) -> tuple[str, ...]:
    return names[:count] + ("",) * (count - len(names))
