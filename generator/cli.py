"""Command line: ``accessgen generate|validate|security|diff``.

Every expected failure is an ``AccessgenError``: one clear message on stderr and the exit
status of its kind (``errors.EXIT_*``), never a traceback. Ctrl-C prints one line.
"""

from __future__ import annotations

import gc
import json
import posixpath
import signal
import sys
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, NoReturn

import click

from . import __version__
from .errors import (
    EXIT_GATE,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    AccessgenError,
    Diagnostic,
    InputError,
    OutputError,
    SpecError,
    bounded,
    excerpt,
)
from .files import UnreadableFile, parse_size, read_regular_file
from .fingerprint import fingerprint, options_identity, relative_to, up_to_date
from .options import GenerateOptions
from .security import describe
from .settings import VERSION_POLICIES, Settings, find_pyproject, load_settings
from .write import (
    DEFAULT_LOCK_TIMEOUT,
    MANIFEST,
    Provenance,
    diff_output,
    read_release_record,
    remove_stale_staging,
    write_output,
)

if TYPE_CHECKING:
    from .diff import Surface
    from .release import Recorded

EXIT_STATUS_HELP = (
    "Exit status: 0 success; 1 the gate says no (a breaking change, or OUT out of date); "
    "2 usage error; 3 invalid input (a spec or settings file cannot be read, parsed or "
    "validated); 4 output error (OUT cannot be written, is locked by another run, or a "
    "user file is in the way); 5 internal error (a bug in accessgen); 130 interrupted."
)


class Interrupted(BaseException):
    """Ctrl-C, raised by our own handler so no library turns it into output of its own."""


def _fail(message: str, status: int) -> NoReturn:
    click.echo(f"accessgen: error: {bounded(message, 2000)}", err=True)
    sys.exit(status)


def _warn(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], quiet: bool = False) -> None:
    if quiet:
        return
    for diagnostic in diagnostics:
        click.echo(f"accessgen: {diagnostic.shown()}", err=True)


