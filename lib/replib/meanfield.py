"""Two-timescale mean-field Langevin dynamics of a two-layer ReLU network, seen as
kernel learning.

With the second layer infinitely faster than the first, it is always at its optimum for
the current first-layer particles w_1..w_m: the network is kernel ridge regression with
the *intrinsic kernel* K(x, x') = mean_j h(x; w_j) h(x'; w_j), h(x; w) = relu(⟨w, (x,
1)⟩), and objective G = (λ_a/2) yᵀ(K + λ_a I)⁻¹y (squared loss summed over the data,
ridge λ_a on the second layer). Each particle follows the first variation of G plus
weight decay and Langevin noise:

    w ← w + η (λ_a a(w) ∇a(w) − λ_w w) + √(2ηλ) ξ,   a(w) = Σ_i α_i h(x_i; w),
    α = (K + λ_a I)⁻¹ y,

where a(w) is the particle's optimal second-layer weight. :func:`train_two_timescale`
runs it for a batch of independent problems and records what the kernel learns: its
alignment with the target on held-out points, its degrees of freedom tr K(K + λ_a I)⁻¹,
and the test error of the network.

**Label-noise procedure** (Takakura & Suzuki, 2024, Sec. 5.2). At every step fresh
noise ε̃ ~ U[−σ̃, σ̃]ⁿ is added to the labels *for the second-layer fit only*, α̃ = (K
+ λ_a I)⁻¹(y + ε̃), while the first layer descends the loss of that fit on the clean
labels, G̃ = ½‖y − Kα̃‖² + (λ_a/2) α̃ᵀKα̃. On average this is G + (σ̃²/6) tr K(K + λ_a
I)⁻¹: a penalty on the degrees of freedom. Differentiating through α̃ gives ∂G̃/∂K =
−λ_a sym(β α̃ᵀ) with β = (K + λ_a I)⁻¹(y − ỹ/2), so the drift is λ_a (a_β ∇a_α̃ + a_α̃
∇a_β) (a_c(w) = Σ_i c_i h(x_i; w)); without noise β = α/2 and it is the update above.

**The paper's parametrisation.** Takakura & Suzuki write the loss as a mean over the
data, (1/2n) Σ_i (y_i − f(x_i))², with second-layer ridge λλ_a, weight decay λλ_w and
temperature λ (the entropy term and the weight decay together: a KL to the Gibbs prior
N(0, I/λ_w)), step η. :func:`paper_dynamics` maps those constants onto the summed-loss
arguments above (dividing the whole objective by n changes nothing but the time scale
of the data's pull).

**Scale-free degrees of freedom.** tr K(K + λ_a I)⁻¹ falls when the kernel merely
shrinks (particles of smaller norm). ``dof_scaled`` removes that: the same quantity for
K · tr K₀ / tr K, the kernel rescaled to its initial trace, so only a change in the
kernel's *shape* (its spectrum's spread) moves it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .metrics import kernel_alignment
from .runtime import progress


def _features(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """h(x; w_j) for inputs x (S, n, d) and particles w (S, m, d + 1): (S, n, m)."""
    return torch.relu(x @ w[..., :-1].transpose(-1, -2) + w[..., -1][:, None, :])


@dataclass
class KernelRun:
    """Per recorded step (T rows) and problem (S columns): ``alignment`` of the
    intrinsic kernel with the clean target on held-out points, degrees of freedom
    ``dof``, ``test`` mean squared error against the clean target and ``train`` mean
    squared error against the (noisy) training labels; ``particles`` (S, m, d + 1) at
    the end; ``dof_scaled`` and ``scale`` as in the module's docstring."""

    steps: list[int]
    alignment: torch.Tensor
    dof: torch.Tensor
    test: torch.Tensor
    train: torch.Tensor
    particles: torch.Tensor
    dof_scaled: torch.Tensor | None = None  # dof of K rescaled to its initial trace
    scale: torch.Tensor | None = None  # tr K / n: data mean of mean_j h(x_i; w_j)²


def paper_dynamics(n: int, *, lr: float, temperature: float, weight_decay: float,
                   ridge: float) -> dict[str, float]:
    """The paper's constants (step η = ``lr``, temperature λ, λ_w, λ_a; mean loss over n
    samples) as :func:`train_two_timescale`'s summed-loss arguments: per step the
    particles move by η(−∇δG/δμ − λλ_w w) + √(2ηλ) ξ with G the mean-loss objective,
    second-layer ridge λλ_a."""
    if min(n, lr, temperature, weight_decay, ridge) <= 0:
        raise ValueError(f"need n, lr, temperature, weight_decay, ridge > 0; got "
                         f"n={n}, lr={lr}, temperature={temperature}, "
                         f"weight_decay={weight_decay}, ridge={ridge}")
    return dict(lr=lr / n, temperature=n * temperature,
                weight_decay=n * temperature * weight_decay,
                ridge=n * temperature * ridge)


def ridge_fit(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, ridge: float):
    """Intrinsic kernel K (S, n, n), the dual coefficients α (S, n) and the features (S,
    n, m)."""
    h = _features(x, w)
    k = h @ h.transpose(-1, -2) / w.shape[-2]
    eye = torch.eye(k.shape[-1], dtype=k.dtype, device=k.device)
    return k, torch.linalg.solve(k + ridge * eye, y[..., None])[..., 0], h


