"""Every complete OpenAPI 3.x root spec in ../shared/specs generates an importable package
or fails with a clear, one-paragraph error.

Run with ``-s`` to see the tally (spec, operations, generated, imported, mypy errors, note)::

    python -m pytest tests/test_corpus.py -s -q

Fragments are listed as not applicable; Swagger 2.0 documents must be either generated or
rejected with a clear message. A package that is generated but does not import, a model that
cannot be built, or an operation count that differs from the spec's is a generator bug.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

try:  # the tests package may or may not be importable as ``tests``
    from tests.support.corpus import Outcome, root_specs, run_entry, shared_specs_dir, tally
except ImportError:  # pragma: no cover - depends on how pytest was started
    from support.corpus import Outcome, root_specs, run_entry, shared_specs_dir, tally  # type: ignore[no-redef]

SPECS = shared_specs_dir()


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_corpus_generates_importable_packages_or_clear_errors(tmp_path: Path) -> None:
    if not (SPECS / "README.md").is_file():
        pytest.skip(f"../shared/specs is absent (only present in the accessgen workspace): {SPECS} not found")
    entries = root_specs(SPECS)
    assert entries, f"no spec rows found in the table of {SPECS / 'README.md'}"
    missing = [e.name for e in entries if not e.path.is_file()]
    assert not missing, f"README lists specs that are not there: {missing}"

    work = tmp_path / "out"
    work.mkdir()
    # The session's black cache (tests/conftest.py): later tests regenerating these specs reuse it.
    cache = Path(os.environ["ACCESSGEN_CACHE_DIR"])
    # Biggest first, two at a time (2 cores): Stripe, DigitalOcean and Box dominate.
    order = sorted(entries, key=lambda e: -(e.listed_operations or 0))
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = dict(zip([e.name for e in order], pool.map(lambda e: run_entry(e, work, cache), order)))
    outcomes: list[Outcome] = [done[e.name] for e in entries]

    print()
    print(tally(outcomes))

    applicable = [o for o in outcomes if o.status != "n/a"]
    assert applicable, "no complete OpenAPI document in the corpus"
    failures = [f"{o.entry.name}: {problem}" for o in outcomes for problem in o.problems]
    assert not failures, "generator failures on the shared corpus:\n" + "\n".join(failures)
    for o in applicable:
        assert o.status in ("generated", "rejected"), o
        if o.status == "generated":
            assert o.imported and o.generated == o.facts.operations, o
