# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The delta rule, computed chunk by chunk: exact, fast, and is it better at recall?
#
# **Paper.** {cite}`yang2024deltanet`.
#
# **Claim.** DeltaNet replaces linear attention's additive memory update $S_t = S_{t-1}
# + v_t k_t^\top$ by the delta rule $S_t = S_{t-1}(I - \beta_t k_t k_t^\top) + \beta_t
# v_t k_t^\top$, which moves the memory's prediction $S k_t$ towards $v_t$ instead of
# piling values on top of each other. The recurrence looks inherently sequential. The
# paper's headline is an algorithm: within a chunk of $C$ steps the product of the
# factors $I - \beta_t k_t k_t^\top$ has a compact (WY) form, so training runs chunk by
# chunk — *exactly* (the same outputs and gradients as the recurrence), with $L/C$
# sequential steps instead of $L$, and a speed-up over the recurrent form that grows
# with the sequence length. Its second claim, motivating the model, is that DeltaNet
# beats linear attention at multi-query associative recall (MQAR). We test the exactness
# (values and gradients), the training speed against the recurrent form written as a
# training kernel with its own backward pass, and the recall comparison at the end of
# training, over five seeds, across memory loads.
#
# **Negative controls.** (i) Chunking *without* the triangular solve that builds the WY
# form (the steps inside a chunk treated as if they did not interact) must not be exact.
# (ii) With chunks of one step the chunked algorithm is sequential again, and its
# speed-up must vanish. (iii) The delta rule with its erase term $-\beta_t S_{t-1}k_t
# k_t^\top$ removed (the gate $\beta_t$ kept: gated linear attention) must lose any
# recall advantage.

# %% tags=["remove-cell"]
# Colab: install the book's library (at the release this chapter was written against).
import sys

PKG = "replib @ git+https://github.com/theory-replicated/theory-replicated@v0.1.0"
if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", PKG], check=True)

# %% tags=["parameters"]
SCALE = "book"  # smoke (~30 s on 2 CPU cores) | book (~3 min) | full (large, GPU)
SEED = 0

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from replib import Chapter, progress
from replib.fitting import bootstrap_interval, seed_interval
from replib.mixers import (delta_rule_chunked, delta_rule_fused_recurrent,
                           delta_rule_recurrent, linear_attention)
from replib.plotting import colors, label_log_ticks, use_book_style
from replib.sequence import IGNORE, recall_batch
from replib.timing import side_by_side

ch = Chapter("sequence/deltanet_parallel_training", scale=SCALE, seed=SEED,
             cite="yang2024deltanet",
             claim="The delta rule trains chunk by chunk exactly and faster than its "
                   "recurrence; DeltaNet vs linear attention at recall")
cfg = ch.settings(
    smoke=dict(streams=4, lengths=[128, 512], tokens=4096, width=32, chunk=32,
               rounds=10, pairs=16, key_dims=[8, 16], steps=150, batch=32),
    book=dict(streams=8, lengths=[128, 512, 2048], tokens=8192, width=32, chunk=64,
              rounds=10, pairs=16, key_dims=[8, 16, 32], steps=1000, batch=32),
    full=dict(streams=16, lengths=[256, 1024, 4096, 16384], tokens=16384, width=64,
              chunk=64, rounds=20, pairs=16, key_dims=[4, 8, 16, 32, 64], steps=3000,
              batch=64),
)
use_book_style()
dev = ch.device
# One thread: the work is many small sequential operations (a second thread mostly
# waits on a shared machine), and every timed form gets the same single core.
torch.set_num_threads(1)
EXACT = 1e-10  # relative error that counts as exact in float64 (see the verdict's why=)
SEEDS = 5  # independently initialised recall models per configuration
LOAD = 1  # the recall claim is judged at P = d_k: the most pairs d_k slots can hold
WIDTH = 32  # recall model width (value dimension)
KEYS = 64  # key tokens (and as many value tokens): more keys than any d_k in the sweep


def random_stream(streams, length, width, generator, dtype=torch.float64):
    """Queries, unit keys, values and β ∈ (0, 1) for independent sequences."""
    q, k, v = (torch.randn(streams, length, width, generator=generator, dtype=dtype)
               for _ in range(3))
    beta = torch.rand(streams, length, generator=generator, dtype=dtype)
    return [t.to(dev) for t in (q, k / k.norm(dim=-1, keepdim=True), v, beta)]