def _loss_drift(x1: torch.Tensor, h: torch.Tensor, alpha: torch.Tensor,
                beta: torch.Tensor, ridge: float) -> torch.Tensor:
    """−m ∇_w G̃ = λ_a (a_β ∇a_α + a_α ∇a_β) for every particle: (S, m, d + 1)."""
    active = (h > 0).to(h.dtype)  # (S, n, m)
    a_alpha = (h * alpha[..., None]).sum(-2)  # (S, m)
    a_beta = (h * beta[..., None]).sum(-2)
    # ∇_w a_α(w_j): (S, m, d + 1)
    grad_alpha = (alpha[..., None] * active).transpose(-1, -2) @ x1
    grad_beta = (beta[..., None] * active).transpose(-1, -2) @ x1
    return ridge * (a_beta[..., None] * grad_alpha + a_alpha[..., None] * grad_beta)


def train_two_timescale(x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, *,
                        x_test: torch.Tensor, f_test: torch.Tensor, ridge: float,
                        weight_decay: float, temperature: float, lr: float, steps: int,
                        record_every: int, generator: torch.Generator,
                        drift: bool = True, label_noise: float = 0.0,
                        noisy_first_layer: bool = False,
                        desc: str | None = None) -> KernelRun:
    """Run the dynamics above from particles w0 (S, m, d + 1) on data x (S, n, d), y (S,
    n); test inputs x_test (S, q, d) with clean targets f_test (S, q). ``drift=False``
    keeps only weight decay and noise (particles that never see the data: a
    random-feature kernel). ``label_noise`` σ̃ > 0 runs the label-noise procedure; with
    ``noisy_first_layer=True`` the first layer's loss sees the noisy labels too (plain
    fresh label noise, the procedure's control). Recorded quantities use the clean fit.
    ``desc`` names a progress bar over the steps (none without it). The noise is drawn
    from ``generator`` on its own device and moved to the data's."""
    if min(ridge, lr, steps, record_every) <= 0 or min(weight_decay, temperature,
                                                        label_noise) < 0:
        raise ValueError(f"need ridge, lr, steps, record_every > 0 and weight_decay, "
                         f"temperature, label_noise >= 0; got ridge={ridge}, lr={lr}, "
                         f"steps={steps}, record_every={record_every}, "
                         f"weight_decay={weight_decay}, temperature={temperature}, "
                         f"label_noise={label_noise}")
    if (x.shape[:-1] != y.shape or w0.shape[-1] != x.shape[-1] + 1
            or x_test.shape[:-1] != f_test.shape):
        raise ValueError(f"need x (S, n, d), y (S, n), w0 (S, m, d + 1), "
                         f"x_test (S, q, d), f_test (S, q); got {tuple(x.shape)}, "
                         f"{tuple(y.shape)}, {tuple(w0.shape)}, {tuple(x_test.shape)}, "
                         f"{tuple(f_test.shape)}")
    w, m = w0.clone(), w0.shape[-2]
    x1 = torch.cat([x, torch.ones_like(x[..., :1])], -1)
    eye = torch.eye(x.shape[-2], dtype=x.dtype, device=x.device)

    def draw(shape, uniform=False):
        sample = torch.rand if uniform else torch.randn
        return sample(shape, generator=generator, dtype=x.dtype,
                      device=generator.device).to(x.device)

    rows = {k: [] for k in ("alignment", "dof", "test", "train", "dof_scaled", "scale")}
    recorded = []
    loop = range(steps + 1)
    for t in loop if desc is None else progress(loop, desc=desc):
        k, alpha, h = ridge_fit(x, y, w, ridge)
        if t % record_every == 0 or t == steps:
            h_test = _features(x_test, w)
            eig = torch.linalg.eigvalsh(k)
            trace = k.diagonal(dim1=-2, dim2=-1).sum(-1)
            trace0 = trace if t == 0 else trace0
            scaled_ridge = (ridge * trace / trace0)[..., None]
            kernel_test = h_test @ h_test.transpose(-1, -2) / m
            rows["alignment"].append(kernel_alignment(kernel_test, f_test))
            rows["dof"].append((eig / (eig + ridge)).sum(-1))
            rows["dof_scaled"].append((eig / (eig + scaled_ridge)).sum(-1))
            rows["scale"].append(trace / k.shape[-1])
            prediction = (h_test @ (h.transpose(-1, -2) @ alpha[..., None]))[..., 0] / m
            rows["test"].append(((prediction - f_test) ** 2).mean(-1))
            rows["train"].append(((ridge * alpha) ** 2).mean(-1))  # y − Kα = λ_a α
            recorded.append(t)
        if t == steps:
            break
        update = -weight_decay * w
        if drift:
            if label_noise > 0:
                noisy = y + label_noise * (2 * draw(y.shape, uniform=True) - 1)
                loss_labels = noisy if noisy_first_layer else y
                rhs = torch.stack([noisy, loss_labels - noisy / 2], -1)
                solved = torch.linalg.solve(k + ridge * eye, rhs)
                update = update + _loss_drift(x1, h, solved[..., 0], solved[..., 1],
                                              ridge)
            else:
                update = update + _loss_drift(x1, h, alpha, alpha / 2, ridge)
        noise = draw(w.shape)
        w = w + lr * update + math.sqrt(2 * lr * temperature) * noise
    stacked = {k: torch.stack(v) for k, v in rows.items()}
    return KernelRun(recorded, stacked["alignment"], stacked["dof"], stacked["test"],
                     stacked["train"], w, dof_scaled=stacked["dof_scaled"],
                     scale=stacked["scale"])
