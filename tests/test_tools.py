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
CALIBRATED = HEADER + """
# %% tags=["parameters"]
SCALE = "book"  # smoke | book | full
SEED = 0

# %%
from replib import Chapter
ch = Chapter("demo/calibrated", scale=SCALE, seed=SEED, cite="k", claim="c")
ch.check_claim("h", paper=1.0, ours=float(SEED), passed=SEED == 0, why="t", headline=True)
ch.control("y", paper=0.0, ours=0.0, passed=True, why="removed")
ch.paper_claim("the claim", row="h")
ch.verdict()
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
    for name, text in {"good": GOOD, "bad": BAD, "slow": SLOW, "calibrated": CALIBRATED}.items():
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


def test_the_committed_notebook_has_no_injected_cell_and_obeys_an_edited_scale(tree, tmp_path):
    """Colab and downloaded copies: the parameters cell shows the values used, and editing SCALE there
    takes effect (papermill's injected cell would silently override it)."""
    import nbformat
    import papermill

    good = tree["demo/good"]
    assert execute(good, "smoke", good.notebook, timeout=120, threads=1, seed=3).ok
    nb = nbformat.read(good.notebook, as_version=4)
    assert not [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert params.source == 'SCALE = "smoke"\nSEED = 3'
    params.source = params.source.replace('"smoke"', '"book"')  # what a reader does in Colab
    nbformat.write(nb, tmp_path / "edited.ipynb")
    record = tmp_path / "rec.json"
    import os
    os.environ["REPLIB_RECORD"] = str(record)
    try:
        papermill.execute_notebook(str(tmp_path / "edited.ipynb"), str(tmp_path / "out.ipynb"),
                                   kernel_name="python3", progress_bar=False)
    finally:
        del os.environ["REPLIB_RECORD"]
    assert json.loads(record.read_text())["scale"] == "book"


def test_other_seeds_run_first_and_land_in_the_seed_0_record(tree, monkeypatch):
    from tools.execute import main

    monkeypatch.setattr(chapters, "SMOKE_REFS", tree["demo/calibrated"].source.parents[2] / "refs")
    assert main(["demo/calibrated", "--seeds", "1", "2"]) == 0
    rec = tree["demo/calibrated"].executed_meta()["record"]
    assert rec["status"] == "reproduced" and rec["seed"] == 0
    assert rec["seed_runs"] == [{"seed": 0, "status": "reproduced", "headline": 0.0},
                                {"seed": 1, "status": "not reproduced", "headline": 1.0},
                                {"seed": 2, "status": "not reproduced", "headline": 2.0}]
