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
# # Deep kernel machines: the infinite-width limit that keeps representation learning
#
# **Paper.** {cite}`yang2023dkm`.
#
# **Claim.** In the usual infinite-width limit a deep Gaussian process (DGP) or Bayesian
# network stops learning representations: the likelihood of a fixed number of outputs is
# swamped by the prior of infinitely many features, and every hidden layer's Gram matrix
# equals its prior value, the NNGP kernel. Scale the likelihood with the width as well
# (the *Bayesian representation learning limit*) and the posterior over each layer's
# Gram matrix concentrates instead on the maximiser of a simple objective — the
# log-likelihood minus, per layer, the KL divergence from that layer's Gaussian to its
# prior. That maximiser defines a *deep kernel machine* (DKM), a deep generalisation of
# kernel methods whose kernels are learned from the data. The paper confirms that wide
# but finite DGPs match it.
#
# The chapter mirrors that confirmation: we sample the posterior of finite DGPs of
# increasing width by Langevin dynamics, eight independent chains per width, and compare
# each chain's posterior-mean Gram matrices with the DKM's. We also check that the
# posterior concentrates (the spread of the Gram matrices shrinks like 1/N), which is
# what makes a single kernel machine the limit.
#
# **Negative controls.** Remove the one ingredient, the likelihood's scaling with the
# width: with the ordinary scaling the wide posterior must *not* approach the DKM (the
# theory says it collapses onto the NNGP prior). And a test of power: the same check
# against a slightly different kernel machine (the DKM of a likelihood weighted 1.5
# times) must fail.

# %% tags=["remove-cell"]
# Colab: install the book's library (at the release this chapter was written against).
import sys

if "google.colab" in sys.modules:
    import subprocess

    pkg = "replib @ git+https://github.com/theory-replicated/theory-replicated@v0.1.0"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", pkg], check=True)

# %% tags=["parameters"]
# smoke (~30 s on 2 CPU cores) | book (~3 min, the rendered page) | full (large, GPU)
SCALE = "book"
SEED = 0

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from replib import Chapter
from replib.dkm import dkm_objective, fit_dkm, nngp_grams, sample_dgp_chains
from replib.fitting import jackknife_interval, replicate_exponents, seed_interval
from replib.plotting import colors, label_log_ticks, use_book_style

ch = Chapter("kernels/deep_kernel_machines", scale=SCALE, seed=SEED, cite="yang2023dkm",
             claim="Wide deep Gaussian processes with the likelihood scaled by the "
                   "width have posterior Gram matrices that converge to the deep "
                   "kernel machine's, not to the NNGP's")
cfg = ch.settings(
    smoke=dict(widths=[16, 64, 128], control_widths=[16, 64, 128], steps=600,
               burn_in=150, chains=8),
    book=dict(widths=[16, 64, 256], control_widths=[16, 64, 256], steps=1500,
              burn_in=300, chains=8),
    full=dict(widths=[16, 32, 64, 128, 256, 512, 1024],
              control_widths=[16, 64, 256, 1024], steps=20000, burn_in=5000, chains=16),
)
use_book_style()
torch.set_default_dtype(torch.float64)
# the sampler works on 30 x 30 matrices: a second thread only adds synchronisation
torch.set_num_threads(1)
# data points, hidden layers, output noise variance, Langevin step
POINTS, LAYERS, NOISE, STEP = 30, 2, 0.1, 0.01
# "matches the DKM": RMS distance at most 0.1 of the DKM's own distance from the NNGP
TOL = 0.1
# power control: the DKM of a likelihood weighted 1.5x (a mis-scaled limit)
ALT_WEIGHT = 1.5
# posterior variance ~ N^-1, with room for the O(1/N) finite-width correction
BAND = (-1.2, -0.8)

# %% [markdown]
# ## Setup
#
# $P = 30$ inputs $x \sim \mathcal N(0, I_2)$ with targets $y = \sin(2x_1) + x_2/2$,
# standardised. Two hidden layers: $G_0 = XX^\top/2$; layer $\ell$ has $N$ features
# whose columns are drawn from $\mathcal N(0, K(G_{\ell-1}))$, $G_\ell = F_\ell
# F_\ell^\top/N$; the output has covariance $K(G_2) + 0.1\,I$. The kernel $K$ is a
# squared exponential of the distances encoded in $G$ (plus a white-noise floor of 0.1
# that keeps it invertible), so it can be written through the Gram matrix alone, as the
# paper requires. `replib.dkm` has the objective, its maximiser (L-BFGS over Cholesky
# factors, started at the NNGP) and the sampler.

