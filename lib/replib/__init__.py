"""replib: the shared library of *Theory, Replicated*.

Every chapter of the book imports from here: the run set-up (scales, seeds, device), data and target
functions, kernels, batched trainers, fitting, verdicts and the plotting style.
"""

__version__ = "0.1.0"

from replib.chapter import Chapter
from replib.runtime import SCALES, choose_scale, default_device, progress, seed_everything

__all__ = [
    "Chapter",
    "SCALES",
    "__version__",
    "choose_scale",
    "default_device",
    "progress",
    "seed_everything",
]
