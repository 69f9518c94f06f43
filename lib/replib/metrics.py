"""What a feature-learning chapter measures: overlaps with hidden directions, neuron localisation, errors.

Weights come batched as (..., m, d) — any leading batch of seeds or settings, m neurons of dimension d —
and hidden directions as (..., k, d) with orthonormal rows.
"""

from __future__ import annotations

import torch


def overlaps(weights: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """|cos| between every neuron and every hidden direction: (..., m, k).

    Neurons are normalised here, so the result is scale-free; a zero neuron has overlap 0.
    """
    if weights.shape[-1] != directions.shape[-1]:
        raise ValueError(f"neurons live in dimension {weights.shape[-1]} but directions in {directions.shape[-1]}")
    unit = weights / weights.norm(dim=-1, keepdim=True).clamp_min(torch.finfo(weights.dtype).tiny)
    return (unit @ directions.transpose(-1, -2).to(unit.dtype)).abs()


def subspace_overlap(weights: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """Fraction of each neuron's squared norm inside span(directions): (..., m), in [0, 1].

    For one direction this is the squared cosine; for several it says how much of a neuron has
    found the relevant subspace, whichever direction within it.
    """
    return overlaps(weights, directions).pow(2).sum(-1)


def localisation(weights: torch.Tensor, directions: torch.Tensor, *, threshold: float = 0.9) -> torch.Tensor:
    """Which direction each neuron has specialised to: (..., m) long, −1 where none.

    A neuron is localised on direction k when |cos(w, v_k)| ≥ ``threshold``; with orthonormal
    directions and a threshold above 1/√2 at most one direction can qualify.
    """
    if not 0.5**0.5 < threshold <= 1:
        raise ValueError(f"threshold must be in (1/√2, 1] so a neuron localises on one direction, got {threshold}")
    best, which = overlaps(weights, directions).max(-1)
    return torch.where(best >= threshold, which, torch.full_like(which, -1))


def normalised_error(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the last axis divided by the target's variance: 1 means predicting the mean."""
    if prediction.shape[-1] != target.shape[-1]:
        raise ValueError(f"prediction has {prediction.shape[-1]} points, target {target.shape[-1]}")
    return ((prediction - target) ** 2).mean(-1) / target.var(-1, unbiased=False).clamp_min(1e-300)


def correlation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """|Pearson correlation| along the last axis: how well a learned feature matches a true one, up to
    scale, offset and sign (..., n) → (...)."""
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"the two features have {a.shape[-1]} and {b.shape[-1]} points")
    a, b = a - a.mean(-1, keepdim=True), b - b.mean(-1, keepdim=True)
    return ((a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1)).clamp_min(torch.finfo(a.dtype).tiny)).abs()


def kernel_alignment(kernel: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Centred kernel-target alignment ⟨K_c, y_c y_cᵀ⟩_F / (‖K_c‖_F ‖y_c‖²), K_c = HKH with H the
    centring matrix: 1 when the kernel is the target's outer product, near 0 when its top
    eigenvectors ignore the target. kernel (..., n, n), y (..., n) → (...)."""
    if kernel.shape[-1] != kernel.shape[-2] or kernel.shape[:-1] != y.shape:
        raise ValueError(f"need a kernel (..., n, n) and targets (..., n), got {tuple(kernel.shape)} "
                         f"and {tuple(y.shape)}")
    k = kernel - kernel.mean(-1, keepdim=True)
    k = k - k.mean(-2, keepdim=True)
    yc = y - y.mean(-1, keepdim=True)
    top = (yc[..., None, :] @ k @ yc[..., None])[..., 0, 0]
    return top / (k.norm(dim=(-2, -1)) * (yc**2).sum(-1)).clamp_min(torch.finfo(k.dtype).tiny)
