"""Deep kernel machines (Yang et al., 2023) and the wide deep Gaussian processes they describe.

A deep Gaussian process (DGP) on P inputs: layer ℓ = 1..L has N features F_ℓ (P × N) whose columns are
iid N(0, K(G_{ℓ−1})), with G_ℓ = F_ℓ F_ℓᵀ / N and G_0 = X Xᵀ / d; outputs Y (P × outputs) have columns
iid N(0, K(G_L) + σ² I). Here K(G) is a squared-exponential kernel written through the Gram matrix plus a
small white-noise floor (it keeps every K invertible).

As N → ∞ with the likelihood also scaled by N (the "Bayesian representation learning" limit), the
posterior over each G_ℓ concentrates on the maximiser of the deep-kernel-machine objective

    L(G_1..G_L) = log P(Y | G_L) − Σ_ℓ KL( N(0, G_ℓ) ‖ N(0, K(G_{ℓ−1})) ),

while with the ordinary scaling (likelihood O(1), prior O(N)) it collapses onto the NNGP prior
G_ℓ = K(G_{ℓ−1}): no representation learning.

- :func:`gram_kernel`, :func:`nngp_grams` — the kernel of a Gram matrix; the prior (NNGP) Gram matrices.
- :func:`dkm_objective`, :func:`fit_dkm` — the objective and its maximiser (L-BFGS over Cholesky factors).
- :func:`sample_dgp_chains` — Langevin sampling of a finite-width DGP's features, summarised per chain
  (time-averaged Gram matrices and posterior variances); :func:`sample_dgp` — their mean over chains.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from replib.runtime import progress


def gram_kernel(g: torch.Tensor, *, lengthscale: float = 1.0, floor: float = 0.1) -> torch.Tensor:
    """K(G) = (1 − floor)·exp(−‖f_i − f_j‖² / 2ℓ²) + floor·I, the distances read off the Gram matrix G (..., P, P)."""
    diag = g.diagonal(dim1=-2, dim2=-1)
    sq = diag[..., :, None] + diag[..., None, :] - 2 * g
    eye = torch.eye(g.shape[-1], dtype=g.dtype, device=g.device)
    return (1 - floor) * torch.exp(-sq / (2 * lengthscale**2)) + floor * eye


def nngp_grams(g0: torch.Tensor, layers: int) -> list[torch.Tensor]:
    """The prior's Gram matrices G_ℓ = K(G_{ℓ−1}), ℓ = 1..layers (the infinite-width limit without learning)."""
    grams = [gram_kernel(g0)]
    for _ in range(layers - 1):
        grams.append(gram_kernel(grams[-1]))
    return grams


