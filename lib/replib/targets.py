"""Synthetic targets for feature-learning chapters: Hermite polynomials and Gaussian index models.

Probabilists' Hermite polynomials He_k are orthogonal under the standard Gaussian,
E[He_j(z) He_k(z)] = k! δ_jk, so a link function σ expands as σ = Σ_k c_k He_k with
c_k = E[σ(z) He_k(z)] / k!. Its *information exponent* is the smallest k ≥ 1 with c_k ≠ 0: the degree
at which one-pass SGD starts to see the hidden direction.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch


def hermite(k: int, z: torch.Tensor, *, normalised: bool = False) -> torch.Tensor:
    """He_k(z) by the recurrence He_{k+1} = z He_k − k He_{k−1}; ``normalised`` divides by √(k!)
    so that E[He_k(z)²] = 1."""
    if not isinstance(k, int) or k < 0:
        raise ValueError(f"the degree k must be a non-negative integer, got {k!r}")
    prev, cur = torch.ones_like(z), z
    if k == 0:
        cur = prev
    for j in range(1, k):
        prev, cur = cur, z * cur - j * prev
    return cur / math.sqrt(math.factorial(k)) if normalised else cur


def hermite_coefficients(link: Callable[[torch.Tensor], torch.Tensor], degree: int,
                         *, nodes: int = 200) -> torch.Tensor:
    """c_0 … c_degree of σ = Σ c_k He_k, by Gauss–Hermite quadrature (exact for polynomials of degree
    < 2·nodes; accurate for smooth links). Returns float64 (degree + 1,)."""
    if degree < 0:
        raise ValueError(f"degree must be >= 0, got {degree}")
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    z, w = torch.as_tensor(z), torch.as_tensor(w / w.sum())
    values = link(z).to(torch.float64)
    return torch.stack([(w * values * hermite(k, z)).sum() / math.factorial(k) for k in range(degree + 1)])


def information_exponent(link: Callable[[torch.Tensor], torch.Tensor], *, max_degree: int = 10,
                         tol: float = 1e-8) -> int:
    """The smallest k ≥ 1 whose Hermite coefficient (normalised, i.e. c_k·√(k!)) exceeds ``tol``."""
    c = hermite_coefficients(link, max_degree)
    for k in range(1, max_degree + 1):
        if abs(float(c[k])) * math.sqrt(math.factorial(k)) > tol:
            return k
    raise ValueError(f"no Hermite coefficient of degree 1..{max_degree} is above {tol}: raise max_degree")


def orthonormal_directions(d: int, k: int, *, generator: torch.Generator | None = None,
                           dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``k`` orthonormal directions in R^d, uniformly random and reproducible from ``generator``: (k, d)."""
    if not 1 <= k <= d:
        raise ValueError(f"need 1 <= k <= d, got k={k}, d={d}")
    q, r = torch.linalg.qr(torch.randn(d, k, generator=generator, dtype=torch.float64))
    return (q * torch.sign(torch.diagonal(r))).T.to(dtype)  # sign fix: a deterministic function of the draw


def single_index(n: int, direction: torch.Tensor, link: Callable[[torch.Tensor], torch.Tensor], *,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian inputs x ~ N(0, I_d) (n, d) and targets y = σ(⟨θ, x⟩) for a unit direction θ (d,)."""
    if direction.ndim != 1 or not math.isclose(float(direction.norm()), 1.0, rel_tol=1e-6):
        raise ValueError("direction must be a unit vector of shape (d,)")
    x = torch.randn(n, direction.shape[0], generator=generator, dtype=direction.dtype)
    return x, link(x @ direction)


def additive_index(x: torch.Tensor, directions: torch.Tensor,
                   link: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """A sum of ridge functions, f(x) = M^(−1/2) Σ_m σ(⟨v_m, x⟩): inputs (..., n, d), directions (..., M, d).

    With orthonormal directions and a link of unit variance under N(0, 1), E[f²] = 1 + (M − 1)·E[σ]²:
    centre the link (E[σ] = 0) to keep unit variance whatever M.
    """
    if x.shape[-1] != directions.shape[-1]:
        raise ValueError(f"inputs have dimension {x.shape[-1]}, directions {directions.shape[-1]}")
    return link(x @ directions.transpose(-1, -2).to(x.dtype)).sum(-1) / math.sqrt(directions.shape[-2])


def hermite_feature(x: torch.Tensor, weights: torch.Tensor, k: int) -> torch.Tensor:
    """p(x) = Σ_i λ_i He_k(x_i) / √(k!·Σλ²): a degree-k polynomial feature of unit variance under
    x ~ N(0, I_d), spread over all coordinates (inputs (..., n, d), weights λ (..., d))."""
    if x.shape[-1] != weights.shape[-1]:
        raise ValueError(f"inputs have dimension {x.shape[-1]} but there are {weights.shape[-1]} weights")
    weights = weights.to(x.dtype)
    norm = torch.sqrt(math.factorial(k) * (weights**2).sum(-1, keepdim=True))
    return (hermite(k, x) * (weights / norm).unsqueeze(-2)).sum(-1)
