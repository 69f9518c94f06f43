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
# # Scalable neural network kernels: a layer as a dot product of random features
#
# **Paper.** {cite}`sehanobish2024snnk`.
#
# **Claim.** A feed-forward layer computes $f(\langle w, x\rangle)$ for every neuron $w$, which mixes
# inputs and parameters inside $f$. *Universal random features* (URFs) disentangle them: for any $f$ that
# is an average of exponentials, $f(z) = \mathbb E_\xi[c(\xi)\, e^{s(\xi) z}]$, there are random maps
# $\varphi$ (of the input alone) and $\psi$ (of the weights alone) with
# $\mathbb E[\varphi(x)^\top \psi(w)] = f(\langle w, x\rangle)$ exactly, and, with $m$ independent
# features, an error that falls like $1/m$. The layer becomes $\varphi(x)^\top \Psi$ with
# $\Psi = [\psi(w_1), \dots]$ — the paper's scalable neural network kernel (SNNK).
#
# The chapter mirrors the paper's point-wise estimation experiments: is the estimator unbiased for
# $\exp$, $\cos$ and $\sin$, how fast does its error fall with $m$, and what does it cost in the norms of
# $x$ and $w$. It ends with a whole layer in kernel form.
#
# **Negative control.** Drop the Gaussian correction factors $e^{-s^2\|x\|^2/2}$ and $e^{-\|w\|^2/2}$ from
# the features. That removes the ingredient that makes the estimator unbiased, so the unbiasedness check
# must fail.

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
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from scipy.stats import norm as gaussian

from replib import Chapter, progress
from replib.fitting import fit_power_law
from replib.plotting import colors, label_log_ticks, use_book_style
from replib.random_features import MIXTURES, urf_draw, urf_estimate, urf_pair_estimates

ch = Chapter("kernels/scalable_nn_kernels_urf", scale=SCALE, seed=SEED, cite="sehanobish2024snnk",
             claim="Universal random features give an unbiased estimate of f(w.x) as a dot product of separate "
                   "input and weight features, with mean squared error falling as 1/m")
cfg = ch.settings(
    smoke=dict(pairs=10, draws=500, sweep_draws=50, features=[16, 64, 256, 1024], radii=[0.5, 1.0, 2.0],
               neurons=64),
    book=dict(pairs=20, draws=2000, sweep_draws=300, features=[16, 32, 64, 128, 256, 512, 1024, 2048, 4096],
              radii=[0.25, 0.5, 1.0, 1.5, 2.0, 2.5], neurons=256),
    full=dict(pairs=50, draws=10000, sweep_draws=1000, features=[2**k for k in range(4, 15)],
              radii=[0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0], neurons=1024),
)
use_book_style()
DIM = 16
TEST_AT = 64  # features per estimate in the unbiasedness test
g = ch.generator


def random_vectors(n, low, high):
    """n vectors in R^DIM with uniform random directions and norms uniform in [low, high]."""
    v = torch.randn(n, DIM, generator=g, dtype=torch.float64)
    return v / v.norm(dim=1, keepdim=True) * (low + (high - low) * torch.rand(n, 1, generator=g, dtype=torch.float64))


# %% [markdown]
# ## Setup
#
# The three functions and their mixtures: $e^z$ ($s = 1$), $\cos z = \mathbb E[e^{i\xi z}]$ and
# $\sin z = \mathbb E[-i\xi\, e^{i\xi z}]$ with $\xi = \pm 1$ equally likely. Each of the $m$ features draws
# its own $\xi_k$ and Gaussian direction $g_k \in \mathbb R^{16}$ (`replib.random_features`); the
# estimate is $\operatorname{Re} \varphi(x)^\top\psi(w)$. Test pairs $(x, w)$ have random directions and
# norms between 0.5 and 1.5.
#
# ## Is the estimator unbiased?
#
# For each pair, many independent draws of $m = 64$ features; the $z$-score of the mean error is
# (mean estimate − exact value) / standard error. Under unbiasedness each $z$ is standard normal; we test
# every pair at the Bonferroni-corrected 5 % level.

