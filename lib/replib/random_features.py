"""Universal random features: f(⟨x, w⟩) as a dot product φ(x)·ψ(w) of features of x alone and of w alone.

If a scalar function is an average of exponentials, f(z) = E_ξ[c(ξ) e^{s(ξ) z}] (complex s and c allowed:
cos z = E[e^{iξz}] with ξ = ±1), then the Gaussian identity E_g[e^{⟨g, u⟩}] = e^{u·u/2}, g ~ N(0, I),
which holds for complex vectors too, splits each exponential into a product:

    e^{s⟨x, w⟩} = E_g[ e^{s⟨g, x⟩ − s²‖x‖²/2} · e^{⟨g, w⟩ − ‖w‖²/2} ].

Drawing m pairs (ξ_k, g_k) gives x-features φ_k(x) = c_k e^{s_k⟨g_k, x⟩ − s_k²‖x‖²/2}/√m and w-features
ψ_k(w) = e^{⟨g_k, w⟩ − ‖w‖²/2}/√m whose dot product (real part) is an unbiased estimate of f(⟨x, w⟩),
with variance ∝ 1/m that grows exponentially with ‖x‖ and ‖w‖.

* :class:`ExpMixture` and the mixtures ``MIXTURES`` (exp, cos, sin).
* :func:`urf_draw`, :func:`input_features`, :func:`weight_features`, :func:`urf_estimate`, and
  :func:`urf_pair_estimates` (many independent estimates at once, for studying the estimator).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch


@dataclass(frozen=True)
class ExpMixture:
    """f(z) = E_ξ[c(ξ) e^{s(ξ) z}]: ``sample(m, generator)`` draws (s, c) as complex tensors (m,); ``exact``
    is f itself, for checking estimates."""

    name: str
    sample: Callable[[int, torch.Generator], tuple[torch.Tensor, torch.Tensor]]
    exact: Callable[[torch.Tensor], torch.Tensor]


def _signs(m, generator):
    return torch.randint(0, 2, (m,), generator=generator).double() * 2 - 1


MIXTURES = {
    "exp": ExpMixture("exp", lambda m, g: (torch.ones(m, dtype=torch.complex128),
                                           torch.ones(m, dtype=torch.complex128)), torch.exp),
    "cos": ExpMixture("cos", lambda m, g: (1j * _signs(m, g), torch.ones(m, dtype=torch.complex128)), torch.cos),
    "sin": ExpMixture("sin", lambda m, g: ((xi := 1j * _signs(m, g)), -xi), torch.sin),
}


@dataclass
class URFDraw:
    """One draw of m random features in dimension d: frequencies s, weights c (complex, (m,)), directions g
    (m, d)."""

    s: torch.Tensor
    c: torch.Tensor
    g: torch.Tensor


def urf_draw(mixture: ExpMixture, m: int, dim: int, generator: torch.Generator) -> URFDraw:
    """Draw the m (ξ, g) pairs shared by the input and the weight features."""
    if m < 1 or dim < 1:
        raise ValueError(f"need m >= 1 features and dim >= 1, got m={m}, dim={dim}")
    s, c = mixture.sample(m, generator)
    return URFDraw(s, c, torch.randn(m, dim, generator=generator, dtype=torch.float64))


def _check(x: torch.Tensor, draw: URFDraw) -> torch.Tensor:
    x = torch.as_tensor(x, dtype=torch.float64)
    if x.shape[-1] != draw.g.shape[1]:
        raise ValueError(f"vectors of dimension {x.shape[-1]} do not match features drawn for {draw.g.shape[1]}")
    return x


def input_features(x: torch.Tensor, draw: URFDraw, *, corrected: bool = True) -> torch.Tensor:
    """φ(x) (..., m), complex. ``corrected=False`` drops the −s²‖x‖²/2 term (a biased estimator, for
    showing why the term is there)."""
    x = _check(x, draw)
    exponent = draw.s * (x @ draw.g.T)
    if corrected:
        exponent = exponent - draw.s**2 * (x * x).sum(-1, keepdim=True) / 2
    return draw.c * torch.exp(exponent) / math.sqrt(len(draw.s))


def weight_features(w: torch.Tensor, draw: URFDraw, *, corrected: bool = True) -> torch.Tensor:
    """ψ(w) (..., m), real."""
    w = _check(w, draw)
    exponent = w @ draw.g.T
    if corrected:
        exponent = exponent - (w * w).sum(-1, keepdim=True) / 2
    return torch.exp(exponent) / math.sqrt(len(draw.s))


def urf_estimate(x: torch.Tensor, w: torch.Tensor, draw: URFDraw, *, corrected: bool = True) -> torch.Tensor:
    """Estimates of f(⟨x_i, w_j⟩) for all rows x (n, d) and w (k, d): Re φ(x) ψ(w)ᵀ, shape (n, k) — a whole
    layer f(W x) in kernel form, with the inputs' and the weights' features computed separately."""
    return (input_features(x, draw, corrected=corrected)
            @ weight_features(w, draw, corrected=corrected).to(torch.complex128).T).real


def urf_pair_estimates(x: torch.Tensor, w: torch.Tensor, mixture: ExpMixture, m: int, draws: int,
                       generator: torch.Generator, *, corrected: bool = True) -> torch.Tensor:
    """``draws`` independent estimates, each from its own m features, of f(⟨x_i, w_i⟩) for matched rows
    x (n, d) and w (n, d): shape (draws, n). The draws are blocks of one long feature draw, taken a few
    blocks at a time to bound memory."""
    if x.shape != w.shape or x.ndim != 2:
        raise ValueError(f"need matched rows x and w of one shape (n, d), got {tuple(x.shape)} and {tuple(w.shape)}")
    per_chunk = max(1, 2**22 // (m * x.shape[0]))
    out = []
    for start in range(0, draws, per_chunk):
        block = min(per_chunk, draws - start)
        draw = urf_draw(mixture, block * m, x.shape[1], generator)
        products = (input_features(x, draw, corrected=corrected)
                    * weight_features(w, draw, corrected=corrected)).real  # each 1/(block·m)-normalised
        out.append(products.reshape(x.shape[0], block, m).sum(-1).T * block)
    return torch.cat(out)
