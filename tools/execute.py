"""Execute chapters with papermill, each in its own process (``--jobs`` at once), into the book.

    python -m tools.execute                       # every chapter whose notebook is out of date, book scale
    python -m tools.execute --all                 # every chapter
    python -m tools.execute kernels/neural_tangent_kernel --scale smoke --out /tmp/nb

A chapter is out of date when its notebook is missing, was executed at another scale, or was executed
from a source with another SHA-256 (stored in the notebook's metadata under ``replib``).

Book-scale runs into the book also run the chapter at the other ``--seeds`` (default 1 and 2) first and
hand their verdicts to the SEED 0 run (``REPLIB_OTHER_SEEDS``), whose record then carries ``seed_runs``:
the status and headline number at every seed. The committed page is always SEED 0. Each chapter
runs in its own process with a timeout; the notebook is written to a temporary file and moved into place
only when execution succeeded, so an interrupted or failed run never leaves a half-written notebook. A
failing chapter does not stop the others; the command exits non-zero and lists the failures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat

from tools.chapters import ROOT, ChapterFiles, all_chapters, find

FAILED_DIR = ROOT / "_build" / "failed"


@dataclass
class Result:
    chapter: ChapterFiles
    ok: bool
    seconds: float
    output: Path | None
    message: str = ""


def execute(chapter: ChapterFiles, scale: str, out: Path, timeout: int, threads: int, seed: int = 0,
            other_seeds: list[dict] | None = None, env: dict[str, str] | None = None) -> Result:
    """Run one chapter at ``scale`` and ``seed``; on success its executed notebook is at ``out``.
    ``other_seeds`` (verdicts at other seeds) is handed to the chapter for its record and run info;
    ``env`` adds environment variables (e.g. the numerical configurations of ``tools.regression``)."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="replib-exec-") as tmp:
        tmp = Path(tmp)
        src_nb = tmp / "input.ipynb"
        run_nb = tmp / "output.ipynb"
        record = tmp / "record.json"
        nbformat.write(jupytext.read(chapter.source), src_nb)
        env = os.environ | {
            "REPLIB_PROGRESS": "0",
            "REPLIB_RECORD": str(record),
            "OMP_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads),
            "REPLIB_OTHER_SEEDS": json.dumps(other_seeds or []),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "lib"), os.environ.get("PYTHONPATH")])),
        } | (env or {})
        cmd = [sys.executable, "-m", "papermill", str(src_nb), str(run_nb), "-p", "SCALE", scale, "-p", "SEED", str(seed),
               "-k", "python3", "--cwd", str(chapter.source.parent), "--no-progress-bar", "--log-level", "ERROR"]
        # A session of its own, so a timeout kills papermill *and* its kernel.
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return Result(chapter, False, time.perf_counter() - start, None, f"timed out after {timeout} s")
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            if run_nb.exists():
                FAILED_DIR.mkdir(parents=True, exist_ok=True)
                failed = FAILED_DIR / f"{chapter.slug.replace('/', '__')}.{scale}.seed{seed}.ipynb"
                failed.write_bytes(run_nb.read_bytes())
                where = f" (partial notebook: {failed.relative_to(ROOT)})"
            else:
                where = ""
            return Result(chapter, False, seconds, None, _last_error(stderr) + where)
        if not record.exists():
            return Result(chapter, False, seconds, None, "the chapter never called ch.verdict()")
        nb = nbformat.read(run_nb, as_version=4)
        _tidy(nb)
        nb.metadata["replib"] = {
            "source_sha256": chapter.source_hash(),
            "scale": scale,
            "record": json.loads(record.read_text()),
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        nbformat.write(nb, partial)
        os.replace(partial, out)
    return Result(chapter, True, seconds, out)


def _tidy(nb) -> None:
    """Drop run-to-run noise (timestamps, random cell ids) and papermill's injected-parameters cell.

    The injected values are written into the ``parameters`` cell instead, so the committed notebook
    shows the values that produced it and a reader's edit of ``SCALE`` there takes effect (in Colab or a
    downloaded copy: a leftover injected cell would silently override it)."""
    nb.metadata.pop("papermill", None)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    nb.cells = [c for c in nb.cells if c not in injected]
    values = dict(re.findall(r"^(\w+) = (.+)$", injected[0].source, re.M)) if injected else {}
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            for name, value in values.items():
                cell.source = re.sub(rf"^{name} = [^#\n]*?(\s*#|$)", rf"{name} = {value}\1", cell.source,
                                     count=1, flags=re.M)
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:03d}"  # jupytext draws random ids: keep re-executions diff-friendly
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)