# %%
x, w = random_vectors(cfg.pairs, 0.5, 1.5), random_vectors(cfg.pairs, 0.5, 1.5)
rows = []
for name, mixture in progress(MIXTURES.items(), desc="unbiasedness"):
    exact = mixture.exact((x * w).sum(1))
    for corrected in (True, False):
        est = urf_pair_estimates(x, w, mixture, TEST_AT, cfg.draws, g, corrected=corrected)
        z = (est.mean(0) - exact) / (est.std(0) / math.sqrt(cfg.draws))
        rows += [{"f": name, "features": "URF" if corrected else "no correction (control)", "pair": i,
                  "z": float(v)} for i, v in enumerate(z)]
zs = pd.DataFrame(rows)
critical = gaussian.ppf(1 - 0.05 / (2 * cfg.pairs * len(MIXTURES)))

# %% tags=["nbval-check-output"]
summary = zs.assign(abs_z=zs.z.abs()).groupby(["features", "f"]).abs_z.agg(["median", "max"])
print(f"|z| over {cfg.pairs} pairs, {cfg.draws} draws of m = {TEST_AT} features each; "
      f"Bonferroni 5 % critical value {critical:.3f}")
print(summary.to_string(float_format=lambda v: f"{v:.3g}"))

# %%
fig, ax = plt.subplots(figsize=(9, 4))
sns.stripplot(zs, x="f", y="z", hue="features", dodge=True, palette=colors(2), ax=ax)
for c in (-critical, critical):
    ax.axhline(c, color="gray", ls=":")
ax.set(yscale="symlog", xlabel="function f", ylabel="z-score of the mean error (symlog)",
       title="unbiasedness: URF vs features without the Gaussian correction")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Error against the number of features
#
# Mean squared error over the pairs and over independent draws, for $m$ from 16 to 4096, with a
# power-law fit (bootstrap over draws).

# %%
sweep = {}
for name, mixture in progress(MIXTURES.items(), desc="feature sweep"):
    exact = mixture.exact((x * w).sum(1))
    sq = torch.stack([((urf_pair_estimates(x, w, mixture, m, cfg.sweep_draws, g) - exact) ** 2).mean(-1)
                      for m in cfg.features])
    sweep[name] = sq.T.numpy()  # (draws, features)
fits = {name: fit_power_law(cfg.features, err) for name, err in sweep.items()}

# %% tags=["nbval-check-output"]
print("mean squared error ~ m^slope")
for name, fit in fits.items():
    print(f"  {name}: slope {fit.exponent:.3f} [{fit.ci[0]:.3f}, {fit.ci[1]:.3f}]")

# %%
fig, ax = plt.subplots(figsize=(7.5, 4.2))
for color, (name, err) in zip(colors(len(sweep)), sweep.items()):
    ax.plot(cfg.features, err.mean(0), "o-", color=color, label=f"{name}: slope {fits[name].exponent:.2f}")
ax.plot(cfg.features, sweep["cos"].mean(0)[0] * cfg.features[0] / np.array(cfg.features), "k:", lw=1, label="1/m")
ax.set(xscale="log", yscale="log", xlabel="features m", ylabel="mean squared error",
       title="URF estimate of f(<w, x>), norms 0.5-1.5")
label_log_ticks(ax, cfg.features)
ax.tick_params(axis="x", labelrotation=45)
ax.legend(fontsize="small")
fig.tight_layout()
plt.show()

# %% [markdown]
# With independent features the mean squared error is exactly (variance of one feature product)$/m$.
# The sample estimate of it is noisier for $\exp$: its feature products are log-normal, so a few rare
# draws carry much of the mean, and its fitted slope can sit off $-1$ by more than its bootstrap interval.

# %% [markdown]
# ## The price: norms
#
# The variance of each feature grows like $e^{c\|x\|^2}$ and $e^{\|w\|^2}$: the estimator is unbiased
# at any norm, but the number of features needed for a given accuracy grows exponentially with the norms.
# Relative root-mean-squared error at $m = 1024$, with $\|x\| = \|w\| = r$.

