"""One object per chapter: validates the scale, seeds, picks the device, collects the verdict.

A chapter creates it right after its ``parameters`` cell::

    ch = Chapter("kernels/neural_tangent_kernel", scale=SCALE, seed=SEED,
                 cite="jacot2018ntk", claim="The empirical NTK converges to a fixed kernel as width grows")
    cfg = ch.settings(smoke={...}, book={...}, full={...})
    ...
    ch.check("NTK error slope against width", paper=-0.5, ours=fit.exponent, ci=fit.ci,
             passed=fit.ci[0] <= -0.5 <= fit.ci[1])
    ch.control("same slope with ...", paper="no decay", ours=..., passed=...)
    ch.verdict()     # prints the verdict table (nbval-checked) and writes the record
    ch.run_info()    # scale, device, versions, wall time (not checked)

``check`` rows test the paper's claim; ``control`` rows run the same test where the paper says the effect
must vanish, and pass when it does vanish. The status is ``reproduced`` when every row passes,
``not reproduced`` when no claim row passes, and ``partly`` otherwise.
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
    kind: str  # "check" or "control"
    paper: Any
    ours: Any
    passed: bool
    ci: tuple[float, float] | None = None
    note: str = ""
    timed: bool = False  # ours is a wall-clock measurement: it varies between runs, only `passed` is stable

    def ours_text(self) -> str:
        if self.timed:  # keep run-to-run noise out of the checked output; the number is in the record
            return "timed (see above)"
        text = fmt(self.ours)
        if self.ci is not None:
            text += f" [{fmt(self.ci[0], 3)}, {fmt(self.ci[1], 3)}]"
        return text


@dataclass
class Chapter:
    slug: str
    scale: str
    seed: int = 0
    cite: str = ""  # the paper's key in book/references.bib
    claim: str = ""  # the claim in one line, for the replication status page
    rows: list[Row] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.slug.count("/") != 1:
            raise ValueError(f"slug must look like 'part/name', got {self.slug!r}")
        choose_scale(self.scale, smoke=0, book=0, full=0)  # validates the scale name
        if not self.cite or not self.claim:
            raise ValueError("a chapter needs cite= (its bibtex key) and claim= (one line)")
        self.generator = seed_everything(self.seed)
        self.device = default_device()
        self.started = time.perf_counter()

    def settings(self, **table: Any) -> Any:
        """The settings for this chapter's scale (see :func:`replib.runtime.choose_scale`)."""
        return choose_scale(self.scale, **table)

    def check(self, name: str, *, paper: Any, ours: Any, passed: bool,
              ci: Sequence[float] | None = None, note: str = "", timed: bool = False) -> None:
        """A row testing the paper's claim. ``timed=True`` marks a value measured in wall-clock time: the
        verdict table then shows where to find it instead of the number (which changes on every run), and
        the smoke regression compares only whether it passed."""
        self._add(Row(name, "check", paper, ours, bool(passed), _ci(ci), note, timed))

    def control(self, name: str, *, paper: Any, ours: Any, passed: bool,
                ci: Sequence[float] | None = None, note: str = "", timed: bool = False) -> None:
        """A negative-control row: the same test where the effect should vanish; ``passed`` means it did."""
        self._add(Row(name, "control", paper, ours, bool(passed), _ci(ci), note, timed))

    def _add(self, row: Row) -> None:
        if any(r.name == row.name for r in self.rows):
            raise ValueError(f"duplicate verdict row {row.name!r}")
        self.rows.append(row)

    @property
    def status(self) -> str:
        checks = [r for r in self.rows if r.kind == "check"]
        controls = [r for r in self.rows if r.kind == "control"]
        if not checks or not controls:
            raise ValueError("a verdict needs at least one check and one negative control")
        if all(r.passed for r in self.rows):
            return "reproduced"
        if not any(r.passed for r in checks):
            return "not reproduced"
        return "partly"

    def table(self) -> str:
        header = ("", "test", "paper", "ours", "pass")
        lines = [(r.kind, r.name, fmt(r.paper), r.ours_text(), fmt(r.passed)) for r in self.rows]
        widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(len(header))]
        out = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *lines]]
        out.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(out)

    def verdict(self) -> None:
        """Print the verdict table and status, and write the machine-readable record.

        The record goes to the path in ``REPLIB_RECORD`` when the book's executor runs the chapter;
        run interactively (or in Colab) nothing is written.
        """
        status = self.status
        print(self.table())
        print(f"\nVerdict ({self.scale} scale): {status.upper()}")
        record = self.record()
        path = os.environ.get("REPLIB_RECORD")
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(json.dumps(record, indent=1) + "\n")

    def record(self) -> dict:
        return {
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

    def device_name(self) -> str:
        if self.device.type == "cuda":
            return f"GPU: {torch.cuda.get_device_name(self.device)}"
        return f"CPU: {_cpu_model()}, {torch.get_num_threads()} threads"

    def run_info(self) -> None:
        """Show how this page was produced: scale, seed, device, versions, wall time (a note, not checked)."""
        import replib

        items = {
            "scale": self.scale,
            "seed": str(self.seed),
            "device": self.device_name(),
            "versions": f"replib {replib.__version__}, torch {torch.__version__}",
            "wall time": f"{time.perf_counter() - self.started:.0f} s",
        }
        text = " · ".join(f"{k} {v}" for k, v in items.items())
        rows = "".join(f"<tr><th>{k}</th><td>{html.escape(v)}</td></tr>" for k, v in items.items())
        try:
            from IPython.display import display
        except ImportError:
            print(text)
            return
        display({
            "text/plain": text,
            "text/html": f'<div class="admonition note"><p class="admonition-title">Run info</p>'
                         f"<table>{rows}</table></div>",
        }, raw=True)


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