# %% [markdown]
# ## Exactness: values and gradients
#
# Write the update as $S_t = S_{t-1} + u_t k_t^\top$ with $u_t = \beta_t(v_t -
# S_{t-1}k_t)$. Inside a chunk starting from the state $S_0$, the $u_t$ depend on each
# other through $k_s^\top k_t$; stacking them as rows of $U$ gives a unit
# lower-triangular system $(I + \mathrm{diag}(\beta)\,\mathrm{tril}(KK^\top, -1))\,U =
# \mathrm{diag}(\beta)(V - K S_0^\top)$, whose solution $U = T\,\mathrm{diag}(\beta)V -
# T\,\mathrm{diag}(\beta)K\,S_0^\top$ separates what depends on the chunk alone
# (computed for all chunks in parallel) from the incoming state. The chunk's outputs are
# $O = Q S_0^\top + \mathrm{tril}(QK^\top)\,U$ and its final state $S_0 + U^\top K$
# (`replib.mixers.delta_rule_chunked`). We compare its outputs, and the gradients of a
# random linear loss with respect to $q, k, v, \beta$ (autograd through both), with the
# step-by-step recurrence in float64. The control drops the triangular solve ($T = I$).
# The unit tests also cross-check all three of our forms against the recurrence as
# flash-linear-attention's naive reference writes it (its layout: a $d_k \times d_v$
# state and queries scaled by $d_k^{-1/2}$).

# %%
def chunked_without_solve(q, k, v, beta, chunk):
    """The control: the chunked algorithm with T = I (no interactions in a chunk)."""
    state, out = q.new_zeros(q.shape[0], v.shape[-1], k.shape[-1]), []
    for i in range(0, q.shape[1], chunk):
        qc, kc, vc = q[:, i:i + chunk], k[:, i:i + chunk], v[:, i:i + chunk]
        u = beta[:, i:i + chunk, None] * (vc - kc @ state.transpose(-1, -2))
        out.append(qc @ state.transpose(-1, -2)
                   + torch.tril(qc @ kc.transpose(-1, -2)) @ u)
        state = state + u.transpose(-1, -2) @ kc
    return torch.cat(out, 1)


def values_and_grads(fn, inputs, weights):
    """fn's outputs and the gradients of sum(weights · outputs) w.r.t. q, k, v, β."""
    inputs = [t.detach().requires_grad_(True) for t in inputs]
    out = fn(*inputs)
    grads = torch.autograd.grad((out * weights).sum(), inputs)
    return out.detach(), grads


def relative_error(a, b):
    return float((a - b).abs().max() / b.abs().max())


gen = torch.Generator().manual_seed(SEED)
stream = random_stream(cfg.streams, cfg.lengths[0], cfg.width, gen)
weights = torch.randn(cfg.streams, cfg.lengths[0], cfg.width, generator=gen,
                      dtype=torch.float64).to(dev)
ref_out, ref_grads = values_and_grads(delta_rule_recurrent, stream, weights)
forms = {
    f"chunked (WY), C = {cfg.chunk}": lambda *a: delta_rule_chunked(*a, cfg.chunk),
    "recurrent training kernel": delta_rule_fused_recurrent,
    "chunked without the triangular solve": lambda *a: chunked_without_solve(*a,
                                                                             cfg.chunk),
}
exact = {}
for name, fn in forms.items():
    out, grads = values_and_grads(fn, stream, weights)
    exact[name] = dict(values=relative_error(out, ref_out),
                       gradients=max(relative_error(g, r)
                                     for g, r in zip(grads, ref_grads)))
chunk32 = delta_rule_chunked(*(t.float() for t in stream), cfg.chunk).double()
exact_f32 = relative_error(chunk32, ref_out)
CHUNKED = f"chunked (WY), C = {cfg.chunk}"

# %% tags=["nbval-check-output"]
print(f"max relative error against the recurrence (float64, L = {cfg.lengths[0]}):")
for name, err in exact.items():
    print(f"  {name:38s} values {err['values']:.2e}   gradients {err['gradients']:.2e}")
print(f"  {'chunked (WY) in float32':38s} values {exact_f32:.1e}")

