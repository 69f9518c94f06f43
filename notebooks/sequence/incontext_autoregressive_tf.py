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
# # A one-layer linear transformer learns an autoregressive map in context, by one gradient step
#
# **Paper.** {cite}`sander2024ical`.
#
# **Claim.** Train a transformer for next-token prediction on sequences
# $s_{t+1} = W s_t$, with a fresh orthogonal $W$ for every sequence drawn from a
# commuting family. To predict, it must first infer $W$ from the context. The paper
# shows that a one-layer linear transformer fed *augmented* tokens
# $e_t = (0, s_t, s_{t-1})$, with its parameters restricted to the blocks that matter,
# implements one step of gradient descent on the in-context least-squares objective
# $\tfrac12\sum_{\tau \le t}\|s_\tau - W s_{\tau-1}\|^2$ started at $W = 0$: the
# prediction is $B\,\hat W_t A\, s_t$ with
# $\hat W_t \propto \sum_{\tau\le t} s_\tau s_{\tau-1}^\top$ (the gradient step) and a
# value matrix $B$ and key–query matrix $A$ whose product is a multiple of the identity.
# We train that model (the paper's parametrisation) and test the structure of $BA$, and
# whether its predictions coincide with the plain one-step predictor
# $\eta\,\hat W_t s_t$; we also train the unrestricted layer and check that it learns in
# context.
#
# **Negative controls.** (i) Without augmentation ($e_t = (0, s_t)$) no single token
# holds a pair $(s_\tau, s_{\tau-1})$, one linear-attention layer cannot form
# $\sum_\tau s_\tau s_{\tau-1}^\top$, and the in-context learning must disappear. (ii)
# The scalar structure of $BA$ rests on the starting state giving no rotation plane a
# preferred weight; with a fixed *generic* starting state (unequal weights) the layer
# can do better than a scalar step, and the structure check must fail.

# %% tags=["remove-cell"]
# Colab: install the book's library (at the release this chapter was written against).
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "replib @ git+https://github.com/theory-replicated/theory-replicated@v0.1.0"], check=True)

# %% tags=["parameters"]
SCALE = "book"  # smoke (~30 s on 2 CPU cores) | book (~3 min) | full (large, GPU)
SEED = 0

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from replib import Chapter, progress
from replib.fitting import seed_interval
from replib.plotting import colors, use_book_style

ch = Chapter("sequence/incontext_autoregressive_tf", scale=SCALE, seed=SEED,
             cite="sander2024ical",
             claim="A one-layer linear transformer on augmented tokens predicts "
                   "s_{t+1} = W s_t in context by one gradient step")
cfg = ch.settings(
    smoke=dict(dim=4, length=30, train=1024, test=512, steps=300, batch=128, seeds=5),
    book=dict(dim=4, length=30, train=4096, test=1024, steps=1000, batch=256, seeds=5),
    full=dict(dim=6, length=50, train=16384, test=4096, steps=8000, batch=1024,
              seeds=10),
)
use_book_style()
LEARNS = 0.5  # in-context learning: last-position error below half the error at t = 1
STRUCTURE = 0.05  # BA "a multiple of the identity": off-identity Frobenius share
MATCH = 0.95  # "is one plain gradient step": R² of the predictions against η·(one step)
dev = ch.device


# %% [markdown]
# ## Data
#
# $W = P R P^\top$ with a fixed random orthogonal $P$ (one per seed) and $R$
# block-diagonal with $2\times2$ rotations by independent uniform angles, so all $W$
# commute; $d = $ `dim`, sequences of `length` steps. The starting state $s_0$ comes in
# three kinds:
#
# * **balanced** — one fixed $s_0 = P\,\mathbb 1/\sqrt d$ for all sequences: the same
#   weight in every rotation plane (the authors fix one $s_0 = \mathbb 1/\sqrt d$; ours
#   is that vector written in the rotation basis);
# * **random** — a fresh isotropic unit $s_0$ per sequence (what the earlier version of
#   this chapter used);
# * **generic** — one fixed $s_0 = \mathbb 1/\sqrt d$ in the standard basis, which gives
#   the planes unequal weights (control ii).

