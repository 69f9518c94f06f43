"""Where chapters live and how a source relates to its executed notebook."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHAPTERS = ROOT / "book" / "chapters"
SMOKE_REFS = ROOT / "tests" / "smoke_refs"


@dataclass(frozen=True)
class ChapterFiles:
    """A chapter's source (``notebooks/<part>/<slug>.py``) and its executed notebook in the book."""

    source: Path

    @property
    def slug(self) -> str:
        return self.source.relative_to(NOTEBOOKS).with_suffix("").as_posix()

    @property
    def notebook(self) -> Path:
        return CHAPTERS / f"{self.slug}.ipynb"

    @property
    def smoke_ref(self) -> Path:
        return SMOKE_REFS / f"{self.slug}.json"

    def source_hash(self) -> str:
        return hashlib.sha256(self.source.read_bytes()).hexdigest()

    def executed_meta(self) -> dict:
        """The ``replib`` block the executor stored in the notebook's metadata ({} if not executed)."""
        if not self.notebook.exists():
            return {}
        return json.loads(self.notebook.read_text()).get("metadata", {}).get("replib", {})

    def is_stale(self, scale: str = "book") -> bool:
        meta = self.executed_meta()
        return meta.get("source_sha256") != self.source_hash() or meta.get("scale") != scale


def all_chapters() -> list[ChapterFiles]:
    return [ChapterFiles(p) for p in sorted(NOTEBOOKS.glob("*/*.py"))]


def find(names: list[str]) -> list[ChapterFiles]:
    """Chapters named by source path, notebook path or slug (``part/name``)."""
    out = []
    for name in names:
        p = Path(name)
        slug = p.with_suffix("").as_posix()
        for prefix in ("notebooks/", "book/chapters/"):
            slug = slug.split(prefix, 1)[-1]
        source = NOTEBOOKS / f"{slug}.py"
        if not source.exists():
            raise SystemExit(f"no chapter {name!r}: expected a source at {source.relative_to(ROOT)}")
        out.append(ChapterFiles(source))
    return out
