"""The whole pipeline: load -> validate -> IR -> plan -> render -> format."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from . import __version__
from .build import build_api
from .errors import Diagnostic, InputError, InternalError, SourceLocation, SpecError
from .files import DEFAULT_MAX_FILE_SIZE
from .format import format_files
from .ir import Api
from .options import GenerateOptions
from .load import default_ref_root, load_spec
from .naming import USER_NAME_LIMIT, package_name as to_package_name, snake_case, unique
from .plan import MODULE_SCOPE_TAKEN, PackagePlan, Planner, combine_plans, default_package_name
from .render import RenderedPackage, SubPackage, render_package
from .validate import PendingValidation, join_first, start_validation


# Called once every spec is planned, before rendering: (sub-package or "" for a one-spec package,
# IR, plan) of each spec and the default version (--package-version, else info.version as PEP 440)
# -> the version to write. ``release.ReleaseTracker`` is one: it records surfaces and may bump.
ChooseVersion = Callable[[Sequence[tuple[str, Api, PackagePlan]], str], str]

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


def load_api(
    spec: str | Path,
    *,
    strict: bool = False,
    allow_skip: bool = False,
    ref_root: Path | None = None,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
) -> tuple[Api, tuple[Diagnostic, ...]]:
    """The IR of ``spec`` and the warnings; validation runs beside building the IR."""
    validation, api, build_warnings = _load(spec, strict=strict, allow_skip=allow_skip, ref_root=ref_root, max_file_size=max_file_size)
    with _validation_first([validation]):
        warnings = validation.result().warnings
    return api, warnings + build_warnings


def _load(
    spec: str | Path, *, strict: bool, allow_skip: bool, ref_root: Path | None, max_file_size: int
) -> tuple[PendingValidation, Api, tuple[Diagnostic, ...]]:
    """The validation under way (see ``start_validation``), the IR and the IR's warnings."""
    try:
        source = load_spec(spec, check_refs=not allow_skip, ref_root=ref_root, max_file_size=max_file_size)
        validation = start_validation(source, strict=strict)
        with _validation_first([validation]):
            api, build_warnings = build_api(source, allow_skip=allow_skip, strict=strict)
    except RecursionError:
        raise SpecError(Diagnostic("the spec nests too deeply to process", SourceLocation(str(spec)))) from None
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


_DATE_VERSION = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?=$|[^\d])")
_LOOSE_VERSION = re.compile(r"^(\d+(?:\.\d+)*)(?:[-_.]?(alpha|beta|preview|pre|rc|a|b|c)[-_.]?(\d*))?")


def pep440_version(raw: str) -> str:
    """``info.version`` as the version of a package that can be published.

    Anything PEP 440 can parse keeps its meaning (``packaging``'s normal form):
    ``3.0.0.dev1`` stays a dev release, ``1.0.post2`` a post release, ``v2.1-beta``
    becomes ``2.1b0``. A local part (``1.0+build.5``) is dropped: package indexes refuse
    local versions, and the public version is the same release. Our own rules cover
    only what PEP 440 cannot read: date versions (``2023-10-16`` -> ``2023.10.16``) and
    loose labels (``1.2.0-beta.3-SNAPSHOT`` -> ``1.2.0b3``); anything else is ``0.0.0``.
    """
    text = raw.strip()
    date = _DATE_VERSION.match(text)
    if date:
        text = ".".join(str(int(part)) for part in date.groups()) + text[date.end():]
    try:
        return Version(text).public
    except InvalidVersion:
        pass
    match = _LOOSE_VERSION.match(text.lower().lstrip("v"))
    if not match:
        return "0.0.0"
    release, label, number = match.groups()
    version = ".".join(str(int(part)) for part in release.split("."))
    if label:
        kind = {"alpha": "a", "beta": "b", "c": "rc", "pre": "rc", "preview": "rc"}.get(label, label)
        version += f"{kind}{number or 0}"
    return str(Version(version))


def generate(
    specs: str | Path | list[str | Path],
    options: GenerateOptions = GenerateOptions(),
    progress: Callable[[str], None] | None = None,
    choose_version: ChooseVersion | None = None,
) -> Generated:
    """Generate one package from one spec, or from several (a sub-package per spec).

    Each spec's validation runs beside building, planning and rendering (see
    ``start_validation``); its findings are collected before the files are formatted.
    """
    spec_list = [specs] if isinstance(specs, (str, Path)) else list(specs)
    report = progress or (lambda message: None)
    ref_root = options.ref_root if options.ref_root is not None else default_ref_root(spec_list)
    validations: list[PendingValidation] = []
    built: list[tuple[Api, tuple[Diagnostic, ...]]] = []
    with _validation_first(validations):
        for spec in spec_list:
            report(f"reading {spec}")
            validation, spec_api, build_warnings = _load(
                spec, strict=options.strict, allow_skip=options.allow_skip, ref_root=ref_root, max_file_size=options.max_file_size
            )
            validations.append(validation)
            built.append((spec_api, build_warnings))
        apis = [spec_api for spec_api, _ in built]
        package, rendered, counts = _plan_and_render(apis, options, choose_version)
        warnings: tuple[Diagnostic, ...] = ()
        for validation, (_, build_warnings) in zip(validations, built):
            warnings += validation.result().warnings + build_warnings
    inputs = tuple(sorted({path for validation in validations for path in validation.source.documents}))
    files = rendered.files
    # The runtime is copied verbatim: its sources are kept black-formatted in the repository.
    modules = {path for path in files if path.endswith((".py", ".pyi")) and not path.startswith(f"{package}/_runtime/")}
    for_black = modules if options.format_all else rendered.needs_black
    black_note = f"; formatting {len(for_black)} with black" if for_black else "; all in black's style without black"
    report(f"{counts[0]} operations, {counts[1]} models, {len(files)} files{black_note}")
    try:
        formatted, count = format_files(files, for_black)
    except InternalError as exc:
        if options.templates is None:
            raise
        raise InputError(f"{exc}; --templates {options.templates} overrides templates, check them first") from None
    if for_black:
        report(f"black formatted {count} of {len(for_black)} modules (the rest came from its cache)")
    return Generated(tuple(apis), package, formatted, warnings, count, inputs)


def _plan_and_render(
    apis: list[Api], options: GenerateOptions, choose_version: ChooseVersion | None
) -> tuple[str, RenderedPackage, tuple[int, int]]:
    """The package name, its rendered files and the counts of operations and models."""
    if len(apis) == 1:
        api = apis[0]
        package = to_package_name(options.package_name, limit=USER_NAME_LIMIT) if options.package_name else default_package_name(api)
        plan = Planner(api, package, __version__).plan()
        version = options.package_version or pep440_version(api.version)
        if choose_version is not None:
            version = choose_version([("", api, plan)], version)
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
        if choose_version is not None:
            version = choose_version([(name, api, plan) for name, api, plan in zip(names, apis, plans)], version)
        subpackages = tuple(SubPackage(plan, name) for plan, name in zip(plans, names))
        rendered = render_package(top, version, options.templates, subpackages=subpackages)
        counts = (sum(len(a.operations) for a in apis), sum(len(p.models) for p in plans))
    return package, rendered, counts


def _padded(names: tuple[str, ...], count: int) -> tuple[str, ...]:
    return names[:count] + ("",) * (count - len(names))
