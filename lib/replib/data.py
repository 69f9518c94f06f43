"""Inputs and data sets the chapters share. Everything is synthetic or ships inside a PyPI package."""

from __future__ import annotations

import math

import numpy as np
import torch


def circle(n: int, *, radius: float = 1.0, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` equally spaced points x(γ) = r·(cos γ, sin γ) on a circle; returns (angles γ, points (n, 2))."""
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    gamma = torch.arange(n, dtype=dtype) * (2 * math.pi / n)
    return gamma, radius * torch.stack([gamma.cos(), gamma.sin()], 1)


def sphere(n: int, d: int, *, generator: torch.Generator | None = None,
           dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``n`` points drawn uniformly on the sphere of radius √d in R^d (so each coordinate has unit scale)."""
    if n < 1 or d < 1:
        raise ValueError(f"n and d must be positive, got n={n}, d={d}")
    x = torch.randn(n, d, generator=generator, dtype=dtype)
    return x * (math.sqrt(d) / x.norm(dim=1, keepdim=True))


def torus(n: int, circles: int, *, generator: torch.Generator | None = None,
          dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``n`` points uniform on a product of ``circles`` unit circles, as (n, 2·circles) coordinates
    (cos θ₁, sin θ₁, cos θ₂, …): inputs whose adjacent pairs are patches on the sphere S¹."""
    if n < 1 or circles < 1:
        raise ValueError(f"n and circles must be positive, got n={n}, circles={circles}")
    theta = 2 * math.pi * torch.rand(n, circles, generator=generator, dtype=dtype)
    return torch.stack([theta.cos(), theta.sin()], -1).reshape(n, 2 * circles)


def digits(*, classes: tuple[int, ...] = tuple(range(10)), normalise: bool = True,
           dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled 8×8 handwritten digits (1797 images, no download): (inputs (n, 64), labels).

    With ``normalise`` each image is centred and scaled to norm √64, i.e. put on the sphere, the setting
    of the NTK positive-definiteness results.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    keep = torch.isin(torch.as_tensor(bunch.target), torch.tensor(classes))
    x = torch.as_tensor(bunch.data, dtype=dtype)[keep]
    y = torch.as_tensor(bunch.target)[keep]
    if normalise:
        x = x - x.mean(1, keepdim=True)
        x = x * (math.sqrt(x.shape[1]) / x.norm(dim=1, keepdim=True))
    return x, y


def dirichlet_classes(n: int, concentrations: tuple[tuple[float, ...], tuple[float, ...]], *, prior: float = 0.4,
                      seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two overlapping classes on the unit sphere: label +1 (probability ``prior``) draws p ~ Dirichlet of the
    first concentrations, label −1 of the second; the input is p/‖p‖. Returns (inputs (n, d), labels ±1,
    the Bayes-optimal labels of those inputs — from the exact class densities, so the Bayes error of any
    test set can be measured on it)."""
    a, b = (torch.tensor(c, dtype=torch.float64) for c in concentrations)
    if n < 1 or a.shape != b.shape or (a <= 0).any() or (b <= 0).any() or not 0 < prior < 1:
        raise ValueError(f"need n >= 1, two positive concentration vectors of one length and 0 < prior < 1; "
                         f"got n={n}, {concentrations}, prior={prior}")
    rng = np.random.default_rng(seed)
    positive = rng.random(n) < prior
    p = np.where(positive[:, None], rng.dirichlet(a.numpy(), n), rng.dirichlet(b.numpy(), n))
    p = torch.from_numpy(np.clip(p, 1e-300, None))
    p = p / p.sum(1, keepdim=True)

    def log_density(c):
        return torch.lgamma(c.sum()) - torch.lgamma(c).sum() + ((c - 1) * p.log()).sum(1)

    bayes = torch.where(log_density(a) + math.log(prior) > log_density(b) + math.log(1 - prior), 1.0, -1.0)
    labels = torch.from_numpy(np.where(positive, 1.0, -1.0))
    return p / p.norm(dim=1, keepdim=True), labels, bayes.to(torch.float64)
