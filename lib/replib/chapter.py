"""One object per chapter: validates the scale, seeds, picks the device, collects the verdict.

A chapter creates it right after its ``parameters`` cell::

    ch = Chapter("kernels/neural_tangent_kernel", scale=SCALE, seed=SEED, cite="jacot2018ntk",
                 claim="The empirical NTK converges to a fixed kernel as width grows")
    cfg = ch.settings(smoke={...}, book={...}, full={...})
    ...
    ch.paper_claim("Theta_0 -> Theta_inf as width grows (Thm 1)", row="NTK at init: exponent")
    ch.paper_claim("trained functions are Gaussian (Fig. 2)", tested="no", note="why not")
    ch.check_claim("NTK at init: exponent", paper=-0.5, ours=fit.mean, ci=fit.ci, headline=True,
             passed=fit.ci[0] <= -0.5 <= fit.ci[1], why="theory: -1/2; t-interval over 6 seeds")
    ch.control("mean-field scaling: same exponent", paper="no decay", ours=..., passed=...,
               why="the same test with the one ingredient (NTK scaling) removed must fail")
    ch.sanity("kernel is symmetric", paper=0, ours=asym, passed=asym < 1e-12)
    ch.verdict()     # prints the verdict table (nbval-checked) and writes the record
    ch.run_info()    # scale, device, versions, wall time, status at other seeds (not checked)

Row kinds
---------
``claim``
    tests a statement of the paper. Every claim row says in ``why=`` how its threshold was derived
    (from the theory, a stated tolerance, or a calibration run, with the probability that a correct
    result passes when the check is a band or family-wise test). Exactly one claim row is the
    **headline**: the paper's own headline claim.
``control``
    the same test with the one ingredient the claim depends on removed; it *passes* when the effect
    vanishes (the check fails there). Also needs ``why=``.
``sanity``
    true by construction, or a plumbing check. Shown, never counted in the status.

The status rule
---------------
- **not reproduced**: the headline claim row failed (no other row can lift it);
- **reproduced**: the headline passed, and so did every other claim row and every control;
- **partly**: the headline passed, but another claim row or a control failed.

Sanity rows never change the status (a failing one is printed as a warning: it is a bug to look at).
A chapter that could read only the paper's abstract says ``basis="abstract"``; its status is then
labelled "(our construction)" wherever it is shown.

Chapters not yet re-judged under this method still use :meth:`Chapter.check` (legacy rows, no headline,
no ``why``); their record says ``method: "legacy"`` and the status page marks them. New chapters must not
use it; it goes away when the last chapter has been re-judged.
"""

from __future__ import annotations

import html
import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

from replib.runtime import choose_scale, default_device, seed_everything

STATUSES = ("reproduced", "partly", "not reproduced")
KINDS = ("claim", "control", "sanity")
TESTED = ("yes", "no", "not testable here")
BASES = ("paper", "abstract")