# %%
def rotation_sequences(n, basis, start, gen):
    """n sequences s_0 … s_T (n, T+1, d): s_{t+1} = W s_t, W = P R Pᵀ, R rotations."""
    d = basis.shape[0]
    angle = 2 * torch.pi * torch.rand(n, d // 2, generator=gen, dtype=torch.float64)
    rot = torch.zeros(n, d, d, dtype=torch.float64)
    even, odd = torch.arange(0, d, 2), torch.arange(1, d, 2)
    rot[:, even, even], rot[:, odd, odd] = angle.cos(), angle.cos()
    rot[:, even, odd], rot[:, odd, even] = -angle.sin(), angle.sin()
    w = basis @ rot @ basis.T
    if start == "random":
        s = torch.randn(n, d, generator=gen, dtype=torch.float64)
        s = s / s.norm(dim=-1, keepdim=True)
    else:
        ones = torch.ones(d, dtype=torch.float64) / d**0.5
        s = (basis @ ones if start == "balanced" else ones).expand(n, d)
    seq = [s]
    for _ in range(cfg.length):
        seq.append((w @ seq[-1].unsqueeze(-1)).squeeze(-1))
    return torch.stack(seq, 1).to(dev)


def member_data(start, k):
    """Basis, training and test sequences of seed k for one kind of s_0."""
    gen = torch.Generator().manual_seed(1000 * SEED + k)
    gauss = torch.randn(cfg.dim, cfg.dim, generator=gen, dtype=torch.float64)
    basis = torch.linalg.qr(gauss)[0]
    return (basis.to(dev), rotation_sequences(cfg.train, basis, start, gen),
            rotation_sequences(cfg.test, basis, start, gen))


def split(seq):
    """States s_t, previous states s_{t−1} (s_{−1} = 0), targets s_{t+1}; t < T."""
    s = seq[..., :-1, :]
    prev = torch.cat([torch.zeros_like(s[..., :1, :]), s[..., :-1, :]], -2)
    return s, prev, seq[..., 1:, :]


def running_mean_outer(x, y):
    """(1/(t+1)) Σ_{τ ≤ t} x_τ y_τᵀ for every t: what causal mean-attention sums."""
    count = torch.arange(1, x.shape[-2] + 1, dtype=x.dtype, device=x.device)
    count = count[:, None, None]
    return (x.unsqueeze(-1) * y.unsqueeze(-2)).cumsum(-3) / count


# %% [markdown]
# ## The paper's parametrisation: one term, two matrices
#
# With augmented tokens a linear-attention layer whose value reads the current state,
# whose key reads the previous state and whose query reads the current state predicts
#
# $$\hat s_{t+1} = B\,\Bigl(\tfrac{1}{t+1}\sum_{\tau \le t} s_\tau s_{\tau-1}^\top\Bigr)
# A\, s_t,$$
#
# with value matrix $B$, key–query matrix $A$ (our attention is a causal mean). With
# $A = B = I$ this is one gradient step from $W = 0$ on the in-context objective, with
# step size $1/(t+1)$. We train $A$ and $B$ (Adam, learning rate $10^{-2}$, cosine
# decay, minibatches of `batch` sequences) for `seeds` seeds of each of five variants at
# once (one stacked computation). As we read the theory, its setting is one fixed $s_0$
# and the prediction made after the whole context, i.e. the squared error at the last
# position: that is our headline variant (balanced $s_0$, last position), and the generic $s_0$
# with the same loss is control (ii). The authors' code instead sums the error over all
# positions; we run that loss too, for the balanced and the random $s_0$, and the random
# $s_0$ with the last-position loss.

# %%
VARIANTS = {  # name: (kind of s_0, positions in the loss)
    "balanced s₀, all positions": ("balanced", "all"),
    "balanced s₀, last position": ("balanced", "last"),
    "random s₀, all positions": ("random", "all"),
    "random s₀, last position": ("random", "last"),
    "generic s₀, last position (control)": ("generic", "last"),
}
HEAD_VARIANT = "balanced s₀, last position"
CONTROL_VARIANT = "generic s₀, last position (control)"
members = [(v, k) for v in VARIANTS for k in range(cfg.seeds)]
data = {m: member_data(VARIANTS[m[0]][0], m[1]) for m in members}
train_seq = torch.stack([data[m][1] for m in members])
test_seq = torch.stack([data[m][2] for m in members])
last_only = torch.tensor([VARIANTS[v][1] == "last" for v, _ in members], device=dev)


def fit(params, predict, seqs, last, desc):
    """Adam on the stacked members' summed losses; each member has its own batches."""
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(params, lr=1e-2)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.steps)
    rows = torch.arange(seqs.shape[0], device=dev)[:, None]
    history = []
    for _ in progress(range(cfg.steps), desc=desc):
        idx = torch.randint(cfg.train, (seqs.shape[0], cfg.batch), generator=gen)
        idx = idx.to(dev)
        pred, target = predict(seqs[rows, idx])
        err = ((pred - target) ** 2).sum(-1)
        per_member = torch.where(last, err[..., -1].mean(1), err.mean((1, 2)))
        opt.zero_grad()
        per_member.sum().backward()
        opt.step()
        schedule.step()
        history.append(per_member.detach().cpu().numpy())
    return np.array(history)