# %% [markdown]
# ## Speed of training
#
# The baseline is the recurrent form written as a training kernel
# (`replib.mixers.delta_rule_fused_recurrent`): the step loop compiled with TorchScript,
# and a hand-written backward pass that runs the recurrence in reverse ($G_{t-1} = G_t(I
# - \beta_t k_t k_t^\top)$ for $G_t = \partial\,\mathrm{loss}/\partial S_t$), so that
# neither pass records an autograd graph per step — the CPU counterpart of a fused
# recurrent GPU kernel, $L$ sequential steps forward and backward. (Autograd through a
# Python loop would be a much slower strawman.) We time one forward and backward pass (a
# training step's worth of work) of each form, in float32, with the number of tokens
# held fixed: short sequences come many at a time, long ones few, so the recurrent form
# loses its parallelism over sequences as $L$ grows while the chunked form keeps
# parallelism inside each sequence. The forms are timed side by side, interleaved, in
# `rounds` rounds; each round gives one speed-up (recurrent time over chunked time) per
# length, and a bootstrap over the rounds gives its interval. The control, chunks of one
# step, runs only at the longest length.

# %%
def train_step(fn):
    def run(q, k, v, beta):
        inputs = [t.requires_grad_(True) for t in (q, k, v, beta)]
        fn(*inputs).square().mean().backward()
    return run


timed_forms = {
    "recurrent": train_step(delta_rule_fused_recurrent),
    f"chunked, C = {cfg.chunk}": train_step(
        lambda *a: delta_rule_chunked(*a, cfg.chunk)),
    "chunked, C = 1 (control)": train_step(lambda *a: delta_rule_chunked(*a, 1)),
}
REC, CH, C1 = timed_forms
longest, shortest = cfg.lengths[-1], cfg.lengths[0]
calls = {}
for length in cfg.lengths:
    data = random_stream(cfg.tokens // length, length, cfg.width, gen,
                         dtype=torch.float32)
    for name, fn in timed_forms.items():
        if name != C1 or length == longest:
            calls[name, length] = (lambda f=fn, d=data: f(*d))
timings = side_by_side(calls, repeat=cfg.rounds, desc="timing rounds")
times = {key: np.array(t.times) for key, t in timings.items()}
per_round = {L: times[REC, L] / times[CH, L] for L in cfg.lengths}  # one per round
per_round_c1 = times[REC, longest] / times[C1, longest]
speed = pd.DataFrame([dict(L=L, method=m, seconds=float(np.median(t)))
                      for (m, L), t in times.items()])


def median_ratio(rows):  # rows: (rounds, 2) = recurrent time, other time
    return float(np.median(rows[:, 0] / rows[:, 1]))


def growth(rows):  # rows: (rounds, 4): rec, chunked at the longest; then the shortest
    return median_ratio(rows[:, :2]) / median_ratio(rows[:, 2:])


speedup = bootstrap_interval(np.c_[times[REC, longest], times[CH, longest]],
                             median_ratio, seed=SEED)
speedup_c1 = bootstrap_interval(np.c_[times[REC, longest], times[C1, longest]],
                                median_ratio, seed=SEED)
grows = bootstrap_interval(np.c_[times[REC, longest], times[CH, longest],
                                 times[REC, shortest], times[CH, shortest]], growth,
                           seed=SEED)

fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for color, method in zip(colors(3), timed_forms):
    sel = speed[speed.method == method]
    axes[0].plot(sel.L, sel.seconds, "o-", color=color, label=method)
axes[0].set(xscale="log", yscale="log", xlabel="sequence length L",
            ylabel="seconds per forward + backward (median)",
            title=f"{cfg.tokens} tokens per batch, width {cfg.width}")
label_log_ticks(axes[0], cfg.lengths)
axes[0].legend(fontsize="small")
for i, L in enumerate(cfg.lengths):
    axes[1].scatter(np.full(cfg.rounds, L), per_round[L], color=colors(3)[1], s=12,
                    alpha=0.6, label="one round" if i == 0 else None)
axes[1].plot(cfg.lengths, [np.median(per_round[L]) for L in cfg.lengths], "o-",
             color=colors(3)[1], label=f"chunked, C = {cfg.chunk} (median)")
axes[1].scatter(np.full(cfg.rounds, longest), per_round_c1, color=colors(3)[2], s=12,
                label="chunked, C = 1 (control)")
axes[1].axhline(1, color="gray", ls=":", lw=1)
axes[1].set(xscale="log", yscale="log", xlabel="sequence length L",
            ylabel="speed-up over the recurrent form",
            title="Training speed-up of the chunked form")
