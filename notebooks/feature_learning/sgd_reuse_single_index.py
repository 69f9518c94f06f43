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
# **Claim.** Take a single-index target $y = \sigma_*(\langle \theta, x\rangle)$ on
# standard Gaussian inputs $x \in \mathbb R^d$, with a polynomial link $\sigma_*$ whose
# Hermite expansion starts at degree $p$ (the *information exponent*). One-pass online
# SGD on a two-layer network needs about $d^{p-1}$ samples to find $\theta$
# {cite}`benarous2021online`, and every correlational-query algorithm needs at least
# about $d^{p/2}$. The paper proves that SGD which takes **two gradient steps on each
# mini-batch** learns any polynomial link — first layer to strong recovery, then the
# second layer by ridge regression, to small test error — with
# $n \asymp d\,\mathrm{polylog}\,d$ samples, whatever $p$: the second step sees the
# first step's change, which makes the update depend on powers of the label
# ($y^2, y^3, \dots$), and a power of a polynomial has information exponent at most 2.
# We measure, for a link with $p = 3$, the number of samples each algorithm needs to
# find the direction, against $d$, with fitted exponents, and the test error after the
# readout at the largest $d$.
#
# **Negative control.** Repeat the comparison with a link of information exponent
# $p = 2$. There online SGD already needs only about $d\log d$ samples, so reuse has
# nothing to repair and the gap between the two exponents must close — in either
# direction.

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

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from replib import Chapter, progress
from replib.fitting import bootstrap_interval, crossing_exponent, rate_selected_crossing
from replib.kernels import feature_regression
from replib.layerwise import (learning_rate_sweep, median_settled, sine_cosine_grad,
                              spherical_sgd, unit_neurons)
from replib.metrics import normalised_error
from replib.plotting import colors, label_log_ticks, use_book_style
from replib.targets import hermite, orthonormal_directions

ch = Chapter("feature_learning/sgd_reuse_single_index", scale=SCALE, seed=SEED,
             cite="lee2024reuse",
             claim="SGD reusing each mini-batch twice learns a He3 single-index model "
                   "with about d·polylog d samples")
cfg = ch.settings(
    smoke=dict(dims=[16, 32, 64], seeds=24, lrs=[0.1 * 2**k for k in range(8)],
               max_ratio=256, readout_points=2048, strong=30),
    book=dict(dims=[32, 64, 128, 256, 512], seeds=32,
              lrs=[0.05 * 2**k for k in range(8)], max_ratio=1536,
              readout_points=8192, strong=100),
    full=dict(dims=[32, 64, 128, 256, 512, 1024, 2048], seeds=64,
              lrs=[0.0125 * 2**k for k in range(12)], max_ratio=8192,
              readout_points=32768, strong=200),
)
use_book_style()
dev = ch.device
OVERLAP = 0.5  # the direction is found when |<w, theta>| reaches this (weak recovery)
SETTLED = 0.8  # a sweep is settled once this fraction of a rate's seeds is past OVERLAP
CONFIRM = 0.25  # ... then runs this fraction of its steps again (sustained crossing)
LINKS = {3: lambda z: hermite(3, z, normalised=True),
         2: lambda z: hermite(2, z, normalised=True)}
ALGORITHMS = {1: "online SGD", 2: "batch reuse (2 steps per batch)"}
CSQ = 1.5  # d^{p/2} for p = 3: no correlational algorithm can do better
ERROR_TOL = 0.1  # "learned": the readout explains at least 90 % of the variance
UNITS = 128  # second-layer width of the readout


