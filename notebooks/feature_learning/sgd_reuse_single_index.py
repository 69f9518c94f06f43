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
# # Reusing each mini-batch lets SGD learn a single-index model with about d samples
#
# **Paper.** {cite}`lee2024reuse`.
#
# **Claim.** Take a single-index target $y = \sigma_*(\langle \theta, x\rangle)$ on standard Gaussian
# inputs $x \in \mathbb R^d$, with a polynomial link $\sigma_*$ whose Hermite expansion starts at degree
# $p$ (the *information exponent*). One-pass online SGD on a two-layer network needs about $d^{p-1}$
# samples to find $\theta$ {cite}`benarous2021online`, and every correlational-query
# algorithm needs at least about $d^{p/2}$. The paper proves that SGD which takes **two gradient steps on
# each mini-batch** learns any polynomial link with $n \asymp d\,\mathrm{polylog}\,d$ samples, whatever
# $p$: the second step sees the first step's change, which makes the update depend on powers of the
# label ($y^2, y^3, \dots$), and a power of a polynomial has information exponent at most 2.
# The paper's Figure 2 tabulates these complexities; we measure them, for a link with $p = 3$: the
# number of samples each algorithm needs to find the direction, against $d$, with fitted exponents.
#
# **Negative control.** Repeat the comparison with a link of information exponent $p = 2$. There online
# SGD already needs only about $d\log d$ samples, so reuse has nothing to repair and the gap between the
# two exponents must close.

# %% tags=["remove-cell"]
# Colab: install the book's library (at the release this chapter was written against).
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "replib @ git+https://github.com/theory-replicated/theory-replicated@v0.1.0"], check=True)

# %% tags=["parameters"]
SCALE = "book"  # smoke (~30 s on 2 CPU cores) | book (~3 min, the rendered page) | full (the paper's scale, GPU)
SEED = 0

# %%

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from replib import Chapter, progress
from replib.fitting import best_rate_crossings, fit_power_law
from replib.layerwise import learning_rate_sweep, sine_cosine_grad, unit_neurons
from replib.plotting import colors, label_log_ticks, use_book_style
from replib.targets import hermite, orthonormal_directions

ch = Chapter("feature_learning/sgd_reuse_single_index", scale=SCALE, seed=SEED, cite="lee2024reuse",
             claim="SGD reusing each mini-batch twice learns a He3 single-index model with about d·polylog d samples")
cfg = ch.settings(
    smoke=dict(dims=[32, 64, 128], seeds=16, lrs=[0.2 * 2**k for k in range(5)], max_ratio=256),
    book=dict(dims=[32, 64, 128, 256, 512], seeds=32, lrs=[0.05 * 2**k for k in range(7)], max_ratio=2048),
    full=dict(dims=[32, 64, 128, 256, 512, 1024, 2048], seeds=64, lrs=[0.0125 * 2**k for k in range(9)],
              max_ratio=8192),
)
use_book_style()
OVERLAP = 0.5  # the direction counts as found when |<w, theta>| reaches this (weak recovery)
DONE = 0.8  # stop a sweep once this fraction of the seeds of some learning rate has found it
LINKS = {3: lambda z: hermite(3, z, normalised=True), 2: lambda z: hermite(2, z, normalised=True)}
ALGORITHMS = {1: "online SGD", 2: "batch reuse (2 steps per batch)"}


