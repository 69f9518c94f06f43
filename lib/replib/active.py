"""Pool-based active learning with a two-layer patch CNN on feature–noise data.

* :func:`feature_noise_patches` — inputs of two patches: the label times a feature vector (a common
  "strong" one or a rare "weak" one) and Gaussian noise orthogonal to both features.
* :func:`patch_cnn` / :func:`train_patch_cnn` — f(x) = F₊(x) − F₋(x), F_j = mean_r Σ_p relu(⟨w_jr, x_p⟩)^q,
  trained by full-batch gradient descent on the logistic loss; any leading batch of independent networks
  (seeds × strategies) trains as one computation.
* :func:`query` — the next samples to label: at random (passive), by uncertainty (smallest |f|) or by
  diversity (greedy k-centre in the network's normalised hidden activations).
* :func:`active_learning` — rounds of train → query → label, for several strategies and seeds at once.
* :func:`labelled_errors` — test errors of networks trained from given filters on given labelled sets
  (passive learning at larger budgets, paired with an active run through the same initial filters).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

STRATEGIES = ("random", "uncertainty", "diversity")


@dataclass
class PatchData:
    """``x`` (S, n, 2, dim): patch 0 is y·feature, patch 1 noise; ``y`` (S, n) in {±1}; ``weak`` (S, n)
    marks samples carrying the weak feature."""

    x: torch.Tensor
    y: torch.Tensor
    weak: torch.Tensor


def feature_noise_patches(*, seeds: int, n: int, dim: int, strong: float, weak: float, weak_share: float,
                          noise: float, generator: torch.Generator) -> PatchData:
    """Feature–noise data: the signal patch is y·u with u = strong·e₁ (probability 1 − weak_share) or
    weak·e₂; the noise patch is N(0, noise² I) on the other dim − 2 coordinates."""
    if dim < 3 or n < 1 or seeds < 1 or not 0 <= weak_share <= 1 or min(strong, weak, noise) < 0:
        raise ValueError(f"need dim >= 3, n, seeds >= 1, weak_share in [0, 1] and non-negative norms; got "
                         f"dim={dim}, n={n}, seeds={seeds}, weak_share={weak_share}")
    dev = generator.device
    y = torch.randint(0, 2, (seeds, n), generator=generator, device=dev).float() * 2 - 1
    is_weak = torch.rand(seeds, n, generator=generator, device=dev) < weak_share
    signal = torch.zeros(seeds, n, dim, device=dev)
    signal[..., 0] = torch.where(is_weak, 0.0, strong) * y
    signal[..., 1] = torch.where(is_weak, weak, 0.0) * y
    noise_patch = noise * torch.randn(seeds, n, dim, generator=generator, device=dev)
    noise_patch[..., :2] = 0
    return PatchData(torch.stack([signal, noise_patch], -2), y, is_weak)


def patch_cnn(w: torch.Tensor, x: torch.Tensor, *, power: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Outputs (..., n) and activations relu(⟨w_jr, x_p⟩)^q (..., n, 2, m, patches) of the patch CNN with
    filters w (..., 2, m, dim) (class j = 0 is +1) on inputs x (..., n, patches, dim)."""
    act = torch.relu(torch.einsum("...jrd,...npd->...njrp", w, x)) ** power
    per_class = act.sum(-1).mean(-1)
    return per_class[..., 0] - per_class[..., 1], act


def train_patch_cnn(w0: torch.Tensor, x: torch.Tensor, y: torch.Tensor, *, lr: float, steps: int,
                    power: int = 3) -> torch.Tensor:
    """Full-batch gradient descent on mean log(1 + exp(−y f(x))) from filters w0, for every network of
    the leading batch at once; returns the trained filters."""
    w = w0.clone()
    for _ in range(steps):
        w.requires_grad_(True)
        out, _ = patch_cnn(w, x, power=power)
        (grad,) = torch.autograd.grad(F.softplus(-y * out).mean(-1).sum(), w)
        w = (w - lr * grad).detach()
    return w


def query(strategy: str, outputs: torch.Tensor, activations: torch.Tensor, labelled: torch.Tensor, k: int,
          generator: torch.Generator) -> torch.Tensor:
    """Indices of k unlabelled pool samples for one network: ``outputs`` (n,), ``activations`` (n, ...),
    ``labelled`` (n,) bool."""
    free = ~labelled
    if int(free.sum()) < k:
        raise ValueError(f"only {int(free.sum())} unlabelled samples left, cannot query {k}")
    if strategy == "random":
        candidates = torch.nonzero(free)[:, 0]
        perm = torch.randperm(len(candidates), generator=generator, device=generator.device)
        return candidates[perm[:k].to(candidates.device)]
    if strategy == "uncertainty":
        return outputs.abs().masked_fill(labelled, float("inf")).argsort()[:k]
    if strategy == "diversity":
        feats = activations.flatten(1)
        feats = feats / feats.norm(dim=1, keepdim=True).clamp_min(1e-12)
        dist = torch.cdist(feats, feats[labelled]).min(1).values  # distance to the labelled set
        picked = []
        for _ in range(k):
            j = int(dist.masked_fill(~free, -1.0).argmax())
            picked.append(j)
            free[j] = False
            dist = torch.minimum(dist, (feats - feats[j]).norm(dim=1))
        return torch.tensor(picked, device=outputs.device)
    raise ValueError(f"unknown strategy {strategy!r}: choose from {STRATEGIES}")


