"""Smoke-scale regression: run chapters at ``smoke`` and compare their verdict records with references.

    python -m tools.regression                 # run every chapter at smoke scale and compare
    python -m tools.regression --update        # ... and (re)write tests/smoke_refs/<part>/<slug>.json

Smoke runs always use one thread per chapter, so the numbers do not depend on how many chapters run
at once; chapters with wall-clock checks run alone, after the others. Measured numbers are compared with a relative tolerance, statuses and pass/fail exactly; rows
marked ``timed`` (wall-clock measurements) only by pass/fail.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from tools.chapters import ChapterFiles, all_chapters, find
from tools.execute import Result, execute

RTOL = 1e-3
TIMEOUT_S = 300


def measures_time(chapter: ChapterFiles) -> bool:
    """Whether the chapter's smoke reference has wall-clock (``timed``) verdict rows."""
    if not chapter.smoke_ref.exists():
        return False
    return any(row.get("timed", False) for row in json.loads(chapter.smoke_ref.read_text())["rows"])


def run_smoke(chapters: list[ChapterFiles], out: Path, jobs: int = 2) -> dict[str, Result]:
    """Execute ``chapters`` at smoke scale into ``out``, ``jobs`` at a time, one thread each. Chapters that
    time code run afterwards one at a time, so that no other chapter competes for the CPU while they
    measure (their timing checks are pass/fail in the reference)."""
    def run(chapter):
        return execute(chapter, "smoke", out / f"{chapter.slug}.ipynb", TIMEOUT_S, threads=1)

    timing = [c for c in chapters if measures_time(c)]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(run, [c for c in chapters if c not in timing]))
    results += [run(c) for c in timing]
    return {r.chapter.slug: r for r in results}


def record_of(result: Result) -> dict:
    return nbformat.read(result.output, as_version=4).metadata["replib"]["record"]


def _close(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-12)
    return a == b


def compare(record: dict, ref: dict) -> list[str]:
    """Differences between a fresh smoke record and its reference (empty when they agree)."""
    problems = []
    if record["status"] != ref["status"]:
        problems.append(f"status {record['status']!r}, reference {ref['status']!r}")
    rows, ref_rows = {r["name"]: r for r in record["rows"]}, {r["name"]: r for r in ref["rows"]}
    if rows.keys() != ref_rows.keys():
        problems.append(f"verdict rows {sorted(rows)}, reference {sorted(ref_rows)}")
    for name in rows.keys() & ref_rows.keys():
        row, want = rows[name], ref_rows[name]
        timed = row.get("timed", False) or want.get("timed", False)  # wall-clock values: only pass/fail is stable
        for key in ("kind", "paper", "passed") if timed else ("kind", "paper", "ours", "passed"):
            if not _close(row[key], want[key]):
                problems.append(f"{name!r}: {key} = {row[key]!r}, reference {want[key]!r}")
        if not timed and ((row["ci"] is None) != (want["ci"] is None) or (
                row["ci"] and not all(_close(a, b) for a, b in zip(row["ci"], want["ci"])))):
            problems.append(f"{name!r}: ci = {row['ci']}, reference {want['ci']}")
    return problems


def reference_view(record: dict) -> dict:
    """What a smoke reference stores: the verdict, without run-dependent fields (runtime, device)."""
    return {k: record[k] for k in ("slug", "scale", "seed", "status", "rows")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapters", nargs="*")
    parser.add_argument("--update", action="store_true", help="write the fresh records as the references")
    args = parser.parse_args(argv)
    chapters = find(args.chapters) if args.chapters else all_chapters()
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for slug, result in run_smoke(chapters, Path(tmp)).items():
            if not result.ok:
                print(f"FAIL {slug}: {result.message}")
                failed = True
                continue
            record = reference_view(record_of(result))
            ref_path = result.chapter.smoke_ref
            if args.update:
                ref_path.parent.mkdir(parents=True, exist_ok=True)
                ref_path.write_text(json.dumps(record, indent=1) + "\n")
                print(f"wrote {ref_path} ({result.seconds:.0f} s)")
                continue
            problems = compare(record, json.loads(ref_path.read_text())) if ref_path.exists() else ["no reference"]
            print(f"{'ok  ' if not problems else 'DIFF'} {slug} ({result.seconds:.0f} s)")
            for p in problems:
                print(f"    {p}")
            failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
