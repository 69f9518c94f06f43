import json

import pytest

from replib import Chapter, choose_scale, progress, seed_everything
from replib.chapter import fmt


def make(**kw):
    return Chapter("kernels/example", scale=kw.pop("scale", "smoke"), seed=0, cite="key", claim="a claim")


def test_unknown_scale_is_a_clear_error():
    with pytest.raises(ValueError, match="SCALE must be one of smoke, book, full"):
        Chapter("kernels/example", scale="huge", cite="k", claim="c")
    with pytest.raises(ValueError, match="missing"):
        choose_scale("book", smoke=1, book=2)
    assert choose_scale("full", smoke=1, book=2, full=dict(n=3)).n == 3


def test_seed_must_be_a_non_negative_integer():
    with pytest.raises(ValueError, match="SEED"):
        seed_everything(-1)


def test_fmt_prints_significant_digits_not_raw_floats():
    assert fmt(0.123456789) == "0.1235"
    assert fmt(12345.678) == "1.235e+04"
    assert fmt(True) == "yes" and fmt("n/a") == "n/a" and fmt(0.0) == "0"


@pytest.mark.parametrize("passes, status", [
    ((True, True, True), "reproduced"),
    ((True, False, True), "partly"),
    ((True, True, False), "partly"),  # the control failed: the check proves nothing on its own
    ((False, False, True), "not reproduced"),
])
def test_status_follows_checks_and_controls(passes, status):
    ch = make()
    ch.check("a", paper=1, ours=1, passed=passes[0])
    ch.check("b", paper=1, ours=1, passed=passes[1])
    ch.control("c", paper=0, ours=0, passed=passes[2])
    assert ch.status == status


def test_a_verdict_needs_a_check_and_a_control():
    ch = make()
    ch.check("a", paper=1, ours=1, passed=True)
    with pytest.raises(ValueError, match="negative control"):
        ch.verdict()
    with pytest.raises(ValueError, match="duplicate"):
        ch.check("a", paper=1, ours=1, passed=True)


def test_verdict_prints_the_table_and_writes_the_record(tmp_path, monkeypatch, capsys):
    path = tmp_path / "rec.json"
    monkeypatch.setenv("REPLIB_RECORD", str(path))
    ch = make()
    ch.check("slope", paper=-0.5, ours=-0.4987654, ci=(-0.55, -0.45), passed=True)
    ch.control("narrow", paper="no", ours=0.1, passed=True)
    ch.verdict()
    out = capsys.readouterr().out
    assert "-0.4988 [-0.55, -0.45]" in out and "REPRODUCED" in out
    rec = json.loads(path.read_text())
    assert rec["slug"] == "kernels/example" and rec["status"] == "reproduced"
    assert rec["rows"][0]["ours"] == pytest.approx(-0.4987654) and rec["rows"][0]["ci"] == [-0.55, -0.45]
    assert {"runtime_s", "device", "cite", "claim", "scale"} <= rec.keys()


def test_progress_is_silent_when_the_book_is_built(monkeypatch):
    monkeypatch.setenv("REPLIB_PROGRESS", "0")
    items = [1, 2]
    assert progress(items) is items


def test_timed_rows_keep_wall_clock_numbers_out_of_the_printed_table(capsys):
    ch = Chapter("part/name", scale="smoke", cite="key", claim="claim")
    ch.check("speed", paper="flat", ours=0.0123, ci=(0.0, 0.03), passed=True, timed=True)
    ch.control("control", paper="grows", ours=0.98, passed=True, timed=True)
    ch.verdict()
    out = capsys.readouterr().out
    assert "0.0123" not in out and "timed (see above)" in out
    assert ch.record()["rows"][0]["ours"] == 0.0123 and ch.record()["rows"][0]["timed"] is True


def calibrated(headline=True, other=True, control=True, sanity=True):
    ch = make()
    ch.check_claim("head", paper=1, ours=1, passed=headline, why="theory", headline=True)
    ch.check_claim("side", paper=1, ours=1, passed=other, why="theory")
    ch.control("ctrl", paper=0, ours=0, passed=control, why="ingredient removed")
    ch.sanity("plumbing", paper=0, ours=0, passed=sanity)
    ch.paper_claim("the paper's headline", row="head")
    ch.paper_claim("a claim we skip", tested="not testable here", note="needs a GPU week")
    return ch