def one_step(seq, a, b):
    """b (1/(t+1) Σ_{τ ≤ t} s_τ s_{τ−1}ᵀ) a s_t for stacked a, b of shape (M, d, d)."""
    s, prev, target = split(seq)
    query = torch.einsum("mij,mbtj->mbti", a, s)
    read = torch.einsum("mbtij,mbtj->mbti", running_mean_outer(s, prev), query)
    return torch.einsum("mij,mbtj->mbti", b, read), target


def small_init(*shape, gen):
    return torch.nn.Parameter(
        (0.1 * torch.randn(*shape, generator=gen, dtype=torch.float64)).to(dev))


gen = torch.Generator().manual_seed(SEED)
a = small_init(len(members), cfg.dim, cfg.dim, gen=gen)
b = small_init(len(members), cfg.dim, cfg.dim, gen=gen)
paper_losses = fit([a, b], lambda seq: one_step(seq, a, b), train_seq, last_only,
                   "paper's model")

# %% [markdown]
# On held-out sequences, for every member: the off-identity share of the product $BA$,
# $\|BA - \tfrac{\mathrm{tr}\,BA}{d} I\|_F / \|BA\|_F$ (0 for a multiple of the
# identity); the $R^2$ of its predictions against the plain one-step predictor
# $\eta\,\hat W_t s_t$ with the single best $\eta$ (positions the member was trained on,
# $t \ge 2$); and its error at the last position over that of the best one-step
# predictor there.

# %%
eye = torch.eye(cfg.dim, dtype=torch.float64, device=dev)
stack_eye = eye.expand(len(members), -1, -1)
rows = []
with torch.no_grad():
    pred, target = one_step(test_seq, a, b)
    plain, _ = one_step(test_seq, stack_eye, stack_eye)
    for i, (v, k) in enumerate(members):
        last = VARIANTS[v][1] == "last"
        used = slice(cfg.length - 1, None) if last else slice(2, None)
        p, g = pred[i][:, used], plain[i][:, used]
        eta = (p * g).sum() / (g * g).sum()
        r2 = 1 - ((p - eta * g) ** 2).sum() / ((p - p.mean((0, 1))) ** 2).sum()
        ba = b[i] @ a[i]
        off = (ba - torch.trace(ba) / cfg.dim * eye).norm() / ba.norm()
        g_last, y_last = plain[i][:, -1], target[i][:, -1]
        eta_last = (g_last * y_last).sum() / (g_last * g_last).sum()
        ratio = ((pred[i][:, -1] - y_last) ** 2).sum(-1).mean() / (
            (eta_last * g_last - y_last) ** 2).sum(-1).mean()
        rows.append(dict(variant=v, seed=k, off_identity=float(off), r2=float(r2),
                         last_error_ratio=float(ratio)))
paper = pd.DataFrame(rows)
summary = {v: {q: seed_interval(paper[paper.variant == v][q])
               for q in ("off_identity", "r2", "last_error_ratio")} for v in VARIANTS}

# %% tags=["nbval-check-output"]
print(f"mean over {cfg.seeds} seeds [95 % t-interval]")
table = pd.DataFrame({
    v: {q: f"{iv.value:.3f} [{iv.ci[0]:.3f}, {iv.ci[1]:.3f}]" for q, iv in s.items()}
    for v, s in summary.items()}).T
table.columns = ["BA off-identity", "R² vs one plain step", "last error / one step"]
print(table.to_string())