def _kl(g: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """KL(N(0, G) ‖ N(0, K)) = ½ [tr(K⁻¹G) − P + log|K| − log|G|]."""
    return 0.5 * (torch.linalg.solve(k, g).diagonal(dim1=-2, dim2=-1).sum(-1) - g.shape[-1]
                  + torch.logdet(k) - torch.logdet(g))


def log_likelihood(g_last: torch.Tensor, y: torch.Tensor, noise: float) -> torch.Tensor:
    """log N(Y; 0, K(G_L) + σ² I), summed over the output columns of y (P, outputs)."""
    cov = gram_kernel(g_last) + noise * torch.eye(y.shape[0], dtype=y.dtype, device=y.device)
    chol = torch.linalg.cholesky(cov)
    alpha = torch.cholesky_solve(y, chol)
    return -0.5 * ((y * alpha).sum((-2, -1)) + y.shape[1] * (2 * chol.diagonal(dim1=-2, dim2=-1).log().sum(-1)
                                                                + y.shape[0] * math.log(2 * math.pi)))


def dkm_objective(grams: list[torch.Tensor], g0: torch.Tensor, y: torch.Tensor, *, noise: float,
                  likelihood_weight: float = 1.0) -> torch.Tensor:
    """likelihood_weight · log P(Y | G_L) − Σ_ℓ KL(N(0, G_ℓ) ‖ N(0, K(G_{ℓ−1})))."""
    previous = [g0] + grams[:-1]
    kl = sum(_kl(g, gram_kernel(p)) for g, p in zip(grams, previous))
    return likelihood_weight * log_likelihood(grams[-1], y, noise) - kl


def _grams_from(params: list[torch.Tensor]) -> list[torch.Tensor]:
    grams = []
    for raw in params:  # lower triangle with a log-diagonal: always a positive-definite G = L Lᵀ
        chol = raw.tril(-1) + torch.diag_embed(raw.diagonal().exp())
        grams.append(chol @ chol.T)
    return grams


def fit_dkm(g0: torch.Tensor, y: torch.Tensor, *, layers: int, noise: float, likelihood_weight: float = 1.0,
            max_iter: int = 500) -> list[torch.Tensor]:
    """The Gram matrices that maximise :func:`dkm_objective`, by L-BFGS started from the NNGP."""
    if layers < 1 or y.ndim != 2 or y.shape[0] != g0.shape[0]:
        raise ValueError(f"need layers >= 1 and y of shape ({g0.shape[0]}, outputs); got {layers}, {tuple(y.shape)}")
    params = []
    for g in nngp_grams(g0, layers):
        chol = torch.linalg.cholesky(g)
        params.append((chol.tril(-1) + torch.diag_embed(chol.diagonal().log())).requires_grad_(True))
    opt = torch.optim.LBFGS(params, max_iter=max_iter, tolerance_grad=1e-10, tolerance_change=1e-14,
                            history_size=50, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = -dkm_objective(_grams_from(params), g0, y, noise=noise, likelihood_weight=likelihood_weight)
        loss.backward()
        return loss

    opt.step(closure)
    return [g.detach() for g in _grams_from(params)]


@dataclass
class DGPSamples:
    """Per-chain summaries of a Langevin run: ``mean[ℓ]`` (chains, P, P) is each chain's time-averaged Gram
    matrix of layer ℓ+1 after burn-in; ``var[ℓ]`` (chains,) is each chain's posterior variance of that
    Gram matrix over time, averaged over its P² entries (how far one sample strays from the chain's mean)."""

    mean: list[torch.Tensor]
    var: list[torch.Tensor]


def sample_dgp_chains(g0: torch.Tensor, y: torch.Tensor, *, width: int, layers: int, noise: float,
                      likelihood_scale: float, steps: int, burn_in: int, step_size: float, chains: int,
                      generator: torch.Generator, desc: str | None = None) -> DGPSamples:
    """Unadjusted Langevin dynamics on the features of a width-N DGP, summarised per chain.

    The target is log p(F_1..F_L) + likelihood_scale · log P(Y | G_L): likelihood_scale = N is the
    representation-learning limit's scaling (the outputs replicated N times), 1 the ordinary one. Each
    layer's step is preconditioned by a fixed matrix, its NNGP prior covariance M_ℓ:
    F ← F + h M ∇ log π + √(2h) chol(M) ξ. ``chains`` independent chains start from prior draws and run
    as one batch; each chain's Gram matrices are averaged over the steps after ``burn_in``.
    """
    if not 0 <= burn_in < steps or step_size <= 0 or width < 1 or chains < 1:
        raise ValueError(f"need 0 <= burn_in < steps, step_size > 0, width >= 1, chains >= 1; got burn_in={burn_in}, "
                         f"steps={steps}, step_size={step_size}, width={width}, chains={chains}")
    p, dtype, device = g0.shape[0], g0.dtype, g0.device
    precond = nngp_grams(g0, layers)  # M_ℓ = K(G_{ℓ−1}) at the NNGP: layer ℓ's prior covariance there
    roots = [torch.linalg.cholesky(m) for m in precond]

    def noise_like(shape):
        return torch.randn(shape, generator=generator, dtype=dtype, device=device)

    features = [roots[0] @ noise_like((chains, p, width))]
    for _ in range(layers - 1):
        cov = gram_kernel(features[-1] @ features[-1].transpose(-1, -2) / width)
        features.append(torch.linalg.cholesky(cov) @ noise_like((chains, p, width)))

    def log_target(fs):
        grams = [f @ f.transpose(-1, -2) / width for f in fs]
        total = likelihood_scale * log_likelihood(grams[-1], y, noise)
        for f, prev in zip(fs, [g0.expand(chains, p, p)] + grams[:-1]):
            chol = torch.linalg.cholesky(gram_kernel(prev))
            total = total - 0.5 * (f * torch.cholesky_solve(f, chol)).sum((-2, -1))
            total = total - width * chol.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return total.sum(), grams

    sums = [torch.zeros(chains, p, p, dtype=dtype, device=device) for _ in range(layers)]
    squares = [torch.zeros(chains, p, p, dtype=dtype, device=device) for _ in range(layers)]
    for t in range(steps) if desc is None else progress(range(steps), desc=desc):
        fs = [f.requires_grad_(True) for f in features]
        value, grams = log_target(fs)
        grads = torch.autograd.grad(value, fs)
        if t >= burn_in:
            sums = [s + g.detach() for s, g in zip(sums, grams)]
            squares = [q + g.detach() ** 2 for q, g in zip(squares, grams)]
        features = [(f.detach() + step_size * m @ g + math.sqrt(2 * step_size) * r @ noise_like(f.shape))
                    for f, g, m, r in zip(fs, grads, precond, roots)]
    kept = steps - burn_in
    means = [s / kept for s in sums]
    var = [(q / kept - m**2).clamp_min(0).mean((-2, -1)) for q, m in zip(squares, means)]
    return DGPSamples(means, var)


def sample_dgp(g0: torch.Tensor, y: torch.Tensor, *, width: int, layers: int, noise: float, likelihood_scale: float,
               steps: int, burn_in: int, step_size: float, chains: int, generator: torch.Generator,
               desc: str | None = None) -> list[torch.Tensor]:
    """Posterior-mean Gram matrices of a width-N DGP: :func:`sample_dgp_chains` averaged over its chains."""
    run = sample_dgp_chains(g0, y, width=width, layers=layers, noise=noise, likelihood_scale=likelihood_scale,
                            steps=steps, burn_in=burn_in, step_size=step_size, chains=chains,
                            generator=generator, desc=desc)
    return [m.mean(0) for m in run.mean]