# %%
gen = ch.generator
dev = ch.device
x = torch.randn(POINTS, 2, generator=gen).to(dev)
y = torch.sin(2 * x[:, 0]) + x[:, 1] / 2
y = ((y - y.mean()) / y.std())[:, None]
g0 = x @ x.T / 2
nngp = nngp_grams(g0, LAYERS)
dkm = fit_dkm(g0, y, layers=LAYERS, noise=NOISE)
alt = fit_dkm(g0, y, layers=LAYERS, noise=NOISE, likelihood_weight=ALT_WEIGHT)


def rms(a, b):
    """RMS entry-wise distance (over the last two axes)."""
    return ((a - b) ** 2).mean((-2, -1)).sqrt()


gap = [float(rms(d, n)) for d, n in zip(dkm, nngp)]
alt_gap = [float(rms(a, d)) / g for a, d, g in zip(alt, dkm, gap)]
objective = {name: float(dkm_objective(gr, g0, y, noise=NOISE))
             for name, gr in [("NNGP", nngp), ("DKM", dkm)]}
print("DKM objective: at the NNGP {NNGP:.2f}, at the optimum {DKM:.2f}"
      .format(**objective))
print("RMS distance DKM - NNGP Gram matrix: "
      + ", ".join(f"layer {i + 1} {v:.4f}" for i, v in enumerate(gap)))
print(f"DKM with the likelihood weighted {ALT_WEIGHT}: distance from the DKM / "
      "DKM-NNGP distance "
      + ", ".join(f"layer {i + 1} {v:.3f}" for i, v in enumerate(alt_gap)))

# %% [markdown]
# ## Sampling wide DGPs
#
# The finite-width posterior over features is not Gaussian, so we sample it: unadjusted
# Langevin dynamics on $F_1, F_2$ (step 0.01, preconditioned by the NNGP covariances),
# eight independent chains from prior draws, `steps` steps of which the first `burn_in`
# are discarded. Each chain gives one estimate of the posterior-mean Gram matrices (its
# time average) and of the posterior variance of their entries; the chains are the
# independent replicates behind every interval below. The likelihood is multiplied by
# $N$ (the representation-learning limit: $N$ copies of the outputs) or, for the
# control, by 1.

# %%
SCALINGS = {"likelihood x N (DKM limit)": cfg.widths,
            "likelihood x 1 (control)": cfg.control_widths}
runs, means = [], {}
for scaling, widths in SCALINGS.items():
    for width in widths:
        out = sample_dgp_chains(
            g0, y, width=width, layers=LAYERS, noise=NOISE,
            likelihood_scale=width if scaling.startswith("likelihood x N") else 1.0,
            steps=cfg.steps, burn_in=cfg.burn_in, step_size=STEP, chains=cfg.chains,
            generator=gen, desc=f"{scaling}, N = {width}")
        for layer in range(LAYERS):
            means[scaling, width, layer] = out.mean[layer]  # (chains, P, P)
            for chain in range(cfg.chains):
                g = out.mean[layer][chain]
                runs.append(dict(
                    scaling=scaling, N=width, layer=f"layer {layer + 1}", chain=chain,
                    to_dkm=float(rms(g, dkm[layer])) / gap[layer],
                    to_nngp=float(rms(g, nngp[layer])) / gap[layer],
                    var=float(out.var[layer][chain])))
runs = pd.DataFrame(runs)
LIMIT, CONTROL = SCALINGS

# %% [markdown]
# ## The Gram matrices side by side
#
# Second hidden layer, inputs sorted by their target: the NNGP prior, the DKM, and the
# widest DGP's posterior mean (over all chains) under each scaling.

# %%
order = torch.argsort(y[:, 0]).cpu()
panels = {"NNGP (prior)": nngp[1], "DKM": dkm[1],
          f"DGP, N = {cfg.widths[-1]}, likelihood x N":
              means[LIMIT, cfg.widths[-1], 1].mean(0),
          f"DGP, N = {cfg.control_widths[-1]}, likelihood x 1":
              means[CONTROL, cfg.control_widths[-1], 1].mean(0)}
