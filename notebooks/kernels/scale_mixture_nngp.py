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
# # A random last-layer scale turns the infinite-width limit into a Student-t process
#
# **Paper.** {cite}`lee2022scalemixture`.
#
# **Claim.** An infinitely wide network with Gaussian weights is a Gaussian process (the NNGP). Put a prior
# on the *variance of the last layer's weights* and the limit becomes a scale mixture of Gaussian
# processes; with an inverse-gamma prior $\sigma^2 \sim \mathrm{InvGamma}(a, b)$ it is a Student-t process
# with $2a$ degrees of freedom and scale $\sqrt{(b/a)\,K(x, x)}$, where $K$ is the NNGP kernel. Finite
# networks converge to this heavy-tailed limit as their width grows. We mirror the paper's figure of the
# output distribution of finite networks against the limiting density, and measure the convergence with
# Kolmogorov–Smirnov (KS) distances.
#
# **Negative control.** Fix the last-layer variance at the prior's mean instead of drawing it: the limit
# is then the ordinary NNGP, a Gaussian, and the heavy tails must disappear.

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
from scipy import stats

from replib import Chapter, progress
from replib.kernels import MLPKernel
from replib.plotting import colors, label_log_ticks, use_book_style

ch = Chapter("kernels/scale_mixture_nngp", scale=SCALE, seed=SEED, cite="lee2022scalemixture",
             claim="With an inverse-gamma last-layer variance, wide networks converge to a Student-t process")
cfg = ch.settings(
    smoke=dict(draws=20_000, widths=[2, 8, 32, 256]),
    book=dict(draws=100_000, widths=[2, 8, 32, 128, 1024]),
    full=dict(draws=1_000_000, widths=[2, 8, 32, 128, 1024, 4096]),
)
use_book_style()
A, B = 2.0, 2.0  # InvGamma(a, b) prior on the last-layer variance (the paper's running example)
D_IN = 10

# %% [markdown]
# ## The network and its limit
#
# One hidden ReLU layer of width $n$ and a scalar output,
# $f(x) = \sigma \sqrt{2/n}\,\sum_j v_j\,\mathrm{relu}(w_j \cdot x \cdot \sqrt{2/d})$ with standard normal
# $v_j, w_j$ and the last-layer scale $\sigma^2 \sim \mathrm{InvGamma}(a, b)$, $a = b = 2$. Given
# $\sigma$, the infinitely wide network is Gaussian with variance $\sigma^2 K(x, x)$; integrating
# $\sigma^2$ out gives the Student-t law $t_{2a}\big(0, \sqrt{(b/a) K(x,x)}\big)$.
#
# To sample many networks cheaply we use an exact shortcut: for one input, the hidden preactivations are
# independent $\mathcal N(0, 2\lVert x\rVert^2/d)$, and given them the output is Gaussian with variance
# $\sigma^2 \cdot \tfrac{2}{n}\sum_j \mathrm{relu}(h_j)^2$. So each draw costs $O(n)$ numbers, not a
# weight matrix.

# %%
x = torch.ones(1, D_IN, dtype=torch.float64)  # ‖x‖² = d
k_xx = float(MLPKernel(1, "relu", weight_var=2.0).diag(x)[0])  # NNGP variance K(x, x)
t_limit = stats.t(df=2 * A, scale=math.sqrt(B / A * k_xx))
gauss_match = stats.norm(scale=math.sqrt(B / (A - 1) * k_xx))  # same variance as the t limit (a > 1)


def sample_outputs(width, draws, random_scale, generator):
    """Outputs of ``draws`` independent random networks of the given width at the input x."""
    h = torch.randn(draws, width, generator=generator, dtype=torch.float64) * math.sqrt(2 * (x**2).sum() / D_IN)
    q = 2 * torch.relu(h).pow(2).mean(1)  # conditional output variance per unit last-layer variance
    if random_scale:  # σ² ~ InvGamma(a, b), drawn as b / Gamma(a, 1)
        sigma2 = B / torch.distributions.Gamma(A, 1.0).sample((draws,)).double()
    else:  # the control: σ² fixed at the prior mean b / (a − 1)
        sigma2 = torch.full((draws,), B / (A - 1), dtype=torch.float64)
    return (torch.randn(draws, generator=generator, dtype=torch.float64) * (sigma2 * q).sqrt()).numpy()


torch.manual_seed(SEED)  # the Gamma sampler uses the global generator
samples = {}
for random_scale in (True, False):
    for i, w in enumerate(progress(cfg.widths, desc="random scale" if random_scale else "fixed scale")):
        samples[random_scale, w] = sample_outputs(w, cfg.draws, random_scale,
                                                  torch.Generator().manual_seed(SEED * 100 + i + 50 * random_scale))
