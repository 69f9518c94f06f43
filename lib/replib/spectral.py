"""Exact spectra of translation-invariant kernels on a torus, and learning curves predicted from them.

* :func:`torus_spectrum` — the Mercer eigenvalues of a kernel on a product of unit circles (inputs as in
  :func:`replib.data.torus`) that depends only on the angle differences: its Fourier coefficients,
  computed by one FFT of the kernel on a grid. The eigenfunctions are the Fourier modes e^{i k·θ}.
* :func:`eigenlearning_risk` — the expected test error of kernel ridge(less) regression on ``n`` uniform
  samples, for a Gaussian teacher whose power in each eigenmode is given, from the student's
  eigenvalues alone (the "omniscient risk estimate" / eigenlearning equations of Jacot et al. 2020,
  Bordelon, Canatar & Pehlevan 2020, Simon et al. 2021).
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
import torch


def torus_spectrum(kernel: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], grid: Sequence[int], *,
                   chunk: int = 1 << 18, device: torch.device | str | None = None) -> np.ndarray:
    """Fourier coefficients c_k of a kernel on the product of ``len(grid)`` unit circles that depends only
    on the angle differences, on a grid of ``grid[i]`` angles along circle i (numpy FFT order:
    k_i ∈ {0, 1, …, grid[i]/2 − 1, −grid[i]/2, …, −1}).

    ``kernel(x0, x)`` returns the kernel between one point ``x0`` (1, 2·circles) and rows ``x``
    (m, 2·circles), shape (1, m) or (m,). With respect to the uniform measure the kernel's eigenvalues are
    the c_k, eigenfunctions e^{i k·θ}. Each c_k is aliased: it holds the sum of the true coefficients at
    k + grid·j over all integer vectors j (so the c_k still sum exactly to the kernel at zero)."""
    grid = tuple(int(g) for g in grid)
    if not grid or min(grid) < 2:
        raise ValueError(f"need at least one circle and grid sizes >= 2, got {grid}")
    circles = len(grid)
    x0 = torch.zeros(1, 2 * circles, dtype=torch.float64, device=device)
    x0[:, 0::2] = 1.0
    total = math.prod(grid)
    strides = [math.prod(grid[c + 1:]) for c in range(circles)]
    values = torch.empty(total, dtype=torch.float64, device=device)
    for start in range(0, total, chunk):
        idx = torch.arange(start, min(start + chunk, total), device=device)
        theta = torch.stack([2 * math.pi * ((idx // strides[c]) % grid[c]).to(torch.float64) / grid[c]
                             for c in range(circles)], 1)
        x = torch.stack([theta.cos(), theta.sin()], -1).reshape(len(idx), 2 * circles)
        values[start:start + len(idx)] = kernel(x0, x).reshape(-1)
    coeff = torch.fft.fftn(values.reshape(grid)).real / total
    return coeff.cpu().numpy()


def tree_torus_spectrum(kernel: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], *, grid: int,
                        axis_grid: int, pair_grid: int, coarse: int = 8,
                        device: torch.device | str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The eigenvalues of a kernel on four circles (patches 1, 2 | 3, 4: two pairs) that is invariant
    under swapping the patches within a pair and swapping the pairs, with the low-dimensional sectors
    resolved far more finely than a 4-d grid allows.

    Modes that depend on one circle (k on one axis) come from a grid of ``axis_grid`` angles along
    that circle (``coarse`` along the others), modes that depend on both circles of one pair from a
    ``pair_grid``² × ``coarse``² grid, all other modes from an isotropic ``grid``⁴ grid; the symmetry
    copies the first axis to all four and the first pair to both. Returns (eigenvalues (N,), modes
    (N, 4) integer frequency vectors k), in a fixed order that depends only on the grid sizes, so a
    student's and a teacher's entries describe the same modes."""
    iso = torus_spectrum(kernel, (grid,) * 4, device=device)
    freq = np.fft.fftfreq(grid, 1 / grid).astype(int)
    k_iso = np.stack(np.meshgrid(freq, freq, freq, freq, indexing="ij"), -1).reshape(-1, 4)
    nz = k_iso != 0
    within_pair = (nz.sum(1) == 2) & ((nz[:, 0] & nz[:, 1]) | (nz[:, 2] & nz[:, 3]))
    keep = (nz.sum(1) != 1) & ~within_pair
    axis = torus_spectrum(kernel, (axis_grid, coarse, coarse, coarse), device=device)[1:, 0, 0, 0]
    pair = torus_spectrum(kernel, (pair_grid, pair_grid, coarse, coarse), device=device)[1:, 1:, 0, 0]
    k_axis = np.fft.fftfreq(axis_grid, 1 / axis_grid).astype(int)[1:]
    k_pair = np.fft.fftfreq(pair_grid, 1 / pair_grid).astype(int)[1:]
    k1, k2 = (k.ravel() for k in np.meshgrid(k_pair, k_pair, indexing="ij"))
    zero_a, zero_p = np.zeros_like(k_axis), np.zeros_like(k1)
    modes = [k_iso[keep]]
    modes += [np.stack([k_axis if c == i else zero_a for c in range(4)], 1) for i in range(4)]
    modes += [np.stack([k1, k2, zero_p, zero_p], 1), np.stack([zero_p, zero_p, k1, k2], 1)]
    values = np.concatenate([iso.reshape(-1)[keep], np.tile(axis, 4), np.tile(pair.ravel(), 2)])
    return values, np.concatenate(modes)