top = float(max(p.max() for p in panels.values()))
fig, axes = plt.subplots(1, 4, figsize=(16, 4))
for ax, (title, g) in zip(axes, panels.items()):
    sns.heatmap(g.cpu()[order][:, order].numpy(), ax=ax, vmin=0, vmax=top,
                cmap="viridis", square=True, xticklabels=False, yticklabels=False,
                cbar=ax is axes[-1])
    ax.set(title=title, xlabel="input (sorted by y)", ylabel="input (sorted by y)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Distance to the DKM against width
#
# RMS entry-wise distance of one chain's posterior-mean Gram matrix to the DKM's (solid)
# and to the NNGP's (dashed), in units of the DKM's own distance from the NNGP (so 1
# means "as far as the prior is"): the mean over the eight chains with its 95 %
# t-interval. One chain's distance includes its own Monte-Carlo error, so it overstates
# the distance of the exact posterior mean.


# %%
def by_width(frame, column):
    """Per width: the mean over chains and its t-interval."""
    stats = {n: seed_interval(part[column]) for n, part in frame.groupby("N")}
    return (np.array(list(stats)), np.array([s.value for s in stats.values()]),
            np.array([s.ci for s in stats.values()]))


fig, axes = plt.subplots(1, 2, figsize=(13, 4.3), sharey=True)
palette = dict(zip(SCALINGS, colors(2)))
for ax, layer in zip(axes, ["layer 1", "layer 2"]):
    for scaling in SCALINGS:
        part = runs[(runs.layer == layer) & (runs.scaling == scaling)]
        for column, style, target in [("to_dkm", "o-", "DKM"),
                                      ("to_nngp", "s--", "NNGP")]:
            n, mid, ci = by_width(part, column)
            ax.errorbar(n, mid, yerr=[mid - ci[:, 0], ci[:, 1] - mid], fmt=style,
                        capsize=3, color=palette[scaling],
                        alpha=1 if target == "DKM" else 0.7,
                        label=f"{scaling}: to {target}")
    ax.axhline(TOL, color="gray", lw=0.8, ls=":", label=f"tolerance {TOL}")
    ax.set(xscale="log", yscale="log", xlabel="width N",
           ylabel="RMS distance / RMS(DKM - NNGP)", title=layer)
    label_log_ticks(ax, cfg.widths)
fig.tight_layout()
fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", ncol=3,
           fontsize="small", bbox_to_anchor=(0.5, 0.0))
plt.show()

# %% [markdown]
# ## The posterior concentrates
#
# The DKM is a single Gram matrix per layer, so the wide posterior must concentrate on
# it: the posterior variance of the Gram entries (within one chain, over its samples
# after burn-in) should fall like $1/N$. We plot $N$ times that variance, which must
# level off.

# %%
fig, ax = plt.subplots(figsize=(7, 4.3))
layer_colors = dict(zip(["layer 1", "layer 2"], colors(2)))
for (scaling, layer), part in runs.groupby(["scaling", "layer"], sort=False):
    part = part.assign(scaled=part["var"] * part.N)
    n, mid, ci = by_width(part, "scaled")
    ax.errorbar(n, mid, yerr=[mid - ci[:, 0], ci[:, 1] - mid], capsize=3,
                fmt="o-" if scaling == LIMIT else "s--", color=layer_colors[layer],
                label=f"{layer}, {scaling}")
ax.set(xscale="log", xlabel="width N", ylabel="N x posterior variance of a Gram entry")
ax.set_ylim(bottom=0)
label_log_ticks(ax, cfg.widths)
ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize="small")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Verdict
#
# * **Headline: wide DGPs match the DKM.** At the largest width, in both layers, the
#   posterior-mean Gram matrix (pooled over the eight chains) lies within `TOL` = 0.1 of
#   the DKM (in units of the DKM's distance from the NNGP): the upper end of its
#   delete-one-chain jackknife interval must be below 0.1. (A first version scored one
#   chain's distance, which adds that chain's own Monte-Carlo error, about half the
#   tolerance, to the quantity the paper speaks of, the posterior mean; it failed by
#   that error. The one-chain distance is printed in the headline's why.)
# * **The distance falls with the width:** one log-log slope per chain across the
#   widths, whose t-interval must lie below zero.
# * **The posterior concentrates:** the per-chain slope of the posterior variance
#   against $N$ lies in $[-1.2, -0.8]$ (theory: $-1$, up to an $O(1/N)$ correction).
# * **The ordinary limit learns nothing:** with the likelihood not scaled, the distance
#   to the NNGP falls with the width (per-chain slopes below zero).
# * **Controls.** The headline test, run on the posterior sampled with the likelihood
#   not scaled, must fail; and the headline test against the DKM of a likelihood
#   weighted 1.5 times (a kernel machine about 0.12 to 0.15 away) must fail too: the
#   test can tell the DKM from a near neighbour.

