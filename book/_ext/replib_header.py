"""Sphinx extension: a header under each chapter's title, read from the verdict record that
``tools.execute`` stored in the executed notebook (status, seeds, claims tested, scale, runtime, the
paper's link, the chapter's files), and the verdict cell's code folded behind a toggle so the table
comes first. The notebook itself is not changed; only the rendered page."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

STATUS_CSS = {"reproduced": "reproduced", "partly": "partly", "not reproduced": "not-reproduced"}


def paper_link(bib_text: str, key: str) -> str | None:
    """The arXiv or DOI address of ``key`` in a BibTeX file (None when it has neither)."""
    entry = re.search(r"@\w+\{" + re.escape(key) + r",(.*?)\n\}", bib_text, flags=re.S)
    if not entry:
        return None
    fields = dict(re.findall(r"(\w+)\s*=\s*\{(.*?)\},?\s*$", entry.group(1), flags=re.M))
    if "eprint" in fields:
        return f"https://arxiv.org/abs/{fields['eprint']}"
    if "doi" in fields:
        return f"https://doi.org/{fields['doi']}"
    return fields.get("url")


def header_html(record: dict, slug: str, repo: str, link: str | None) -> str:
    status = record.get("status", "not executed")
    label = status + (" (our construction)" if record.get("basis") == "abstract" else "")
    facts = [f'<span class="replib-badge replib-{STATUS_CSS.get(status, "partly")}">'
             f"{html.escape(label)}</span>"]
    if record.get("method") == "calibrated":
        claims = record.get("claims", [])
        facts.append(f"claims tested: {sum(c['tested'] == 'yes' for c in claims)} of {len(claims)}")
        runs = record.get("seed_runs", [])
        if runs:
            same = sum(r["status"] == status for r in runs)
            facts.append(f"status held at {same} of {len(runs)} seeds")
    else:
        facts.append("legacy verdict, not yet re-judged")
    facts.append(f"{html.escape(record.get('scale', '?'))} scale, {record.get('runtime_s', 0):.0f} s")
    if link:
        facts.append(f'<a href="{html.escape(link)}">the paper</a>')
    facts.append(f'<a href="{repo}/raw/main/book/chapters/{slug}.ipynb">.ipynb</a>')
    facts.append(f'<a href="{repo}/blob/main/notebooks/{slug}.py">.py source</a>')
    return f'<p class="replib-header">{" · ".join(facts)}</p>'


def add_header(app, docname: str, source: list[str]) -> None:
    if not docname.startswith("chapters/"):
        return
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".ipynb":
        return
    nb = json.loads(source[0])
    record = nb.get("metadata", {}).get("replib", {}).get("record")
    if not record:
        return
    bib = (Path(app.srcdir) / "references.bib").read_text()
    repo = app.config.html_theme_options.get("repository_url", "").rstrip("/")
    header = header_html(record, docname.removeprefix("chapters/"), repo, paper_link(bib, record["cite"]))
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if "nbval-check-output" in tags and "hide-input" not in tags:
            tags.append("hide-input")
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            title = re.search(r"^# .*$", text, flags=re.M)
            if title:
                cell["source"] = text[:title.end()] + "\n\n" + header + "\n" + text[title.end():]
                break
    source[0] = json.dumps(nb)


def setup(app):
    app.connect("source-read", add_header)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
