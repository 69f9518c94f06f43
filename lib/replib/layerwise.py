"""Shallow networks trained one layer at a time, as feature-learning theory analyses them.

The recipe: freeze every layer but one, train that one (by gradient steps, or to convergence — which for
a layer the output depends on linearly is ridge regression), move to the next. Everything is batched over
leading axes (seeds), so a sweep over seeds is one computation.

- :func:`unit_neurons` draws first-layer weights on the unit sphere.
- :func:`spherical_sgd` trains such neurons by online SGD on the correlation loss, optionally taking
  several gradient steps on each mini-batch (batch reuse); :func:`learning_rate_sweep` runs it at several
  learning rates at once, recording a summary after every step and stopping when told to.
- :class:`ThreeLayerNet` and :func:`fit_three_layer`: f(x) = Σ_j a_j relu(s_j·h(x) + b_j) with the learned
  scalar feature h(x) = Σ_k v_k He_q(⟨w_k, x⟩) (random unit w_k) — the middle layer learns a degree-q
  polynomial feature, the top layer a one-dimensional function of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from replib.kernels import feature_regression
from replib.targets import hermite


def unit_neurons(*shape: int, d: int, generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Weights uniform on the unit sphere of R^d: shape (*shape, d), e.g. (seeds, neurons, d)."""
    if d < 1 or any(s < 1 for s in shape):
        raise ValueError(f"need positive sizes, got shape {shape} and d={d}")
    w = torch.randn(*shape, d, generator=generator, dtype=dtype)
    return w / w.norm(dim=-1, keepdim=True)


def sine_cosine_grad(u: torch.Tensor) -> torch.Tensor:
    """σ'(u) for the student activation σ(u) = ½ sin u − cos u, a default for :func:`spherical_sgd`.

    Bounded (polynomial activations make reused and high-degree gradients heavy-tailed), with a non-zero
    Hermite coefficient of every degree, a positive even part at degree 2 (so that ascent on the
    correlation with an even link moves towards ±θ) and a non-zero odd part.
    """
    return 0.5 * torch.cos(u) + torch.sin(u)


def spherical_sgd(w: torch.Tensor, sample: Callable[[int], tuple[torch.Tensor, torch.Tensor]], *, steps: int,
                  lr: float | torch.Tensor, activation_grad: Callable[[torch.Tensor], torch.Tensor],
                  reuse: int = 1, record: Callable[[int, torch.Tensor], None] | None = None) -> torch.Tensor:
    """Online SGD on the correlation loss −y·σ(⟨w, x⟩) for neurons kept on the unit sphere.

    ``w`` (..., m, d) holds unit neurons (any leading axes: learning rates, seeds); ``sample(t)`` returns
    the step's fresh mini-batch x (..., B, d), y (..., B), broadcastable against w's leading axes. Each
    batch is used for ``reuse`` consecutive gradient steps (1 = plain online SGD, 2 = the batch-reuse
    scheme). A step moves along the gradient's component tangent to the sphere and renormalises.
    ``lr`` may be a tensor broadcastable against w for a learning-rate sweep in one run: (..., 1, 1) for
    one rate per leading index, or (m, 1) for one rate per neuron (on the correlation loss the neurons do
    not interact, so the neuron axis can carry the sweep).
    ``record(t, w)`` is called after every step t = 1..steps. Returns the final neurons.
    """
    if steps < 0 or reuse < 1:
        raise ValueError(f"need steps >= 0 and reuse >= 1, got steps={steps}, reuse={reuse}")
    if not torch.is_tensor(lr):
        lr = torch.tensor(float(lr), dtype=w.dtype)
    if (lr <= 0).any():
        raise ValueError("learning rates must be positive")
    w = w / w.norm(dim=-1, keepdim=True)
    for t in range(1, steps + 1):
        x, y = sample(t)
        for _ in range(reuse):
            grad = (y.unsqueeze(-2) * activation_grad(w @ x.transpose(-1, -2))) @ x / x.shape[-2]
            grad = grad - (grad * w).sum(-1, keepdim=True) * w
            w = w + lr * grad
            w = w / w.norm(dim=-1, keepdim=True)
        if record is not None:
            record(t, w)
    return w


def learning_rate_sweep(w: torch.Tensor, sample: Callable[[int], tuple[torch.Tensor, torch.Tensor]],
                        lrs: list[float], *, activation_grad: Callable[[torch.Tensor], torch.Tensor],
                        max_steps: int, summarise: Callable[[torch.Tensor], torch.Tensor],
                        done: Callable[[torch.Tensor], bool] | None = None, reuse: int = 1,
                        chunk: int = 16) -> torch.Tensor:
    """:func:`spherical_sgd` from the neurons ``w`` (..., m, d) at every learning rate of ``lrs`` in one run.

    On the correlation loss neurons do not interact, so the copies for the L learning rates ride on the
    neuron axis (L·m neurons, one rate each) and share the mini-batches. After every step
    ``summarise(w)`` receives the neurons as (..., L, m, d) and returns a tensor (e.g. overlaps with the
    true directions). Every ``chunk`` steps ``done(history)`` sees the summaries so far, stacked
    (steps, ...), and may end the run early; otherwise it runs ``max_steps`` steps. Returns the stacked
    summaries.
    """
    if not lrs or min(lrs) <= 0:
        raise ValueError(f"need a non-empty list of positive learning rates, got {lrs}")
    if max_steps < 1 or chunk < 1:
        raise ValueError(f"need max_steps >= 1 and chunk >= 1, got {max_steps} and {chunk}")
    *batch, m, d = w.shape
    rates = torch.tensor(lrs, dtype=w.dtype).repeat_interleave(m).unsqueeze(-1)
    neurons = w.unsqueeze(-3).expand(*batch, len(lrs), m, d).reshape(*batch, len(lrs) * m, d)
    history: list[torch.Tensor] = []
    steps = 0
    while steps < max_steps:
        block = min(chunk, max_steps - steps)
        neurons = spherical_sgd(neurons, sample, steps=block, lr=rates, activation_grad=activation_grad,
                                reuse=reuse,
                                record=lambda t, v: history.append(summarise(v.view(*batch, len(lrs), m, d))))
        steps += block
        if done is not None and done(torch.stack(history)):
            break
    return torch.stack(history)