def fmt(value: Any, digits: int = 4) -> str:
    """A number at ``digits`` significant digits (the book never prints raw floats); text passes through."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) or hasattr(value, "item"):
        value = float(value)
        if value == 0:
            return "0"
        return f"{value:.{digits}g}"
    return str(value)


@dataclass
class Row:
    name: str
    kind: str  # "claim", "control", "sanity" (or "check": a legacy row)
    paper: Any
    ours: Any
    passed: bool
    ci: tuple[float, float] | None = None
    note: str = ""
    timed: bool = False  # ours is a wall-clock measurement: it varies between runs, only `passed` is stable
    why: str = ""  # how the threshold was derived (claim and control rows)
    headline: bool = False

    def ours_text(self) -> str:
        if self.timed:  # keep run-to-run noise out of the checked output; the number is in the record
            return "timed (see above)"
        text = fmt(self.ours)
        if self.ci is not None:
            text += f" [{fmt(self.ci[0], 3)}, {fmt(self.ci[1], 3)}]"
        return text


@dataclass
class PaperClaim:
    """One statement of the paper and whether this chapter tests it (``row``: the claim row that does)."""

    claim: str
    tested: str
    row: str | None = None
    note: str = ""


@dataclass
class Chapter:
    slug: str
    scale: str
    seed: int = 0
    cite: str = ""  # the paper's key in book/references.bib
    claim: str = ""  # the claim in one line, for the replication status page
    basis: str = "paper"  # "paper": built from the paper's text; "abstract": only the abstract was found
    rows: list[Row] = field(default_factory=list)
    claims: list[PaperClaim] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.slug.count("/") != 1:
            raise ValueError(f"slug must look like 'part/name', got {self.slug!r}")
        choose_scale(self.scale, smoke=0, book=0, full=0)  # validates the scale name
        if not self.cite or not self.claim:
            raise ValueError("a chapter needs cite= (its bibtex key) and claim= (one line)")
        if self.basis not in BASES:
            raise ValueError(f"basis must be one of {BASES}, got {self.basis!r}")
        self.generator = seed_everything(self.seed)
        self.device = default_device()
        self.started = time.perf_counter()

    def settings(self, **table: Any) -> Any:
        """The settings for this chapter's scale (see :func:`replib.runtime.choose_scale`)."""
        return choose_scale(self.scale, **table)

    # --- verdict rows -------------------------------------------------------------------------------
    def check_claim(self, name: str, *, paper: Any, ours: Any, passed: bool, why: str,
              ci: Sequence[float] | None = None, headline: bool = False, note: str = "",
              timed: bool = False) -> None:
        """A row testing a statement of the paper; ``why`` says how its threshold was derived.
        ``headline=True`` on exactly one row: the paper's own headline claim, which decides the status.
        ``timed=True`` marks a wall-clock value: the table then shows where to find it, and the smoke
        regression compares only whether it passed."""
        self._add(Row(name, "claim", paper, ours, bool(passed), _ci(ci), note, timed, _why(why, name),
                      bool(headline)))

    def control(self, name: str, *, paper: Any, ours: Any, passed: bool, why: str = "",
                ci: Sequence[float] | None = None, note: str = "", timed: bool = False) -> None:
        """A negative control: the same test with the claim's one ingredient removed; ``passed`` means
        the effect vanished, as it must. ``why`` says what was removed and why the check must fail."""
        self._add(Row(name, "control", paper, ours, bool(passed), _ci(ci), note, timed,
                      why if self._legacy() else _why(why, name)))

    def sanity(self, name: str, *, paper: Any, ours: Any, passed: bool,
               ci: Sequence[float] | None = None, note: str = "") -> None:
        """A row that is true by construction or checks the plumbing: shown, never counted."""
        self._add(Row(name, "sanity", paper, ours, bool(passed), _ci(ci), note))

    def check(self, name: str, *, paper: Any, ours: Any, passed: bool,
              ci: Sequence[float] | None = None, note: str = "", timed: bool = False) -> None:
        """Legacy claim row (chapters not yet re-judged; see the module docstring). Use :meth:`check_claim`."""
        self._add(Row(name, "check", paper, ours, bool(passed), _ci(ci), note, timed))

    def paper_claim(self, claim: str, *, row: str | None = None, tested: str | None = None,
                    note: str = "") -> None:
        """List one of the paper's claims. With ``row`` it is tested by that claim row; otherwise say
        ``tested="no"`` (could be, was not) or ``"not testable here"``, with the reason in ``note``."""
        tested = tested or ("yes" if row else None)
        if tested not in TESTED:
            raise ValueError(f"paper_claim {claim!r}: give row= (tested) or tested= one of {TESTED}")
        if (tested == "yes") != (row is not None):
            raise ValueError(f"paper_claim {claim!r}: a tested claim names its row, an untested one none")
        if tested != "yes" and not note.strip():
            raise ValueError(f"paper_claim {claim!r}: say in note= why it is not tested")
        self.claims.append(PaperClaim(claim, tested, row, note))

    def _legacy(self) -> bool:
        return any(r.kind == "check" for r in self.rows)

    def _add(self, row: Row) -> None:
        if any(r.name == row.name for r in self.rows):
            raise ValueError(f"duplicate verdict row {row.name!r}")
        new_method = row.kind in ("claim", "sanity") or row.headline
        if (row.kind == "check" and any(r.kind in ("claim", "sanity") for r in self.rows)) or (
                new_method and self._legacy()):
            raise ValueError("do not mix legacy check() rows with check_claim()/sanity() rows")
        if row.headline and any(r.headline for r in self.rows):
            raise ValueError(f"a second headline row {row.name!r}: exactly one claim row is the headline")
        self.rows.append(row)

    # --- the verdict --------------------------------------------------------------------------------
    @property
    def headline(self) -> Row | None:
        return next((r for r in self.rows if r.headline), None)

    @property
    def status(self) -> str:
        if self._legacy():
            return self._legacy_status()
        claims = [r for r in self.rows if r.kind == "claim"]
        controls = [r for r in self.rows if r.kind == "control"]
        if self.headline is None:
            raise ValueError("a verdict needs a headline: ch.check_claim(..., headline=True) on the paper's "
                             "own headline claim")
        if not controls:
            raise ValueError("a verdict needs at least one negative control: ch.control(...)")
        if not self.headline.passed:
            return "not reproduced"
        return "reproduced" if all(r.passed for r in claims + controls) else "partly"

    def _legacy_status(self) -> str:
        checks = [r for r in self.rows if r.kind == "check"]
        controls = [r for r in self.rows if r.kind == "control"]
        if not checks or not controls:
            raise ValueError("a verdict needs at least one check and one negative control")
        if all(r.passed for r in self.rows):
            return "reproduced"
        if not any(r.passed for r in checks):
            return "not reproduced"
        return "partly"

    @property
    def status_label(self) -> str:
        """The status as readers see it: "(our construction)" when only the abstract could be read."""
        return self.status + (" (our construction)" if self.basis == "abstract" else "")

    def _validate_claims(self) -> None:
        if self._legacy():
            return
        if not self.claims:
            raise ValueError("list the paper's claims with ch.paper_claim(...) before ch.verdict()")
        names = {r.name for r in self.rows if r.kind == "claim"}
        unknown = [c.row for c in self.claims if c.row is not None and c.row not in names]
        if unknown:
            raise ValueError(f"paper_claim rows {unknown} are not claim rows of this verdict")
        if self.headline.name not in {c.row for c in self.claims}:
            raise ValueError("the headline row must test one of the listed paper claims")

    def table(self) -> str:
        """The verdict as fixed-width text (the nbval-checked form; readers see :meth:`html_table`)."""
        header = ("", "test", "paper", "ours", "pass")
        lines = [(_kind_label(r), r.name, fmt(r.paper), r.ours_text(), fmt(r.passed)) for r in self.rows]
        widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(len(header))]
        out = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *lines]]
        out.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(out)

    def html_table(self) -> str:
        """The verdict as an HTML table that wraps on narrow screens (what readers see)."""
        status = self.status
        body = []
        for r in self.rows:
            why = f'<div class="replib-why">{html.escape(r.why)}</div>' if r.why else ""
            note = f'<div class="replib-why">{html.escape(r.note)}</div>' if r.note else ""
            mark = "✔" if r.passed else "✘"
            body.append(
                f'<tr class="replib-{r.kind}"><td>{html.escape(_kind_label(r))}</td>'
                f"<td>{html.escape(r.name)}{why}{note}</td><td>{html.escape(fmt(r.paper))}</td>"
                f"<td>{html.escape(r.ours_text())}</td>"
                f'<td class="replib-{"pass" if r.passed else "fail"}">{mark}</td></tr>')
        tested = sum(c.tested == "yes" for c in self.claims)
        coverage = f" · claims tested: {tested} of {len(self.claims)}" if self.claims else ""
        return (f'<div class="replib-verdict"><p class="replib-status replib-{status.replace(" ", "-")}">'
                f"Verdict ({self.scale} scale): {html.escape(self.status_label.upper())}{coverage}</p>"
                '<table><thead><tr><th>row</th><th>test · how the threshold was derived</th>'
                "<th>paper</th><th>ours</th><th>pass</th></tr></thead><tbody>"
                + "".join(body) + "</tbody></table></div>")

    def verdict(self) -> None:
        """Show the verdict table and status, and write the machine-readable record.

        The record goes to the path in ``REPLIB_RECORD`` when the book's executor runs the chapter;
        run interactively (or in Colab) nothing is written.
        """
        status = self.status
        self._validate_claims()
        smoke = ("\n(smoke scale: a plumbing check of the code, not the replication; the book scale "
                 "judges the claim)") if self.scale == "smoke" else ""
        if self._legacy():  # the pre-method output, unchanged until the chapter is re-judged
            print(self.table())
            print(f"\nVerdict ({self.scale} scale): {status.upper()}{smoke}")
            self._write_record()
            return
        text = self.table() + f"\n\nVerdict ({self.scale} scale): {self.status_label.upper()}"
        if self.claims:
            text += f" · claims tested: {sum(c.tested == 'yes' for c in self.claims)} of {len(self.claims)}"
        text += smoke
        broken = [r.name for r in self.rows if r.kind == "sanity" and not r.passed]
        if broken:
            text += f"\nWARNING: sanity rows failed (a bug, not a verdict): {', '.join(broken)}"
        _show(text, self.html_table())
        self._write_record()

    def _write_record(self) -> None:
        record = self.record()
        path = os.environ.get("REPLIB_RECORD")
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(json.dumps(record, indent=1) + "\n")

    def record(self) -> dict:
        rec = {
            "slug": self.slug,
            "scale": self.scale,
            "seed": self.seed,
            "cite": self.cite,
            "claim": self.claim,
            "status": self.status,
            "rows": [asdict(r) | {"ours": _plain(r.ours), "paper": _plain(r.paper)} for r in self.rows],
            "runtime_s": round(time.perf_counter() - self.started, 1),
            "device": self.device_name(),
        }
        if self._legacy():
            return rec | {"method": "legacy"}
        rec |= {
            "method": "calibrated",
            "basis": self.basis,
            "headline": self.headline.name,
            "claims": [asdict(c) for c in self.claims],
        }
        others = other_seed_runs()
        if others:
            failed = [r.name for r in self.rows if r.kind in ("claim", "control") and not r.passed]
            mine = {"seed": self.seed, "status": self.status, "headline": _plain(self.headline.ours),
                    "failed": failed}
            rec["seed_runs"] = sorted([mine, *others], key=lambda r: r["seed"])
        return rec

    def device_name(self) -> str:
        if self.device.type == "cuda":
            return f"GPU: {torch.cuda.get_device_name(self.device)}"
        return f"CPU: {_cpu_model()}, {torch.get_num_threads()} threads"

    def run_info(self) -> None:
        """Show how this page was produced: scale, seed, device, versions, wall time, and the status
        at the other seeds the executor ran (a note, not checked)."""
        import replib

        items = {
            "scale": self.scale,
            "seed": str(self.seed),
            "device": self.device_name(),
            "versions": f"replib {replib.__version__}, torch {torch.__version__}",
            "wall time": f"{time.perf_counter() - self.started:.0f} s",
        }
        others = other_seed_runs()
        if others and not self._legacy():
            runs = sorted([{"seed": self.seed, "status": self.status}, *others], key=lambda r: r["seed"])
            items["status by seed"] = ", ".join(f"SEED {r['seed']}: {r['status']}" for r in runs)
        text = " · ".join(f"{k} {v}" for k, v in items.items())
        rows = "".join(f"<tr><th>{k}</th><td>{html.escape(v)}</td></tr>" for k, v in items.items())
        _show(text, f'<div class="admonition note"><p class="admonition-title">Run info</p>'
                    f"<table>{rows}</table></div>")


