"""Many small fully connected networks as one batched computation, and how to train them.

:class:`StackedMLP` holds E independent networks (different seeds and/or different widths) with their
weights stacked along a leading ensemble axis, so one ``torch.matmul`` evaluates all of them. Members
narrower than the widest are zero-padded and masked: padded units output zero and get zero gradient, so
each member behaves exactly like a network of its own width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    # name: (φ, φ')
    "relu": (torch.relu, lambda h: (h > 0).to(h.dtype)),
    "erf": (torch.erf, lambda h: (2 / math.sqrt(math.pi)) * torch.exp(-h * h)),
    "tanh": (torch.tanh, lambda h: 1 - torch.tanh(h) ** 2),
    "linear": (lambda h: h, torch.ones_like),
}
PARAMETRISATIONS = ("ntk", "standard", "mup")


class StackedMLP(torch.nn.Module):
    """E fully connected networks ``d_in → width → … → width → d_out`` with ``depth`` hidden layers.

    ``widths`` gives each member's hidden width (so ``[256] * 10 + [1024] * 10`` is ten seeds at each of
    two widths). ``parametrisation="ntk"`` draws standard-normal weights and multiplies by σ_w/√fan_in
    (the convention of :class:`replib.kernels.MLPKernel`, whose kernels this ensemble converges to);
    ``"standard"`` draws weights with variance σ_w²/fan_in and multiplies by 1. ``"mup"`` is the
    maximal-update parametrisation for SGD with one global learning rate (Yang & Hu's abc form): the input
    layer multiplies by √width weights of variance σ_w²/(d_in·width), hidden layers are standard, and the
    readout multiplies by 1/√width weights of variance 1/width — the same initial function scale as
    ``"standard"`` for the hidden layers, a readout 1/√width smaller, and per-layer effective learning
    rates ∝ width, 1, 1/width, which keep every layer's feature updates of order one at any width (the
    width is that of each member, so padded ensembles must share one width). ``output_scale`` (one
    number, or one per member) multiplies the output: 1 is the lazy NTK limit, 1/√width the mean-field
    (feature-learning) scaling. Outputs have shape (E, n) when ``d_out == 1`` and (E, n, d_out) otherwise.
    """

    def __init__(self, d_in: int, widths: Sequence[int], depth: int, *, d_out: int = 1,
                 activation: str = "relu", weight_var: float = 2.0, bias_var: float = 0.0,
                 parametrisation: str = "ntk", output_scale: float | Sequence[float] = 1.0,
                 generator: torch.Generator | None = None,
                 device: torch.device | str | None = None, dtype: torch.dtype = torch.float32):
        super().__init__()
        widths = [int(w) for w in widths]
        if not widths or min(widths) < 1:
            raise ValueError(f"widths must be a non-empty list of positive integers, got {widths}")
        if depth < 1:
            raise ValueError(f"depth (number of hidden layers) must be >= 1, got {depth}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if parametrisation not in PARAMETRISATIONS:
            raise ValueError(f"parametrisation must be one of {PARAMETRISATIONS}, got {parametrisation!r}")
        self.widths, self.depth, self.activation = widths, depth, activation
        self.parametrisation, self.d_out = parametrisation, d_out
        members, w_max = len(widths), max(widths)
        width = torch.tensor(widths, dtype=dtype)
        dims = [d_in] + [w_max] * depth + [d_out]
        fan_ins = [torch.full((members,), float(d_in), dtype=dtype)] + [width] * depth
        self.register_buffer("mask", (torch.arange(w_max)[None, :] < width[:, None]).to(dtype))
        scale = torch.as_tensor(output_scale, dtype=dtype).reshape(-1)
        if scale.numel() not in (1, members):
            raise ValueError(f"output_scale needs 1 or {members} values, got {scale.numel()}")
        self.register_buffer("output_scale", scale.expand(members).clone())
        self._scaled_output = bool((scale != 1).any())
        self._padded = len(set(widths)) > 1
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        multipliers, bias_multipliers = [], []
        for fan_in, (n_in, n_out) in zip(fan_ins, zip(dims[:-1], dims[1:])):
            w = torch.randn(members, n_in, n_out, generator=generator, dtype=dtype)
            b = torch.randn(members, 1, n_out, generator=generator, dtype=dtype)
            scale = math.sqrt(weight_var) / torch.sqrt(fan_in)[:, None, None]
            if parametrisation == "ntk":
                multipliers.append(scale)
                bias_multipliers.append(math.sqrt(bias_var))
            elif parametrisation == "mup":
                if len(set(widths)) > 1:
                    raise ValueError("the mup parametrisation needs one width per ensemble (it scales by width)")
                layer_index = len(multipliers)
                if layer_index == 0:  # input layer: multiplier √n on weights of variance σ²/(d·n)
                    m = math.sqrt(w_max)
                    w, b = w * scale / m, b * math.sqrt(bias_var)
                elif layer_index == depth:  # readout: multiplier 1/√n on weights of variance 1/n
                    m = 1 / math.sqrt(w_max)
                    w, b = w / math.sqrt(w_max), b * math.sqrt(bias_var)
                else:  # hidden layers: standard
                    m = 1.0
                    w, b = w * scale, b * math.sqrt(bias_var)
                multipliers.append(torch.full_like(scale, m))
                bias_multipliers.append(1.0)
            else:
                w, b = w * scale, b * math.sqrt(bias_var)
                multipliers.append(torch.ones_like(scale))
                bias_multipliers.append(1.0)
            self.weights.append(torch.nn.Parameter(w))
            self.biases.append(torch.nn.Parameter(b))
        self.register_buffer("multipliers", torch.stack([m.reshape(members) for m in multipliers], 1))
        self.bias_multipliers = bias_multipliers
        self.to(device=device)

    @property
    def members(self) -> int:
        return len(self.widths)

    def _layers(self, x: torch.Tensor):
        """Yield (input activation, preactivation) of every layer, the readout last."""
        if x.shape[-1] != self.weights[0].shape[1]:
            raise ValueError(f"inputs have {x.shape[-1]} features, the networks expect {self.weights[0].shape[1]}")
        phi = ACTIVATIONS[self.activation][0]
        a = x.to(self.weights[0].dtype)
        for layer, (w, b) in enumerate(zip(self.weights, self.biases)):
            if a.ndim == 2:  # inputs shared by all members: one (n, d) @ (d, E·width) GEMM, not E small ones
                h = (a @ w.transpose(0, 1).reshape(w.shape[1], -1)).reshape(a.shape[0], *w.shape[::2])
                h = h.transpose(0, 1)
            elif w.shape[2] == 1:  # a scalar readout: a batched dot product beats a bmm with one column
                h = torch.linalg.vecdot(a, w.transpose(1, 2))[..., None]
            else:
                h = a @ w
            # Skip passes that would multiply by one or add zero: elementwise work bounds small networks.
            scale = self.multipliers[:, layer, None, None]
            if layer == self.depth and self._scaled_output:
                scale = scale * self.output_scale[:, None, None]
            h = h * scale
            if self.bias_multipliers[layer] != 0:
                b = b * self.bias_multipliers[layer]
                h = h + (b * self.output_scale[:, None, None] if layer == self.depth and self._scaled_output else b)
            yield a, h
            if layer < self.depth:
                a = phi(h) * self.mask[:, None, :] if self._padded else phi(h)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer's activations φ(h^L) on inputs ``x`` — the readout's input — of shape
        (E, n, width) (padded units are zero). The output is ``features(x) @ readout`` times the readout's
        multiplier and output scale, plus its bias."""
        *_, (a, _) = self._layers(x)
        return a

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs on inputs ``x`` of shape (n, d_in), shared by all members, or (E, n, d_in)."""
        *_, (_, out) = self._layers(x)
        return out.squeeze(-1) if self.d_out == 1 else out

    @torch.no_grad()
    def ntk(self, x1: torch.Tensor, x2: torch.Tensor | None = None) -> torch.Tensor:
        """Each member's empirical NTK, shape (E, n1, n2), from the layer structure (scalar output only).

        Θ = Σ_l m_l² (a_{l−1} a'_{l−1}ᵀ) ⊙ (g_l g'_lᵀ) + β_l² g_l g'_lᵀ, with a the layer inputs, g = ∂f/∂h
        the backpropagated signals, m_l and β_l the weight and bias multipliers. Costs O(E·n1·n2·width)
        per layer instead of the O(n·#parameters) memory of a generic Jacobian.
        """
        if self.d_out != 1:
            raise ValueError("ntk() needs a scalar-output network (d_out == 1)")
        parts1 = self._inputs_and_signals(x1)
        parts2 = parts1 if x2 is None else self._inputs_and_signals(x2)
        theta = 0
        for layer, ((a1, g1), (a2, g2)) in enumerate(zip(parts1, parts2)):
            if layer == self.depth:  # the readout's signal is the output scale itself: no Gram needed
                gg = (self.output_scale**2)[:, None, None]
            else:
                gg = g1 @ g2.transpose(1, 2)
            gram = a1 @ a2.transpose(-2, -1)  # one (n1, n2) Gram when the inputs are shared by all members
            term = (gram * self.multipliers[:, layer, None, None] ** 2).mul_(gg)
            if self.bias_multipliers[layer] != 0:
                term = term.add_(gg * self.bias_multipliers[layer] ** 2)
            theta = term if layer == 0 else theta.add_(term)
        return theta

    def _inputs_and_signals(self, x: torch.Tensor):
        dphi = ACTIVATIONS[self.activation][1]
        layers = list(self._layers(x))
        g = self.output_scale[:, None, None].expand_as(layers[-1][1])
        out = [None] * len(layers)
        for layer in range(len(layers) - 1, -1, -1):
            a, h = layers[layer]
            out[layer] = (a, g)  # a is (n, d) when the inputs are shared by all members
            if layer:
                w = self.weights[layer].transpose(1, 2)
                back = g * w if g.shape[-1] == 1 else g @ w  # scalar readout: an outer product, not a bmm
                g = back * self.multipliers[:, layer, None, None] * dphi(layers[layer - 1][1])
                if self._padded:
                    g = g * self.mask[:, None, :]
        return out


@dataclass
class History:
    """What :func:`train` recorded: per-member losses at every step, and whatever ``record`` returned."""

    loss: torch.Tensor  # (steps, members)
    steps: list[int] = field(default_factory=list)
    records: list = field(default_factory=list)


def train(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, *, steps: int, lr: float | torch.Tensor,
          batch_size: int | None = None, generator: torch.Generator | None = None,
          record: Callable[[torch.nn.Module], object] | None = None, record_every: int = 0) -> History:
    """Train every member of an ensemble at once by (mini-batch) gradient descent on ½·mean (f − y)².

    ``model(x)`` must return (members, n); ``y`` is (n,) shared or (members, n). Each member's loss is its
    own mean over the batch, and members are summed so their gradients stay independent; ``lr`` is one
    rate, or a tensor with one rate per member (applied as a weight on that member's loss), so that a
    learning-rate sweep is one batched run. Full-batch
    gradient descent when ``batch_size`` is None, else SGD with fresh batches drawn from ``generator``.
    ``record(model)`` is called before training and every ``record_every`` steps (and at the end).
    """
    n = x.shape[-2]
    if y.shape[-1] != n:
        raise ValueError(f"y has {y.shape[-1]} targets but x has {n} points")
    if batch_size is not None and not 0 < batch_size <= n:
        raise ValueError(f"batch_size must be in 1..{n}, got {batch_size}")

    def batch(step: int):
        if batch_size is None:
            return x, y
        idx = torch.randint(n, (batch_size,), generator=generator).to(x.device)
        return x[..., idx, :], y[..., idx]

    return train_online(model, batch, steps=steps, lr=lr, record=record, record_every=record_every)


def train_online(model: torch.nn.Module, sample: Callable[[int], tuple[torch.Tensor, torch.Tensor]], *,
                 steps: int, lr: float | torch.Tensor, record: Callable[[torch.nn.Module], object] | None = None,
                 record_every: int = 0) -> History:
    """Online SGD: step ``t`` trains on the batch ``sample(t)`` = (x, y), e.g. fresh draws from a target.

    Same loss, update and recording as :func:`train`, which is this with batches drawn from a fixed set.
    """
    rates = torch.as_tensor(lr, dtype=torch.float64)
    if steps < 0 or (rates <= 0).any() or rates.ndim > 1:
        raise ValueError(f"need steps >= 0 and positive learning rates (one, or one per member), got "
                         f"steps={steps}, lr={lr}")
    params = [p for p in model.parameters() if p.requires_grad]
    history = History(loss=torch.empty(steps, 0))
    losses = []

    def snapshot(step: int) -> None:
        if record is not None:
            history.steps.append(step)
            history.records.append(record(model))

    snapshot(0)
    for step in range(steps):
        xb, yb = sample(step)
        per_member = 0.5 * ((model(xb) - yb) ** 2).mean(-1)
        if rates.ndim and rates.numel() != per_member.shape[0]:
            raise ValueError(f"got {rates.numel()} learning rates for {per_member.shape[0]} members")
        objective = (per_member * rates.to(per_member)).sum() if rates.ndim else per_member.sum() * float(rates)
        grads = torch.autograd.grad(objective, params, allow_unused=True)  # unused: zero-scaled biases
        used = [(p, g) for p, g in zip(params, grads) if g is not None]
        with torch.no_grad():
            torch._foreach_add_([p for p, _ in used], [g for _, g in used], alpha=-1.0)
        losses.append(per_member.detach())
        if record_every and ((step + 1) % record_every == 0 or step + 1 == steps):
            snapshot(step + 1)
    if losses:
        history.loss = torch.stack(losses).cpu()
    return history