def seed_run(result: Result) -> dict:
    """The part of a run's verdict that the SEED 0 record keeps: seed, status, headline number, and
    the claim and control rows that failed (so a reader sees why another seed's status differs)."""
    rec = nbformat.read(result.output, as_version=4).metadata["replib"]["record"]
    head = next((r for r in rec["rows"] if r.get("headline")), None)
    failed = [r["name"] for r in rec["rows"] if r["kind"] in ("claim", "control") and not r["passed"]]
    return {"seed": rec["seed"], "status": rec["status"], "headline": head["ours"] if head else None,
            "failed": failed}


def _last_error(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return "\n    ".join(lines[-12:]) or "papermill failed without a message"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapters", nargs="*", help="slugs or paths (default: all chapters)")
    parser.add_argument("--scale", default="book", choices=["smoke", "book", "full"])
    parser.add_argument("--all", action="store_true", help="re-execute even chapters that are up to date")
    parser.add_argument("--out", type=Path, help="write notebooks under this folder instead of book/chapters")
    parser.add_argument("--jobs", type=int, default=1,
                        help="chapters run at once, sharing the cores (default 1: each chapter gets every core, "
                             "as its time budget and a later nbval check assume)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per chapter (default 900)")
    parser.add_argument("--seed", type=int, default=0, help="SEED of the run (only 0 may write into the book)")
    parser.add_argument("--seeds", type=int, nargs="*", default=[1, 2],
                        help="book runs into the book: the other seeds whose status the record carries "
                             "(default 1 2; pass --seeds with no value to skip them)")
    args = parser.parse_args(argv)

    chapters = find(args.chapters) if args.chapters else all_chapters()
    if args.out is None and args.scale != "book":
        parser.error("only book-scale runs may write into book/chapters: pass --out for other scales")
    if args.out is None and args.seed != 0:
        parser.error("the book shows SEED 0: pass --out for a run at another seed")
    if not (args.all or args.chapters or args.out):
        chapters = [c for c in chapters if c.is_stale(args.scale)]
    if not chapters:
        print("every chapter is up to date")
        return 0
    threads = max(1, (os.cpu_count() or 1) // min(args.jobs, len(chapters)))

    def run(chapter: ChapterFiles) -> Result:
        out = (args.out / f"{chapter.slug}.ipynb") if args.out else chapter.notebook
        others = []
        # Legacy verdicts (ch.check rows) keep no seed_runs: do not spend two book runs on them.
        legacy = "ch.check(" in chapter.source.read_text()
        for seed in (args.seeds if args.scale == "book" and args.out is None and not legacy else []):
            with tempfile.TemporaryDirectory() as tmp:
                r = execute(chapter, args.scale, Path(tmp) / "nb.ipynb", args.timeout, threads, seed=seed)
                print(f"{'ok  ' if r.ok else 'FAIL'} {chapter.slug} ({args.scale}, SEED {seed}, "
                      f"{r.seconds:.0f} s)", flush=True)
                if not r.ok:
                    return r
                others.append(seed_run(r))
        result = execute(chapter, args.scale, out, args.timeout, threads, seed=args.seed, other_seeds=others)
        print(f"{'ok  ' if result.ok else 'FAIL'} {chapter.slug} ({args.scale}, {result.seconds:.0f} s)", flush=True)
        return result

    print(f"executing {len(chapters)} chapter(s) at {args.scale} scale, {args.jobs} at a time", flush=True)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(run, chapters))
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(f"\nFAILED {r.chapter.slug}:\n    {r.message}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
