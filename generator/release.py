"""Releases of a generated client: what its manifest records, its version, its changelog.

The manifest of an output records, under ``release``, the package version written and the
API surface of each spec (``diff.surface_record``: one record per operation and model, the
names the generated code uses, plus a digest of everything else it carries). The next
generation compares the new surfaces with these: that comparison is the changelog entry,
and under ``--version-from bump`` its suggested bump applied to the recorded version is
the new version. Nothing but the manifest is needed: not the previous spec, not git.

    "release": {
      "format": 1,
      "version": "1.4.0",
      "surfaces": {"": {"api_version": ..., "detail": ..., "operations": [...], "models": [...]}}
    }

Surfaces are keyed by sub-package ("" for a package made from one spec).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.version import InvalidVersion, Version

from .diff import (
    Bump,
    DiffReport,
    Surface,
    diff_surfaces,
    render_markdown,
    surface_from_record,
    surface_of,
    surface_record,
)
from .ir import Api
from .plan import PackagePlan
from .render import md

RECORD_FORMAT = 1
# The first version under ``bump`` when nothing was generated before: semver's rules hold from 1.0.0 on.
FIRST_BUMPED_VERSION = "1.0.0"
_BUMP_ORDER: tuple[Bump, ...] = ("none", "patch", "minor", "major")


@dataclass(frozen=True)
class Recorded:
    """What an earlier generation recorded: the version it wrote and its surfaces (None when it
    recorded none: an output of an older accessgen, or a version read from its pyproject.toml)."""

    version: str | None
    surfaces: Mapping[str, Surface] | None


def read_record(record: Any) -> Recorded | None:
    """The manifest's ``release`` value read back; None when absent, ``ValueError`` when unreadable."""
    if record is None:
        return None
    if (
        not isinstance(record, dict)
        or record.get("format") != RECORD_FORMAT
        or not isinstance(record.get("surfaces"), dict)
    ):
        raise ValueError("its release record is not one this accessgen reads")
    version = record.get("version")
    return Recorded(
        str(version) if version is not None else None,
        {str(name): surface_from_record(surface) for name, surface in record["surfaces"].items()},
    )


@dataclass(frozen=True)
class Release:
    """One generation seen as a release: its version and surfaces, compared with what was recorded."""

    version: str
    surfaces: Mapping[str, Surface]
    previous: Recorded | None
    reports: Mapping[str, DiffReport]  # by sub-package present before and now
    added: tuple[str, ...] = ()  # sub-packages new in this generation
    removed: tuple[str, ...] = ()  # sub-packages gone

    @property
    def bump(self) -> Bump:
        return suggested_bump(self.reports, self.added, self.removed)

    @property
    def changed(self) -> bool:
        """Whether this generation deserves a changelog entry: a first one, a new version, or any change."""
        if self.previous is None or self.previous.surfaces is None:
            return True
        return self.version != self.previous.version or self.bump != "none"

    def record(self) -> dict[str, Any]:
        return {
            "format": RECORD_FORMAT,
            "version": self.version,
            "surfaces": {
                name: surface_record(surface) for name, surface in sorted(self.surfaces.items())
            },
        }


def suggested_bump(
    reports: Mapping[str, DiffReport], added: tuple[str, ...] = (), removed: tuple[str, ...] = ()
) -> Bump:
    bumps: list[Bump] = [report.suggested_bump for report in reports.values()]
    if added:
        bumps.append("minor")
    if removed:
        bumps.append("major")
    return max(bumps, key=_BUMP_ORDER.index, default="none")


def compare(
    previous: Recorded | None, surfaces: Mapping[str, Surface]
) -> tuple[dict[str, DiffReport], tuple[str, ...], tuple[str, ...]]:
    """Reports by sub-package present before and now, and the sub-packages added and removed."""
    if previous is None or previous.surfaces is None:
        return {}, (), ()
    before = previous.surfaces
    reports = {
        name: diff_surfaces(before[name], surfaces[name])
        for name in sorted(surfaces)
        if name in before
    }
    added = tuple(sorted(set(surfaces) - set(before)))
    removed = tuple(sorted(set(before) - set(surfaces)))
    return reports, added, removed


