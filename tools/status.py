"""Generate the replication status page and the README table from the verdict records stored in the
executed notebooks.

    python -m tools.status            # write book/status.md and the table in README.md
    python -m tools.status --check    # fail if either is out of date (used by the tests)

Chapters are grouped by part in the order of the table of contents. For each: the status (labelled
"our construction" when only the abstract could be read), the status at every seed the executor ran,
how many of the paper's claims the chapter tests, and the book-scale runtime. Chapters whose verdict
still uses the legacy rows (no headline, no calibrated thresholds) are marked as not yet re-judged.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

import yaml

from tools.chapters import ROOT, all_chapters

BIB = ROOT / "book" / "references.bib"
TOC = ROOT / "book" / "_toc.yml"
STATUS_PAGE = ROOT / "book" / "status.md"
README = ROOT / "README.md"
START, END = "<!-- status:start -->", "<!-- status:end -->"
STATUSES = ("reproduced", "partly", "not reproduced")
LEGACY = "legacy verdict, not yet re-judged"


def bib_entries() -> dict[str, dict[str, str]]:
    """key -> {author, title, year} from book/references.bib (enough for a short citation)."""
    entries = {}
    for match in re.finditer(r"@\w+\{([^,\s]+),(.*?)\n\}", BIB.read_text(), flags=re.S):
        fields = dict(re.findall(r"(\w+)\s*=\s*\{(.*?)\},?\s*$", match.group(2), flags=re.M))
        entries[match.group(1)] = {k.lower(): v.replace("{", "").replace("}", "") for k, v in fields.items()}
    return entries


def short_citation(entry: dict[str, str]) -> str:
    authors = [a.strip() for a in entry.get("author", "?").split(" and ")]
    first = authors[0].split(",")[0] if "," in authors[0] else authors[0].split()[-1]
    etal = " et al." if len(authors) > 2 else (f" & {authors[1].split(',')[0]}" if len(authors) == 2 else "")
    return f"{first}{etal} ({entry.get('year', '?')})"


def title_of(notebook: dict) -> str:
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "(untitled)"


def book_parts() -> list[tuple[str, list[str]]]:
    """(caption, [slug, ...]) for each part of the table of contents that holds chapters, in book order."""
    toc = yaml.safe_load(TOC.read_text())
    parts = []
    for part in toc["parts"]:
        slugs = [c["file"].removeprefix("chapters/") for c in part["chapters"]
                 if c["file"].startswith("chapters/")]
        if slugs:
            parts.append((part["caption"], slugs))
    return parts


def chapter_row(slug: str, bib: dict) -> dict:
    chapter = {c.slug: c for c in all_chapters()}[slug]
    if not chapter.notebook.exists():
        return {"slug": slug, "title": slug, "status": "not executed", "label": "not executed"}
    nb = json.loads(chapter.notebook.read_text())
    rec = nb["metadata"].get("replib", {}).get("record", {})
    cite = rec.get("cite", "")
    status = rec.get("status", "not executed")
    legacy = rec.get("method", "legacy") == "legacy"
    claims = rec.get("claims", [])
    runs = rec.get("seed_runs", [])
    return {
        "slug": slug,
        "title": title_of(nb),
        "cite": cite,
        "paper": short_citation(bib[cite]) if cite in bib else cite,
        "claim": rec.get("claim", ""),
        "status": status,
        "label": status + (" (our construction)" if rec.get("basis") == "abstract" else ""),
        "legacy": legacy,
        "seeds": seed_summary(runs) if runs else ("SEED 0 only" if not legacy else ""),
        "coverage": (f"{sum(c['tested'] == 'yes' for c in claims)} of {len(claims)}" if claims else ""),
        "runtime": f"{rec['runtime_s']:.0f} s" if "runtime_s" in rec else "",
    }


def seed_summary(runs: list[dict]) -> str:
    """"3 of 3 seeds" when every seed agrees with SEED 0, else each seed's status."""
    first = next(r["status"] for r in runs if r["seed"] == 0)
    if all(r["status"] == first for r in runs):
        return f"same at SEED {', '.join(str(r['seed']) for r in runs)}"
    return "; ".join(f"SEED {r['seed']}: {r['status']}" for r in runs)


