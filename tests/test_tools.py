"""The executor: staleness, failures that do not stop other chapters, no half-written notebooks."""

import json

import pytest

import tools.chapters as chapters
from tools.execute import execute
from tools.regression import compare, measures_time

HEADER = """# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---
"""
GOOD = HEADER + """
# %% tags=["parameters"]
SCALE = "book"
SEED = 0

# %%
from replib import Chapter
ch = Chapter("demo/good", scale=SCALE, seed=SEED, cite="k", claim="c")
ch.check("x", paper=1.0, ours=1.0, passed=True)
ch.control("y", paper=0.0, ours=0.0, passed=True)
ch.verdict()
"""
BAD = HEADER + """
# %% tags=["parameters"]
SCALE = "book"
SEED = 0

# %%
raise RuntimeError("this chapter is broken")
"""
SLOW = HEADER + """
# %% tags=["parameters"]
SCALE = "book"

# %%
import time
time.sleep(60)
"""


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.setattr(chapters, "NOTEBOOKS", tmp_path / "notebooks")
    monkeypatch.setattr(chapters, "CHAPTERS", tmp_path / "book")
    for name, text in {"good": GOOD, "bad": BAD, "slow": SLOW}.items():
        (tmp_path / "notebooks" / "demo").mkdir(parents=True, exist_ok=True)
        (tmp_path / "notebooks" / "demo" / f"{name}.py").write_text(text)
    return {c.slug: c for c in chapters.all_chapters()}


def test_a_good_chapter_is_written_with_its_source_hash_and_record(tree):
    good = tree["demo/good"]
    assert good.is_stale()
    result = execute(good, "book", good.notebook, timeout=120, threads=1)
    assert result.ok, result.message
    meta = good.executed_meta()
    assert meta["source_sha256"] == good.source_hash() and meta["record"]["status"] == "reproduced"
    assert not good.is_stale() and good.is_stale("smoke")
    good.source.write_text(GOOD + "\n# %%\n1 + 1\n")
    assert good.is_stale()


def test_a_failing_or_interrupted_chapter_leaves_no_notebook(tree):
    bad, slow = tree["demo/bad"], tree["demo/slow"]
    result = execute(bad, "book", bad.notebook, timeout=120, threads=1)
    assert not result.ok and "this chapter is broken" in result.message
    result = execute(slow, "book", slow.notebook, timeout=8, threads=1)
    assert not result.ok and "timed out" in result.message
    assert not bad.notebook.exists() and not slow.notebook.exists()
    assert not list(bad.notebook.parent.glob("*.partial")) if bad.notebook.parent.exists() else True


def test_regression_compares_numbers_with_a_tolerance_and_statuses_exactly():
    ref = {"status": "reproduced", "rows": [
        {"name": "a", "kind": "check", "paper": -0.5, "ours": -0.5, "passed": True, "ci": [-0.6, -0.4]}]}
    same = json.loads(json.dumps(ref))
    same["rows"][0]["ours"] = -0.50001
    assert compare(same, ref) == []
    moved = json.loads(json.dumps(ref))
    moved["rows"][0]["ours"], moved["status"] = -0.45, "partly"
    assert len(compare(moved, ref)) == 2


def test_timed_rows_are_compared_by_pass_fail_only():
    ref = {"status": "reproduced", "rows": [
        {"name": "t", "kind": "check", "paper": "0", "ours": 0.01, "passed": True, "ci": [0.0, 0.02], "timed": True}]}
    noisy = json.loads(json.dumps(ref))
    noisy["rows"][0]["ours"], noisy["rows"][0]["ci"] = 0.07, [0.03, 0.1]
    assert compare(noisy, ref) == []
    noisy["rows"][0]["passed"] = False
    assert len(compare(noisy, ref)) == 1


def test_chapters_with_timed_rows_are_recognised_from_their_reference(tree, tmp_path, monkeypatch):
    monkeypatch.setattr(chapters, "SMOKE_REFS", tmp_path / "refs")
    good = tree["demo/good"]
    assert not measures_time(good)  # no reference yet
    good.smoke_ref.parent.mkdir(parents=True)
    good.smoke_ref.write_text(json.dumps({"rows": [{"name": "x", "timed": False}]}))
    assert not measures_time(good)
    good.smoke_ref.write_text(json.dumps({"rows": [{"name": "x"}, {"name": "t", "timed": True}]}))
    assert measures_time(good)