label_log_ticks(axes[1], cfg.lengths)
axes[1].legend(fontsize="small")
fig.tight_layout()
plt.show()
print("median speed-up over the recurrent form (timings change from run to run):")
for L in cfg.lengths:
    print(f"  L = {L:5d}  chunked {np.median(per_round[L]):.3g}x")
print(f"  chunks of one step at L = {longest}: {speedup_c1.value:.3g}x")

# %% [markdown]
# ## Associative recall, at the end of training, across memory loads
#
# Multi-query associative recall: a context of $P$ key–value token pairs (keys drawn
# from 64 key tokens, values from 64 value tokens), then the $P$ keys again in random
# order; after each, the model must output the paired value. The model is one mixer
# layer between an embedding of (current, previous) token — a fixed token shift, so one
# layer can bind a value to the key before it — and a linear readout, with normalised
# queries and keys and a $d_v \times d_k$ memory, $d_v = 32$. The mixers: DeltaNet
# (delta rule with a learned gate $\beta_t = \sigma(w^\top h_t + b)$), linear attention
# (additive, no gate), and the control, gated linear attention $S_t = S_{t-1} + \beta_t
# v_t k_t^\top$ (DeltaNet without its erase term). We hold $P = 16$ and sweep the key
# dimension $d_k$, i.e. the load $P/d_k$: above 1 no memory of $d_k$ slots can store
# every pair exactly, at or below 1 it can if the keys in a context are orthogonal —
# which they cannot all be, with 64 key tokens in $d_k$ dimensions. Each configuration
# trains `SEEDS` = 5 independently initialised models at once (one batched computation,
# each model with its own data), with AdamW, a warm-up and a cosine decay of the
# learning rate to zero over `steps` steps; model $s$ of every mixer starts from the
# same initial weights and sees the same batches. We report held-out accuracy at the end
# and at 80 % of training (the plateau check), and the learned gate.

# %%
class StackedRecall(torch.nn.Module):
    """``replicas`` independent one-layer recall models, run as one computation."""

    def __init__(self, mixer, replicas, key_dim, generator, width=WIDTH,
                 vocab=2 * KEYS):
        super().__init__()
        def param(*shape, scale):
            return torch.nn.Parameter(scale * torch.randn(replicas, *shape,
                                                          generator=generator).to(dev))
        self.mixer, self.vocab, self.key_dim, self.width = mixer, vocab, key_dim, width
        self.embed = param(vocab + 1, 2 * width, scale=1.0)  # [current | previous]
        self.qkv = param(2 * width, 2 * key_dim + width, scale=(2 * width) ** -0.5)
        self.gate = param(2 * width, scale=(2 * width) ** -0.5)
        self.gate_bias = torch.nn.Parameter(torch.zeros(replicas, device=dev))
        self.readout = param(width, vocab, scale=width ** -0.5)
        self.readout_bias = torch.nn.Parameter(torch.zeros(replicas, vocab, device=dev))

    def forward(self, tokens):  # tokens (replicas, batch, length) -> logits, gate
        previous = torch.cat([torch.full_like(tokens[..., :1], self.vocab),
                              tokens[..., :-1]], -1)
        rep = torch.arange(tokens.shape[0], device=dev)[:, None, None]
        h = torch.cat([self.embed[rep, tokens, :self.width],
                       self.embed[rep, previous, self.width:]], -1)
        q, k, v = torch.einsum("rbld,rde->rble", h, self.qkv).split(
            [self.key_dim, self.key_dim, self.width], -1)
        q, k = q / q.norm(dim=-1, keepdim=True), k / k.norm(dim=-1, keepdim=True)
        beta = torch.sigmoid(torch.einsum("rbld,rd->rbl", h, self.gate)
                             + self.gate_bias[:, None, None])
        if self.mixer == "delta":  # one chunk spans the whole (short) sequence
            out = delta_rule_chunked(q, k, v, beta, chunk=tokens.shape[-1])
        elif self.mixer == "gated":
            out = linear_attention(q, k, v * beta[..., None])
        else:
            out = linear_attention(q, k, v)
        logits = (torch.einsum("rbld,rdv->rblv", out, self.readout)
                  + self.readout_bias[:, None, None])
        return logits, beta


def recall_data(replicas, batch, pairs, generator):
    parts = [recall_batch(batch, pairs, keys=KEYS, values=KEYS, generator=generator)
             for _ in range(replicas)]
    return [torch.stack(t).to(dev) for t in zip(*parts)]