ks = pd.DataFrame([
    dict(prior="InvGamma(2, 2) last-layer variance" if r else "fixed last-layer variance (control)", width=w,
         ks_t=stats.kstest(s, t_limit.cdf).statistic, ks_gauss=stats.kstest(s, gauss_match.cdf).statistic)
    for (r, w), s in samples.items()
])
critical = stats.kstwo(cfg.draws).ppf(0.95)  # 95 % critical value of the KS statistic for this many draws

# %% [markdown]
# The output distribution of networks of increasing width (random last-layer scale), against the
# Student-t limit and the Gaussian with the same variance, on a log density axis where the tails show
# (the paper's figure of finite-width output densities).

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4))
grid = np.linspace(-8, 8, 400)
bins = np.linspace(-8, 8, 81)
for w, c in zip(cfg.widths, colors(len(cfg.widths))):
    axes[0].hist(samples[True, w], bins=bins, density=True, histtype="step", color=c, label=f"width {w}")
axes[0].plot(grid, t_limit.pdf(grid), color="black", lw=2, label="Student-t limit")
axes[0].plot(grid, gauss_match.pdf(grid), color="black", lw=1.5, ls="--", label="Gaussian, same variance")
axes[0].set(yscale="log", ylim=(1e-5, 1), xlabel="network output f(x)", ylabel="density",
            title="Random last-layer scale: outputs of random networks")
axes[0].legend(fontsize="x-small")
long = ks.melt(id_vars=["prior", "width"], value_vars=["ks_t", "ks_gauss"], var_name="against", value_name="KS")
long["against"] = long["against"].map({"ks_t": "Student-t limit", "ks_gauss": "Gaussian, same variance"})
sns.lineplot(long, x="width", y="KS", hue="prior", style="against", markers=True, ax=axes[1])
axes[1].axhline(critical, color="gray", lw=1, ls=":", label="95 % KS critical value")
axes[1].set(xscale="log", yscale="log", xlabel="width n", ylabel="KS distance",
            title=f"Distance to each limit ({cfg.draws:,} networks per width)")
label_log_ticks(axes[1], cfg.widths)
axes[1].legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1))
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
print(ks.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
print(f"95 % critical value of the KS statistic at {cfg.draws} draws: {critical:.4f}")

# %% [markdown]
# ## Verdict
#
# With $N$ draws a sample from the right distribution has a KS distance below the 95 % critical value
# ($\approx 1.36/\sqrt N$) in 95 % of runs; a distance above it rejects the distribution.
#
# * At the largest width the outputs are consistent with the Student-t limit (KS below the critical value)
#   and inconsistent with the Gaussian of the same variance (KS above it).
# * At the smallest width (2 neurons) the outputs are not yet Student-t (KS above the critical value):
#   the limit is reached by widening, as the paper's convergence result says.
# * Control: with the last-layer variance fixed, the same "not Gaussian" test must fail at the largest
#   width: the outputs are consistent with the Gaussian NNGP.

# %% tags=["nbval-check-output"]
wide, narrow = cfg.widths[-1], cfg.widths[0]
row = ks.set_index(["prior", "width"])
rand = "InvGamma(2, 2) last-layer variance"
fixed = "fixed last-layer variance (control)"
ch.check(f"width {wide}: KS to Student-t(2a) limit", paper=f"< {critical:.4f}", ours=row.loc[(rand, wide), "ks_t"],
         passed=row.loc[(rand, wide), "ks_t"] < critical)
ch.check(f"width {wide}: KS to Gaussian of same variance", paper=f"> {critical:.4f}",
         ours=row.loc[(rand, wide), "ks_gauss"], passed=row.loc[(rand, wide), "ks_gauss"] > critical)
ch.check(f"width {narrow}: KS to Student-t(2a) limit", paper=f"> {critical:.4f}",
         ours=row.loc[(rand, narrow), "ks_t"], passed=row.loc[(rand, narrow), "ks_t"] > critical)
ch.control(f"fixed scale, width {wide}: KS to Gaussian of same variance", paper=f"< {critical:.4f}",
           ours=row.loc[(fixed, wide), "ks_gauss"], passed=row.loc[(fixed, wide), "ks_gauss"] < critical)
ch.verdict()

# %% [markdown]
# ## Differences from the paper
#
# * **What is tested.** The paper's central theorem — the Student-t (scale-mixture) limit of the prior and
#   the convergence of finite networks to it — for a one-hidden-layer ReLU network at one input. The
#   paper also studies networks trained by gradient descent (the same limit holds for the trained
#   ensemble), a posterior-inference algorithm, and robustness on regression and classification data sets
#   (UCI, image corruptions); those need downloads or more compute and are not replicated here.
# * **Sampling.** Exact conditional sampling of the hidden layer for one input, instead of drawing weight
#   matrices; it is the same distribution at far lower cost (the unit tests of `replib.moments` check the
#   same shortcut against explicit weights).
# * **Scale.** 100 000 networks per width at book scale; widths 2 to 1024 (the `full` scale adds width
#   4096 and a million draws, where the KS test becomes much more sensitive).

# %% [markdown]
# ## Run info

# %%
ch.run_info()
