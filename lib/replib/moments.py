"""Finite-width statistics of random networks: exact preactivation sampling and kurtosis estimates.

For one input, the preactivations of layer ℓ+1 of a fully connected network with Gaussian weights
W ~ N(0, C_W/n) and biases b ~ N(0, C_b) are, *given layer ℓ*, independent Gaussians with the common
variance q = C_b + C_W · mean_j φ(z_j)². :func:`preactivation_moments` samples them layer by layer from
that conditional law — an exact draw from the network's distribution at O(draws · width) cost per layer,
instead of O(draws · width²) for explicit weight matrices.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from replib.nets import ACTIVATIONS


def preactivation_moments(*, width: int, depth: int, draws: int, activation: str = "relu",
                             weight_var: float = 2.0, bias_var: float = 0.0, input_var: float = 1.0,
                             powers: tuple[int, ...] = (2, 4), generator: torch.Generator | None = None,
                             chunk: int = 50_000) -> torch.Tensor:
    """Per-draw means (1/n) Σ_i z_i^p over the ``width`` neurons of every layer, for random networks at init.

    Layer 1 is z = W x with C_W·|x|²/d = ``input_var`` (exactly Gaussian); layers 2..``depth`` follow the
    conditional-Gaussian recursion above. Returns float64 (depth, draws, len(powers)).
    """
    if width < 1 or depth < 1 or draws < 1:
        raise ValueError(f"width, depth and draws must be positive, got {width}, {depth}, {draws}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    phi = ACTIVATIONS[activation][0]
    out = torch.empty(depth, draws, len(powers), dtype=torch.float64)
    for start in range(0, draws, chunk):
        m = min(chunk, draws - start)
        q = torch.full((m, 1), input_var + bias_var, dtype=torch.float64)
        for layer in range(depth):
            # float32 draws (half the cost); per-draw means are accumulated in float64
            z = torch.randn(m, width, generator=generator).mul_(q.sqrt().float())
            for k, p in enumerate(powers):
                out[layer, start:start + m, k] = z.pow(p).mean(1, dtype=torch.float64)
            q = bias_var + weight_var * phi(z).pow_(2).mean(1, keepdim=True, dtype=torch.float64)
    return out


@dataclass(frozen=True)
class Estimate:
    value: float
    ci: tuple[float, float]

    def contains(self, x: float) -> bool:
        return self.ci[0] <= x <= self.ci[1]


def kurtosis_bootstrap(moments: torch.Tensor, *, n_boot: int = 400,
                       generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Excess kurtosis E[z⁴]/E[z²]² − 3 per layer from the per-draw moments of
    :func:`preactivation_moments` (powers (2, 4)), and ``n_boot`` bootstrap replicates over draws
    (Poisson weights): returns (values (layers,), replicates (layers, n_boot)). Neurons of one draw are
    exchangeable, so all of them enter the estimates."""
    if moments.ndim != 3 or moments.shape[-1] != 2:
        raise ValueError(f"need moments of shape (layers, draws, 2) for powers (2, 4), got {tuple(moments.shape)}")
    weights = torch.poisson(torch.ones(n_boot, moments.shape[1], dtype=torch.float64), generator=generator)
    boot = torch.einsum("bd,ldk->lbk", weights, moments) / weights.sum(1)[None, :, None]
    kurt = lambda m: m[..., 1] / m[..., 0] ** 2 - 3  # noqa: E731
    return kurt(moments.mean(1)), kurt(boot)


def excess_kurtosis(moments: torch.Tensor, *, n_boot: int = 400, level: float = 0.95,
                    generator: torch.Generator | None = None) -> list[Estimate]:
    """:func:`kurtosis_bootstrap` summarised as a point estimate and a ``level`` interval per layer."""
    values, boots = kurtosis_bootstrap(moments, n_boot=n_boot, generator=generator)
    q = torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=torch.float64)
    lo, hi = torch.quantile(boots, q, dim=1)
    return [Estimate(float(values[i]), (float(lo[i]), float(hi[i]))) for i in range(len(values))]
