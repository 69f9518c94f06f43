"""A minimal token-sequence model with pluggable layers, nanoGPT-style.

``SequenceModel(vocab, length, layers=("hyena", "mlp", "attention", "mlp"))`` embeds tokens (plus a
learned position embedding), runs pre-norm residual blocks ``x ← x + layer(LayerNorm(x))`` in the given
order, and reads out logits over the vocabulary. A striped hybrid is just a list that alternates
sequence mixers. The layers, each a few dozen lines:

- :class:`Attention` — multi-head causal softmax attention.
- :class:`Hyena` — a gated long convolution (order-2 Hyena, Poli et al. 2023): three projections,
  a short causal convolution on each, then ``gate ⊙ (h * (x ⊙ v))`` with a long filter ``h`` as long as
  the sequence, produced by a small network of the position (an implicit filter) and computed by FFT.
- :class:`DiagonalSSM` — a linear time-invariant state-space layer with diagonal complex state
  (S4D-style), i.e. a long convolution whose kernel is a sum of damped oscillations. It is linear: any
  nonlinearity comes from the MLPs around it.
- :class:`MLP` — the channel mixer: Linear, GELU, Linear.

:class:`Stacked` holds many copies of one architecture as stacked parameters and :func:`train_stacked`
trains them all in one vmapped computation (seeds, tasks and learning rates of a sweep at once);
:func:`train_and_evaluate` does that for token tasks with fixed training sets and records the accuracy
on validation and test sets (:func:`train_on_tasks`: test only).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call, grad_and_value, stack_module_state, vmap

from replib.mixers import softmax_attention
from replib.runtime import progress
from replib.sequence import IGNORE
from replib.ssm import causal_conv, vandermonde_kernel


class Attention(nn.Module):
    """Causal multi-head softmax attention."""

    def __init__(self, width: int, length: int, heads: int = 4):
        super().__init__()
        if width % heads:
            raise ValueError(f"the width {width} must be a multiple of the number of heads {heads}")
        self.heads = heads
        self.qkv, self.out = nn.Linear(width, 3 * width), nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, w = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        return self.out(softmax_attention(q, k, v).transpose(1, 2).reshape(b, n, w))


class ImplicitFilter(nn.Module):
    """A long convolution filter (channels, length) computed from the position: a small sine-activated
    network of Fourier features of t, times an exponentially decaying window whose rate differs across
    channels (some channels look far back, some stay local), plus a direct (t = 0) term."""

    def __init__(self, channels: int, length: int, *, features: int = 8, hidden: int = 32):
        super().__init__()
        t = torch.arange(length, dtype=torch.float32) / length
        freqs = torch.arange(1, features + 1, dtype=torch.float32)
        self.register_buffer("t", t)
        self.register_buffer("pos", torch.cat([t[:, None], torch.sin(2 * math.pi * freqs * t[:, None]),
                                               torch.cos(2 * math.pi * freqs * t[:, None])], 1))
        self.net = nn.Sequential(nn.Linear(2 * features + 1, hidden), _Sine(), nn.Linear(hidden, hidden), _Sine(),
                                 nn.Linear(hidden, channels))
        self.register_buffer("decay", torch.logspace(math.log10(0.3), math.log10(30.0), channels))
        self.direct = nn.Parameter(torch.randn(channels))

    def forward(self) -> torch.Tensor:
        h = self.net(self.pos).T * torch.exp(-self.decay[:, None] * self.t)  # (channels, length)
        return h + torch.nn.functional.one_hot(torch.zeros((), dtype=torch.long), h.shape[1]) * self.direct[:, None]


class _Sine(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x)


class Hyena(nn.Module):
    """Order-2 Hyena: (x, gate, v) = short causal conv of three projections; y = gate ⊙ (h * (x ⊙ v))."""

    def __init__(self, width: int, length: int, short: int = 3):
        super().__init__()
        self.proj, self.out = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.short = nn.Parameter(torch.randn(3 * width, short) / short**0.5)  # depthwise causal taps
        self.filter = ImplicitFilter(width, length)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, taps = x.shape[1], self.short.shape[1]
        z = nn.functional.pad(self.proj(x).transpose(1, 2), (taps - 1, 0))  # (batch, 3 width, taps − 1 + n)
        z = sum(self.short[:, j, None] * z[..., j:j + n] for j in range(taps))  # short causal conv, as shifts
        u, gate, v = z.chunk(3, 1)
        y = gate * causal_conv(u * v, self.filter()[:, :n])
        return self.out(y.transpose(1, 2))


class DiagonalSSM(nn.Module):
    """y = k * x per channel (k_0 = skip), k_t = Re Σ_n r_n p_n^{t−1}: ``state`` complex modes per channel with
    poles p_n = exp(Δ(−a_n + i ω_n)) (S4D-Lin initialisation: a = ½, ω_n = π n, log Δ uniform in
    [log 0.001, log 0.1]) and learned residues, then an output projection."""

    def __init__(self, width: int, length: int, state: int = 16):
        super().__init__()
        self.length = length
        self.log_dt = nn.Parameter(torch.empty(width).uniform_(math.log(1e-3), math.log(1e-1)))
        self.log_damping = nn.Parameter(torch.full((width, state), math.log(0.5)))
        self.freq = nn.Parameter(math.pi * torch.arange(state, dtype=torch.float32).repeat(width, 1))
        self.residue = nn.Parameter(torch.randn(width, state, 2) * 0.5**0.5)
        self.skip = nn.Parameter(torch.randn(width))
        self.out = nn.Linear(width, width)

    def kernel(self, n: int) -> torch.Tensor:
        """The convolution kernel (width, n), direct term included."""
        dt = self.log_dt.exp()[:, None]
        poles = torch.exp(dt * torch.complex(-self.log_damping.exp(), self.freq))
        residues = 2 * dt * torch.view_as_complex(self.residue) * poles  # ≈ Δ·C·B, with k_1 = Re Σ r_n
        return vandermonde_kernel(poles, residues, self.skip, n).to(self.skip.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = causal_conv(x.transpose(1, 2), self.kernel(x.shape[1]))
        return self.out(y.transpose(1, 2))


class MLP(nn.Module):
    """The channel mixer: Linear(width → 4·width), GELU, Linear back."""

    def __init__(self, width: int, length: int, expand: int = 4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(width, expand * width), nn.GELU(), nn.Linear(expand * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


LAYERS = {"attention": Attention, "hyena": Hyena, "ssm": DiagonalSSM, "mlp": MLP}


class SequenceModel(nn.Module):
    """Embeddings → pre-norm residual layers (names from ``LAYERS``) → a linear readout at every position.

    Token inputs (batch, L) use an embedding table of ``vocab`` entries and read out ``vocab`` logits;
    with ``features`` given, inputs are real vectors (batch, L, features), embedded linearly, and the
    readout has ``outputs`` values (default 1: regression)."""

    def __init__(self, vocab: int | None, length: int, layers: tuple[str, ...] | list[str], *, width: int = 64,
                 features: int | None = None, outputs: int = 1):
        super().__init__()
        unknown = [name for name in layers if name not in LAYERS]
        if unknown or not layers:
            raise ValueError(f"layers must be a non-empty list of {sorted(LAYERS)}, got {list(layers)}")
        if (vocab is None) == (features is None):
            raise ValueError("give exactly one of vocab (token inputs) and features (real-valued inputs)")
        self.layers = tuple(layers)
        self.embed = nn.Embedding(vocab, width) if vocab else nn.Linear(features, width)
        self.position = nn.Embedding(length, width)
        self.blocks = nn.ModuleList(LAYERS[name](width, length) for name in layers)
        self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in layers)
        self.final = nn.LayerNorm(width)
        self.readout = nn.Linear(width, vocab or outputs)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.shape[1] > self.position.num_embeddings:
            raise ValueError(f"sequences of length {tokens.shape[1]} exceed the model's {self.position.num_embeddings}")
        x = self.embed(tokens) + self.position.weight[: tokens.shape[1]]
        for norm, block in zip(self.norms, self.blocks):
            x = x + block(norm(x))
        return self.readout(self.final(x))


def token_loss(logits: torch.Tensor, targets: torch.Tensor, ignore: int = IGNORE) -> torch.Tensor:
    """Mean cross-entropy over the positions whose target is not ``ignore`` (written out, so it vmaps)."""
    keep = targets != ignore
    logp = logits.log_softmax(-1).gather(-1, torch.where(keep, targets, 0)[..., None])[..., 0]
    return -(logp * keep).sum() / keep.sum().clamp(min=1)


class Stacked:
    """``count`` independent copies of one architecture held as stacked parameters and run with ``vmap``:
    ``stacked(inputs)`` maps inputs (count, batch, …) to outputs (count, batch, …), one model per slice."""

    def __init__(self, build: Callable[[], nn.Module], count: int):
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        models = [build() for _ in range(count)]  # each draws its own initialisation
        self.params, self.buffers = stack_module_state(models)
        self.base = copy.deepcopy(models[0]).to("meta")
        self.count = count

    def member(self, params: dict, buffers: dict, inputs: torch.Tensor) -> torch.Tensor:
        return functional_call(self.base, (params, buffers), (inputs,))

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return vmap(self.member)(self.params, self.buffers, inputs)


def train_stacked(stacked: Stacked, next_batch: Callable[[], tuple[torch.Tensor, torch.Tensor]], loss, *,
                  steps: int, lr: float | torch.Tensor, weight_decay: float | torch.Tensor = 0.0,
                  record: Callable[[int], None] | None = None, record_every: int = 0,
                  desc: str | None = None) -> torch.Tensor:
    """Train every member of ``stacked`` at once with AdamW (β = 0.9, 0.999) and a cosine decay to zero: one
    vmapped forward/backward per step, so a learning-rate × weight-decay × seed sweep is a single run.

    ``lr`` and ``weight_decay`` are one value or one per member; ``next_batch()`` returns (inputs, targets)
    with a leading member axis; ``record(step)`` is called every ``record_every`` steps (e.g. to evaluate).
    Returns the training losses (steps, count)."""
    rate = torch.as_tensor(lr, dtype=torch.float32).expand(stacked.count)
    decay = torch.as_tensor(weight_decay, dtype=torch.float32).expand(stacked.count)
    if steps < 1 or (rate <= 0).any() or (decay < 0).any():
        raise ValueError(f"need steps >= 1, lr > 0 and weight_decay >= 0, got steps={steps}, lr={lr}, "
                         f"weight_decay={weight_decay}")
    step_fn = vmap(grad_and_value(lambda p, b, x, y: loss(stacked.member(p, b, x), y)))
    params = stacked.params
    first = {k: torch.zeros_like(v) for k, v in params.items()}
    second = {k: torch.zeros_like(v) for k, v in params.items()}
    losses = []
    for t in range(1, steps + 1) if desc is None else progress(range(1, steps + 1), desc=desc):
        inputs, targets = next_batch()
        grads, value = step_fn(params, stacked.buffers, inputs, targets)
        scale = 0.5 * (1 + math.cos(math.pi * (t - 1) / steps))
        with torch.no_grad():
            for k, p in params.items():
                shape = (-1,) + (1,) * (p.ndim - 1)
                first[k].lerp_(grads[k], 0.1)
                second[k].lerp_(grads[k].square(), 0.001)
                step = first[k] / (1 - 0.9**t) / ((second[k] / (1 - 0.999**t)).sqrt() + 1e-8)
                p.mul_(1 - (scale * rate * decay).view(shape)).sub_((scale * rate).view(shape) * step)
        losses.append(value.detach())
        if record is not None and record_every and (t % record_every == 0 or t == steps):
            record(t)
    return torch.stack(losses)


def train_and_evaluate(layers: tuple[str, ...], train: tuple[torch.Tensor, torch.Tensor],
                       evals: dict[str, tuple[torch.Tensor, torch.Tensor]], *, vocab: int, length: int,
                       width: int, steps: int, lr: float | torch.Tensor, batch: int, every: int,
                       weight_decay: float | torch.Tensor = 0.0,
                       generator: torch.Generator | None = None) -> dict[str, dict[int, list[float]]]:
    """Train one ``SequenceModel(vocab, length, layers, width)`` per member as one vmapped run and record
    its accuracy on every evaluation set (e.g. a validation split for choosing the learning rate and a
    test split for reporting). ``train = (x, y)`` and each ``evals[name] = (x, y)`` carry a leading
    member axis (member i has its own task, seed, learning rate or data); ``lr`` and ``weight_decay`` are
    one value or one per member. Batches are drawn from each member's training set with ``generator``.
    Returns {name: {step: accuracy of each member}} at step 0 and every ``every`` steps, the accuracy
    counting the positions whose target is not ``IGNORE``."""
    train_x, train_y = train
    members = train_x.shape[0]
    if train_y.shape[0] != members or any(x.shape[0] != members or y.shape[0] != members
                                          for x, y in evals.values()):
        raise ValueError("the training and evaluation sets must have the same number of members (first axis)")
    models = Stacked(lambda: SequenceModel(vocab, length, layers, width=width), members)
    history: dict[str, dict[int, list[float]]] = {name: {} for name in evals}

    def evaluate(step: int) -> None:
        for name, (x, y) in evals.items():
            scored = y != IGNORE
            right = (models(x).argmax(-1) == y) & scored
            history[name][step] = (right.sum((1, 2)) / scored.sum((1, 2))).tolist()

    def next_batch() -> tuple[torch.Tensor, torch.Tensor]:
        rows = torch.randint(train_x.shape[1], (members, batch), generator=generator)[..., None]
        return (torch.gather(train_x, 1, rows.expand(-1, -1, train_x.shape[-1])),
                torch.gather(train_y, 1, rows.expand(-1, -1, train_y.shape[-1])))

    evaluate(0)
    train_stacked(models, next_batch, token_loss, steps=steps, lr=lr, weight_decay=weight_decay,
                  record=evaluate, record_every=every)
    return history


def train_on_tasks(layers: tuple[str, ...], data: tuple[torch.Tensor, ...], *, vocab: int, length: int, width: int,
                   steps: int, lr: float | torch.Tensor, batch: int, every: int,
                   generator: torch.Generator | None = None) -> dict[int, list[float]]:
    """:func:`train_and_evaluate` with one test set: ``data = (train_x, train_y, test_x, test_y)``, each
    with a leading member axis. Returns {step: test accuracy of each member}."""
    train_x, train_y, test_x, test_y = data
    if not train_y.shape[0] == test_x.shape[0] == test_y.shape[0] == train_x.shape[0]:
        raise ValueError("train_x, train_y, test_x and test_y must have the same number of members (first axis)")
    return train_and_evaluate(layers, (train_x, train_y), {"test": (test_x, test_y)}, vocab=vocab, length=length,
                              width=width, steps=steps, lr=lr, batch=batch, every=every,
                              generator=generator)["test"]