def bumped(version: str, bump: Bump) -> str:
    """``version`` with semver's ``bump`` applied (pre-, post- and dev-release parts dropped)."""
    if bump == "none":
        return version
    try:
        release = Version(version).release
    except InvalidVersion:
        release = (0, 0, 0)
    major, minor, patch = (tuple(release) + (0, 0, 0))[:3]
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def choose_version(policy: str, spec_version: str, previous: Recorded | None, bump: Bump) -> str:
    """The package version under ``policy``: ``spec`` keeps the spec's (already PEP 440),
    ``bump`` applies ``bump`` to the recorded version, or starts at ``FIRST_BUMPED_VERSION``.

    Without a recorded surface to compare with (an output of an older accessgen, whose
    version was read from its pyproject.toml) the changes are unknown: a minor bump."""
    if policy == "spec":
        return spec_version
    if previous is None or previous.version is None:
        return FIRST_BUMPED_VERSION
    if previous.surfaces is None:
        return bumped(previous.version, "minor")
    return bumped(previous.version, bump)


class ReleaseTracker:
    """Chooses the package version once the specs are planned (``pipeline.generate`` calls it
    between planning and rendering) and keeps the ``Release`` it decided on."""

    def __init__(self, policy: str, previous: Recorded | None, override: str | None = None) -> None:
        self.policy = policy
        self.previous = previous
        self.override = override
        self.release: Release | None = None
        self.titles: dict[str, str] = {}

    def __call__(self, planned: Sequence[tuple[str, Api, PackagePlan]], spec_version: str) -> str:
        surfaces = {name: surface_of(api, plan) for name, api, plan in planned}
        self.titles = {name: api.title for name, api, _ in planned}
        reports, added, removed = compare(self.previous, surfaces)
        bump = suggested_bump(reports, added, removed)
        version = self.override or choose_version(self.policy, spec_version, self.previous, bump)
        self.release = Release(version, surfaces, self.previous, reports, added, removed)
        return version


_PYPROJECT_VERSION = re.compile(r'^version\s*=\s*"([^"\n]+)"\s*$', re.MULTILINE)


def pyproject_version(text: str) -> str | None:
    """The ``version = "..."`` of a generated pyproject.toml (the template writes it on one line)."""
    match = _PYPROJECT_VERSION.search(text)
    return match.group(1) if match else None


# ---------------------------------------------------------------- the changelog


def changelog_entry(release: Release, titles: Mapping[str, str]) -> str:
    """The entry for this generation: the version, then what changed, breaking changes first.

    ``titles`` names each sub-package ("" for a one-spec package) as the reader knows it.
    """
    lines = [f"## {release.version}", ""]
    previous = release.previous
    if previous is None:
        described = ", ".join(
            f"{titles[name]} {release.surfaces[name].version}" for name in sorted(release.surfaces)
        )
        lines.append(f"First release of the client, generated from {_text(described)}.")
        return "\n".join(lines) + "\n"
    if previous.surfaces is None:
        lines.append(
            "The earlier output recorded no API surface (an older accessgen wrote it): the changes are not listed."
        )
        return "\n".join(lines) + "\n"
    for name in release.removed:
        lines += [f"**Breaking**: the API {_text(name)} was removed.", ""]
    several = len(release.surfaces) > 1
    # Breaking changes first: the reports with any, then the others; each lists its breaking ones first.
    for name, report in sorted(
        release.reports.items(), key=lambda item: (not item[1].breaking, item[0])
    ):
        table = render_markdown(report)
        if several:  # a heading per API, the report's one level below it
            lines += [f"### {_text(titles[name])}", ""]
            table = "#" + table
        lines += [table, ""]
    for name in release.added:
        lines += [f"New API: {_text(titles[name])} {_text(release.surfaces[name].version)}.", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _text(value: str) -> str:
    return md(value, inline=True)


def prepend_entry(existing: str | None, entry: str) -> str:
    """``entry`` at the top of the changelog, below its title when it starts with one."""
    if not existing:
        return f"# Changelog\n\n{entry}"
    first, newline, rest = existing.partition("\n")
    if first.startswith("# "):
        return f"{first}\n\n{entry}\n{rest.lstrip(chr(10))}"
    return f"{entry}\n{existing}"