# %% [markdown]
# ## Target, network and training
#
# The link is $\sigma_* = \mathrm{He}_3/\sqrt6$ ($p = 3$; the control uses $\mathrm{He}_2/\sqrt2$). We train
# the first layer the way the theory does (the paper's Phase I): each neuron $w$ stays on the unit sphere
# and follows SGD on the correlation loss $-y\,\sigma(\langle w, x\rangle)$, on mini-batches of $B = d$
# fresh samples. **Online SGD** takes one step per batch; **batch reuse** takes two consecutive steps on the
# same batch, then draws a new one. Both see the same number of samples per step, so "samples" below is
# $n = B \times$ batches for both. The student activation $\sigma(u) = \tfrac12\sin u - \cos u$ is bounded
# (polynomial activations make the reused gradient heavy-tailed) and has every Hermite component, so
# neither algorithm is starved of the component it relies on (its even part has a positive
# $\mathrm{He}_2$ coefficient, so that ascent on the correlation moves towards $\pm\theta$ for the even
# control link too).
#
# Each algorithm gets its own learning rate: we sweep a grid (factor 2 apart) for every $d$ and report the
# best one, since the theory's learning rates scale differently with $d$ for the two algorithms. The
# neurons do not interact under the correlation loss, so the learning-rate sweep and the seeds run as one
# batched computation (the learning rates ride on the neuron axis). A run stops early once 80 % of the
# seeds of some learning rate have found the direction (enough to settle the median and its interval);
# seeds still searching then count as not reached.
#
# The measured quantity is $n_{0.5}(d)$: the number of samples after which the overlap
# $|\langle w, \theta\rangle|$ first reaches 0.5, from a random start at overlap $\approx d^{-1/2}$.
# Escaping that start is what costs $d^{p-1}$ or $d\,\mathrm{polylog}\,d$; once the overlap is of order
# one, both algorithms finish in about $d\log d$ more samples.

# %%
def overlap_runs(d, p, reuse, generator):
    """Overlaps |<w, θ>| after every batch until the sweep stopped: array (batches, seeds, learning rates)."""
    dtype = torch.float32
    theta = torch.stack([orthonormal_directions(d, 1, generator=generator)[0] for _ in range(cfg.seeds)]).to(dtype)
    link = LINKS[p]

    def batch(_):
        x = torch.randn(cfg.seeds, d, d, generator=generator, dtype=dtype)  # B = d samples per batch
        return x, link(x @ theta.unsqueeze(-1)).squeeze(-1)

    def settled(history):  # some learning rate has 80 % of its seeds through: its median is settled
        return bool(((history >= OVERLAP).any(0).float().mean(0) >= DONE).any())

    history = learning_rate_sweep(
        unit_neurons(cfg.seeds, 1, d=d, generator=generator, dtype=dtype), batch, cfg.lrs,
        activation_grad=sine_cosine_grad, reuse=reuse, max_steps=cfg.max_ratio, done=settled,
        summarise=lambda w: (w @ theta[:, None, :, None]).abs()[..., 0, 0])  # (seeds, learning rates)
    return history.numpy()


gen = torch.Generator().manual_seed(SEED)
runs = {}  # (p, reuse, d) -> overlaps (batches, seeds, learning rates)
jobs = [(p, reuse, d) for p in (3, 2) for reuse in ALGORITHMS for d in cfg.dims]
for p, reuse, d in progress(jobs, desc="SGD runs"):
    runs[p, reuse, d] = overlap_runs(d, p, reuse, gen)

# %% [markdown]
# For each $(p, \text{algorithm}, d)$: the samples-to-overlap-0.5 of every seed at every learning rate,
# the median over seeds, and the best learning rate (smallest median). Seeds that had not got there when
# the run stopped count as infinite (`not_reached` below); the median ignores them as long as they are
# a minority.

# %%
rows = []
for (p, reuse, d), overlaps in runs.items():
    best, n_cross = best_rate_crossings(overlaps, OVERLAP, samples_per_step=d)
    rows += [dict(p=p, algorithm=ALGORITHMS[reuse], d=d, lr=cfg.lrs[best], seed=s, n=n_cross[best, s])
             for s in range(cfg.seeds)]
best_runs = pd.DataFrame(rows)

# %% [markdown]
# ## How the overlap grows
#
# The median overlap (over seeds, at each algorithm's best learning rate) against the number of samples
# divided by $d$. If an algorithm needs $\asymp d$ samples, its curves for different $d$ line up; online
# SGD's curves move right as $d$ grows.

# %%
traj = []
for (p, reuse, d), overlaps in runs.items():
    if p != 3:
        continue
    lr_index = cfg.lrs.index(best_runs.query("p == 3 and d == @d and algorithm == @ALGORITHMS[@reuse]").lr.iloc[0])
    median = np.median(overlaps[:, :, lr_index], axis=1)
    traj.append(pd.DataFrame(dict(algorithm=ALGORITHMS[reuse], d=d, ratio=np.arange(1, median.size + 1),
                                  overlap=median)))