def train_stack(mixer, key_dim, pairs, steps, batch, seed):
    """Train SEEDS models; held-out accuracy per model at 80 % and 100 % of training,
    the mean gate per model at key, value and query positions, and the models."""
    model = StackedRecall(mixer, SEEDS, key_dim, torch.Generator().manual_seed(seed))
    data_gen = torch.Generator().manual_seed(seed + 1)
    test_tokens, test_targets = recall_data(SEEDS, 256, pairs,
                                            torch.Generator().manual_seed(seed + 2))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    warm = max(steps // 12, 1)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm)
        * 0.5 * (1 + math.cos(math.pi * s / steps)))
    asked = test_targets != IGNORE

    def accuracy():
        with torch.no_grad():
            logits, beta = model(test_tokens)
        right = (logits.argmax(-1) == test_targets) & asked
        return (right.sum((1, 2)) / asked.sum((1, 2))).cpu().numpy(), beta

    for step in range(steps):
        tokens, targets = recall_data(SEEDS, batch, pairs, data_gen)
        logits, _ = model(tokens)
        loss = torch.nn.functional.cross_entropy(
            logits.flatten(0, 2), targets.flatten(), ignore_index=IGNORE)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step + 1 == int(0.8 * steps):
            acc_80, _ = accuracy()
    acc, beta = accuracy()
    where = {"key": slice(0, 2 * pairs, 2), "value": slice(1, 2 * pairs, 2),
             "query": slice(2 * pairs, None)}
    gate = {pos: beta[..., sl].mean((1, 2)).cpu().numpy() for pos, sl in where.items()}
    return dict(acc=acc, acc_80=acc_80, gate=gate, model=model)


MIXERS = {"delta": "DeltaNet (delta rule)", "linear": "linear attention",
          "gated": "gated linear attention (control)"}
judged = cfg.pairs // LOAD  # the key dimension at which the recall claim is judged
runs = {}
jobs = [(dk, m) for dk in cfg.key_dims for m in ("delta", "linear")]
jobs.append((judged, "gated"))
for dk, mixer in progress(jobs, desc="recall models"):
    runs[dk, mixer] = train_stack(mixer, dk, cfg.pairs, cfg.steps, cfg.batch,
                                  seed=1000 * SEED + dk)
recall = pd.DataFrame([dict(key_dim=dk, load=cfg.pairs / dk, mixer=MIXERS[m], seed=s,
                            accuracy=r["acc"][s],
                            plateau_change=r["acc"][s] - r["acc_80"][s])
                       for (dk, m), r in runs.items() for s in range(SEEDS)])
gaps = {dk: runs[dk, "delta"]["acc"] - runs[dk, "linear"]["acc"] for dk in cfg.key_dims}
gap = seed_interval(gaps[judged])
gap_control = seed_interval(runs[judged, "gated"]["acc"]
                            - runs[judged, "linear"]["acc"])

fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
palette = dict(zip(MIXERS.values(), colors(3)))
for name, sel in recall.groupby("mixer", sort=False):
    mean = sel.groupby("key_dim").accuracy.mean()
    axes[0].plot(mean.index, mean.values, "o-", color=palette[name], label=name)
    axes[0].scatter(sel.key_dim, sel.accuracy, color=palette[name], s=10, alpha=0.5)
axes[0].axvline(cfg.pairs, color="gray", ls=":", lw=1, label=f"d_k = P = {cfg.pairs}")
axes[0].set(xscale="log", xlabel="key dimension d_k (load P/d_k)",
            ylabel="held-out query accuracy", ylim=(0, 1.02),
            title=f"MQAR, P = {cfg.pairs} pairs, {SEEDS} seeds (dots)")
label_log_ticks(axes[0], cfg.key_dims)
axes[0].legend(fontsize="small")
gates = pd.DataFrame([dict(key_dim=dk, position=pos, gate=float(g.mean()))
                      for dk in cfg.key_dims
                      for pos, g in runs[dk, "delta"]["gate"].items()])
for color, (pos, sel) in zip(colors(3), gates.groupby("position", sort=False)):
    axes[1].plot(sel.key_dim, sel.gate, "o-", color=color, label=f"{pos} positions")