@dataclass
class ActiveRun:
    """Per round (R + 1 rows, the last after the final query's training): ``labels`` (R + 1,) the labelled
    set's size; ``error`` and ``weak_error`` (R + 1, A, S) test errors overall and on weak-feature test
    samples; ``labelled`` (A, S, n_final) the labelled pool indices in the order they were added;
    ``w0`` (S, 2, m, dim) the initial filters every strategy of a seed was trained from."""

    labels: list[int]
    error: torch.Tensor
    weak_error: torch.Tensor
    labelled: torch.Tensor
    w0: torch.Tensor | None = None


def labelled_errors(w0: torch.Tensor, pool: PatchData, test: PatchData, idx: torch.Tensor, *, lr: float,
                    steps: int, power: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Train one network per seed from filters ``w0`` (S, 2, m, dim) on the pool samples ``idx`` (S, n)
    and return its test errors overall and on weak-feature test samples, each (S,)."""
    seeds = pool.x.shape[0]
    if w0.shape[0] != seeds or idx.shape[0] != seeds:
        raise ValueError(f"w0 {tuple(w0.shape)} and idx {tuple(idx.shape)} must cover the pool's {seeds} seeds")
    rows = torch.arange(seeds, device=idx.device)[:, None]
    w = train_patch_cnn(w0, pool.x[rows, idx], pool.y[rows, idx], lr=lr, steps=steps, power=power)
    with torch.no_grad():
        wrong = (patch_cnn(w, test.x, power=power)[0] * test.y <= 0).float()
    return wrong.mean(-1), (wrong * test.weak).sum(-1) / test.weak.sum(-1).clamp_min(1)


def active_learning(pool: PatchData, test: PatchData, *, strategies, initial: torch.Tensor, rounds: int,
                    per_round: int, width: int, init_std: float, lr: float, steps: int, power: int = 3,
                    generator: torch.Generator, progress=None, w0: torch.Tensor | None = None) -> ActiveRun:
    """Start every strategy from the same labelled pool indices ``initial`` (S, n0); each round retrains
    the networks from the same initial filters on their labelled sets, records test errors, and lets each
    strategy query ``per_round`` more samples. All strategies × seeds train as one batch. The initial
    filters are ``w0`` (S, 2, width, dim) when given, else drawn N(0, init_std²) from ``generator``."""
    strategies = list(strategies)
    seeds, dim = pool.x.shape[0], pool.x.shape[-1]
    if initial.shape[0] != seeds:
        raise ValueError(f"initial indices cover {initial.shape[0]} seeds, the pool has {seeds}")
    if w0 is None:
        w0 = init_std * torch.randn(seeds, 2, width, dim, generator=generator, device=pool.x.device)
    elif w0.shape != (seeds, 2, width, dim):
        raise ValueError(f"w0 has shape {tuple(w0.shape)}, expected {(seeds, 2, width, dim)}")
    idx = initial[None].expand(len(strategies), -1, -1).clone()
    dev = pool.x.device
    batch = torch.arange(seeds, device=dev)[None, :, None]
    labels, errors, weak_errors = [], [], []
    for r in (progress or (lambda it: it))(range(rounds + 1)):
        w = train_patch_cnn(w0.expand(len(strategies), *w0.shape), pool.x[batch, idx], pool.y[batch, idx],
                            lr=lr, steps=steps, power=power)
        with torch.no_grad():
            wrong = (patch_cnn(w, test.x, power=power)[0] * test.y <= 0).float()
            labels.append(idx.shape[-1])
            errors.append(wrong.mean(-1))
            weak_errors.append((wrong * test.weak).sum(-1) / test.weak.sum(-1).clamp_min(1))
            if r == rounds:
                break
            out, act = patch_cnn(w, pool.x, power=power)
        new = torch.empty(len(strategies), seeds, per_round, dtype=torch.long, device=dev)
        for a, strategy in enumerate(strategies):
            for s in range(seeds):
                labelled = torch.zeros(pool.x.shape[1], dtype=torch.bool, device=dev)
                labelled[idx[a, s]] = True
                new[a, s] = query(strategy, out[a, s], act[a, s], labelled, per_round, generator)
        idx = torch.cat([idx, new], -1)
    return ActiveRun(labels, torch.stack(errors), torch.stack(weak_errors), idx, w0)
