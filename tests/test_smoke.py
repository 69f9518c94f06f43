"""A fresh smoke-scale run of every chapter, compared with its committed reference.

All chapters run (two at a time) before any comparison, so one failing chapter does not stop the others;
each chapter is then its own test, so the report names every failure.
"""

import json

import pytest

from tools.chapters import all_chapters
from tools.regression import compare, record_of, reference_view, run_smoke

CHAPTERS = all_chapters()


@pytest.fixture(scope="session")
def smoke_results(tmp_path_factory):
    results = run_smoke(CHAPTERS, tmp_path_factory.mktemp("smoke"))
    print("\nsmoke runtimes: " + ", ".join(f"{s} {r.seconds:.0f} s" for s, r in results.items()))
    return results


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.slug for c in CHAPTERS])
def test_smoke_run_matches_reference(chapter, smoke_results):
    result = smoke_results[chapter.slug]
    assert result.ok, f"{chapter.slug} failed at smoke scale:\n{result.message}"
    ref = json.loads(chapter.smoke_ref.read_text())
    problems = compare(reference_view(record_of(result)), ref)
    assert not problems, f"{chapter.slug} differs from tests/smoke_refs:\n  " + "\n  ".join(problems)
