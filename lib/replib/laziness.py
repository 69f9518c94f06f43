"""Laziness: a two-layer network whose output is multiplied by α, trained beside its own linearisation.

The network is f(x) = α · mean_i φ(⟨w_i, x⟩) − f₀(x) with φ(z) = z + ε z²/2: the output at
initialisation is subtracted (a centred loss), only the first layer is trained, by full-batch gradient
descent on mean (f − y)² with step N/α². With that step the tangent kernel at initialisation moves the
outputs at the same speed for every α while each weight moves ∝ 1/α, so α → ∞ is the lazy (kernel)
limit and small α is rich. The linearised model is therefore the same for every α and is computed here
in closed form from the eigendecomposition of its step matrix.

Because φ is quadratic the centred network is exactly ⟨v, x⟩ + xᵀ M x with
v = α · mean_i (w_i − w_i⁰) and M = (α ε / 2N) Σ_i (w_i w_iᵀ − w_i⁰ w_i⁰ᵀ), and for x ~ N(0, I/D) the
population risk against a quadratic target ⟨v*, x⟩ + xᵀ M* x is exact (no test set needed):
E[(⟨Δv, x⟩ + xᵀ ΔM x)²] = ‖Δv‖²/D + (2‖ΔM‖²_F + (tr ΔM)²)/D².
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .metrics import kernel_alignment


@dataclass
class QuadraticTarget:
    """y(x) = ⟨v, x⟩ + xᵀ M x for inputs x ~ N(0, I/D); ``v`` (S, D), ``m`` (S, D, D) symmetric, one row
    per seed."""

    v: torch.Tensor
    m: torch.Tensor

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Targets of inputs x (S, n, D) → (S, n)."""
        return (x @ self.v[..., None])[..., 0] + ((x @ self.m) * x).sum(-1)

    def risk(self, v: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        """Population mean squared error of the function ⟨v, x⟩ + xᵀ m x; v (..., S, D), m (..., S, D, D)."""
        dim = self.v.shape[-1]
        dv, dm = v - self.v, m - self.m
        trace = dm.diagonal(dim1=-2, dim2=-1).sum(-1)
        return (dv**2).sum(-1) / dim + (2 * (dm**2).sum((-2, -1)) + trace**2) / dim**2

    @property
    def variance(self) -> torch.Tensor:
        """Var y(x) per seed: the risk of predicting the mean."""
        dim = self.v.shape[-1]
        return (self.v**2).sum(-1) / dim + 2 * (self.m**2).sum((-2, -1)) / dim**2


def squared_projection(beta: torch.Tensor) -> QuadraticTarget:
    """y = ⟨β, x⟩²/2 for each row of β (S, D): a target the initial (almost linear) kernel cannot fit."""
    return QuadraticTarget(torch.zeros_like(beta), beta[:, :, None] * beta[:, None, :] / 2)


def linear_projection(beta: torch.Tensor) -> QuadraticTarget:
    """y = ⟨β, x⟩: a target aligned with the initial kernel's top eigenvectors."""
    return QuadraticTarget(beta.clone(), torch.zeros(beta.shape + beta.shape[-1:], dtype=beta.dtype))


@dataclass
class LazyRichRun:
    """Losses at each recorded step: ``train`` and population ``test`` risk of the network, (T, A, S) for
    A output scales and S seeds; ``linear_train``/``linear_test`` (T, S) of the linearised model;
    ``kernel_test`` (S,) the risk of ridgeless regression with the initial tangent kernel (the linearised
    model trained to convergence); ``alignment`` (T, A, S) the kernel-target alignment of the network's
    current tangent kernel on held-out points (NaN when none were given)."""

    steps: np.ndarray
    train: torch.Tensor
    test: torch.Tensor
    linear_train: torch.Tensor
    linear_test: torch.Tensor
    kernel_test: torch.Tensor
    alignment: torch.Tensor


def _statistics(w, w0, alpha, eps):
    """(v, M) of the centred network with first-layer weights w (..., N, D)."""
    n = w.shape[-2]
    a = alpha[:, None, None]
    v = a * (w - w0).mean(-2)
    m = (a[..., None] * eps / (2 * n)) * (w.transpose(-1, -2) @ w - w0.transpose(-1, -2) @ w0)
    return v, m


def _linearised(x, y, w0, eps, target, steps):
    """Train loss, test risk at ``steps`` and the converged test risk of the linearised model."""
    s_, p, _ = x.shape
    n = w0.shape[-2]
    slope = 1 + eps * (x @ w0.transpose(-1, -2))  # φ'(⟨w_i⁰, x_p⟩): (S, P, N)
    step_matrix = 2 / (p * n) * (slope @ slope.transpose(-1, -2)) * (x @ x.transpose(-1, -2))
    lam, u = torch.linalg.eigh(step_matrix)
    if lam.max() >= 2:
        raise ValueError(f"the linearised dynamics diverge: step-matrix eigenvalue {lam.max():.3g} >= 2")
    z0 = (u.transpose(-1, -2) @ -y[..., None])[..., 0]  # residual f − y at t = 0 in the eigenbasis
    keep = lam > 1e-12 * lam.max(-1, keepdim=True).values

    along = slope.sum(-1, keepdim=True) * x  # Σ_i φ'_ip x_p: (S, P, D)
    mixed = slope @ w0  # Σ_i φ'_ip w_i⁰: (S, P, D)

    def stats(cumulative):  # c = Σ_{s<t} r_s (..., S, P) → (v, M) of the linearised network
        v = -2 / (p * n) * (cumulative[..., None, :] @ along)[..., 0, :]
        outer = (mixed * cumulative[..., None]).transpose(-1, -2) @ x  # Σ_p c_p (Σ_i φ'_ip w_i⁰) x_pᵀ
        return v, -eps / (p * n) * (outer + outer.transpose(-1, -2))

    t = torch.as_tensor(steps, dtype=x.dtype)[:, None, None]
    decay = (1 - lam) ** t  # (T, S, P)
    residual = (u @ (z0 * decay)[..., None])[..., 0]
    summed = torch.where(keep, (1 - decay) / torch.where(keep, lam, 1.0), t)
    cumulative = (u @ (z0 * summed)[..., None])[..., 0]
    limit = (u @ torch.where(keep, z0 / torch.where(keep, lam, 1.0), 0.0)[..., None])[..., 0]
    return ((residual**2).mean(-1), target.risk(*stats(cumulative)), target.risk(*stats(limit)))


def train_output_scaled(x: torch.Tensor, target: QuadraticTarget, w0: torch.Tensor, *, alphas, eps: float,
                        record_at, x_align: torch.Tensor | None = None, progress=None) -> LazyRichRun:
    """Train the network of this module from first-layer weights ``w0`` (S, N, D) on inputs x (S, P, D)
    for every output scale in ``alphas`` at once (one batched computation over scales and seeds), up to
    the last step in ``record_at``.

    Losses are recorded at the steps ``record_at``; with held-out inputs ``x_align`` (S, Q, D) so is the
    tangent kernel's alignment with the target. ``progress`` may wrap the step range (e.g.
    ``replib.runtime.progress``).
    """
    alpha = torch.as_tensor(alphas, dtype=x.dtype).reshape(-1)
    record = np.unique(np.asarray(record_at, dtype=np.int64))
    if x.ndim != 3 or w0.ndim != 3 or x.shape[0] != w0.shape[0] or x.shape[2] != w0.shape[2]:
        raise ValueError(f"need x (S, P, D) and w0 (S, N, D) with matching S and D, got {tuple(x.shape)} "
                         f"and {tuple(w0.shape)}")
    if (alpha <= 0).any() or eps < 0 or record.size == 0 or record[0] < 0:
        raise ValueError(f"need alphas > 0, eps >= 0 and non-negative record steps; got alphas={alphas}, "
                         f"eps={eps}, record_at={record_at}")
    p, n = x.shape[1], w0.shape[1]
    y = target(x)
    y_align = None if x_align is None else target(x_align)
    lr = (n / alpha**2)[:, None, None, None]
    w = w0.expand(len(alpha), *w0.shape).clone()  # (A, S, N, D)
    rows = {"train": [], "test": [], "alignment": []}
    nan = torch.full((len(alpha), x.shape[0]), float("nan"), dtype=x.dtype)
    recording, f0 = set(record.tolist()), None
    for t in (progress or (lambda r: r))(range(int(record[-1]) + 1)):
        h = x @ w.transpose(-1, -2)  # (A, S, P, N)
        f = alpha[:, None, None] * (h + eps / 2 * h**2).mean(-1)
        f0 = f if f0 is None else f0
        residual = f - f0 - y
        if t in recording:
            rows["train"].append((residual**2).mean(-1))
            rows["test"].append(target.risk(*_statistics(w, w0, alpha, eps)))
            if x_align is None:
                rows["alignment"].append(nan)
            else:
                slope = 1 + eps * (x_align @ w.transpose(-1, -2))
                kernel = (slope @ slope.transpose(-1, -2)) * (x_align @ x_align.transpose(-1, -2))
                rows["alignment"].append(kernel_alignment(kernel, y_align.expand(kernel.shape[:-1])))
        if t == record[-1]:
            break
        grad = ((residual[..., None] * (1 + eps * h)).transpose(-1, -2) @ x) * (2 / (p * n))
        w -= lr * alpha[:, None, None, None] * grad
    linear_train, linear_test, kernel_test = _linearised(x, y, w0, eps, target, record)
    return LazyRichRun(record, *(torch.stack(rows[k]) for k in ("train", "test")), linear_train, linear_test,
                       kernel_test, torch.stack(rows["alignment"]))
