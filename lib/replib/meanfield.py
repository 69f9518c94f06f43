"""Two-timescale mean-field Langevin dynamics of a two-layer ReLU network, seen as kernel learning.

With the second layer infinitely faster than the first, it is always at its optimum for the current
first-layer particles w_1..w_m: the network is kernel ridge regression with the *intrinsic kernel*
K(x, x') = mean_j h(x; w_j) h(x'; w_j), h(x; w) = relu(⟨w, (x, 1)⟩), and objective
G = (λ_a/2) yᵀ(K + λ_a I)⁻¹y (squared loss summed over the data, ridge λ_a on the second layer). Each
particle follows the first variation of G plus weight decay and Langevin noise:

    w ← w + η (λ_a a(w) ∇a(w) − λ_w w) + √(2ηλ) ξ,   a(w) = Σ_i α_i h(x_i; w),  α = (K + λ_a I)⁻¹ y,

where a(w) is the particle's optimal second-layer weight. :func:`train_two_timescale` runs it for a batch of
independent problems and records what the kernel learns: its alignment with the target on held-out points,
its degrees of freedom tr K(K + λ_a I)⁻¹, and the test error of the network.

**Label-noise procedure** (Takakura & Suzuki, 2024, Sec. 5.2). At every step fresh noise ε̃ ~ U[−σ̃, σ̃]ⁿ
is added to the labels *for the second-layer fit only*, α̃ = (K + λ_a I)⁻¹(y + ε̃), while the first layer
descends the loss of that fit on the clean labels, G̃ = ½‖y − Kα̃‖² + (λ_a/2) α̃ᵀKα̃. On average this is
G + (σ̃²/6) tr K(K + λ_a I)⁻¹: a penalty on the degrees of freedom. Differentiating through α̃ gives
∂G̃/∂K = −λ_a sym(β α̃ᵀ) with β = (K + λ_a I)⁻¹(y − ỹ/2), so the drift is
λ_a (a_β ∇a_α̃ + a_α̃ ∇a_β) (a_c(w) = Σ_i c_i h(x_i; w)); without noise β = α/2 and it is the update above.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .metrics import kernel_alignment


def _features(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """h(x; w_j) for inputs x (S, n, d) and particles w (S, m, d + 1): (S, n, m)."""
    return torch.relu(x @ w[..., :-1].transpose(-1, -2) + w[..., -1][:, None, :])


@dataclass
class KernelRun:
    """Per recorded step (T rows) and problem (S columns): ``alignment`` of the intrinsic kernel with the
    clean target on held-out points, degrees of freedom ``dof``, ``test`` mean squared error against the
    clean target and ``train`` mean squared error against the (noisy) training labels; ``particles``
    (S, m, d + 1) at the end."""

    steps: list[int]
    alignment: torch.Tensor
    dof: torch.Tensor
    test: torch.Tensor
    train: torch.Tensor
    particles: torch.Tensor


def ridge_fit(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, ridge: float):
    """Intrinsic kernel K (S, n, n), the dual coefficients α (S, n) and the features (S, n, m)."""
    h = _features(x, w)
    k = h @ h.transpose(-1, -2) / w.shape[-2]
    eye = torch.eye(k.shape[-1], dtype=k.dtype)
    return k, torch.linalg.solve(k + ridge * eye, y[..., None])[..., 0], h


def _loss_drift(x1: torch.Tensor, h: torch.Tensor, alpha: torch.Tensor, beta: torch.Tensor,
                ridge: float) -> torch.Tensor:
    """−m ∇_w G̃ = λ_a (a_β ∇a_α + a_α ∇a_β) for every particle: (S, m, d + 1)."""
    active = (h > 0).to(h.dtype)  # (S, n, m)
    a_alpha, a_beta = (h * alpha[..., None]).sum(-2), (h * beta[..., None]).sum(-2)  # (S, m)
    grad_alpha = (alpha[..., None] * active).transpose(-1, -2) @ x1  # ∇_w a_α(w_j): (S, m, d + 1)
    grad_beta = (beta[..., None] * active).transpose(-1, -2) @ x1
    return ridge * (a_beta[..., None] * grad_alpha + a_alpha[..., None] * grad_beta)


def train_two_timescale(x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, *, x_test: torch.Tensor,
                        f_test: torch.Tensor, ridge: float, weight_decay: float, temperature: float, lr: float,
                        steps: int, record_every: int, generator: torch.Generator,
                        drift: bool = True, label_noise: float = 0.0, noisy_first_layer: bool = False) -> KernelRun:
    """Run the dynamics above from particles w0 (S, m, d + 1) on data x (S, n, d), y (S, n); test inputs
    x_test (S, q, d) with clean targets f_test (S, q). ``drift=False`` keeps only weight decay and noise
    (particles that never see the data: a random-feature kernel). ``label_noise`` σ̃ > 0 runs the
    label-noise procedure; with ``noisy_first_layer=True`` the first layer's loss sees the noisy labels
    too (plain fresh label noise, the procedure's control). Recorded quantities use the clean fit."""
    if min(ridge, lr, steps, record_every) <= 0 or min(weight_decay, temperature, label_noise) < 0:
        raise ValueError(f"need ridge, lr, steps, record_every > 0 and weight_decay, temperature, label_noise >= 0; "
                         f"got ridge={ridge}, lr={lr}, steps={steps}, record_every={record_every}, "
                         f"weight_decay={weight_decay}, temperature={temperature}, label_noise={label_noise}")
    if x.shape[:-1] != y.shape or w0.shape[-1] != x.shape[-1] + 1 or x_test.shape[:-1] != f_test.shape:
        raise ValueError(f"need x (S, n, d), y (S, n), w0 (S, m, d + 1), x_test (S, q, d), f_test (S, q); got "
                         f"{tuple(x.shape)}, {tuple(y.shape)}, {tuple(w0.shape)}, {tuple(x_test.shape)}, "
                         f"{tuple(f_test.shape)}")
    w, m = w0.clone(), w0.shape[-2]
    x1 = torch.cat([x, torch.ones_like(x[..., :1])], -1)
    eye = torch.eye(x.shape[-2], dtype=x.dtype)
    rows = {k: [] for k in ("alignment", "dof", "test", "train")}
    recorded = []
    for t in range(steps + 1):
        k, alpha, h = ridge_fit(x, y, w, ridge)
        if t % record_every == 0 or t == steps:
            h_test = _features(x_test, w)
            eig = torch.linalg.eigvalsh(k)
            rows["alignment"].append(kernel_alignment(h_test @ h_test.transpose(-1, -2) / m, f_test))
            rows["dof"].append((eig / (eig + ridge)).sum(-1))
            prediction = (h_test @ (h.transpose(-1, -2) @ alpha[..., None]))[..., 0] / m
            rows["test"].append(((prediction - f_test) ** 2).mean(-1))
            rows["train"].append(((ridge * alpha) ** 2).mean(-1))  # y − Kα = λ_a α
            recorded.append(t)
        if t == steps:
            break
        update = -weight_decay * w
        if drift:
            if label_noise > 0:
                noisy = y + label_noise * (2 * torch.rand(y.shape, generator=generator, dtype=y.dtype) - 1)
                loss_labels = noisy if noisy_first_layer else y
                solved = torch.linalg.solve(k + ridge * eye, torch.stack([noisy, loss_labels - noisy / 2], -1))
                update = update + _loss_drift(x1, h, solved[..., 0], solved[..., 1], ridge)
            else:
                update = update + _loss_drift(x1, h, alpha, alpha / 2, ridge)
        noise = torch.randn(w.shape, generator=generator, dtype=w.dtype)
        w = w + lr * update + math.sqrt(2 * lr * temperature) * noise
    return KernelRun(recorded, *(torch.stack(rows[k]) for k in ("alignment", "dof", "test", "train")), w)