traj = pd.concat(traj)

fig, axes = plt.subplots(1, 2, figsize=(13, 4.2), sharey=True)
palette = dict(zip(cfg.dims, colors(len(cfg.dims))))
for ax, algorithm in zip(axes, ALGORITHMS.values()):
    sns.lineplot(traj[traj.algorithm == algorithm], x="ratio", y="overlap", hue="d", palette=palette, ax=ax)
    ax.axhline(OVERLAP, color="gray", ls=":", lw=1)
    ax.set(xscale="log", xlabel="samples n / d", ylabel=r"median overlap $|\langle w,\theta\rangle|$",
           title=f"{algorithm}, link He$_3$", ylim=(0, 1))
    label_log_ticks(ax, [1, 4, 16, 64, 256, 1024])
    ax.legend(title="dimension d", fontsize="small")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Sample complexity against $d$
#
# $n_{0.5}(d)$ for each seed at the best learning rate, with power laws fitted to the median over seeds
# (bootstrap over seeds for the 95 % interval). Left: the $p = 3$ link of the claim. Right: the control.

# %%
fits = {}
fig, axes = plt.subplots(1, 2, figsize=(13, 4.4))
for ax, p in zip(axes, (3, 2)):
    for color, algorithm in zip(colors(2), ALGORITHMS.values()):
        sel = best_runs[(best_runs.p == p) & (best_runs.algorithm == algorithm)]
        n = sel.pivot(index="seed", columns="d", values="n")[cfg.dims].to_numpy()
        med = np.median(n, axis=0)
        ax.plot(np.repeat(cfg.dims, cfg.seeds), n.T.ravel(), ".", color=color, alpha=0.25)
        try:
            fit = fit_power_law(cfg.dims, n, statistic="median", seed=SEED)
        except ValueError:  # more than half of the seeds never reached the overlap at some d
            fit = None
        fits[p, algorithm] = fit
        label = algorithm if fit is None else (
            f"{algorithm}: $d^{{{fit.exponent:.2f}}}$ [{fit.ci[0]:.2f}, {fit.ci[1]:.2f}]")
        ax.plot(cfg.dims, med, "o", color=color, label=label)
        if fit is not None:
            grid = np.geomspace(cfg.dims[0], cfg.dims[-1], 50)
            ax.plot(grid, fit(grid), color=color)
    ax.set(xscale="log", yscale="log", xlabel="input dimension d", ylabel=r"samples $n_{0.5}$ to overlap 0.5",
           title=f"link He$_{p}$ (information exponent p = {p})")
    label_log_ticks(ax, cfg.dims)
    ax.legend(fontsize="small", loc="upper left")
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
table = (best_runs.groupby(["p", "algorithm", "d"])
         .agg(median_n=("n", "median"), lr=("lr", "first"), not_reached=("n", lambda v: int(np.isinf(v).sum())))
         .assign(median_n_over_d=lambda t: t.median_n / t.index.get_level_values("d")))
print(table.to_string(float_format=lambda v: f"{v:.4g}"))
for (p, algorithm), fit in fits.items():
    text = "no fit" if fit is None else f"{fit.exponent:.3f} [{fit.ci[0]:.3f}, {fit.ci[1]:.3f}]"
    median = table.loc[(p, algorithm)].median_n.to_numpy()
    local = np.diff(np.log(median)) / np.diff(np.log(cfg.dims))
    print(f"p = {p}, {algorithm}: exponent {text}; between neighbouring d: "
          + " ".join(f"{v:.2f}" for v in local))