def _size_option(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def _input_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--ref-root and --max-file-size: how far and how much a spec may read."""
    command = click.option(
        "--max-file-size",
        metavar="SIZE",
        default=None,
        callback=_size_option,
        help="Largest file a spec may read, e.g. 64MiB (the default) or 200MiB.",
    )(command)
    command = click.option(
        "--ref-root",
        type=click.Path(path_type=Path, file_okay=False, exists=True),
        default=None,
        help="Folder that $refs may not leave (default: the git repository enclosing the specs, else their folder).",
    )(command)
    return command


def _settings(config: Path | None = None) -> Settings:
    return load_settings(config if config is not None else find_pyproject(Path.cwd()))


@click.group(epilog=EXIT_STATUS_HELP)
@click.version_option(__version__, prog_name="accessgen")
def cli() -> None:
    """Generate typed, security-aware Python clients from OpenAPI descriptions."""


@cli.command("generate", epilog=EXIT_STATUS_HELP)
@click.argument("specs", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(path_type=Path),
    default=None,
    help="Directory to write the client project into.",
)
@click.option(
    "--package-name", default=None, help="Python package name (default: from the spec title)."
)
@click.option(
    "--package-version",
    default=None,
    help="Version of the generated project (default: info.version as PEP 440).",
)
@click.option(
    "--strict", is_flag=True, default=None, help="Treat every validator finding as an error."
)
@click.option(
    "--allow-skip",
    is_flag=True,
    default=None,
    help="Skip, with a warning naming it, an operation that cannot be generated.",
)
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 when the output on disk differs."
)
@click.option(
    "--templates",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=None,
    help="Directory of templates overriding the built-in ones by file name.",
)
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="pyproject.toml to read [tool.accessgen] from (default: the nearest one).",
)
@_input_options
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    default=None,
    help=f"Seconds to wait while another run writes the same OUT (default {DEFAULT_LOCK_TIMEOUT:g}); then exit 4.",
)
@click.option(
    "--format",
    "format_all",
    is_flag=True,
    help="Run black over every generated module (accessgen writes black's style itself and "
    "runs black only where it cannot promise it).",
)
@click.option(
    "--version-from",
    type=click.Choice(VERSION_POLICIES),
    default=None,
    help="spec (default): the version is info.version as PEP 440; bump: the previous generated "
    "version with the semver bump that `accessgen diff` suggests for the changes.",
)
@click.option(
    "--changelog",
    metavar="PATH",
    default=None,
    help="Changelog (relative to OUTPUT, e.g. CHANGELOG.md) to prepend an entry to when the API "
    "changed: the new version, then the changes since the previous generation, breaking ones first.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def generate_command(
    specs: tuple[Path, ...],
    output: Path | None,
    package_name: str | None,
    package_version: str | None,
    strict: bool | None,
    allow_skip: bool | None,
    check: bool,
    templates: Path | None,
    config: Path | None,
    ref_root: Path | None,
    max_file_size: int | None,
    lock_timeout: float | None,
    format_all: bool,
    version_from: str | None,
    changelog: str | None,
    quiet: bool,
) -> None:
    """Generate a client package from SPECS into OUTPUT.

    Several specs make one package with a sub-package per spec, sharing one runtime
    and one Session. Anything not given here comes from [tool.accessgen] in pyproject.toml.
    With --check, exit 1 when OUTPUT is out of date (the changelog is not compared).
    """
    settings = _settings(config)
    spec_paths = specs or settings.specs
    if not spec_paths:
        raise click.UsageError("no spec given (pass SPEC or set specs in [tool.accessgen])")
    out = output or settings.output
    if out is None:
        raise click.UsageError(
            "no output directory given (pass -o OUT or set output in [tool.accessgen])"
        )
    options = GenerateOptions(
        package_name=package_name or settings.package_name,
        strict=settings.strict if strict is None else strict,
        allow_skip=settings.allow_skip if allow_skip is None else allow_skip,
        templates=templates or settings.templates,
        package_version=package_version or settings.package_version,
        subpackage_names=settings.subpackage_names if not specs else (),
        ref_root=ref_root or settings.ref_root,
        max_file_size=max_file_size or settings.max_file_size,
        format_all=format_all,
    )
    policy = version_from or settings.version_from or "spec"
    changelog_path = _changelog_path(changelog or settings.changelog)
    spec_names = [relative_to(out, Path(spec)) for spec in spec_paths]
    identity = options_identity(
        {
            "package_name": options.package_name,
            "package_version": options.package_version,
            "strict": options.strict,
            "allow_skip": options.allow_skip,
            "subpackage_names": list(options.subpackage_names),
            "version_from": policy,
        },
        options.templates,
    )
    if up_to_date(
        out, spec_names, identity
    ):  # the common CI case, answered without parsing anything
        if not check:
            remove_stale_staging(out)
        if not quiet:
            click.echo(f"{out} is up to date")
        return

    from .pipeline import generate
    from .release import ReleaseTracker, changelog_entry, prepend_entry

    progress = _progress if not quiet and sys.stderr.isatty() else None
    # The previous generation matters only to a bump or a changelog entry; reading and comparing
    # its recorded surface costs a few tenths of a second on a large spec.
    previous = _recorded(out) if policy == "bump" or changelog_path is not None else None
    tracker = ReleaseTracker(policy, previous, options.package_version)
    result = generate(list(spec_paths), options, progress=progress, choose_version=tracker)
    release = tracker.release
    assert release is not None, "generate chooses the version of every package"
    _warn(result.warnings, quiet)
    if check:
        changes = diff_output(out, result.files)
        if changes.any:
            click.echo(f"accessgen: {out} is out of date:\n{changes.summary()}", err=True)
            sys.exit(EXIT_GATE)
        if not quiet:
            click.echo(f"{out} is up to date")
        return
    inputs = tuple(relative_to(out, path) for path in result.inputs)
    provenance = Provenance(
        tuple(spec_names), inputs, fingerprint(out, inputs, identity), release.record()
    )
    waiting = None if quiet else _progress
    timeout = lock_timeout if lock_timeout is not None else settings.lock_timeout
    updates = {}
    if changelog_path is not None and release.changed:
        entry = changelog_entry(release, tracker.titles)
        updates[changelog_path] = lambda existing: prepend_entry(existing, entry)
    changes = write_output(
        out,
        result.files,
        f"accessgen {__version__}",
        provenance,
        lock_timeout=DEFAULT_LOCK_TIMEOUT if timeout is None else timeout,
        on_wait=waiting,
        user_updates=updates,
    )
    if not quiet:
        click.echo(
            f"generated {result.package} {release.version} in {out}: {result.operation_count} operations "
            f"({len(changes.added)} added, {len(changes.changed)} changed, {len(changes.removed)} removed files)"
            + (f"; {changelog_path}: entry for {release.version}" if updates else "")
        )


def _changelog_path(value: str | None) -> str | None:
    """The changelog's path inside OUT, as a relative POSIX path; a usage error when it leaves OUT."""
    if value is None:
        return None
    path = PurePosixPath(posixpath.normpath(value.replace("\\", "/")))
    if (
        path.is_absolute()
        or not path.parts
        or path.parts[0] in ("..", ".")
        or path.as_posix() == MANIFEST
    ):
        raise click.BadParameter(
            f"{value!r}: the changelog is a path inside the output directory, relative to it (e.g. CHANGELOG.md)",
            param_hint="'--changelog' / changelog",
        )
    return path.as_posix()


def _recorded(out: Path) -> Recorded | None:
    """What the previous generation of ``out`` recorded: its release record, or for an output
    of an older accessgen the version in its pyproject.toml; None for a new output."""
    from .release import Recorded, pyproject_version, read_record

    has_manifest, record = read_release_record(out)
    if not has_manifest:
        return None
    try:
        recorded = read_record(record)
    except ValueError as exc:
        raise OutputError(
            f"{out / MANIFEST} cannot be read ({exc}); delete it to start afresh"
        ) from None
    if recorded is not None:
        return recorded
    try:
        version = pyproject_version(read_regular_file(out / "pyproject.toml").decode("utf-8"))
    except (UnreadableFile, UnicodeDecodeError):
        version = None
    return Recorded(version, None)


def _progress(message: str) -> None:
    click.echo(f"accessgen: {message}", err=True)


@cli.command("validate", epilog=EXIT_STATUS_HELP)
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Treat every validator finding as an error.")
@_input_options
def validate_command(
    spec: Path, strict: bool, ref_root: Path | None, max_file_size: int | None
) -> None:
    """Check SPEC; errors name the file, JSON pointer and line (exit 3 when invalid)."""
    from .pipeline import load_api

    settings = _settings()
    api, warnings = load_api(
        spec,
        strict=strict,
        ref_root=ref_root or settings.ref_root,
        max_file_size=max_file_size or settings.max_file_size,
    )
    _warn(warnings)
    click.echo(f"{spec}: valid ({len(api.operations)} operations, {len(warnings)} warnings)")


@cli.command("security", epilog=EXIT_STATUS_HELP)
@click.argument("spec", type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@_input_options
def security_command(
    spec: Path, fmt: str, ref_root: Path | None, max_file_size: int | None
) -> None:
    """List each operation with its security class, schemes and scopes."""
    from .pipeline import load_api

    settings = _settings()
    api, _ = load_api(
        spec,
        ref_root=ref_root or settings.ref_root,
        max_file_size=max_file_size or settings.max_file_size,
    )
    rows: list[dict[str, Any]] = []
    for op in sorted(api.operations, key=lambda o: (o.path, o.method)):
        rows.append(
            {
                "operation": op.operation_id or f"{op.method.upper()} {op.path}",
                "method": op.method.upper(),
                "path": op.path,
                "class": op.security.security_class.value,
                "source": op.security.source,
                "alternatives": [
                    [{"scheme": u.scheme, "scopes": list(u.scopes)} for u in req.schemes]
                    for req in op.security.alternatives
                ],
                "summary": describe(op.security),
            }
        )
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    width_op = max([len("operation")] + [len(r["operation"]) for r in rows])
    width_cls = max([len("class")] + [len(r["class"]) for r in rows])
    click.echo(f"{'operation'.ljust(width_op)}  {'class'.ljust(width_cls)}  alternatives")
    for row in rows:
        click.echo(
            f"{row['operation'].ljust(width_op)}  {row['class'].ljust(width_cls)}  {row['summary']}"
        )


@cli.command("diff", epilog=EXIT_STATUS_HELP)
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
)
@_input_options
def diff_command(
    old: Path, new: Path, fmt: str, ref_root: Path | None, max_file_size: int | None
) -> None:
    """Compare the generated client surface of OLD and NEW.

    OLD may also be an output directory of `accessgen generate`: the API surface its
    manifest recorded is compared with NEW (no need for the old spec).
    Exit 1 when a change is breaking, 3 when a spec cannot be read or is invalid.
    """
    from .diff import build_surface, diff_specs, diff_surfaces, render
    from .pipeline import load_api

    settings = _settings()
    limits: dict[str, Any] = {
        "ref_root": ref_root or settings.ref_root,
        "max_file_size": max_file_size or settings.max_file_size,
    }
    if old.is_dir():
        report = diff_surfaces(_recorded_surface(old), build_surface(load_api(new, **limits)[0]))
    else:
        report = diff_specs(old, new, **limits)
    click.echo(render(report, fmt))
    if report.breaking:
        click.echo(
            f"accessgen: exit status 1: breaking changes (suggested version bump: {report.suggested_bump})",
            err=True,
        )
        sys.exit(EXIT_GATE)


def _recorded_surface(out: Path) -> Surface:
    """The API surface the manifest of the output ``out`` recorded (exit 3 when there is none)."""
    from .release import read_record

    try:
        has_manifest, record = read_release_record(out)
        recorded = read_record(record) if has_manifest else None
    except (OutputError, ValueError) as exc:
        raise InputError(f"{out}: {exc}") from None
    if recorded is None or recorded.surfaces is None:
        raise InputError(
            f"{out} is neither a spec nor an output whose manifest records its API surface "
            "(generate it with this accessgen first)"
        )
    if len(recorded.surfaces) != 1:
        names = ", ".join(sorted(recorded.surfaces))
        raise InputError(
            f"{out} holds a package of several APIs ({names}); compare their specs instead"
        )
    return next(iter(recorded.surfaces.values()))


def _on_interrupt(signum: int, frame: object) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not cut the cleanup short
    raise Interrupted()


# The loaded spec, its IR and the plan are a large graph that lives until the process ends;
# CPython's default thresholds trace it in a full collection again and again (0.3 s of a cold
# Stripe run, 0.1 s of them reading the output's manifest). Fewer older-generation collections
# keep that cost away; young garbage is collected as before.
GC_THRESHOLDS = (700, 100, 100)


def main() -> None:
    gc.set_threshold(*GC_THRESHOLDS)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")  # a spec's text never makes printing fail
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_interrupt)
    try:
        status = cli.main(standalone_mode=False)
    except (Interrupted, KeyboardInterrupt, click.exceptions.Abort):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        click.echo("accessgen: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except SpecError as exc:
        for diagnostic in exc.diagnostics:
            click.echo(f"accessgen: {diagnostic.shown()}", err=True)
        sys.exit(exc.exit_status)
    except AccessgenError as exc:
        _fail(str(exc), exc.exit_status)
    except RecursionError:
        _fail("the spec nests too deeply to process", EXIT_INPUT)
    except Exception as exc:  # a bug: still no traceback for the user, but say so plainly
        detail = excerpt(str(exc))
        _fail(
            f"internal error (a bug in accessgen): {type(exc).__name__}: {detail}. Please report it with the spec that caused it.",
            EXIT_INTERNAL,
        )
    sys.exit(status if isinstance(status, int) else 0)
