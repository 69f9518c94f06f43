"""The executor: staleness, failures that do not stop other chapters, no half-written notebooks."""

import json

import pytest

import tools.chapters as chapters
from tools.execute import execute
from tools.regression import K, calibrate, compare, format_problems, measures_time

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


def _rec(status="reproduced", ours=-0.5, passed=True, ci=(-0.6, -0.4), timed=False):
    return {"slug": "demo/x", "seed": 0, "status": status, "rows": [
        {"name": "a", "kind": "claim", "paper": -0.5, "ours": ours, "passed": passed, "ci": list(ci),
         "timed": timed, "headline": True}]}


def test_calibration_sets_each_tolerance_from_the_spread_across_configurations():
    records = {"default": _rec(), "two-threads": _rec(ours=-0.5002, ci=(-0.6, -0.4001)),
               "mkl-compatible": _rec(ours=-0.4999), "mkl-avx2": _rec()}
    ref = calibrate(records)
    row = ref["rows"][0]
    assert row["spread"]["ours"] == pytest.approx(2e-4) and row["tol"]["ours"] == pytest.approx(K * 2e-4)
    assert row["tol"]["ci_lo"] == pytest.approx(0.6e-6)  # no spread seen: the floor
    assert compare(_rec(ours=-0.5009), ref) == []  # inside K x the spread
    off = compare(_rec(ours=-0.5 - 2 * K * 2e-4), ref)  # a real change: twice the tolerance
    assert [(p["row"], p["field"]) for p in off] == [("a", "ours")] and off[0]["off"] == pytest.approx(2)
    text = format_problems("demo/x", off)
    assert "tolerance" in text and "2.0 x tol" in text and "-0.51" in text


def test_a_knife_edge_row_and_the_status_it_flips_are_not_judged_at_smoke():
    records = {"default": _rec(), "two-threads": _rec(passed=False), "mkl-compatible": _rec(),
               "mkl-avx2": _rec()}
    ref = calibrate(records)
    assert ref["rows"][0]["passed"] is None and "not judged at smoke" in ref["rows"][0]["note"]
    assert compare(_rec(passed=False), ref) == []
    records["two-threads"] = _rec(status="partly", passed=False)
    ref = calibrate(records)
    assert ref["status"] is None and "knife-edge rows ['a']" in ref["status_note"]
    assert compare(_rec(status="partly", passed=False), ref) == []
    records["two-threads"] = _rec(status="partly")  # the status moved but no row did: a bug
    with pytest.raises(ValueError, match="status flips"):
        calibrate(records)
    moved = compare(_rec(status="partly"), calibrate({k: _rec() for k in records}))
    assert [p["field"] for p in moved] == ["status"]


def test_timed_rows_are_compared_by_pass_fail_only():
    ref = calibrate({k: _rec(ours=0.01, ci=(0.0, 0.02), timed=True) for k in
                     ("default", "two-threads", "mkl-compatible", "mkl-avx2")})
    assert compare(_rec(ours=0.07, ci=(0.03, 0.1), timed=True), ref) == []
    assert len(compare(_rec(ours=0.07, passed=False, timed=True), ref)) == 1


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
    assert rec["seed_runs"] == [{"seed": 0, "status": "reproduced", "headline": 0.0, "failed": []},
                                {"seed": 1, "status": "not reproduced", "headline": 1.0, "failed": ["h"]},
                                {"seed": 2, "status": "not reproduced", "headline": 2.0, "failed": ["h"]}]


def test_nbval_ignores_last_digits_but_catches_a_changed_verdict(tree, tmp_path):
    """The README's nbval check, on a committed notebook: the same verdict with other last digits (another
    CPU) passes; a verdict whose pass/fail or status changed fails."""
    import subprocess
    import sys

    import nbformat

    from tools.chapters import ROOT

    good = tree["demo/calibrated"]
    assert execute(good, "book", good.notebook, timeout=120, threads=1).ok

    def nbval(nb) -> subprocess.CompletedProcess:
        path = tmp_path / "check.ipynb"
        nbformat.write(nb, path)
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                               "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"),
                               "--rootdir", str(tmp_path), str(path)],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)

    nb = nbformat.read(good.notebook, as_version=4)
    cell = next(c for c in nb.cells if "ch.verdict()" in c.source)
    cell.metadata.setdefault("tags", []).append("nbval-check-output")
    assert nbval(nb).returncode == 0, "an unchanged notebook passes"
    data = cell.outputs[0]["data"]
    moved = data["text/plain"].replace("1      0     yes", "1      1e-09 yes", 1)  # last digits moved
    assert moved != data["text/plain"]
    data["text/plain"] = moved
    assert nbval(nb).returncode == 0
    data["text/plain"] = data["text/plain"].replace("REPRODUCED", "PARTLY")  # the verdict changed
    failed = nbval(nb)
    assert failed.returncode != 0 and "PARTLY" in failed.stdout


def test_calibration_refuses_row_names_that_change_with_the_numerics():
    moved = _rec()
    moved["rows"][0]["name"] = "a (0.61)"
    with pytest.raises(ValueError, match="row names change"):
        calibrate({"default": _rec(), "two-threads": moved, "mkl-compatible": _rec(), "mkl-avx2": _rec()})
