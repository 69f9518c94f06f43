"""Synthetic sequence tasks and a minimal model to run token mixers on them.

- :func:`rotation_sequences` — first-order autoregressive sequences s_{t+1} = W s_t with W drawn from a
  commuting family of rotations (random angles in fixed orthogonal planes).
- :func:`recall_batch` — multi-query associative recall (MQAR): a context of key–value token pairs, then
  queries of some of the keys; the target after each query is the value that was paired with it.
- :class:`RecallModel` — one mixer layer between an embedding and a readout. Each position sees its own
  token and the previous one (a fixed token shift), so a single layer can bind a value to the key before
  it and answer a query by looking that key up: what is left to compare is the mixer's memory.
- :func:`train_recall` — train on fresh batches with AdamW and report query accuracy on held-out batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from replib.mixers import delta_rule_chunked, linear_attention, softmax_attention

IGNORE = -100  # targets at positions that are not queries


def rotation_sequences(n: int, length: int, basis: torch.Tensor, *,
                       generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """n sequences s_0 … s_length (n, length + 1, d) with s_{t+1} = W s_t and unit s_0, and their W (n, d, d).

    W = P R Pᵀ with the fixed orthogonal ``basis`` P (d × d, d even) and R block-diagonal with 2 × 2
    rotations by angles uniform in [0, 2π): all W commute, and each is orthogonal."""
    d = basis.shape[0]
    if basis.shape != (d, d) or d % 2:
        raise ValueError(f"basis must be a square matrix of even size, got {tuple(basis.shape)}")
    angle = 2 * torch.pi * torch.rand(n, d // 2, generator=generator, dtype=basis.dtype)
    cos, sin = torch.cos(angle), torch.sin(angle)
    rot = torch.zeros(n, d, d, dtype=basis.dtype)
    even, odd = torch.arange(0, d, 2), torch.arange(1, d, 2)
    rot[:, even, even], rot[:, even, odd], rot[:, odd, even], rot[:, odd, odd] = cos, -sin, sin, cos
    w = basis @ rot @ basis.T
    s = torch.randn(n, d, generator=generator, dtype=basis.dtype)
    seq = [s / s.norm(dim=-1, keepdim=True)]
    for _ in range(length):
        seq.append((w @ seq[-1].unsqueeze(-1)).squeeze(-1))
    return torch.stack(seq, 1), w


def recall_batch(batch: int, pairs: int, *, keys: int = 64, values: int = 64,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Token sequences (batch, 3·pairs) and targets: k₁ v₁ … k_P v_P followed by the P keys in random
    order; keys are tokens 0…keys−1 (distinct within a sequence), values keys…keys+values−1. Targets are
    the paired values at query positions and ``IGNORE`` elsewhere."""
    if not 1 <= pairs <= keys:
        raise ValueError(f"need 1 <= pairs <= keys = {keys}, got {pairs}")
    k = torch.argsort(torch.rand(batch, keys, generator=generator), -1)[:, :pairs]
    v = keys + torch.randint(values, (batch, pairs), generator=generator)
    order = torch.argsort(torch.rand(batch, pairs, generator=generator), -1)
    query, answer = torch.gather(k, 1, order), torch.gather(v, 1, order)
    tokens = torch.cat([torch.stack([k, v], -1).reshape(batch, 2 * pairs), query], 1)
    targets = torch.full_like(tokens, IGNORE)
    targets[:, 2 * pairs:] = answer
    return tokens, targets


class RecallModel(torch.nn.Module):
    """Embedding (current and previous token) → one token mixer → linear readout over the vocabulary.

    ``mixer`` is "delta" (DeltaNet's delta rule, β_t = sigmoid of a linear function of the input),
    "linear" (linear attention) or "softmax". Queries and keys are L2-normalised (the delta rule needs
    unit keys to stay stable; we do the same for the others so that only the memory update differs).
    """

    def __init__(self, mixer: str, vocab: int, *, width: int = 64, key_dim: int = 16, chunk: int = 16):
        super().__init__()
        if mixer not in ("delta", "linear", "softmax"):
            raise ValueError(f"mixer must be 'delta', 'linear' or 'softmax', got {mixer!r}")
        self.mixer, self.vocab, self.chunk = mixer, vocab, chunk
        self.embed = torch.nn.Embedding(vocab, width)
        self.embed_previous = torch.nn.Embedding(vocab + 1, width)  # index `vocab`: before the first token
        self.qkv = torch.nn.Linear(2 * width, 2 * key_dim + width, bias=False)
        self.beta = torch.nn.Linear(2 * width, 1)
        self.readout = torch.nn.Linear(width, vocab)
        self.key_dim = key_dim

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        previous = torch.cat([torch.full_like(tokens[:, :1], self.vocab), tokens[:, :-1]], 1)
        h = torch.cat([self.embed(tokens), self.embed_previous(previous)], -1)
        q, k, v = self.qkv(h).split([self.key_dim, self.key_dim, h.shape[-1] // 2], -1)
        q, k = q / q.norm(dim=-1, keepdim=True), k / k.norm(dim=-1, keepdim=True)
        if self.mixer == "delta":
            length = tokens.shape[1]
            chunk = self.chunk if length % self.chunk == 0 else 1
            out = delta_rule_chunked(q, k, v, torch.sigmoid(self.beta(h)).squeeze(-1), chunk=chunk)
        elif self.mixer == "linear":
            out = linear_attention(q, k, v)
        else:
            out = softmax_attention(q * self.key_dim**0.5, k, v)
        return self.readout(out)


@dataclass(frozen=True)
class RecallResult:
    accuracy: float  # fraction of held-out queries answered right
    losses: tuple[float, ...]  # training loss at every step


def train_recall(model: RecallModel, pairs: int, *, steps: int, batch: int = 64, lr: float = 3e-3,
                 test_batches: int = 4, generator: torch.Generator | None = None) -> RecallResult:
    """Train ``model`` on fresh MQAR batches (cross-entropy at query positions), then measure accuracy."""
    keys = values = model.vocab // 2
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    losses = []
    for _ in range(steps):
        tokens, targets = recall_batch(batch, pairs, keys=keys, values=values, generator=generator)
        loss = torch.nn.functional.cross_entropy(model(tokens).flatten(0, 1), targets.flatten(), ignore_index=IGNORE)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    right = total = 0
    with torch.no_grad():
        for _ in range(test_batches):
            tokens, targets = recall_batch(batch, pairs, keys=keys, values=values, generator=generator)
            asked = targets != IGNORE
            right += int((model(tokens).argmax(-1)[asked] == targets[asked]).sum())
            total += int(asked.sum())
    return RecallResult(right / total, tuple(losses))