# %% [markdown]
# ## Target, network and training
#
# The link is $\sigma_* = \mathrm{He}_3/\sqrt6$ ($p = 3$; the control uses
# $\mathrm{He}_2/\sqrt2$). We train the first layer the way the theory does (the paper's
# Phase I): each neuron $w$ stays on the unit sphere and follows SGD on the correlation
# loss $-y\,\sigma(\langle w, x\rangle)$, on mini-batches of $B = d$ fresh samples.
# **Online SGD** takes one step per batch; **batch reuse** takes two consecutive steps
# on the same batch, then draws a new one. Both see the same number of samples per step,
# so "samples" below is $n = B \times$ batches for both. The student activation
# $\sigma(u) = \tfrac12\sin u - \cos u$ is bounded (polynomial activations make the
# reused gradient heavy-tailed) and has every Hermite component, so neither algorithm is
# starved of the component it relies on (its even part has a positive $\mathrm{He}_2$
# coefficient, so that ascent on the correlation moves towards $\pm\theta$ for the even
# control link too).
#
# Each algorithm gets its own learning rate: we sweep a grid (factor 2 apart, from
# `lrs[0]` to `lrs[-1]`) for every $d$, since the theory's learning rates scale
# differently with $d$ for the two algorithms. The neurons do not interact under the
# correlation loss, so the learning-rate sweep and the seeds run as one batched
# computation (the learning rates ride on the neuron axis).
#
# **The measurement.** At every step we take the **median over seeds of the current
# overlap** $|\langle w, \theta\rangle|$ (from a random start at $\approx d^{-1/2}$).
# $n_{0.5}(d)$ is the number of samples after which that median reaches 0.5 *and stays
# there* to the end of the run, at the learning rate that gets there first. A run is
# stopped once 80 % of some rate's seeds are above 0.5 at the same time, and then runs a
# quarter as long again to confirm (at most `max_ratio` batches in all). The interval is
# a bootstrap over seeds that re-selects the best rate inside every resample
# (`replib.fitting.rate_selected_crossing`), so it carries the cost of tuning the rate
# on the seeds we report; the exponent's interval pairs these resamples across $d$
# (`crossing_exponent`). Escaping the random start is what costs $d^{p-1}$ or
# $d\,\mathrm{polylog}\,d$; once the overlap is of order one, both algorithms finish in
# about $d\log d$ more samples.

# %%
def overlap_runs(d, p, reuse, generator):
    """|<w, θ>| after every batch until the sweep stopped: (batches, seeds, rates)."""
    dtype = torch.float32
    theta = torch.stack([orthonormal_directions(d, 1, generator=generator)[0]
                         for _ in range(cfg.seeds)]).to(dtype).to(dev)
    link = LINKS[p]

    def batch(_):  # B = d samples per batch
        x = torch.randn(cfg.seeds, d, d, generator=generator, dtype=dtype).to(dev)
        return x, link(x @ theta.unsqueeze(-1)).squeeze(-1)

    w0 = unit_neurons(cfg.seeds, 1, d=d, generator=generator, dtype=dtype).to(dev)
    history = learning_rate_sweep(
        w0, batch, cfg.lrs, activation_grad=sine_cosine_grad, reuse=reuse,
        max_steps=cfg.max_ratio, done=median_settled(OVERLAP, fraction=SETTLED,
                                                     confirm=CONFIRM),
        summarise=lambda w: (w @ theta[:, None, :, None]).abs()[..., 0, 0])
    return history.cpu().numpy(), theta, batch


gen = torch.Generator().manual_seed(SEED)
runs, tasks = {}, {}  # (p, reuse, d) -> overlaps (batches, seeds, rates); task
jobs = [(p, reuse, d) for p in (3, 2) for reuse in ALGORITHMS for d in cfg.dims]
for p, reuse, d in progress(jobs, desc="SGD runs"):
    runs[p, reuse, d], *tasks[p, reuse, d] = overlap_runs(d, p, reuse, gen)

crossings = {key: rate_selected_crossing(h, OVERLAP, samples_per_step=key[2],
                                         sustained=True, seed=SEED)
             for key, h in runs.items()}

# %% [markdown]
# ## How the overlap grows
#
# The median overlap over seeds, at each algorithm's selected learning rate, against the
# number of samples divided by $d$. If an algorithm needs $\asymp d$ samples, its curves
# for different $d$ line up; online SGD's curves move right as $d$ grows.

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.2), sharey=True)
palette = dict(zip(cfg.dims, colors(len(cfg.dims))))
for ax, (reuse, algorithm) in zip(axes, ALGORITHMS.items()):
    for d in cfg.dims:
        h = runs[3, reuse, d][:, :, crossings[3, reuse, d].rate]
        ax.plot(np.arange(1, h.shape[0] + 1), np.median(h, axis=1), color=palette[d],
                label=f"d = {d}")
    ax.axhline(OVERLAP, color="gray", ls=":", lw=1)
    ax.set(xscale="log", xlabel="samples n / d",
           ylabel=r"median overlap $|\langle w,\theta\rangle|$",
           title=f"{algorithm}, link He$_3$", ylim=(0, 1))
    label_log_ticks(ax, [1, 4, 16, 64, 256, 1024])
    ax.legend(title="dimension d", fontsize="small")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Sample complexity against $d$
