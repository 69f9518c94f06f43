"""Synthetic sequence tasks and a minimal model to run token mixers on them.

- :func:`rotation_sequences` — first-order autoregressive sequences s_{t+1} = W s_t with W drawn from a
  commuting family of rotations (random angles in fixed orthogonal planes).
- :func:`recall_batch` — multi-query associative recall (MQAR): a context of key–value token pairs, then
  queries of some of the keys; the target after each query is the value that was paired with it.
- :func:`mad_recall` and :func:`mad_selective_copy` — two of the MAD synthetic tasks (Poli et al. 2024),
  generated as in the authors' ``mad-lab`` (in-context recall, its noisy variant, selective copying),
  vectorised over the batch.
- :func:`token_task` and :func:`task_splits` — selective copying, plain copying and in-context recall
  as (inputs, training targets, scored targets), and stacked per-model train/validation/test splits
  for models trained side by side.
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


def mad_recall(batch: int, length: int, *, vocab: int = 16, noise_vocab: int = 0, noise_fraction: float = 0.0,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """MAD in-context recall: ``length // 2`` key–value pairs, each sequence with its own random map from
    keys (tokens 0…K−1) to values (K…2K−1), K = (vocab − noise_vocab) // 2; keys repeat, so a value can be
    recalled whenever its key came earlier. The last pair probes a key seen before. With ``noise_fraction``
    > 0 each other pair is replaced, with that probability, by two noise tokens (2K…2K+noise_vocab−1).

    Returns inputs (batch, length − 1), training targets (the next token everywhere: MAD trains as a language
    model) and test targets (the value after every key already seen, ``IGNORE`` elsewhere: what MAD scores)."""
    keys = (vocab - noise_vocab) // 2
    if length < 4 or length % 2 or keys < 1 or not 0 <= noise_fraction < 1 or (noise_fraction > 0) != (noise_vocab > 0):
        raise ValueError(f"need an even length >= 4, vocab - noise_vocab >= 2 and noise_vocab > 0 exactly when "
                         f"0 < noise_fraction < 1; got length={length}, vocab={vocab}, noise_vocab={noise_vocab}, "
                         f"noise_fraction={noise_fraction}")
    pairs, rows = length // 2, torch.arange(batch)
    key = torch.randint(keys, (batch, pairs), generator=generator)
    source = torch.randint(pairs - 1, (batch,), generator=generator)  # the earlier pair whose key is probed
    key[:, -1] = key[rows, source]
    value = keys + torch.gather(torch.randint(keys, (batch, keys), generator=generator), 1, key)
    noise = torch.rand(batch, pairs, generator=generator) < noise_fraction
    noise[rows, source] = noise[:, -1] = False
    seen = torch.nn.functional.one_hot(key, keys) * ~noise[..., None]
    seen = (torch.cumsum(seen, 1) - seen).gather(2, key[..., None])[..., 0] > 0  # key shown in an earlier pair
    tokens = torch.stack([key, value], -1)
    if noise_fraction > 0:
        junk = 2 * keys + torch.randint(noise_vocab, (batch, pairs, 2), generator=generator)
        tokens = torch.where(noise[..., None], junk, tokens)
    test = torch.full((batch, pairs, 2), IGNORE)
    test[..., 0] = torch.where(seen & ~noise, value, IGNORE)  # predicted at the key's position
    tokens, test = tokens.reshape(batch, length), test.reshape(batch, length)
    return tokens[:, :-1], tokens[:, 1:], test[:, :-1]


def mad_selective_copy(batch: int, length: int, copies: int, *, vocab: int = 16, scattered: bool = True,
                       generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """MAD selective copying: ``copies`` tokens (0…vocab−3) scattered among blanks (vocab−2) in the first
    length − copies − 1 positions, then a copy token (vocab−1) and ``copies`` blanks; the targets at those
    last positions are the scattered tokens in order (``IGNORE`` elsewhere). Returns (tokens, targets).
    With ``scattered=False`` the tokens stand at the start (MAD's plain copying: a fixed delay)."""
    span = length - copies - 1
    if copies < 1 or span < copies or vocab < 3:
        raise ValueError(f"need 1 <= copies <= (length - 1) / 2 and vocab >= 3, got length={length}, "
                         f"copies={copies}, vocab={vocab}")
    content = torch.randint(vocab - 2, (batch, copies), generator=generator)
    where = torch.sort(torch.argsort(torch.rand(batch, span, generator=generator), -1)[:, :copies], -1).values
    if not scattered:
        where = torch.arange(copies).expand(batch, copies)
    tokens = torch.full((batch, length), vocab - 2)
    tokens.scatter_(1, where, content)
    tokens[:, span] = vocab - 1
    targets = torch.full((batch, length), IGNORE)
    targets[:, span + 1:] = content
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


TOKEN_TASKS = ("selective copying", "plain copying", "in-context recall")


def token_task(task: str, n: int, length: int, *, copies: int = 4, vocab: int = 16,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One of ``TOKEN_TASKS`` as (inputs, training targets, scored targets), each (n, length − 1):
    :func:`mad_recall` for in-context recall (trained as a language model, scored on recalled values),
    :func:`mad_selective_copy` with ``copies`` tokens for the copying tasks (scattered or at the start;
    trained and scored on the copied tokens)."""
    if task == "in-context recall":
        return mad_recall(n, length, vocab=vocab, generator=generator)
    if task not in TOKEN_TASKS:
        raise ValueError(f"task must be one of {TOKEN_TASKS}, got {task!r}")
    x, y = mad_selective_copy(n, length - 1, copies, vocab=vocab, scattered=task == "selective copying",
                              generator=generator)
    return x, y, y


def task_splits(members: list[tuple[str, int]], length: int, sizes: dict[str, int], *, copies: int = 4,
                vocab: int = 16, seed: int = 0) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Stacked data for models trained side by side: member i = (task, replicate) gets its own draws of
    every split in ``sizes`` (e.g. {"train": 3200, "valid": 500, "test": 500}, drawn in that order from
    a generator seeded by ``seed``, the replicate and the task). Returns {split: (inputs, targets)} with a
    leading member axis; the "train" split holds training targets, the others the scored targets."""
    out: dict[str, list[tuple[torch.Tensor, torch.Tensor]]] = {split: [] for split in sizes}
    for task, replicate in members:
        if task not in TOKEN_TASKS or replicate < 0:
            raise ValueError(f"members must be (one of {TOKEN_TASKS}, replicate >= 0), got {(task, replicate)}")
        gen = torch.Generator().manual_seed(100_000 * seed + 100 * replicate + TOKEN_TASKS.index(task))
        for split, n in sizes.items():
            x, y_train, y_score = token_task(task, n, length, copies=copies, vocab=vocab, generator=gen)
            out[split].append((x, y_train if split == "train" else y_score))
    return {split: (torch.stack([x for x, _ in pairs]), torch.stack([y for _, y in pairs]))
            for split, pairs in out.items()}
