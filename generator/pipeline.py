"""The whole pipeline: load -> validate -> IR -> plan -> render -> format."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .build import build_api
from .errors import Diagnostic
from .format import format_files
from .ir import Api
from .options import GenerateOptions
from .load import load_spec
from .naming import package_name as to_package_name, snake_case, unique
from .plan import Planner, combine_plans, default_package_name
from .render import SubPackage, render_package
from .validate import PendingValidation, join_first, start_validation


# Names a sub-package cannot take: they are the package's own modules.
RESERVED_SUBPACKAGES = frozenset({"session", "client", "models", "api"})


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
    """The IR of ``spec`` and the warnings; validation runs beside building the IR."""
    validation, api, build_warnings = _load(spec, strict=strict, allow_skip=allow_skip)
    with _validation_first([validation]):
        warnings = validation.result().warnings
    return api, warnings + build_warnings


def _load(spec: str | Path, *, strict: bool, allow_skip: bool) -> tuple[PendingValidation, Api, tuple[Diagnostic, ...]]:
    """The validation under way (see ``start_validation``), the IR and the IR's warnings."""
    source = load_spec(spec, check_refs=not allow_skip)
    validation = start_validation(source, strict=strict)
    with _validation_first([validation]):
        api, build_warnings = build_api(source, allow_skip=allow_skip)
    return validation, api, tuple(build_warnings)


@contextmanager
def _validation_first(validations: list[PendingValidation]) -> Iterator[None]:
    """Where anything fails while validations run, their errors are what the user sees.

    Any failure waits for them, and a validation error (``SpecError``) replaces it: an
    invalid spec is reported exactly as when validation ran first. Ctrl-C does not wait.
    """
    try:
        yield
    except Exception:
        join_first(validations)
        raise
    except BaseException:
        for validation in validations:
            validation.cancel()
        raise


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
    """Generate one package from one spec, or from several (a sub-package per spec).

    Each spec's validation runs beside building, planning and rendering (see
    ``start_validation``); its findings are collected before the files are formatted.
    """
    spec_list = [specs] if isinstance(specs, (str, Path)) else list(specs)
    report = progress or (lambda message: None)
    validations: list[PendingValidation] = []
    built: list[tuple[Api, tuple[Diagnostic, ...]]] = []
    with _validation_first(validations):
        for spec in spec_list:
            report(f"reading {spec}")
            validation, spec_api, build_warnings = _load(spec, strict=options.strict, allow_skip=options.allow_skip)
            validations.append(validation)
            built.append((spec_api, build_warnings))
        apis = [spec_api for spec_api, _ in built]
        package, files, counts = _plan_and_render(apis, options)
        warnings: tuple[Diagnostic, ...] = ()
        for validation, (_, build_warnings) in zip(validations, built):
            warnings += validation.result().warnings + build_warnings
    inputs = tuple(sorted({path for validation in validations for path in validation.source.documents}))
    report(f"{counts[0]} operations, {counts[1]} models, {len(files)} files; formatting")
    formatted, count = format_files(files)
    report(f"formatted {count} changed files ({len(files) - count} from cache)")
    return Generated(tuple(apis), package, formatted, warnings, count, inputs)


def _plan_and_render(apis: list[Api], options: GenerateOptions) -> tuple[str, dict[str, str], tuple[int, int]]:
    """The package name, its files (unformatted) and the counts of operations and models."""
    if len(apis) == 1:
        api = apis[0]
        package = to_package_name(options.package_name) if options.package_name else default_package_name(api)
        plan = Planner(api, package, __version__).plan()
        version = options.package_version or pep440_version(api.version)
        files = render_package(plan, version, options.templates)
        counts = (len(api.operations), len(plan.models))
    else:
        package = to_package_name(options.package_name) if options.package_name else "api_clients"
        names = unique(
            [to_package_name(name or snake_case(api.title)) for api, name in zip(apis, _padded(options.subpackage_names, len(apis)))],
            taken=RESERVED_SUBPACKAGES,
        )
        plans = [Planner(api, f"{package}.{name}", __version__).plan() for api, name in zip(apis, names)]
        top = combine_plans(package, plans)
        version = options.package_version or pep440_version(apis[0].version)
        subpackages = tuple(SubPackage(plan, name) for plan, name in zip(plans, names))
        files = render_package(top, version, options.templates, subpackages=subpackages)
        counts = (sum(len(a.operations) for a in apis), sum(len(p.models) for p in plans))
    return package, files, counts


def _padded(names: tuple[str, ...], count: int) -> tuple[str, ...]:
    return names[:count] + ("",) * (count - len(names))
