"""Finite-width statistics of random networks: exact preactivation sampling and kurtosis estimates.

For one input, the preactivations of layer ℓ+1 of a fully connected network with Gaussian weights
W ~ N(0, C_W/n) and biases b ~ N(0, C_b) are, *given layer ℓ*, independent Gaussians with the common
variance q = C_b + C_W · mean_j φ(z_j)². :func:`preactivation_moments` samples them layer by layer from
that conditional law — an exact draw from the network's distribution at O(draws · width) cost per layer,
instead of O(draws · width²) for explicit weight matrices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np
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


def hidden_features(x: torch.Tensor, *, width: int, draws: int, activation: str = "relu",
                    weight_var: float = 2.0, generator: torch.Generator | None = None,
                    max_elements: int = 2**23) -> Iterator[torch.Tensor]:
    """Hidden features of ``draws`` one-hidden-layer networks with explicit Gaussian weights, in chunks.

    Each network draws its first-layer weights W ~ N(0, ``weight_var``/d) (width × d) and returns
    sqrt(``weight_var``/width) · φ(W x) at every row of ``x`` (P, d); a readout v ~ N(0, s²) then gives
    the outputs Φ v, whose covariance given W is s² Φ Φᵀ (the empirical NNGP kernel). Yields float64
    tensors (m, P, width) whose m sum to ``draws``; a chunk holds about ``max_elements`` numbers, so
    memory stays bounded at any width and number of draws. Tensors live on ``x``'s device.
    """
    if width < 1 or draws < 1:
        raise ValueError(f"width and draws must be positive, got {width}, {draws}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    if x.ndim != 2:
        raise ValueError(f"x must be (inputs, d), got shape {tuple(x.shape)}")
    phi = ACTIVATIONS[activation][0]
    x = x.to(torch.float64)
    n_in, d = x.shape
    chunk = max(1, max_elements // (width * max(n_in, d)))
    for start in range(0, draws, chunk):
        m = min(chunk, draws - start)
        w = torch.randn(m, width, d, generator=generator, dtype=torch.float64, device=x.device)
        h = torch.einsum("mwd,pd->mpw", w, x).mul_((weight_var / d) ** 0.5)
        yield phi(h).mul_((weight_var / width) ** 0.5)


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


def _pairs(n_inputs: int) -> list[tuple[int, int]]:
    return [(a, b) for a in range(n_inputs) for b in range(a, n_inputs)]


def mlp_pair_moments(x: torch.Tensor, *, width: int, depth: int, draws: int,
                     activation: str = "relu", weight_var: float = 2.0,
                     generator: torch.Generator | None = None,
                     max_elements: int = 2**24) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-network neuron averages of random MLPs with explicit Gaussian weight matrices.

    Every network draws W₁ ~ N(0, ``weight_var``/d) and W_ℓ ~ N(0, ``weight_var``/width)
    (width × width, zero biases) and computes z₁ = W₁x, z_{ℓ+1} = W_{ℓ+1} φ(z_ℓ) at the rows of
    ``x`` (P, d). For the P(P+1)/2 input pairs (a ≤ b) it returns, per network and layer,
    ``s`` = (1/n) Σ_i z_{i;a} z_{i;b}, shape (draws, depth, pairs), and
    ``q`` = (1/n) Σ_i z_{i;a} z_{i;b} z_{i;c} z_{i;d}, shape (draws, depth, pairs, pairs).
    Networks are simulated in chunks of about ``max_elements`` weights (float32 matmuls,
    float64 averages); tensors live on ``x``'s device.
    """
    if width < 1 or depth < 1 or draws < 1:
        raise ValueError(f"width, depth and draws must be positive, got {width}, {depth}, {draws}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    phi = ACTIVATIONS[activation][0]
    n_in, d = x.shape
    pairs = _pairs(n_in)
    ia = torch.tensor([a for a, _ in pairs], device=x.device)
    ib = torch.tensor([b for _, b in pairs], device=x.device)
    xf = x.to(torch.float32)
    s_all = torch.empty(draws, depth, len(pairs), dtype=torch.float64, device=x.device)
    q_all = torch.empty(draws, depth, len(pairs), len(pairs), dtype=torch.float64,
                        device=x.device)
    chunk = max(1, max_elements // (width * max(width, d)))
    for start in range(0, draws, chunk):
        m = min(chunk, draws - start)
        w = torch.randn(m, width, d, generator=generator, device=x.device)
        z = torch.einsum("mwd,pd->mwp", w, xf).mul_((weight_var / d) ** 0.5)
        for layer in range(depth):
            if layer:
                w = torch.randn(m, width, width, generator=generator, device=x.device)
                z = torch.bmm(w, phi(z)).mul_((weight_var / width) ** 0.5)
            prod = (z[:, :, ia] * z[:, :, ib]).double()  # (m, n, pairs)
            s_all[start:start + m, layer] = prod.mean(1)
            q_all[start:start + m, layer] = torch.einsum("mip,miq->mpq", prod, prod) / width
    return s_all, q_all


def vertex_estimate(s: torch.Tensor, q: torch.Tensor, width: int) -> torch.Tensor:
    """The four-point vertex V_{(ab)(cd)} = n · (E[z_{i;a} z_{i;b} z_{j;c} z_{j;d}] −
    E[z_a z_b] E[z_c z_d]) over distinct neurons i ≠ j, estimated from the outputs of
    :func:`mlp_pair_moments` (one unbiased U-statistic per network, averaged over networks).
    Returns (depth, pairs, pairs)."""
    n = width
    cross = (n * n * s[..., :, None] * s[..., None, :] - n * q) / (n * (n - 1))
    mean_s = s.mean(0)
    return n * (cross.mean(0) - mean_s[..., :, None] * mean_s[..., None, :])


def _gauss_expect(fn, kernel: torch.Tensor, nodes: int = 96) -> torch.Tensor:
    """E[fn(z)] for z ~ N(0, kernel) (P = 1 or 2), by quadrature: Gauss–Hermite in one
    dimension; in two, a uniform grid in the angle and Gauss–Laguerre in r²/2 (exact in r for
    homogeneous activations such as ReLU). Differentiable in ``kernel``."""
    if kernel.shape[-1] == 1:
        u, wts = np.polynomial.hermite_e.hermegauss(2 * nodes)
        u = torch.tensor(u, dtype=torch.float64)
        wts = torch.tensor(wts / wts.sum(), dtype=torch.float64)
        z = kernel[0, 0].sqrt() * u[:, None]
        return (fn(z) * wts.reshape(-1, *[1] * (fn(z).ndim - 1))).sum(0)
    s, ws = np.polynomial.laguerre.laggauss(nodes // 2)
    theta = torch.arange(16 * nodes, dtype=torch.float64) * (2 * math.pi / (16 * nodes))
    r = torch.tensor(np.sqrt(2 * s), dtype=torch.float64)
    u = torch.stack([torch.outer(r, theta.cos()), torch.outer(r, theta.sin())], -1)
    z = (u.reshape(-1, 2) @ torch.linalg.cholesky(kernel).T)
    wts = (torch.tensor(ws, dtype=torch.float64)[:, None] / len(theta)).expand(
        len(r), len(theta)).reshape(-1)
    vals = fn(z)
    return (vals * wts.reshape(-1, *[1] * (vals.ndim - 1))).sum(0)


def vertex_recursion(x: torch.Tensor, *, depth: int, activation: str = "relu",
                     weight_var: float = 2.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Leading-order (1/n) kernel and four-point vertex of a deep MLP at one or two inputs.

    The kernel follows K_{ℓ+1} = C_W ⟨φ_a φ_b⟩_{K_ℓ}; the vertex, defined by
    n · Cov(Ĝ_{ab}, Ĝ_{cd}) of the layer's stochastic kernel Ĝ, follows the recursion of
    Roberts, Yaida & Hanin (PDLT, Ch. 4) for equal widths:
    V_{ℓ+1} = C_W² Cov_{K_ℓ}(φ_a φ_b, φ_c φ_d) + C_W² J_ℓ V_ℓ J_ℓᵀ, with J_ℓ the Jacobian of
    ⟨φ_a φ_b⟩_K in the kernel's unique entries, and V₁ = 0. Returns kernels (depth, P, P) and
    vertices (depth, pairs, pairs) over the pairs a ≤ b, in float64 (zero bias).
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    phi = ACTIVATIONS[activation][0]
    x = x.to(torch.float64).cpu()
    n_in, d = x.shape
    if n_in not in (1, 2):
        raise ValueError(f"vertex_recursion takes one or two inputs, got {n_in}")
    pairs = _pairs(n_in)
    ia, ib = [a for a, _ in pairs], [b for _, b in pairs]

    def to_matrix(vec):  # unique entries (pairs a <= b) -> symmetric matrix
        if n_in == 1:
            return vec.reshape(1, 1)
        return torch.stack([torch.stack([vec[0], vec[1]]), torch.stack([vec[1], vec[2]])])

    def second(vec):  # <φ_a φ_b> for every pair, as a function of the kernel's unique entries
        return _gauss_expect(lambda z: phi(z)[:, ia] * phi(z)[:, ib], to_matrix(vec))

    kern = weight_var * x @ x.T / d
    vec = torch.stack([kern[a, b] for a, b in pairs])
    vertex = torch.zeros(len(pairs), len(pairs), dtype=torch.float64)
    kernels, vertices = [kern], [vertex]
    for _ in range(depth - 1):
        k = to_matrix(vec)
        prods = lambda z: phi(z)[:, ia] * phi(z)[:, ib]  # noqa: E731
        m2 = _gauss_expect(prods, k)
        m4 = _gauss_expect(lambda z: prods(z)[:, :, None] * prods(z)[:, None, :], k)
        jac = torch.autograd.functional.jacobian(second, vec)
        vertex = weight_var**2 * (m4 - torch.outer(m2, m2) + jac @ vertex @ jac.T)
        vec = weight_var * m2
        kernels.append(to_matrix(vec))
        vertices.append(vertex)
    return torch.stack(kernels), torch.stack(vertices)