# %%
norm_rows = []
for r in progress(cfg.radii, desc="norms"):
    xr, wr = random_vectors(cfg.pairs, r, r), random_vectors(cfg.pairs, r, r)
    for name, mixture in MIXTURES.items():
        exact = mixture.exact((xr * wr).sum(1))
        est = urf_pair_estimates(xr, wr, mixture, 1024, 20, g)
        rel = ((est - exact) ** 2).mean().sqrt() / exact.abs().mean()
        norm_rows.append({"norm r": r, "f": name, "relative RMSE": float(rel)})
norm_table = pd.DataFrame(norm_rows)
fig, ax = plt.subplots(figsize=(7, 4))
sns.lineplot(norm_table, x="norm r", y="relative RMSE", hue="f", marker="o", palette=colors(len(MIXTURES)), ax=ax)
ax.set(yscale="log", title="m = 1024 features: error against the norms of x and w")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## A whole layer in kernel form
#
# A layer $h = \cos(W x)$ with unit-norm rows $w_j$ and unit-norm inputs: the SNNK form computes the
# input features $\varphi(x)$ once and multiplies them by the precomputed $\Psi$ ($m \times$ neurons).
# Relative error of the layer's output over a batch of inputs, one feature draw per $m$.

# %% tags=["nbval-check-output"]
inputs, weights = random_vectors(128, 1.0, 1.0), random_vectors(cfg.neurons, 1.0, 1.0)
exact_layer = torch.cos(inputs @ weights.T)
layer_error = {m: float((urf_estimate(inputs, weights, urf_draw(MIXTURES["cos"], m, DIM, g)) - exact_layer).norm()
                        / exact_layer.norm()) for m in cfg.features}
print(f"cos layer, {cfg.neurons} neurons, 128 inputs: relative error of the SNNK output")
print("  " + ", ".join(f"m = {m}: {e:.3f}" for m, e in layer_error.items()))

# %% [markdown]
# ## Verdict
#
# * **Unbiased.** Every pair's $z$-score stays inside the Bonferroni-corrected 5 % band, for all three
#   functions.
# * **Error $\propto 1/m$.** The fitted slope of the mean squared error against $m$ lies in $[-1.2, -0.8]$
#   for each function (independent features: exactly $-1$).
# * **Control.** Without the Gaussian correction factors some pair's $z$-score must leave the band.

# %% tags=["nbval-check-output"]
urf_max = float(zs[zs.features == "URF"].z.abs().max())
ctl_max = float(zs[zs.features != "URF"].z.abs().max())
ch.check(f"max |z| of the mean error, URF (m = {TEST_AT})", paper=f"unbiased (< {critical:.2f})", ours=urf_max,
         passed=urf_max < critical)
for name, fit in fits.items():
    ch.check(f"slope of MSE against m, {name}", paper="-1 (within [-1.2, -0.8])", ours=fit.exponent, ci=fit.ci,
             passed=-1.2 <= fit.exponent <= -0.8)
ch.control(f"max |z|, features without the correction (m = {TEST_AT})", paper=f"biased (>= {critical:.2f})",
           ours=ctl_max, passed=ctl_max >= critical)
ch.verdict()

# %% [markdown]
# ## Differences from the paper
#
# * **Scope.** Only the point-wise estimation and a single layer. The paper's bundling of whole networks,
#   its closed-form training of fully bundled networks, the ReLU-SNNK variants and the transformer adapter
#   experiments (parameter savings, GLUE/image accuracy) are not reproduced.
# * **Settings.** Dimension 16, norms 0.5–1.5, $m$ up to 4096, chosen by us; the paper's figure settings
#   were not used. The norm sweep shows how much the conclusion depends on the norms.
# * **Orthogonal features.** The authors' code can also draw the Gaussian directions orthogonal to one
#   another (lower variance); we use independent directions, for which the $1/m$ law is exact.

# %% [markdown]
# ## Run info

# %%
ch.run_info()