axes[1].set(xscale="log", xlabel="key dimension d_k", ylabel="mean learned gate β",
            ylim=(0, 1), title="DeltaNet's gate at the end of training")
label_log_ticks(axes[1], cfg.key_dims)
axes[1].legend(fontsize="small")
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
table = recall.groupby(["key_dim", "mixer"], sort=False).agg(
    accuracy=("accuracy", "mean"), worst_seed=("accuracy", "min"),
    change_last_20pct=("plateau_change", "mean")).reset_index()
table.insert(1, "load", cfg.pairs / table.key_dim)
print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
print()
for dk in cfg.key_dims:
    g = runs[dk, "delta"]["gate"]
    print(f"d_k = {dk:2d}: DeltaNet gate β at key / value / query positions "
          f"{g['key'].mean():.2f} / {g['value'].mean():.2f} / {g['query'].mean():.2f}; "
          f"gap DeltaNet − linear {gaps[dk].mean():+.3f} (seeds "
          + " ".join(f"{x:+.3f}" for x in gaps[dk]) + ")")

# %% [markdown]
# Where do the errors fall when the memory is overloaded? At the smallest $d_k$, the
# held-out accuracy grouped by where the queried pair stood in the context (first,
# middle and last third), averaged over the seeds. A memory that overwrites forgets
# early pairs; one that superposes is about equally good everywhere.

# %%
tight = cfg.key_dims[0]
tokens, targets = recall_data(SEEDS, 256, cfg.pairs,
                              torch.Generator().manual_seed(SEED + 9))
context_keys, queries = tokens[..., :2 * cfg.pairs:2], tokens[..., 2 * cfg.pairs:]
slot = (context_keys.unsqueeze(-2) == queries.unsqueeze(-1)).float().argmax(-1)
thirds = np.array_split(np.arange(cfg.pairs), 3)
by_third = {}
for mixer in ("delta", "linear"):
    with torch.no_grad():
        logits, _ = runs[tight, mixer]["model"](tokens)
    asked = slice(2 * cfg.pairs, None)
    right = (logits.argmax(-1)[..., asked] == targets[..., asked]).float()
    by_third[mixer] = [float(right[(slot >= t[0]) & (slot <= t[-1])].mean())
                       for t in thirds]

# %% tags=["nbval-check-output"]
print(f"accuracy by position of the pair, d_k = {tight} (first, middle, last third):")
for mixer, acc in by_third.items():
    print(f"  {MIXERS[mixer]:24s} " + "  ".join(f"{a:.3f}" for a in acc))

# %% [markdown]
# How to read this. When the load exceeds 1 no $d_v \times d_k$ memory stores every
# pair; each delta-rule write moves $S k_t$ onto $v_t$ and so disturbs what earlier keys
# retrieve (a recency-weighted online regression: early pairs are forgotten), whereas
# linear attention's sum spreads its crosstalk evenly over all pairs, and an argmax over
# 64 candidate values can survive it. There a learned gate well below 1 at value
# positions makes DeltaNet write more gently — closer to linear attention. At or below
# load 1, the delta rule can correct the interference between non-orthogonal keys that
# linear attention merely adds up, and there its advantage, if any, should show. The
# lines below summarise the runs on this page (the verdict judges load 1 only).

# %% tags=["nbval-check-output"]
for dk in cfg.key_dims:
    iv = seed_interval(gaps[dk])
    side = ("DeltaNet ahead" if iv.ci[0] > 0 else
            "linear attention ahead" if iv.ci[1] < 0 else "no clear difference")
    print(f"load {cfg.pairs / dk:.2g}: gap {iv.value:+.3f}, 95 % interval "
          f"[{iv.ci[0]:+.3f}, {iv.ci[1]:+.3f}] -> {side}")