def rows() -> list[tuple[str, list[dict]]]:
    bib = bib_entries()
    return [(caption, [chapter_row(s, bib) for s in slugs]) for caption, slugs in book_parts()]


def counts(chapters: list[dict]) -> str:
    found = [f"{sum(c['status'] == s for c in chapters)} {s}" for s in STATUSES]
    legacy = sum(c.get("legacy", False) for c in chapters)
    return ", ".join(found) + (f"; {legacy} on the legacy verdict" if legacy else "")


def badge(row: dict) -> str:
    css = row["status"].replace(" ", "-")
    return f'<span class="replib-badge replib-{css}">{row["label"]}</span>'


def status_page() -> str:
    parts = rows()
    everything = [c for _, chapters in parts for c in chapters]
    out = [
        "# Replication status",
        "",
        "Every chapter ends with a verdict: the paper's prediction beside our measurement, with how each",
        "threshold was derived. One row is the **headline**, the paper's own headline claim; the others",
        "test further claims, run **negative controls** (the same check with the one ingredient the claim",
        "needs removed, which must fail) or are **sanity** rows (true by construction; shown, never",
        "counted). *Reproduced*: the headline, every other claim row and every control passed. *Partly*: the",
        "headline passed but another claim row or a control failed. *Not reproduced*: the headline failed.",
        "*Our construction*: only the paper's abstract could be read, so the test is ours.",
        "Each verdict is run at SEED 0 (the page) and SEED 1 and 2; each entry says whether the status",
        "held there. Chapters marked *legacy verdict, not yet re-judged* still carry the older verdict",
        "(no headline, thresholds not yet calibrated).",
        "This page is generated from the verdict records (`python -m tools.status`).",
        "",
        f"{len(everything)} chapters: {counts(everything)}.",
    ]
    for caption, chapters in parts:
        out += ["", f"## {caption}", "", f"{len(chapters)} chapters: {counts(chapters)}.", ""]
        for r in chapters:
            facts = [badge(r)]
            if r.get("legacy"):
                facts.append(f"*{LEGACY}*")
            else:
                facts += [r["seeds"], f"claims tested: {r['coverage']}"]
            facts.append(r.get("runtime", ""))
            paper = f"{{cite:t}}`{r['cite']}`" if r.get("cite") else ""
            out += [f"- **[{r['title']}](chapters/{r['slug']}.ipynb)** · {paper}  ",
                    f"  {' · '.join(f for f in facts if f)}  ",
                    f"  {r.get('claim', '')}"]
    return "\n".join(out) + "\n"


def table() -> str:
    lines = ["| Chapter | Paper | Status | Seeds | Claims tested | Runtime |", "|---|---|---|---|---|---|"]
    for caption, chapters in rows():
        lines.append(f"| **{caption}** | | | | | |")
        for r in chapters:
            status = f"**{r['label']}**" + (f" ({LEGACY})" if r.get("legacy") else "")
            lines.append(f"| [{r['title']}](book/chapters/{r['slug']}.ipynb) | {r.get('paper', '')} | {status} "
                         f"| {r.get('seeds', '')} | {r.get('coverage', '')} | {r.get('runtime', '')} |")
    return "\n".join(lines)


def readme_text() -> str:
    text = README.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"README.md lacks the {START} / {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    wanted = {STATUS_PAGE: status_page(), README: readme_text()}
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text() != text]
    if args.check:
        for p in stale:
            print(f"{p.relative_to(ROOT)} is out of date: run `python -m tools.status`")
        return 1 if stale else 0
    for p in stale:
        p.write_text(wanted[p])
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