# %% [markdown]
# ## Verdict
#
# * **Reuse beats the correlational barrier.** The paper predicts $n \asymp d\,\mathrm{polylog}\,d$ for
#   batch reuse, below the $d^{p/2} = d^{1.5}$ that no correlational-query algorithm (online SGD included)
#   can beat. The check passes when the upper end of reuse's 95 % interval is below 1.5. (Over a factor
#   16 in $d$ a $\log^2 d$ factor alone adds about 0.4 to a fitted exponent, so we do not ask for 1.)
# * **Online SGD needs about $d^{p-1} = d^2$.** The check passes when 2 lies in online SGD's interval.
# * **Separation.** Reuse's interval lies entirely below online SGD's.
# * **Control.** For $p = 2$ the same separation check must fail.

# %% tags=["nbval-check-output"]
def exponent(p, reuse):
    return fits[p, ALGORITHMS[reuse]]


def separated(p):
    online, reuse = exponent(p, 1), exponent(p, 2)
    if reuse is None:
        return False
    return online is None or reuse.ci[1] < online.ci[0]


def row_value(fit):
    return (fit.exponent, fit.ci) if fit is not None else ("not reached", None)


value, ci = row_value(exponent(3, 2))
ch.check("exponent of n_0.5(d), batch reuse, He3", paper="1 + polylog, < 1.5 (CSQ bound d^{p/2})",
         ours=value, ci=ci, passed=ci is not None and ci[1] < 1.5)
value, ci = row_value(exponent(3, 1))
ch.check("exponent of n_0.5(d), online SGD, He3", paper="2 (d^{p-1})", ours=value, ci=ci,
         passed=ci is not None and ci[0] <= 2 <= ci[1])
ch.check("reuse's interval below online's, He3", paper="separated", ours="separated" if separated(3) else "overlap",
         passed=separated(3))
ch.control("same separation for a He2 link (p = 2)", paper="no separation",
           ours="separated" if separated(2) else "overlap", passed=not separated(2))
ch.verdict()

# %% [markdown]
# ### Reading the exponents
#
# The exponents fitted over the whole range mix two regimes, and the slopes between neighbouring
# dimensions (printed above the verdict) separate them. Online SGD's slope is steepest in the middle of the
# range: at small $d$ a large step can land on a good direction by chance (see the last point of the
# differences below), and that luck runs out as $d$ grows, so over the range its sample complexity rises
# *faster* than the $d^{2}$ it tends to; at the largest dimensions its slope comes back towards 2. Batch
# reuse has no such regime change: its slopes stay well below online SGD's and drift down slowly, as those
# of a $d\,\mathrm{polylog}\,d$ curve do (the local slope of $d\log^2 d$ is $1 + 2/\ln d$: 1.58 at
# $d = 32$, 1.32 at $d = 512$). Over a factor 16 in $d$ such a curve is hard to tell from $d^{1.5}$, which
# is why the first check can fail while the separation from online SGD is plain.

# %% [markdown]
# ## Differences from the paper
#
# * **Only the first phase.** The paper's algorithm trains the first layer (weak, then strong recovery)
#   and then fits the second layer by ridge regression to reach small test error. The hard part, and the
#   part whose cost depends on $p$, is leaving the random start; we measure that (the overlap reaching
#   0.5) and skip the second phase, which costs the same for both algorithms.
# * **The update.** We take plain two-step reuse with the same learning rate for both steps, the
#   correlation loss, spherical neurons, batch size $B = d$ and a bounded student activation; the paper's
#   algorithm is tailored for the proof (its activation and step sizes are chosen so that one particular
#   power of the label dominates). Learning rates are tuned on a grid for each algorithm and $d$ on the
#   same seeds we report, which flatters both equally.
# * **Scale.** $d \le 512$ at book scale. Over this range logarithmic factors are not negligible, so the
#   checks compare exponents with the barriers ($d^{1.5}$, $d^2$) rather than ask the reuse exponent to
#   be exactly 1.
# * **Small-$d$ luck.** With large learning rates a step can nearly forget the current neuron, so at small
#   $d$ a random direction with overlap 0.5 turns up by chance (the chance falls exponentially with $d$).
#   That is why online SGD's best learning rate shrinks as $d$ grows, and why its fitted exponent bends
#   upwards over the range.

# %% [markdown]
# ## Run info

# %%
ch.run_info()