@pytest.mark.parametrize("headline, other, control, status", [
    (True, True, True, "reproduced"),
    (True, False, True, "partly"),
    (True, True, False, "partly"),  # the control failed: the headline's check proves nothing alone
    (False, True, True, "not reproduced"),  # a side row cannot lift a failed headline
    (False, False, False, "not reproduced"),
])
def test_the_headline_decides_and_side_rows_cannot_lift_it(headline, other, control, status):
    assert calibrated(headline, other, control).status == status


@pytest.mark.parametrize("sanity", [True, False])
def test_a_sanity_row_never_changes_the_status(sanity, capsys):
    for headline in (True, False):
        ch = calibrated(headline=headline, sanity=sanity)
        assert ch.status == ("reproduced" if headline else "not reproduced")
        ch.verdict()
        assert ("WARNING: sanity rows failed" in capsys.readouterr().out) is (not sanity)


def test_the_method_refuses_rows_without_why_or_headline_and_unlisted_claims():
    ch = make()
    with pytest.raises(ValueError, match="why="):
        ch.check_claim("a", paper=1, ours=1, passed=True, why=" ")
    ch.check_claim("a", paper=1, ours=1, passed=True, why="theory")
    ch.control("c", paper=0, ours=0, passed=True, why="removed")
    with pytest.raises(ValueError, match="headline"):
        ch.verdict()
    with pytest.raises(ValueError, match="exactly one"):
        ch.check_claim("b", paper=1, ours=1, passed=True, why="t", headline=True) or ch.check_claim(
            "b2", paper=1, ours=1, passed=True, why="t", headline=True)
    with pytest.raises(ValueError, match="paper_claim"):
        ch.verdict()
    with pytest.raises(ValueError, match="note="):
        ch.paper_claim("x", tested="no")
    with pytest.raises(ValueError, match="not claim rows"):
        ch.paper_claim("y", row="nonexistent")
        ch.verdict()
    with pytest.raises(ValueError, match="mix"):
        ch.check("legacy", paper=1, ours=1, passed=True)


def test_the_record_carries_headline_claims_kinds_and_other_seeds(tmp_path, monkeypatch, capsys):
    path = tmp_path / "rec.json"
    monkeypatch.setenv("REPLIB_RECORD", str(path))
    monkeypatch.setenv("REPLIB_OTHER_SEEDS", json.dumps([{"seed": 1, "status": "partly", "headline": 0.9,
                                                          "failed": ["ctrl"]}]))
    ch = calibrated(other=False)
    ch.verdict()
    out = capsys.readouterr().out
    assert "PARTLY · claims tested: 1 of 2" in out and "headline  head" in out
    rec = json.loads(path.read_text())
    assert rec["method"] == "calibrated" and rec["headline"] == "head" and rec["basis"] == "paper"
    assert [r["kind"] for r in rec["rows"]] == ["claim", "claim", "control", "sanity"]
    assert rec["rows"][0]["why"] == "theory"
    assert rec["claims"][1] == {"claim": "a claim we skip", "tested": "not testable here", "row": None,
                                "note": "needs a GPU week"}
    assert rec["seed_runs"] == [{"seed": 0, "status": "partly", "headline": 1.0, "failed": ["side"]},
                                {"seed": 1, "status": "partly", "headline": 0.9, "failed": ["ctrl"]}]


def test_an_abstract_only_chapter_is_labelled_our_construction():
    ch = Chapter("kernels/example", scale="smoke", cite="key", claim="c", basis="abstract")
    assert calibrated().status_label == "reproduced"
    ch.check_claim("h", paper=1, ours=1, passed=False, why="t", headline=True)
    ch.control("c", paper=0, ours=0, passed=True, why="removed")
    assert ch.status_label == "not reproduced (our construction)"
    with pytest.raises(ValueError, match="basis"):
        Chapter("kernels/example", scale="smoke", cite="key", claim="c", basis="blog")


def test_html_table_shows_every_column_and_the_why():
    html = calibrated(control=False).html_table()
    for text in ("headline", "theory", "ingredient removed", "PARTLY", "claims tested: 1 of 2", "✘"):
        assert text in html