#
# $n_{0.5}(d)$ at the selected learning rate with its 95 % interval (bootstrap over
# seeds, rate re-selected in each resample), and the fitted power law. Left: the $p = 3$
# link of the claim. Right: the control.

# %%
def exponent(p, reuse):
    """crossing_exponent over the dimensions, or None if some median never got there."""
    try:
        return crossing_exponent(cfg.dims, [crossings[p, reuse, d] for d in cfg.dims])
    except ValueError:
        return None


def boot_slopes(p, reuse):
    """The exponent in every bootstrap resample (NaN where some d never got there)."""
    boot = np.stack([crossings[p, reuse, d].boot for d in cfg.dims], -1)
    x = np.log(cfg.dims) - np.log(cfg.dims).mean()
    with np.errstate(invalid="ignore"):
        y = np.log(boot)
        return ((y - y.mean(-1, keepdims=True)) * x).sum(-1) / (x**2).sum()


def gap(p):
    """Online minus reuse exponent, interval from pairing the two (independent) sets of
    bootstrap resamples; None if either exponent has no fit."""
    online, reuse = exponent(p, 1), exponent(p, 2)
    if online is None or reuse is None:
        return None
    diff = boot_slopes(p, 1) - boot_slopes(p, 2)
    diff = diff[np.isfinite(diff)]
    lo, hi = np.quantile(diff, [0.025, 0.975])
    return online.value - reuse.value, (float(lo), float(hi))


fits = {(p, reuse): exponent(p, reuse) for p in (3, 2) for reuse in ALGORITHMS}
fig, axes = plt.subplots(1, 2, figsize=(13, 4.4))
for ax, p in zip(axes, (3, 2)):
    for color, (reuse, algorithm) in zip(colors(2), ALGORITHMS.items()):
        c = [crossings[p, reuse, d] for d in cfg.dims]
        n = np.array([x.n for x in c])
        err = np.array([[x.n - x.ci[0], x.ci[1] - x.n] for x in c]).T
        fit = fits[p, reuse]
        label = algorithm if fit is None else (
            f"{algorithm}: $d^{{{fit.value:.2f}}}$ [{fit.ci[0]:.2f}, {fit.ci[1]:.2f}]")
        ax.errorbar(cfg.dims, n, yerr=np.nan_to_num(err, posinf=0), fmt="o",
                    color=color, label=label, capsize=3)
        if fit is not None:
            grid = np.geomspace(cfg.dims[0], cfg.dims[-1], 50)
            scale = np.exp(np.mean(np.log(n) - fit.value * np.log(cfg.dims)))
            ax.plot(grid, scale * grid**fit.value, color=color)
    ax.set(xscale="log", yscale="log", xlabel="input dimension d",
           ylabel=r"samples $n_{0.5}$ (median overlap 0.5)",
           title=f"link He$_{p}$ (information exponent p = {p})")
    label_log_ticks(ax, cfg.dims)
    ax.legend(fontsize="small", loc="upper left")
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
table = pd.DataFrame([
    dict(p=p, algorithm=ALGORITHMS[reuse], d=d, n_over_d=c.n / d,
         ci_low=c.ci[0] / d, ci_high=c.ci[1] / d, lr=cfg.lrs[c.rate],
         rate_index=f"{c.rate + 1} of {len(cfg.lrs)}",
         at_edge=c.rate in (0, len(cfg.lrs) - 1), steps_run=runs[p, reuse, d].shape[0])
    for (p, reuse, d), c in crossings.items()])
table = table.set_index(["p", "algorithm", "d"]).sort_index()
print(table.to_string(float_format=lambda v: f"{v:.4g}"))
edges = int(table.at_edge.sum())
for (p, reuse), fit in fits.items():
    text = "no fit" if fit is None else (
        f"{fit.value:.3f} [{fit.ci[0]:.3f}, {fit.ci[1]:.3f}]")
    med = table.loc[(p, ALGORITHMS[reuse])].n_over_d.to_numpy() * np.array(cfg.dims)
    local = np.diff(np.log(med)) / np.diff(np.log(cfg.dims))
    print(f"p = {p}, {ALGORITHMS[reuse]}: exponent {text}; between neighbouring d: "
          + " ".join(f"{v:.2f}" for v in local))