# %% tags=["nbval-check-output"]
def widest(scaling, column, widths):
    """Worse layer at the largest width: the t-interval over chains with the larger
    upper end."""
    part = runs[(runs.scaling == scaling) & (runs.N == widths[-1])]
    fits = [seed_interval(p[column]) for _, p in part.groupby("layer")]
    return max(fits, key=lambda f: f.ci[1])


def pooled(scaling, targets, widths):
    """Worse layer at the largest width: distance of the posterior mean pooled over the
    chains to ``targets`` (per layer), with a delete-one-chain jackknife interval."""
    fits = [jackknife_interval(
        lambda keep, k=k: float(rms(means[scaling, widths[-1], k][keep].mean(0),
                                    targets[k])) / gap[k], cfg.chains)
        for k in range(LAYERS)]
    return max(fits, key=lambda f: f.ci[1])


def slopes(scaling, column, widths):
    """Per layer: the t-interval of the per-chain log-log slopes of ``column``."""
    out = {}
    for layer, part in runs[runs.scaling == scaling].groupby("layer"):
        table = part.pivot(index="chain", columns="N", values=column)[widths]
        out[layer] = seed_interval(replicate_exponents(widths, table.to_numpy()))
    return out


head = pooled(LIMIT, dkm, cfg.widths)
one_chain = widest(LIMIT, "to_dkm", cfg.widths)
at_widest = runs[(runs.scaling == LIMIT) & (runs.N == cfg.widths[-1])]
mc = float(at_widest.groupby("layer").to_dkm.std().max())
falls = max(slopes(LIMIT, "to_dkm", cfg.widths).values(), key=lambda f: f.ci[1])
conc = slopes(LIMIT, "var", cfg.widths)
conc_lo = min(f.ci[0] for f in conc.values())
conc_hi = max(f.ci[1] for f in conc.values())
conc_worst = max(conc.values(), key=lambda f: abs(f.value + 1))
prior = max(slopes(CONTROL, "to_nngp", cfg.control_widths).values(),
            key=lambda f: f.ci[1])
ctrl = pooled(CONTROL, dkm, cfg.control_widths)
power = pooled(LIMIT, alt, cfg.widths)
N_MAX, N_CTRL = cfg.widths[-1], cfg.control_widths[-1]
ch.paper_claim("In the Bayesian representation-learning limit, a DGP's posterior "
               "Gram matrices are given by the maximiser of the DKM objective, and "
               "wide finite DGPs match it (the paper's comparison of wide DGPs with "
               "the DKM)",
               row=f"distance to the DKM, N = {N_MAX} (worse layer, pooled chains)")
ch.paper_claim("The match improves as the width grows (the same comparison across "
               "widths)",
               row="distance to the DKM falls with N (slope, worse layer)")
ch.paper_claim("In that limit the posterior is exactly Gaussian over features: the "
               "Gram matrices concentrate on a single value (Sec. 4)",
               row="posterior variance of the Gram entries ~ N^-1 (slope, both layers)")
ch.paper_claim("The standard infinite-width (NNGP) limit eliminates representation "
               "learning: the posterior Gram matrices equal the prior's (Sec. 3)",
               row="likelihood x 1: distance to the NNGP falls with N (slope, worse "
                   "layer)")
ch.paper_claim("DKMs, and sparse inducing-point DKMs that scale linearly in the data, "
               "perform well as kernel methods on benchmark data (Sec. 6-7)",
               tested="no",
               note="needs the inducing-point DKM and the UCI benchmarks: a chapter of "
                    "its own")
ch.paper_claim("The same limit extends to Bayesian neural networks, whose posteriors "
               "are not Gaussian (appendices)", tested="no",
               note="only DGPs are sampled here")
