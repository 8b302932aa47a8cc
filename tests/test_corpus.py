"""Every complete OpenAPI 3.x root spec in ../shared/specs generates an importable package
or fails with a clear, one-paragraph error.

Run with ``-s`` to see the tally (spec, operations, generated, imported, mypy errors, note)::

    python -m pytest tests/test_corpus.py -s -q

Fragments are listed as not applicable; Swagger 2.0 documents must be either generated or
rejected with a clear message. A package that is generated but does not import, an operation
count that differs from the spec's, or a mypy --strict error is a generator bug. Whether every
model is complete and every operation usable is ``tests/test_models_complete.py``'s question,
answered from the same run (the session's ``corpus_outcomes``: each spec is generated once).
"""

from __future__ import annotations

import pytest

try:  # the tests package may or may not be importable as ``tests``
    from tests.support.corpus import Outcome, root_specs, shared_specs_dir, tally
except ImportError:  # pragma: no cover - depends on how pytest was started
    from support.corpus import Outcome, root_specs, shared_specs_dir, tally  # type: ignore[no-redef]

SPECS = shared_specs_dir()


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_corpus_generates_importable_packages_or_clear_errors(corpus_outcomes: list[Outcome]) -> None:
    entries = root_specs(SPECS)
    assert entries, f"no spec rows found in the table of {SPECS / 'README.md'}"
    missing = [e.name for e in entries if not e.path.is_file()]
    assert not missing, f"README lists specs that are not there: {missing}"
    outcomes = corpus_outcomes

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
