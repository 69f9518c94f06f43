"""The book builds with warnings as errors; pages carry math, citations and the right Colab links."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tools.chapters import ROOT, all_chapters
from tools.status import main as status_main

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book")
    jb = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run([str(jb), "build", "book", "--config", str(ROOT / "_config.yml"), "--toc", str(ROOT / "book" / "_toc.yml"),
                           "--path-output", str(out), "--builder", "html", "-W", "-n", "--keep-going", "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"book build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return out / "_build" / "html"


def test_status_page_and_readme_table_are_up_to_date():
    assert status_main(["--check"]) == 0


def test_every_chapter_has_a_colab_button_pointing_at_its_committed_notebook(html):
    repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    for chapter in all_chapters():
        page = (html / "chapters" / f"{chapter.slug}.html").read_text()
        links = set(re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', page))
        want = f"https://colab.research.google.com/github/{repo}/blob/main/book/chapters/{chapter.slug}.ipynb"
        assert links == {want}, f"{chapter.slug}: Colab links {links}"
        assert chapter.notebook.relative_to(ROOT).as_posix() == f"book/chapters/{chapter.slug}.ipynb"


def test_math_renders_with_the_vendored_mathjax(html):
    assert (html / "_static" / "mathjax" / "tex-chtml-full.js").exists()
    assert (html / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    intro = (html / "intro.html").read_text()
    assert "_static/mathjax/tex-chtml-full.js" in intro and "cdn.jsdelivr.net/npm/mathjax" not in intro
    for page in html.rglob("*.html"):
        text = page.read_text()
        if 'class="math' in text:  # Sphinx loads MathJax only on pages that have math
            assert "mathjax/tex-chtml-full.js" in text and "cdn.jsdelivr.net/npm/mathjax" not in text, page


def test_status_page_and_bibliography_are_built(html):
    status = (html / "status.html").read_text()
    for chapter in all_chapters():
        assert f"{chapter.slug}.html" in status
    bib = (html / "bibliography.html").read_text()
    assert "Jacot" in bib


def test_every_chapter_page_has_its_header_from_the_verdict_record(html):
    for chapter in all_chapters():
        page = (html / "chapters" / f"{chapter.slug}.html").read_text()
        header = re.search(r'<p class="replib-header">(.*?)</p>', page, flags=re.S)
        assert header, f"{chapter.slug}: no chapter header"
        status = chapter.executed_meta()["record"]["status"]
        assert f">{status}" in header.group(1) and ".py source" in header.group(1), chapter.slug


def test_the_library_reference_documents_every_module(html):
    """book/api.md lists every replib module, and autodoc found their functions (a module that fails to
    import would leave its section empty)."""
    import pkgutil

    import replib

    api = (html / "api.html").read_text()
    for module in pkgutil.iter_modules(replib.__path__):
        assert f'id="module-replib.{module.name}"' in api, f"replib.{module.name} missing from book/api.md"
    assert 'id="replib.fitting.seed_interval"' in api and 'id="replib.chapter.Chapter"' in api