# %% [markdown]
# **What the book-scale runs show, and how the status varies with the seed.** The gate
# behaves as the review found: at the end of training DeltaNet writes with
# $\beta \approx 0$ at key and query positions and, at value positions, the more gently
# the heavier the load (mean $\beta$ near 0.8 at load 0.5, near 0.3 at load 1, below 0.2
# at load 2): overloaded, it writes gently, yet it still recalls late pairs better than
# early ones, while linear attention is flat (accuracy by position above). At load 0.5
# both memories recall essentially everything. At load 1, where the claim is judged,
# both recall about 99 % and DeltaNet's lead is a few tenths of a point: at SEED 0 its
# interval just clears zero, at SEEDs 1 and 2 it does not (the run info lists each
# seed's status), so the page reads *reproduced* at SEED 0 and *partly* at SEEDs 1 and
# 2. We read the recall claim as **not established** in this miniature: at most a tiny
# edge at load 1, and no test of it at the paper's scale. At load 2 some
# linear-attention seeds fail to train within the budget (worst seed far below the
# others, and still improving over the last 20 % of training), which makes DeltaNet's
# mean lead large but its interval wide — an optimisation difference, not the memory
# comparison the claim is about. The control, gated linear attention (DeltaNet without
# its erase term), gains nothing on plain linear attention at load 1 (at SEED 0 it
# falls behind): the gate alone does not help. The algorithmic headline — exact values
# and
# gradients, a training speed-up that grows with $L$, lost with chunks of one step —
# holds at all three seeds.

# %% [markdown]
# ## Verdict
#
# * **Exact.** The chunked form's outputs and its gradients with respect to $q, k, v,
#   \beta$ equal the recurrence's to float64 rounding (relative error below $10^{-10}$);
#   without the triangular solve the outputs are off by order one.
# * **Faster, more so for longer sequences.** At the longest length the chunked form's
#   training step (forward and backward) beats the recurrent training kernel (the
#   bootstrap interval of the median speed-up lies above 1), and the speed-up at the
#   longest length exceeds the one at the shortest (interval of their ratio above 1).
#   Chunks of one step must lose the speed-up.
# * **Recall.** At load $P/d_k = 1$, DeltaNet's held-out accuracy minus linear
#   attention's, paired by seed, must have a 95 % t-interval over the 5 seeds above 0;
#   gated linear attention (the erase term removed) must not.

# %% tags=["nbval-check-output"]
VALUES = "chunked form = recurrence: outputs (float64)"
GRADS = "chunked form = recurrence: gradients w.r.t. q, k, v, β (float64)"
FASTER = "chunked form trains faster than the recurrent form, longest L"
GROWS = "speed-up grows with the sequence length (longest over shortest L)"
RECALL = "MQAR: DeltaNet − linear attention accuracy at load P/d_k = 1"
ROUNDOFF = ("float64 round-off of an exact algorithm is ~1e-16 per operation, "
            "~1e-13 after the L·d-term sums here; an inexact algorithm errs at O(1): "
            "1e-10 separates the two by three orders of magnitude or more")
ch.paper_claim("the chunkwise (WY/UT) form computes the delta-rule recurrence exactly "
               "(Sec. 3)", row=VALUES)
ch.paper_claim("training through it gives the recurrence's gradients (Sec. 3)",
               row=GRADS)
ch.paper_claim("the chunkwise form trains faster than the recurrent form (Sec. 3, "
               "speed comparison)", row=FASTER)
ch.paper_claim("the speed-up over the recurrent form grows with sequence length "
               "(Sec. 3, speed comparison)", row=GROWS)
ch.paper_claim("DeltaNet beats linear attention at associative recall (MQAR, Sec. 4)",
               row=RECALL)
ch.paper_claim("the WY form needs no per-step states in memory (Sec. 3)", tested="no",
               note="we time the forms; peak memory is not measured")
ch.paper_claim("1.3B-parameter DeltaNet LMs beat Mamba and GLA in perplexity and "
               "zero-shot tasks (Sec. 4)", tested="not testable here",
               note="100B-token language-model training")
ch.paper_claim("hybrids with sliding-window or global attention layers beat "
               "Transformers "
               "(Sec. 4)", tested="not testable here",
               note="100B-token language-model training")
ch.check_claim(VALUES, paper=f"< {EXACT:g}", ours=exact[CHUNKED]["values"],
               passed=exact[CHUNKED]["values"] < EXACT, why=ROUNDOFF)
ch.check_claim(GRADS, paper=f"< {EXACT:g}", ours=exact[CHUNKED]["gradients"],
               passed=exact[CHUNKED]["gradients"] < EXACT, why=ROUNDOFF)
ch.check_claim(FASTER, headline=True, paper="> 1×", ours=speedup.value, ci=speedup.ci,
               passed=speedup.ci[0] > 1, timed=True,
               why="faster means a speed-up above 1 (the paper's sizes are for GPU "
                   "kernels and do not transfer to CPUs); lower end of a "
                   f"{speedup.method} (interleaved timing rounds) of the median "
                   "speed-up")
