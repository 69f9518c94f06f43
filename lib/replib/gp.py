"""Gaussian-process and Student-t-process regression with a given kernel (float64, Cholesky in torch).

The Student-t process is the scale mixture of a GP: with σ² ~ InvGamma(a, b) and
y | σ² ~ N(0, σ²(K + s²I)), the posterior of σ² is InvGamma(a + n/2, b + yᵀA⁻¹y/2) with A = K + s²I, and
each test output is Student-t with 2a + n degrees of freedom around the GP mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Predictive:
    """Per-point predictive distribution of the test targets: location, scale and degrees of freedom
    (``dof = inf`` for a Gaussian, whose ``scale`` is the standard deviation)."""

    loc: torch.Tensor
    scale: torch.Tensor
    dof: float

    def nll(self, y: torch.Tensor) -> torch.Tensor:
        """Negative log density of each test target."""
        z = (y.to(torch.float64) - self.loc) / self.scale
        if math.isinf(self.dof):
            return 0.5 * z**2 + torch.log(self.scale) + 0.5 * math.log(2 * math.pi)
        v = self.dof
        return (-math.lgamma((v + 1) / 2) + math.lgamma(v / 2) + 0.5 * math.log(v * math.pi)
                + torch.log(self.scale) + (v + 1) / 2 * torch.log1p(z**2 / v))


def _solve(k_train, y, k_test, k_test_diag, noise):
    n = k_train.shape[0]
    if k_train.shape != (n, n) or y.shape != (n,) or k_test.shape[1] != n or k_test_diag.shape != k_test.shape[:1]:
        raise ValueError("need k_train (n, n), y (n,), k_test (m, n) and k_test_diag (m,)")
    if noise < 0:
        raise ValueError(f"noise variance must be >= 0, got {noise}")
    a = k_train.to(torch.float64) + noise * torch.eye(n, dtype=torch.float64, device=k_train.device)
    chol = torch.linalg.cholesky(a)
    alpha = torch.cholesky_solve(y.to(torch.float64)[:, None], chol)[:, 0]
    v = torch.linalg.solve_triangular(chol, k_test.to(torch.float64).T, upper=False)
    mean = k_test.to(torch.float64) @ alpha
    var = (k_test_diag.to(torch.float64) + noise - (v * v).sum(0)).clamp_min(1e-300)
    return mean, var, float(y.to(torch.float64) @ alpha)


def gp_predict(k_train, y, k_test, k_test_diag, *, noise: float, signal_var: float | None = None) -> Predictive:
    """GP posterior predictive of noisy test targets under y ~ N(0, σ²(K + s²I)), s² = ``noise``.

    ``signal_var`` σ² defaults to its maximum-likelihood value yᵀA⁻¹y / n.
    """
    mean, var, quad = _solve(k_train, y, k_test, k_test_diag, noise)
    s2 = quad / y.shape[0] if signal_var is None else signal_var
    return Predictive(mean, torch.sqrt(s2 * var), math.inf)


def tp_predict(k_train, y, k_test, k_test_diag, *, noise: float, a: float, b: float) -> Predictive:
    """Student-t process predictive: the GP above with σ² ~ InvGamma(a, b) integrated out."""
    if a <= 0 or b <= 0:
        raise ValueError(f"inverse-gamma shape a and scale b must be positive, got {a}, {b}")
    mean, var, quad = _solve(k_train, y, k_test, k_test_diag, noise)
    n = y.shape[0]
    a_post, b_post = a + n / 2, b + quad / 2
    return Predictive(mean, torch.sqrt(b_post / a_post * var), 2 * a_post)