def _kappa(eigs: np.ndarray, counts: np.ndarray, n: float, ridge: float) -> float:
    """The effective regularisation κ solving n = Σ λ/(λ + κ) + ridge·n/κ (κ = ridge·n when ridge > 0
    dominates), found by bisection in log κ (the left side is decreasing in κ)."""
    def excess(kappa):
        return (counts * eigs / (eigs + kappa)).sum() + ridge * n / kappa - n

    lo, hi = 1e-300, float((counts * eigs).sum()) + ridge * n + 1.0
    if excess(lo) < 0:
        raise ValueError(f"only {int(counts[eigs > 0].sum())} positive eigenvalues: cannot fit n = {n} samples "
                         "(use a finer grid)")
    llo, lhi = math.log(lo), math.log(hi)
    for _ in range(200):
        mid = 0.5 * (llo + lhi)
        if excess(math.exp(mid)) > 0:
            llo = mid
        else:
            lhi = mid
        if lhi - llo < 1e-12:
            break
    return math.exp(0.5 * (llo + lhi))


def eigenlearning_risk(student: np.ndarray, teacher: np.ndarray, sizes, *, ridge: float = 0.0) -> np.ndarray:
    """Predicted test error of kernel ridge regression with eigenvalues ``student`` on a target whose
    mean power in the same eigenmodes is ``teacher`` (a Gaussian teacher: its kernel's eigenvalues),
    for each training-set size in ``sizes``, divided by the teacher's variance Σ teacher.

    With κ from n = Σ λ/(λ + κ) + ridge·n/κ and learnabilities L = λ/(λ + κ), the error is
    n/(n − Σ L²) · Σ (1 − L)² · teacher (no label noise)."""
    lam = np.asarray(student, dtype=float).ravel()
    power = np.asarray(teacher, dtype=float).ravel()
    if lam.shape != power.shape:
        raise ValueError(f"student and teacher spectra differ in size: {lam.shape} and {power.shape}")
    if (lam < 0).any():
        raise ValueError("student eigenvalues must be >= 0 (clip tiny negative round-off first)")
    total = power.sum()
    # modes with equal eigenvalues (the kernel's symmetries) are merged: same sums, far fewer terms
    lam, inverse, counts = np.unique(np.float64(np.float32(lam)), return_inverse=True, return_counts=True)
    power = np.bincount(inverse.ravel(), weights=power)
    out = []
    for n in sizes:
        kappa = _kappa(lam, counts, float(n), ridge)
        learn = lam / (lam + kappa)
        e0 = n / (n - (counts * learn**2).sum())
        out.append(e0 * ((1 - learn) ** 2 * power).sum() / total)
    return np.array(out)