ch.check_claim(
    f"distance to the DKM, N = {N_MAX} (worse layer, pooled chains)",
    paper=f"-> 0 (<= {TOL})", ours=head.value, ci=head.ci, passed=head.ci[1] <= TOL,
    headline=True,
    why=f"stated tolerance {TOL} of the DKM-NNGP distance; the posterior mean pooled "
        f"over the chains, {head.method}, whose upper end must be below it. One "
        f"chain's Monte-Carlo error (spread between chains) is {mc:.3f}; one chain "
        f"alone is {one_chain.value:.3f} "
        f"[{one_chain.ci[0]:.3f}, {one_chain.ci[1]:.3f}] away")
ch.check_claim("distance to the DKM falls with N (slope, worse layer)", paper="< 0",
               ours=falls.value, ci=falls.ci, passed=falls.ci[1] < 0,
               why=f"theory: the distance goes to 0; one log-log slope per chain over "
                   f"N = {cfg.widths[0]}..{N_MAX}, t-interval over {falls.n} chains "
                   f"must lie below 0")
ch.check_claim("posterior variance of the Gram entries ~ N^-1 (slope, both layers)",
               paper=-1, ours=conc_worst.value, ci=(conc_lo, conc_hi),
               passed=BAND[0] <= conc_lo and conc_hi <= BAND[1],
               why=f"theory: -1 (the posterior of G concentrates at rate 1/N); stated "
                   f"tolerance {BAND} for the O(1/N) correction at "
                   f"N = {cfg.widths[0]}; both layers' t-intervals over chains "
                   f"(per-chain slopes) must lie inside; shown: the layer farther from "
                   f"-1, and the "
                   f"union of the two intervals")
ch.check_claim("likelihood x 1: distance to the NNGP falls with N (slope, worse layer)",
               paper="< 0", ours=prior.value, ci=prior.ci, passed=prior.ci[1] < 0,
               why=f"theory: without the scaling the posterior collapses onto the "
                   f"prior; one log-log slope per chain over "
                   f"N = {cfg.control_widths[0]}..{N_CTRL}, t-interval over {prior.n} "
                   f"chains must lie below 0")
ch.control(f"likelihood x 1: distance to the DKM, N = {N_CTRL} (worse layer, pooled "
           f"chains)",
           paper=f"does not match (> {TOL})", ours=ctrl.value, ci=ctrl.ci,
           passed=not ctrl.ci[1] <= TOL,
           why="the headline test with the one ingredient removed (the likelihood's "
               "scaling with N), same sampler and widths: it must fail")
ch.control(f"distance to the DKM of a likelihood x {ALT_WEIGHT}, N = {N_MAX} (worse "
           f"layer, pooled chains)",
           paper=f"does not match (> {TOL})", ours=power.value, ci=power.ci,
           passed=not power.ci[1] <= TOL,
           why=f"power against a small effect of known size: that kernel machine is "
               f"{max(alt_gap):.3f} (worse layer) from the DKM, so the headline test "
               f"against it must fail")
ch.sanity("DKM objective: optimum above the NNGP", paper="higher",
          ours=objective["DKM"] - objective["NNGP"],
          passed=objective["DKM"] > objective["NNGP"])
ch.sanity(f"between-chain spread of the distance, N = {N_MAX}", paper=f"< {TOL / 2}",
          ours=mc, passed=mc < TOL / 2)
ch.verdict()

# %% [markdown]
# ## Differences from the paper
#
# * **Data and kernel.** A 30-point synthetic regression with a squared-exponential
#   kernel written through the Gram matrix (plus a 0.1 white-noise floor for
#   conditioning); the paper works with general isotropic kernels and uses benchmark
#   data. We could not read the paper's experimental section, so the data set, the
#   widths and the sampler are our choices, not a copy of its figure; the `full` scale
#   is simply larger (more widths, longer chains), not the paper's settings.
# * **Sampler.** Unadjusted Langevin dynamics with a fixed step has a small bias, and a
#   chain of a few thousand correlated steps carries Monte-Carlo error. The headline
#   pools the eight chains; the Monte-Carlo error left in the pooled mean still adds to
#   its distance (the jackknife removes the first-order part of that bias), so the test
#   is conservative.
# * **Sparse DKMs and the comparison with NNs.** The paper's inducing-point DKM and its
#   appendix on Bayesian neural networks are not reproduced.

# %% [markdown]
# ## Run info

# %%
ch.run_info()