@dataclass
class ThreeLayerNet:
    """A three-layer network whose middle layer computes one learned scalar feature.

    Layer 1: u_k = He_q(⟨w_k, x⟩) with random unit w_k (frozen). For unit w_k each u_k is a degree-q
    Hermite polynomial of x, so the span of the u_k is the space of degree-q polynomials once there are
    enough of them, and nothing of lower degree leaks in.
    Layer 2: h(x) = Σ_k v_k u_k(x), learned. Layer 3: f(x) = Σ_j a_j relu(s_j·h(x)/scale + b_j), random
    (s_j, b_j) and learned a_j.
    """

    w: torch.Tensor  # (..., m1, d) unit rows
    degree: int
    v: torch.Tensor  # (..., m1)
    scale: torch.Tensor  # (...,) the feature's standard deviation on its training data
    s: torch.Tensor  # (..., m2)
    b: torch.Tensor  # (..., m2)
    a: torch.Tensor  # (..., m2)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """Layer-1 activations (..., n, m1) for inputs (..., n, d)."""
        return hermite(self.degree, x @ self.w.transpose(-1, -2))

    def feature(self, x: torch.Tensor) -> torch.Tensor:
        """The learned scalar feature h(x): (..., n)."""
        return (self.hidden(x) @ self.v.unsqueeze(-1)).squeeze(-1)

    def top_features(self, h: torch.Tensor) -> torch.Tensor:
        return torch.relu(h.unsqueeze(-1) / self.scale[..., None, None] * self.s.unsqueeze(-2) + self.b.unsqueeze(-2))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (self.top_features(self.feature(x)) @ self.a.unsqueeze(-1)).squeeze(-1)


def fit_three_layer(x: torch.Tensor, y: torch.Tensor, *, width1: int, width2: int, degree: int,
                    generator: torch.Generator | None = None, ridge1: float = 1e-6,
                    ridge2: float = 1e-4) -> ThreeLayerNet:
    """Train a :class:`ThreeLayerNet` layer-wise on (x, y), shapes (..., n, d) and (..., n).

    The first half of the points trains the middle layer v, the second half the top layer a (fresh
    samples for each stage, as in the theory). Stage 1 fits the feature h to y with the top layer
    linearised (f ≈ h), stage 2 the top layer with h frozen; the output is linear in the trained layer in
    both, so training it to convergence is ridge regression (relative ridges ``ridge1``, ``ridge2``).
    """
    if x.shape[:-1] != y.shape:
        raise ValueError(f"x {tuple(x.shape)} and y {tuple(y.shape)} disagree on the points")
    n = x.shape[-2]
    if n < 4:
        raise ValueError(f"need at least 4 points to train two stages, got {n}")
    batch, d = x.shape[:-2], x.shape[-1]
    w = unit_neurons(*batch, width1, d=d, generator=generator, dtype=x.dtype)
    net = ThreeLayerNet(w=w, degree=degree, v=torch.zeros(*batch, width1, dtype=x.dtype),
                        scale=torch.ones(batch, dtype=x.dtype),
                        s=torch.randn(*batch, width2, generator=generator, dtype=x.dtype),
                        b=torch.randn(*batch, width2, generator=generator, dtype=x.dtype),
                        a=torch.zeros(*batch, width2, dtype=x.dtype))
    half = n // 2
    net.v = feature_regression(net.hidden(x[..., :half, :]), y[..., :half], ridge=ridge1)
    h2 = net.feature(x[..., half:, :])
    net.scale = h2.std(-1).clamp_min(torch.finfo(x.dtype).tiny)
    net.a = feature_regression(net.top_features(h2), y[..., half:], ridge=ridge2)
    return net


def polynomial_dimension(d: int, degree: int) -> int:
    """Number of monomials of exactly ``degree`` in d variables: the dimension a degree-q feature lives in."""
    return math.comb(d + degree - 1, degree)


def median_settled(threshold: float, *, fraction: float = 0.8, confirm: float = 0.25,
                   below: bool = False) -> Callable[[torch.Tensor], bool]:
    """A ``done`` rule for :func:`learning_rate_sweep` whose summaries are (seeds, rates).

    The run is settled once, for some rate, at least ``fraction`` of the seeds are *currently* past
    ``threshold`` (≥, or ≤ with ``below``) — then the median over seeds is past it in almost every
    seed-bootstrap resample. It then runs ``confirm`` times as many steps again, so that a crossing can be
    required to last (:func:`replib.fitting.rate_selected_crossing` with ``sustained=True``).
    Each call of this function makes a fresh rule (it remembers when its run settled).
    """
    if not 0 < fraction <= 1 or confirm < 0:
        raise ValueError(f"need 0 < fraction <= 1 and confirm >= 0, got {fraction} and {confirm}")
    settled_at: list[int] = []

    def done(history: torch.Tensor) -> bool:
        current = history[-1]
        past = current <= threshold if below else current >= threshold
        if not settled_at and bool((past.float().mean(-2) >= fraction).any()):
            settled_at.append(history.shape[0])
        return bool(settled_at) and history.shape[0] >= math.ceil(settled_at[0] * (1 + confirm))

    return done