# %% [markdown]
# ### What the two matrices are
#
# Heat maps of $B$, $A$ and $BA$ for seed 0 of the headline variant (top) and of the
# random-$s_0$, all-positions variant (bottom), written in the rotation basis $P$, where
# every $W$ is block-diagonal. A layer that is one gradient step up to the symmetry
# explained below has block-diagonal $B$ and $A$, each block a scaled rotation, the two
# rotations in a plane turning by opposite angles, and $BA$ a multiple of the identity.
# The last panel shows the angles of every plane and member: opposite rotations lie on
# the dotted line.

# %%
def plane_angles(m):
    """Rotation angle of each 2×2 diagonal block (plane k: rows/columns 2k, 2k+1)."""
    out = []
    for k in range(cfg.dim // 2):
        blk = m[2 * k:2 * k + 2, 2 * k:2 * k + 2]
        out.append(float(torch.atan2(blk[1, 0] - blk[0, 1], blk[0, 0] + blk[1, 1])))
    return out


angles = []
with torch.no_grad():
    for i, (v, k) in enumerate(members):
        basis = data[v, k][0]
        for plane, (ab, aa) in enumerate(zip(plane_angles(basis.T @ b[i] @ basis),
                                             plane_angles(basis.T @ a[i] @ basis))):
            angles.append(dict(variant=v, seed=k, plane=plane, B=ab, A=aa))
angles = pd.DataFrame(angles)
SHOWN = [HEAD_VARIANT, "random s₀, all positions"]
fig, axes = plt.subplots(2, 3, figsize=(12, 7.5))
for row, variant in zip(axes, SHOWN):
    i = members.index((variant, 0))
    basis = data[variant, 0][0]
    with torch.no_grad():
        mats = {"B (value)": basis.T @ b[i] @ basis,
                "A (key–query)": basis.T @ a[i] @ basis,
                "BA": basis.T @ b[i] @ a[i] @ basis}
    for ax, (name, m) in zip(row, mats.items()):
        m = m.cpu().numpy()
        lim = np.abs(m).max()
        sns.heatmap(m, ax=ax, cmap="RdBu_r", vmin=-lim, vmax=lim, square=True,
                    annot=True, fmt=".2f", cbar=False, annot_kws={"size": 8})
        ax.set(title=f"{name}\n{variant}", xlabel="column (rotation basis)",
               ylabel="row (rotation basis)")
fig.tight_layout()
plt.show()

fig, ax = plt.subplots(figsize=(6.5, 5))
for color, v in zip(colors(len(VARIANTS)), VARIANTS):
    sub = angles[angles.variant == v]
    ax.scatter(sub.B, sub.A, s=14, color=color, label=v)
line = np.linspace(-np.pi, np.pi, 3)
ax.plot(line, -line, color="grey", lw=0.8, ls=":", label="opposite angles")
ax.set(xlabel="angle of B's block (rad)", ylabel="angle of A's block (rad)",
       title="Rotation angles, every plane and member")
ax.legend(fontsize="small")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Why the predictions are not those of one plain step.** If $B$ rotates each plane by
# $\varphi$ and $A$ by $-\varphi$ (up to a common scale $\lambda$), then
# $A = \lambda B^\top$ and, since $B$ commutes with every $W$,
# $B\,\hat W_t(s)\,B^\top = \hat W_t(Bs)$: the layer takes one gradient step on a
# *rotated copy* of the context (another trajectory of the same $W$, started at $Bs_0$)
# and applies the result to $s_t$. With a random isotropic $s_0$ the rotated copy is
# exactly as likely as the context itself, so every $\varphi$ gives the same expected
# loss: the minimisers form a flat valley that contains the plain step ($\varphi = 0$),
# training stops at some $\varphi \ne 0$, $BA$ stays a multiple of the identity, and
# the predictions differ from the plain step's at every finite $t$ — an $R^2$ well below
# 1 with a last-position error equal to the best single step's (the random-$s_0$ rows).
# Both estimates converge to the same limit as the context grows, which is why the
# last-position loss gives a higher $R^2$ than the all-positions loss. The earlier
# explanation on this page (that extra terms of the unrestricted layer made it better
# than one step) was wrong: the paper's one-term model, which has no extra terms, shows
# the same gap. With one fixed $s_0$ the rotated copy starts from a *different* state,
# the valley is no longer flat, and the layer can exploit what it knows about $s_0$;
# how far $BA$ then moves from a multiple of the identity is what the balanced rows
# (equal weight in every plane, the theory's setting) and the generic row (control ii)
# measure.

# %% [markdown]
# ## The unrestricted layer: does it learn in context?
#
# The full layer: $q, k, v$ are linear maps of the whole token (no block restriction), a
# residual connection, causal mean attention, and the first $d$ output coordinates as
# the prediction — trained on all positions, with augmented tokens and, as control (i),
# with plain tokens $(0, s_t)$, `seeds` seeds each, balanced $s_0$. Its prediction is
# $V_{1:d}\,\bigl(\tfrac1{t+1}\sum_{\tau\le t} e_\tau e_\tau^\top\bigr) K^\top Q\, e_t$,
# which we compute in that form.

# %%
def tokens_of(seq, augmented):
    s, prev, target = split(seq)
    parts = [torch.zeros_like(s), s] + ([prev] if augmented else [])
    return torch.cat(parts, -1), target


def full_layer(seq, q, k, v, augmented):
    e, target = tokens_of(seq, augmented)
    query = torch.einsum("mij,mjk,mbtk->mbti", k.transpose(-1, -2), q, e)
    read = torch.einsum("mbtij,mbtj->mbti", running_mean_outer(e, e), query)
    return torch.einsum("mij,mbtj->mbti", v[:, :cfg.dim], read), target


head_rows = [i for i, (v, _) in enumerate(members) if v == HEAD_VARIANT]
full, full_losses = {}, {}
for augmented in (True, False):
    width = (3 if augmented else 2) * cfg.dim
    gen = torch.Generator().manual_seed(SEED + 1)
    q, k, v = (small_init(cfg.seeds, width, width, gen=gen) for _ in range(3))
    full_losses[augmented] = fit(
        [q, k, v],
        lambda seq, q=q, k=k, v=v, aug=augmented: full_layer(seq, q, k, v, aug),
        train_seq[head_rows], torch.zeros(cfg.seeds, dtype=torch.bool, device=dev),
        "augmented layer" if augmented else "plain layer")
    full[augmented] = (q, k, v)

with torch.no_grad():
    errors = {}
    for augmented in (True, False):
        pred, target = full_layer(test_seq[head_rows], *full[augmented], augmented)
        errors[augmented] = ((pred - target) ** 2).sum(-1).mean(1).cpu().numpy()
    pred_aug, target = full_layer(test_seq[head_rows], *full[True], True)
    eyes = stack_eye[:cfg.seeds]
    plain, _ = one_step(test_seq[head_rows], eyes, eyes)
    full_r2 = []
    for i in range(cfg.seeds):
        p, g = pred_aug[i][:, 2:], plain[i][:, 2:]
        eta = (p * g).sum() / (g * g).sum()
        spread = ((p - p.mean((0, 1))) ** 2).sum()
        full_r2.append(float(1 - ((p - eta * g) ** 2).sum() / spread))
learning = {aug: seed_interval(errors[aug][:, -1] / errors[aug][:, 1])
            for aug in (True, False)}
full_r2 = seed_interval(full_r2)

fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
positions = np.arange(1, cfg.length)
for color, aug in zip(colors(2), (True, False)):
    name = "augmented tokens" if aug else "plain tokens (control)"
    mean = errors[aug].mean(0)[1:]
    axes[0].plot(positions, mean, "o-", ms=3, color=color, label=name)
    axes[0].fill_between(positions, errors[aug].min(0)[1:], errors[aug].max(0)[1:],
                         color=color, alpha=0.2)
    axes[1].plot(full_losses[aug].mean(1), color=color, lw=1, label=name)
axes[0].set(yscale="log", xlabel="position t (context length)",
            ylabel=r"$\|\hat s_{t+1} - s_{t+1}\|^2$",
            title=f"In-context error, held out (mean; band: {cfg.seeds} seeds)")
axes[0].legend(fontsize="small")
axes[1].set(yscale="log", xlabel="training step",
            ylabel="training loss (mean over seeds)",
            title="Training, unrestricted layer")
axes[1].legend(fontsize="small")
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
for aug in (True, False):
    iv = learning[aug]
    name = "augmented" if aug else "plain    "
    print(f"{name}: error at t = T−1 / error at t = 1 = {iv.value:.4f} "
          f"[{iv.ci[0]:.4f}, {iv.ci[1]:.4f}]")
print(f"unrestricted augmented layer, R² vs one plain step: {full_r2.value:.4f} "
      f"[{full_r2.ci[0]:.4f}, {full_r2.ci[1]:.4f}]")

# %% [markdown]
# Which of the eight (value, key, query) terms carry the unrestricted layer's prediction
# (seed 0): the root-mean-square size of each term on held-out sequences. One gradient
# step is the single term (value current, key previous, query current).

# %%
blocks = {"current": slice(cfg.dim, 2 * cfg.dim),
          "previous": slice(2 * cfg.dim, 3 * cfg.dim)}
terms = []
with torch.no_grad():
    q, k, v = (p[0] for p in full[True])
    s, prev, _ = split(test_seq[head_rows[0]])
    states = {"current": s, "previous": prev}
    for value in blocks:
        for key in blocks:
            for query in blocks:
                kq = k[:, blocks[key]].T @ q[:, blocks[query]]
                out = v[:cfg.dim, blocks[value]]
                term = (running_mean_outer(states[value] @ out.T, states[key])
                        @ (states[query] @ kq.T).unsqueeze(-1)).squeeze(-1)
                terms.append(dict(value=value, key=key, query=query,
                                  rms=float(term[:, 2:].pow(2).mean().sqrt())))
terms = pd.DataFrame(terms).sort_values("rms", ascending=False)
print(terms.to_string(index=False, float_format=lambda x: f"{x:.3f}"))

# %% [markdown]
# The gradient-step term is among the largest; its mirror image (value previous, key
# current), which builds $\sum_\tau s_{\tau-1}s_\tau^\top \propto W^\top$, is an equally
# good route for this family (within a plane a reflection turns $W^\top$ into $W$), and
# the unrestricted layer spreads the work between them.

# %% [markdown]
# ## Verdict
#
# * **One gradient step (headline).** In the paper's parametrisation, with one fixed
#   balanced $s_0$ and the error at the last position (the theory's setting), $BA$ is a
#   multiple of the identity: off-identity share below 0.05 (upper end of the 95 %
#   t-interval over seeds).
# * **Same predictions as one plain step.** $R^2 \ge 0.95$ against $\eta\,\hat W_t s_t$
#   (lower end of the interval).
# * **In-context learning.** The unrestricted augmented layer's error at the last
#   position is below half its error at $t = 1$ (upper end of the interval).
# * **Controls.** Plain tokens must fail the in-context-learning check; a generic fixed
#   $s_0$ must fail the structure check.

# %% tags=["nbval-check-output"]
HEAD = "paper's model: BA off-identity share"
R2 = "paper's model: R² against one plain gradient step"
ICL = "unrestricted layer: error at t = T−1 / error at t = 1"
head_iv, r2_iv = summary[HEAD_VARIANT]["off_identity"], summary[HEAD_VARIANT]["r2"]
control_iv = summary[CONTROL_VARIANT]["off_identity"]
ch.paper_claim("with augmented tokens a trained one-layer linear transformer "
               "implements one step of gradient descent on the in-context objective: "
               "its value and key–query matrices multiply to a multiple of the "
               "identity (Sec. 3, commuting orthogonal W)", row=HEAD)
ch.paper_claim("its next-token predictions are those of the one-step predictor "
               "η Ŵ_t s_t", row=R2)
ch.paper_claim("the trained transformer first learns W in context, then predicts "
               "(in-context autoregressive learning)", row=ICL)
ch.paper_claim("without augmentation, the global minima of a one-layer diagonal linear "
               "multi-head transformer have orthogonal heads (Sec. 4)", tested="no",
               note="needs the multi-head diagonal model with positional encoding")
ch.paper_claim("the positional encoding learns trigonometric relations of the data "
               "(Sec. 4)", tested="no",
               note="needs the positional-encoding experiments")
ch.paper_claim("the findings extend to non-commuting orthogonal W (Sec. 5)",
               tested="no", note="we only draw W from a commuting family")
ch.check_claim(HEAD, headline=True, paper=f"< {STRUCTURE}", ours=head_iv.value,
               ci=head_iv.ci, passed=head_iv.ci[1] < STRUCTURE,
               why="stated tolerance (the planning note's structure check): 5 % "
                   f"off-identity Frobenius share; upper end of the {head_iv.method}")
ch.check_claim(R2, paper=f">= {MATCH}", ours=r2_iv.value, ci=r2_iv.ci,
               passed=r2_iv.ci[0] >= MATCH,
               why="stated tolerance: 95 % of the predictions' variance explained by "
                   f"one plain step; lower end of the {r2_iv.method}")
iv = learning[True]
ch.check_claim(ICL, paper=f"< {LEARNS}", ours=iv.value, ci=iv.ci,
               passed=iv.ci[1] < LEARNS,
               why="stated tolerance: the error at least halves over the context; "
                   f"upper end of the {iv.method}")
iv = learning[False]
ch.control("plain tokens: error at t = T−1 / error at t = 1", paper=f"not < {LEARNS}",
           ours=iv.value, ci=iv.ci, passed=not iv.ci[1] < LEARNS,
           why="augmentation removed: no token holds (s_τ, s_τ−1), one layer cannot "
               "form the gradient statistic, the in-context check must fail")
ch.control("generic fixed s₀: BA off-identity share", paper=f"not < {STRUCTURE}",
           ours=control_iv.value, ci=control_iv.ci,
           passed=not control_iv.ci[1] < STRUCTURE,
           why="the equal weight of the rotation planes in s₀ removed: a non-scalar "
               "preconditioner then lowers the loss, and the structure check must fail")
with torch.no_grad():
    seq0 = test_seq[:1, :4]
    s1, p1, _ = (x[0] for x in split(seq0))
    direct = torch.stack([sum(s1[:, tau] * (p1[:, tau] * s1[:, t]).sum(-1, keepdim=True)
                              for tau in range(t + 1)) / (t + 1) for t in range(3)], 1)
    via = one_step(seq0, stack_eye[:1], stack_eye[:1])[0][0][:, :3]
    gap = float((via - direct).abs().max())
ch.sanity("one_step with A = B = I is the one-gradient-step predictor (direct sum)",
          paper=0, ours=gap, passed=gap < 1e-12)
ch.verdict()

# %% [markdown]
# ## Differences from the paper
#
# * **Scale.** $d = 4$, sequences of 30 steps, 4096 training sequences, 1000 Adam steps
#   on minibatches of 256 at book scale, 5 seeds; the authors' augmented experiment uses
#   $d = 5$, 50 steps, $2^{14}$ sequences and 200 epochs in batches of 1024.
# * **The family of $W$.** We draw $W$ from a commuting family (rotations in fixed
#   planes), the setting of the paper's theorem; its augmented-token experiment draws
#   general orthogonal $W$.
# * **Starting state.** The paper fixes one $s_0$ for all sequences ($\mathbb 1/\sqrt d$
#   in the authors' code). Our headline uses one fixed $s_0$ with equal weight in every
#   rotation plane (that vector in the rotation basis); we also report a random
#   isotropic $s_0$ per sequence (the earlier version of this chapter used only that,
#   without saying so) and the generic fixed $s_0$ (control).
# * **Architecture.** The authors' layer has biases, a $1/\sqrt{\text{width}}$ attention
#   scale, an output projection inside the attention, a LayerNorm on the attention
#   output and a final linear read-out. Our paper-parametrised model keeps only the
#   value and key–query blocks of the theory (no LayerNorm, no output layer, no biases),
#   and our unrestricted layer is $q, k, v$ maps, a residual connection and the first
#   $d$ output coordinates as the prediction.
# * **Normalisation.** Our attention is a causal mean (divided by $t + 1$); the authors'
#   layer sums without dividing, so there the step size effectively grows with the
#   context. With a mean, a single step size $\eta$ serves every position.
# * **Loss positions.** The headline variant is trained on the error at the last
#   position (the theory's prediction after the whole context); the authors' code sums
#   the squared error over all positions, which we also run (and which the earlier
#   version of this chapter used throughout, without saying so). The unrestricted layer
#   is trained on all positions.
# * **Only the augmented-token result.** The paper's results for plain tokens
#   (orthogonal heads, positional encodings that capture trigonometric relations) need
#   multi-head models with positional encodings and are not covered here; our
#   plain-token model is only the control.

# %% [markdown]
# ## Run info

# %%
ch.run_info()
