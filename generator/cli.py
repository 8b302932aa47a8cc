"""Command line: ``accessgen generate|validate|security``.

Every expected failure is an ``AccessgenError``: one clear message on stderr and
exit status 1 (2 for usage errors), never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import AccessgenError, Diagnostic, SpecError
from .security import describe
from .settings import find_pyproject, load_settings
from .fingerprint import fingerprint, options_identity, relative_to, up_to_date
from .options import GenerateOptions
from .write import Provenance, diff_output, write_output


def _fail(message: str) -> None:
    click.echo(f"accessgen: error: {message}", err=True)
    sys.exit(1)


def _warn(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], quiet: bool = False) -> None:
    if quiet:
        return
    for diagnostic in diagnostics:
        click.echo(f"accessgen: {diagnostic}", err=True)


@click.group()
@click.version_option(__version__, prog_name="accessgen")
def cli() -> None:
    """Generate typed, security-aware Python clients from OpenAPI descriptions."""


@cli.command("generate")
@click.argument("specs", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), default=None, help="Directory to write the client project into.")
@click.option("--package-name", default=None, help="Python package name (default: from the spec title).")
@click.option("--package-version", default=None, help="Version of the generated project (default: info.version as PEP 440).")
@click.option("--strict", is_flag=True, default=None, help="Treat every validator finding as an error.")
@click.option("--allow-skip", is_flag=True, default=None, help="Skip, with a warning naming it, an operation that cannot be generated.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when the output on disk differs.")
@click.option("--templates", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None, help="Directory of templates overriding the built-in ones by file name.")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None, help="pyproject.toml to read [tool.accessgen] from (default: the nearest one).")
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
    quiet: bool,
) -> None:
    """Generate a client package from SPECS into OUTPUT.

    Several specs make one package with a sub-package per spec, sharing one runtime
    and one Session. Anything not given here comes from [tool.accessgen] in pyproject.toml.
    """
    settings = load_settings(config if config is not None else find_pyproject(Path.cwd()))
    spec_paths = specs or settings.specs
    if not spec_paths:
        raise click.UsageError("no spec given (pass SPEC or set specs in [tool.accessgen])")
    out = output or settings.output
    if out is None:
        raise click.UsageError("no output directory given (pass -o OUT or set output in [tool.accessgen])")
    options = GenerateOptions(
        package_name=package_name or settings.package_name,
        strict=settings.strict if strict is None else strict,
        allow_skip=settings.allow_skip if allow_skip is None else allow_skip,
        templates=templates or settings.templates,
        package_version=package_version or settings.package_version,
        subpackage_names=settings.subpackage_names if not specs else (),
    )
    spec_names = [relative_to(out, Path(spec)) for spec in spec_paths]
    identity = options_identity(
        {
            "package_name": options.package_name,
            "package_version": options.package_version,
            "strict": options.strict,
            "allow_skip": options.allow_skip,
            "subpackage_names": list(options.subpackage_names),
        },
        options.templates,
    )
    if up_to_date(out, spec_names, identity):  # the common CI case, answered without parsing anything
        if not quiet:
            click.echo(f"{out} is up to date")
        return

    from .pipeline import generate

    progress = _progress if not quiet and sys.stderr.isatty() else None
    result = generate(list(spec_paths), options, progress=progress)
    _warn(result.warnings, quiet)
    if check:
        changes = diff_output(out, result.files)
        if changes.any:
            click.echo(f"accessgen: {out} is out of date:\n{changes.summary()}", err=True)
            sys.exit(1)
        if not quiet:
            click.echo(f"{out} is up to date")
        return
    inputs = tuple(relative_to(out, path) for path in result.inputs)
    provenance = Provenance(tuple(spec_names), inputs, fingerprint(out, inputs, identity))
    changes = write_output(out, result.files, f"accessgen {__version__}", provenance)
    if not quiet:
        click.echo(
            f"generated {result.package} in {out}: {result.operation_count} operations "
            f"({len(changes.added)} added, {len(changes.changed)} changed, {len(changes.removed)} removed files)"
        )


def _progress(message: str) -> None:
    click.echo(f"accessgen: {message}", err=True)


@cli.command("validate")
@click.argument("spec", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--strict", is_flag=True, help="Treat every validator finding as an error.")
def validate_command(spec: Path, strict: bool) -> None:
    """Check SPEC; errors name the file, JSON pointer and line."""
    from .pipeline import load_api

    api, warnings = load_api(spec, strict=strict)
    _warn(warnings)
    click.echo(f"{spec}: valid ({len(api.operations)} operations, {len(warnings)} warnings)")


@cli.command("security")
@click.argument("spec", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def security_command(spec: Path, fmt: str) -> None:
    """List each operation with its security class, schemes and scopes."""
    from .pipeline import load_api

    api, _ = load_api(spec)
    rows: list[dict[str, Any]] = []
    for op in sorted(api.operations, key=lambda o: (o.path, o.method)):
        rows.append(
            {
                "operation": op.operation_id or f"{op.method.upper()} {op.path}",
                "method": op.method.upper(),
                "path": op.path,
                "class": op.security.security_class.value,
                "source": op.security.source,
                "alternatives": [[{"scheme": u.scheme, "scopes": list(u.scopes)} for u in req.schemes] for req in op.security.alternatives],
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
        click.echo(f"{row['operation'].ljust(width_op)}  {row['class'].ljust(width_cls)}  {row['summary']}")


@cli.command("diff")
@click.argument("old", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("new", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
def diff_command(old: Path, new: Path, fmt: str) -> None:
    """Compare the generated client surface of OLD and NEW; exit 1 when a change is breaking."""
    from .diff import diff_specs, render

    report = diff_specs(old, new)
    click.echo(render(report, fmt))
    if report.breaking:
        click.echo(f"accessgen: exit status 1: breaking changes (suggested version bump: {report.suggested_bump})", err=True)
        sys.exit(1)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted")
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SpecError as exc:
        for diagnostic in exc.diagnostics:
            click.echo(f"accessgen: {diagnostic}", err=True)
        sys.exit(1)
    except AccessgenError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; the previous output is untouched")
    except RecursionError:
        _fail("the spec nests too deeply to process")
    except Exception as exc:  # a bug: still no traceback for the user, but say so plainly
        _fail(f"internal error {type(exc).__name__}: {exc}. Please report this with the spec that caused it.")