def other_seed_runs() -> list[dict]:
    """Verdicts of the same chapter at other seeds, handed over by the executor (``--seeds``) in
    ``REPLIB_OTHER_SEEDS`` as a JSON list of {"seed", "status", "headline", "failed"}; [] when run
    alone."""
    text = os.environ.get("REPLIB_OTHER_SEEDS", "")
    return json.loads(text) if text else []


def _kind_label(row: Row) -> str:
    return "headline" if row.headline else row.kind


def _show(text: str, html_text: str) -> None:
    """Display ``html_text`` in a notebook (with ``text`` as its plain form), or print ``text``."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is None or get_ipython() is None:
        print(text)
        return
    display({"text/plain": text, "text/html": html_text}, raw=True)


def _why(why: str, name: str) -> str:
    if not isinstance(why, str) or not why.strip():
        raise ValueError(f"row {name!r} needs why=: how its threshold was derived")
    return why.strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ci(ci: Sequence[float] | None) -> tuple[float, float] | None:
    if ci is None:
        return None
    lo, hi = (float(c) for c in ci)
    return (lo, hi)


def _plain(value: Any) -> Any:
    """JSON-friendly form of a measured value (numbers stay numbers, so CI can compare them numerically)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) or hasattr(value, "item"):
        return float(value)
    return str(value)
