"""Run set-up shared by every chapter: the scale table, seeding, device choice, progress bars."""

from __future__ import annotations

import os
import random
from types import SimpleNamespace
from typing import Any, Iterable

import numpy as np
import torch

SCALES = ("smoke", "book", "full")
"""smoke: ~30 s on 2 CPU cores (CI); book: ~3 min on 2 CPU cores (the rendered book); full: the paper's scale."""


def choose_scale(scale: str, **table: Any) -> Any:
    """Return ``table[scale]``, checking that the scale is known and that the table covers every scale.

    Dict entries come back as a namespace, so chapters write ``cfg.widths`` rather than ``cfg["widths"]``.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}: SCALE must be one of {', '.join(SCALES)}")
    missing = [s for s in SCALES if s not in table]
    extra = [s for s in table if s not in SCALES]
    if missing or extra:
        raise ValueError(f"a scale table needs exactly the keys {SCALES}; missing {missing}, unknown {extra}")
    value = table[scale]
    return SimpleNamespace(**value) if isinstance(value, dict) else value


def default_device() -> torch.device:
    """The GPU when one is present, else the CPU. ``REPLIB_DEVICE`` overrides (e.g. ``cpu``)."""
    name = os.environ.get("REPLIB_DEVICE")
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a CPU ``torch.Generator`` seeded with ``seed`` for explicit draws."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"SEED must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def progress(iterable: Iterable, **kwargs: Any):
    """A tqdm progress bar, silenced when ``REPLIB_PROGRESS=0`` (set by the book's executor so that
    bars never reach the rendered page or the nbval-checked outputs)."""
    if os.environ.get("REPLIB_PROGRESS", "1") == "0":
        return iterable
    import warnings

    with warnings.catch_warnings():  # tqdm.auto warns when ipywidgets is missing, then falls back to text bars
        warnings.simplefilter("ignore")
        from tqdm.auto import tqdm
    return tqdm(iterable, **kwargs)