for p in (3, 2):
    g = gap(p)
    print(f"p = {p}: online minus reuse exponent "
          + ("no fit" if g is None else f"{g[0]:.3f} [{g[1][0]:.3f}, {g[1][1]:.3f}]"))

# %% [markdown]
# ## Phase II: the readout and the test error
#
# The paper's algorithm does not stop at weak recovery: it trains the first layer on
# until the overlap is close to 1 (strong recovery), then fits the second layer by ridge
# regression on the features $\mathrm{relu}(s_j\langle w, x\rangle + b_j)$ (random
# signs $s_j$ and biases $b_j$), and its guarantee is a small **test error** at
# $n \asymp d\,\mathrm{polylog}\,d$. We run this for batch reuse at the largest
# dimension with a budget fixed by a rule, linear in $d$: twice reuse's $n_{0.5}$ at the
# selected learning rate (weak recovery), then `strong` $\times d$ samples at each of a
# quarter, a sixteenth and a sixty-fourth of it (smaller steps, less noise around the
# direction). The readout uses 128 units and `readout_points` fresh samples for training
# and as many for testing; since $x$ is Gaussian,
# $(\langle w, x\rangle, \langle\theta, x\rangle)$ is a Gaussian pair with correlation
# $\langle w,\theta\rangle$, which we sample directly. A neuron at overlap $m$ recovers
# at most a fraction $m^6$ of the cubic link's variance, so an error below 0.1 needs
# $m \gtrsim 0.98$. (We do not run online SGD through this phase: the table above shows
# that its $n_{0.5}$ at this $d$ alone is of the order of the whole budget or more.)

# %%
def readout_error(c, generator, points):
    """Normalised test error of the ridge readout on relu(s<w,x> + b), per seed, for
    neurons at signed overlap c (seeds,) with θ; He3 link."""
    seeds = c.shape[0]
    s = torch.where(torch.rand(seeds, UNITS, generator=generator) < 0.5, -1.0, 1.0)
    b = 1.5 * torch.randn(seeds, UNITS, generator=generator)

    def data():
        g = torch.randn(2, seeds, points, generator=generator, dtype=torch.float64)
        z = g[0]
        u = c[:, None] * g[0] + (1 - c[:, None] ** 2).clamp_min(0).sqrt() * g[1]
        feats = torch.relu(z[..., None] * s[:, None, :] + b[:, None, :])
        return feats.to(dev), LINKS[3](u).to(dev)

    coef = feature_regression(*data(), ridge=1e-6)
    feats, y = data()
    return normalised_error((feats @ coef.unsqueeze(-1)).squeeze(-1), y).cpu()


d_top = cfg.dims[-1]
weak_steps = int(np.ceil(2 * crossings[3, 2, d_top].n / d_top))
schedule = [(1, weak_steps)] + [(shrink, cfg.strong) for shrink in (4, 16, 64)]
g_read = torch.Generator().manual_seed(SEED + 1000)
theta, batch = tasks[3, 2, d_top]
lr_top = cfg.lrs[crossings[3, 2, d_top].rate]
w = unit_neurons(cfg.seeds, 1, d=d_top, generator=g_read, dtype=torch.float32).to(dev)
for shrink, steps in progress(schedule, desc="phase II"):
    w = spherical_sgd(w, batch, steps=steps, lr=lr_top / shrink,
                      activation_grad=sine_cosine_grad, reuse=2)
c = (w[:, 0] * theta).sum(-1).double().cpu()
error = readout_error(c, g_read, cfg.readout_points).numpy()
truth_error = readout_error(torch.ones(cfg.seeds, dtype=torch.float64), g_read,
                            cfg.readout_points)
median = lambda v: float(np.median(v))  # noqa: E731
error_iv = bootstrap_interval(error, median, seed=SEED)
budget = sum(steps for _, steps in schedule) * d_top
print(f"d = {d_top}: budget {budget} samples = {budget / d_top:.0f} d "
      f"(online SGD's n_0.5 alone: {crossings[3, 1, d_top].n / d_top:.0f} d)")
