"""Generate the replication status table from the verdict records stored in the executed notebooks.

    python -m tools.status            # write book/status.md and the table in README.md
    python -m tools.status --check    # fail if either is out of date (used by the tests)
"""

from __future__ import annotations

import argparse
import json
import re
import sys

from tools.chapters import ROOT, all_chapters

BIB = ROOT / "book" / "references.bib"
STATUS_PAGE = ROOT / "book" / "status.md"
README = ROOT / "README.md"
START, END = "<!-- status:start -->", "<!-- status:end -->"
MARK = {"reproduced": "**reproduced**", "partly": "*partly*", "not reproduced": "**not reproduced**"}


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


def rows() -> list[dict]:
    out = []
    bib = bib_entries()
    for chapter in all_chapters():
        if not chapter.notebook.exists():
            out.append({"slug": chapter.slug, "title": chapter.slug, "status": "not executed"})
            continue
        nb = json.loads(chapter.notebook.read_text())
        rec = nb["metadata"].get("replib", {}).get("record", {})
        cite = rec.get("cite", "")
        out.append({
            "slug": chapter.slug,
            "title": title_of(nb),
            "cite": cite,
            "paper": short_citation(bib[cite]) if cite in bib else cite,
            "claim": rec.get("claim", ""),
            "status": rec.get("status", "not executed"),
            "scale": rec.get("scale", ""),
            "runtime": f"{rec['runtime_s']:.0f} s" if "runtime_s" in rec else "",
        })
    return out


def table(link_prefix: str, cite_role: bool) -> str:
    lines = ["| Chapter | Paper | Claim | Status | Scale | Runtime |", "|---|---|---|---|---|---|"]
    for r in rows():
        paper = f"{{cite:t}}`{r['cite']}`" if cite_role and r.get("cite") else r.get("paper", "")
        chapter = f"[{r['title']}]({link_prefix}{r['slug']}.ipynb)"
        lines.append(f"| {chapter} | {paper} | {r.get('claim', '')} | {MARK.get(r['status'], r['status'])} "
                     f"| {r.get('scale', '')} | {r.get('runtime', '')} |")
    return "\n".join(lines)


def status_page() -> str:
    counts = {s: sum(r["status"] == s for r in rows()) for s in MARK}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    return (
        "# Replication status\n\n"
        "Every chapter ends with a verdict: the paper's prediction beside our measurement, a check that can\n"
        "fail, and a negative control where the effect must vanish. *Reproduced* means every check and\n"
        "control passed, *partly* that some did, *not reproduced* that no check of the claim passed.\n"
        "This page is generated from the verdict records (`python -m tools.status`); do not edit it.\n\n"
        f"{len(rows())} chapters: {summary}.\n\n"
        f"{table('chapters/', cite_role=True)}\n"
    )


def readme_text() -> str:
    text = README.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"README.md lacks the {START} / {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table('book/chapters/', cite_role=False)}\n{END}{tail}"


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
