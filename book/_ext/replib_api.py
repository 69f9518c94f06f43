"""Sphinx extension: make replib's docstrings safe for autodoc (book/api.md).

The library's docstrings are written for readers of the source: plain prose with ``literals``,
|x| for absolute values and * for products. reStructuredText reads |x| as a substitution and a lone *
as the start of emphasis, so this hook escapes those outside inline literals, and lets an inline literal
end right before a superscript or letter (``n``² is a literal followed by ²)."""

from __future__ import annotations

import re

_LITERAL = re.compile(r"(``.+?``)")
_STRONG_OR_EMPHASIS = re.compile(r"(\*\*[^*]+\*\*|(?<![\w*])\*(?=[^\s*])[^*]*?(?<=[^\s*])\*(?![\w*]))")
_GLUED = re.compile(r"(``[^`]+``)(?=[^\s\-.,:;!?'\")\]}/\\>])")


def _escape(text: str) -> str:
    """Escape | everywhere and * except in **strong** and *emphasis* spans."""
    parts = _STRONG_OR_EMPHASIS.split(text.replace("|", r"\|"))
    return "".join(p if i % 2 else p.replace("*", r"\*") for i, p in enumerate(parts))


def _safe(line: str) -> str:
    bullet = re.match(r"\s*\* ", line)  # a list item's marker stays a marker
    head, line = (line[:bullet.end()], line[bullet.end():]) if bullet else ("", line)
    parts = _LITERAL.split(line)
    line = "".join(p if i % 2 else _escape(p) for i, p in enumerate(parts))
    return head + _GLUED.sub(r"\1\\ ", line)


def process_docstring(app, what, name, obj, options, lines: list[str]) -> None:
    lines[:] = [_safe(line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", process_docstring)
    return {"parallel_read_safe": True}