ch.check_claim(GROWS, paper="> 1", ours=grows.value, ci=grows.ci,
               passed=grows.ci[0] > 1, timed=True,
               why="grows means a ratio above 1; lower end of a "
                   f"{grows.method} (timing rounds, both lengths in each round)")
ch.check_claim(RECALL, paper="> 0", ours=gap.value, ci=gap.ci, passed=gap.ci[0] > 0,
               why=f"better means a gap above 0: lower end of a {gap.method}, paired "
                   "by "
                   "seed (same initial weights and batches); load 1 (the most pairs "
                   "d_k slots hold) fixed from theory before the run")
ch.control("no triangular solve: outputs (float64)", paper=f"≥ {EXACT:g}",
           ours=exact["chunked without the triangular solve"]["values"],
           passed=not exact["chunked without the triangular solve"]["values"] < EXACT,
           why="T = I drops the interactions inside a chunk (the WY form): the "
               "exactness check must fail")
ch.control("chunks of one step: speed-up, longest L", paper="not > 1×",
           ours=speedup_c1.value, ci=speedup_c1.ci, passed=not speedup_c1.ci[0] > 1,
           timed=True,
           why="C = 1 leaves L sequential steps (no parallelism inside a chunk): "
               "the headline's check must fail")
ch.control("MQAR: gated linear attention − linear attention at load 1", paper="not > 0",
           ours=gap_control.value, ci=gap_control.ci, passed=not gap_control.ci[0] > 0,
           why="DeltaNet with its erase term removed (gate kept): the recall check "
               f"must fail; {gap_control.method}, paired by seed")
ch.sanity("recurrent training kernel = recurrence: outputs and gradients (float64)",
          paper=f"< {EXACT:g}", ours=max(exact["recurrent training kernel"].values()),
          passed=max(exact["recurrent training kernel"].values()) < EXACT)
ch.verdict()

# %% [markdown]
# ## Differences from the paper
#
# * **Hardware and kernels.** The paper's chunked algorithm and its recurrent baseline
#   are fused GPU (Triton) kernels, timed on GPUs. Ours are PyTorch on two CPU cores:
#   the chunked form is `replib.mixers.delta_rule_chunked` with autograd for its
#   backward pass; the recurrent baseline is a TorchScript loop with a hand-written
#   reverse-time backward pass (an earlier version of this page timed the chunked form
#   against a Python loop's *forward* pass only, a comparison that says little). On a
#   CPU the gain comes from fewer sequential steps, each doing more work, rather than
#   from tensor-core matrix products, so our speed-ups are not the paper's numbers; only
#   their direction and their growth with $L$ at a fixed number of tokens are tested.
#   Timings on this shared machine vary from run to run; the verdict uses the interval
#   over interleaved rounds.
# * **Exactness.** We check outputs and gradients of our chunked form (autograd through
#   the triangular solve) against the recurrence, not the paper's hand-derived,
#   memory-efficient backward pass, and cross-test our three forms in the unit tests
#   against the recurrence in the convention of flash-linear-attention's naive reference
#   (our own code, same equations).
# * **The recall model.** The paper's MQAR models are multi-layer DeltaNets and
#   baselines (with short convolutions and feature maps) at sequence lengths in the
#   hundreds; ours is one mixer layer with a fixed previous-token input, normalised
#   queries and keys for every mixer, 16 pairs, value dimension 32 and key dimension 8
#   to 32, trained with the same optimiser, learning rate and schedule for every mixer
#   (not tuned per mixer). An earlier version trained one seed for 600 steps at a
#   constant learning rate with 64 pairs in 16 key dimensions — a load at which no
#   memory stores every pair, and a budget after which the gap was still closing (the
#   review measured −0.175 shrinking to −0.02 at 2400 steps, with DeltaNet's gate
#   falling to about 0.1 at value positions). Now every configuration trains five seeds
#   with a cosine schedule that ends at learning rate zero, the page prints the accuracy
#   change over the last 20 % of training and the learned gate, and the claim is judged
#   at load 1, where an exact memory is possible. A one-layer miniature isolates the
#   memory update; it is not the paper's benchmark, and a result either way says how the
#   two update rules compare in this small model, not at scale.
# * **Not tested.** The language-modelling results (1.3B parameters, 100B tokens) and
#   the hybrid models.

# %% [markdown]
# ## Run info

# %%
ch.run_info()