print(f"batch reuse: median overlap {median(c.abs()):.3f}, median test error "
      f"{error_iv.value:.3f} [{error_iv.ci[0]:.3f}, {error_iv.ci[1]:.3f}], "
      f"worst seed {error.max():.3f}")
print(f"readout on the true direction: median test error {median(truth_error):.4f}")

# %% [markdown]
# ## Verdict
#
# * **Headline: reuse beats the correlational barrier.** The paper proves $n \asymp
#   d\,\mathrm{polylog}\,d$ for batch reuse, below the $d^{p/2} = d^{1.5}$ that no
#   correlational-query algorithm (online SGD included) can beat. The check passes when
#   the upper end of reuse's 95 % interval is below 1.5. We do not ask for 1: the local
#   slope of $d\log^k d$ is $1 + k/\ln d$, which over $d = 32 \dots 512$ is about $1 +
#   0.2k$, so the polylog alone can put a correct fit anywhere in $[1, 1.5)$.
# * **Online SGD needs about $d^{p-1} = d^2$.** The check passes when 2 lies in online
#   SGD's interval.
# * **Separation.** The online-minus-reuse exponent's interval lies above 0.
# * **Readout.** After Phase II at the fixed budget, reuse's median test error has its
#   interval below 0.1 (90 % of the variance explained).
# * The online-SGD row is the fragile one: its crossings are the slowest to settle and
#   have the widest intervals, and in trial runs its fitted exponent came out below 2
#   (the slopes between neighbouring $d$ scatter widely). Where it fails, the status is
#   "partly"; the status page records the status at each of the three seeds.
# * **Control (two-sided).** For $p = 2$ online SGD already needs only $d\log d$, so the
#   gap between the exponents must vanish: its interval must contain 0 — reuse being
#   better *or worse* counts as a failure of the control.

# %% tags=["nbval-check-output"]
HEADLINE = "batch reuse, He3: exponent of n_0.5(d)"
ONLINE = "online SGD, He3: exponent of n_0.5(d)"
SEP = "online minus reuse exponent, He3"
READ = "batch reuse + readout: test error at the budget"
CONTROL = "online minus reuse exponent, He2 link (p = 2)"
METHOD = "bootstrap over seeds, rate re-selected in each resample, paired across d"


def row_value(fit):
    return (fit.value, fit.ci) if fit is not None else ("not reached", None)


ch.paper_claim("SGD that reuses each mini-batch learns a polynomial single-index model "
               "with n ≍ d·polylog d samples, whatever its information exponent (main "
               "theorem)", row=HEADLINE)
ch.paper_claim("one-pass online SGD needs n ≍ d^{p-1} samples (the prior result the "
               "paper compares with)", row=ONLINE)
ch.paper_claim("so for p ≥ 3 reuse is polynomially faster than online SGD", row=SEP)
ch.paper_claim("after Phase II (second layer by ridge regression) the test error is "
               "small at that sample size", row=READ)
ch.paper_claim("for general links n ≳ d^{(p*-1)∨1}, p* the generative exponent",
               tested="no", note="we run one polynomial link (He3) and the He2 control;"
               " "
               "links with generative exponent above 2 are not run")
ch.paper_claim("no correlational-query algorithm learns with fewer than ~d^{p/2} "
               "queries (the CSQ lower bound the paper beats)",
               tested="not testable here",
               note="a bound over all CSQ algorithms; running one algorithm cannot "
               "test it (we use d^{1.5} as the headline's threshold)")
ch.paper_claim("runtime T ≍ n: each sample is used in a constant number of steps",
               tested="no", note="true by construction of the algorithm (two steps per "
               "batch), not a measurement")

value, ci = row_value(fits[3, 2])
ch.check_claim(HEADLINE, headline=True, paper=f"< {CSQ} (1 + polylog)", ours=value,
               ci=ci, passed=ci is not None and ci[1] < CSQ,
               why=f"the CSQ bound d^(p/2) = d^{CSQ} for p = 3: the 95 % interval "
                   f"({METHOD}) must lie below it; d·log^k d has local slope "
                   "1 + k/ln d")
value, ci = row_value(fits[3, 1])
ch.check_claim(ONLINE, paper="2 (d^{p-1})", ours=value, ci=ci,
               passed=ci is not None and ci[0] <= 2 <= ci[1],
               why=f"theory's d^(p-1): 2 must lie in the 95 % interval ({METHOD})")
