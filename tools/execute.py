"""Execute chapters with papermill, each in its own process (``--jobs`` at once), into the book.

    python -m tools.execute                       # every chapter whose notebook is out of date, book scale
    python -m tools.execute --all                 # every chapter
    python -m tools.execute kernels/neural_tangent_kernel --scale smoke --out /tmp/nb

A chapter is out of date when its notebook is missing, was executed at another scale, or was executed
from a source with another SHA-256 (stored in the notebook's metadata under ``replib``). Each chapter
runs in its own process with a timeout; the notebook is written to a temporary file and moved into place
only when execution succeeded, so an interrupted or failed run never leaves a half-written notebook. A
failing chapter does not stop the others; the command exits non-zero and lists the failures.
"""

from __future__ import annotations

import argparse
import json
import os
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


def execute(chapter: ChapterFiles, scale: str, out: Path, timeout: int, threads: int) -> Result:
    """Run one chapter at ``scale``; on success its executed notebook is at ``out``."""
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
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "lib"), os.environ.get("PYTHONPATH")])),
        }
        cmd = [sys.executable, "-m", "papermill", str(src_nb), str(run_nb), "-p", "SCALE", scale,
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
                failed = FAILED_DIR / f"{chapter.slug.replace('/', '__')}.{scale}.ipynb"
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
    """Drop run-to-run noise (timestamps, random cell ids) and hide papermill's injected-parameters cell."""
    nb.metadata.pop("papermill", None)
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:03d}"  # jupytext draws random ids: keep re-executions diff-friendly
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")


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
    args = parser.parse_args(argv)

    chapters = find(args.chapters) if args.chapters else all_chapters()
    if args.out is None and args.scale != "book":
        parser.error("only book-scale runs may write into book/chapters: pass --out for other scales")
    if not (args.all or args.chapters or args.out):
        chapters = [c for c in chapters if c.is_stale(args.scale)]
    if not chapters:
        print("every chapter is up to date")
        return 0
    threads = max(1, (os.cpu_count() or 1) // min(args.jobs, len(chapters)))

    def run(chapter: ChapterFiles) -> Result:
        out = (args.out / f"{chapter.slug}.ipynb") if args.out else chapter.notebook
        result = execute(chapter, args.scale, out, args.timeout, threads)
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