g3, g2 = gap(3), gap(2)
ch.check_claim(SEP, paper="> 0", ours=g3[0] if g3 else "no fit",
               ci=g3[1] if g3 else None, passed=g3 is not None and g3[1][0] > 0,
               why="the two exponents' bootstrap resamples paired; the 95 % interval "
                   "of the difference must lie above 0")
iv = error_iv
ch.check_claim(READ, paper=f"small (< {ERROR_TOL})", ours=iv.value, ci=iv.ci,
               passed=iv.ci[1] < ERROR_TOL,
               why=f"stated tolerance: 90 % of the variance explained; the {iv.method} "
                   "of the median error must lie below 0.1 (needs overlap ≳ 0.98)")
ch.control(CONTROL, paper="0 (both d·polylog d)", ours=g2[0] if g2 else "no fit",
           ci=g2[1] if g2 else None,
           passed=g2 is not None and g2[1][0] <= 0 <= g2[1][1],
           why="the information exponent above 2, the one ingredient online SGD is "
               "slow for, removed: the gap's 95 % interval must contain 0 (two-sided)")
ch.sanity("readout on the true direction θ: median test error", paper="≈ 0",
          ours=median(truth_error), passed=median(truth_error) < 0.05,
          note="the readout's approximation floor (plumbing)")
ch.sanity("selected learning rates at the edge of the grid", paper=0, ours=edges,
          passed=edges == 0, note=f"grid {cfg.lrs[0]:.3g} to {cfg.lrs[-1]:.3g}, "
          "factor 2; see the table's at_edge column")
ch.verdict()

# %% [markdown]
# ### Reading the exponents
#
# The slopes between neighbouring dimensions (printed above the readout) show what the
# fitted exponents average over. A $d\,\mathrm{polylog}\,d$ curve has slopes that drift
# down slowly (the local slope of $d\log^2 d$ is $1 + 2/\ln d$: 1.58 at $d = 32$, 1.32
# at $d = 512$), so over a factor 16 in $d$ it is hard to tell from $d^{1.5}$ — which is
# why the headline asks only for the interval to lie below the correlational barrier,
# not for 1. At small $d$ a large step can land on a good direction by chance (see the
# differences below), which lowers online SGD's first points and can steepen its slope
# in the middle of the range.

# %% [markdown]
# ## Differences from the paper
#
# * **The update.** Plain two-step reuse with the same learning rate for both steps, the
#   correlation loss, spherical neurons, batch size $B = d$ and a bounded student
#   activation; the paper's algorithm is tailored for the proof (its activation and step
#   sizes are chosen so that one particular power of the label dominates).
# * **The measurement.** The sample complexity is measured at weak recovery (the median
#   overlap over seeds reaching 0.5 and staying there), the step whose cost depends on
#   $p$; the paper's statement is for small test error. We run Phase II (strong
#   recovery with decreasing steps, then a ridge readout) only for batch reuse and only
#   at the largest $d$, with a budget fixed by a rule (twice reuse's $n_{0.5}$, then
#   three annealing phases of `strong` $\times d$ samples), not as a function of $d$;
#   online SGD is not run through it.
#   The readout samples $(\langle w,x\rangle, \langle\theta,x\rangle)$ from their exact
#   joint Gaussian law instead of drawing $d$-dimensional inputs, and uses one trained
#   direction with 128 random biases (the paper trains many neurons).
# * **Tuning.** Learning rates are chosen on a grid (factor 2) for each algorithm and
#   $d$ on the seeds we report; the bootstrap re-selects the rate in every resample, so
#   the intervals include the cost of that choice. The table reports where each selected
#   rate sits in the grid (the sanity row counts rates at an edge).
# * **Scale.** $d \le 512$ at book scale. Over this range logarithmic factors are not
#   negligible, so the checks compare exponents with the barriers ($d^{1.5}$, $d^2$)
#   rather than ask the reuse exponent to be exactly 1.
# * **Small-$d$ luck.** With large learning rates a step can nearly forget the current
#   neuron, so at small $d$ a random direction with overlap 0.5 turns up by chance (the
#   chance falls exponentially with $d$). Requiring the *median* overlap to stay above
#   0.5 removes most of this (a lucky seed falls back), but online SGD's best rate still
#   shrinks as $d$ grows.

# %% [markdown]
# ## Run info

# %%
ch.run_info()
