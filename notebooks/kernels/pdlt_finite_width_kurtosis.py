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
# # Finite width: the depth-to-width ratio sets the non-Gaussianity
#
# **Paper.** {cite}`roberts2022pdlt`.
#
# **Claim.** At infinite width a random network's preactivations are Gaussian. At finite
# width $n$ they are *nearly* Gaussian, and the leading correction — the four-point
# vertex $V$, the connected four-point correlator of preactivations — is of order $1/n$
# and grows linearly with depth, so that the aspect ratio $L/n$ controls it. The book
# derives a layer-to-layer recursion for $V$ at any set of inputs (Ch. 4), solves it for
# the universality classes (Ch. 5): for one input the normalised excess kurtosis of a
# preactivation grows as $\kappa \approx 3c\,L/n$ with $c = 5$ for ReLU ($C_W = 2$),
# $c = 2$ for linear networks, and $\kappa\,n/L \to 2$ for tanh (the $K^\star = 0$
# class) — and shows that only critical initialisation ($C_W = 2$ for ReLU) keeps the
# signal from vanishing or exploding. We test these on *random networks with explicit
# Gaussian weight matrices*, and the recursion at two inputs.
#
# **Controls.** The ReLU test applied to linear networks (the activation, which sets the
# coefficient, removed) must fail; a prediction 10 % off must be rejected; giving each
# input its own network (no shared weights) must remove the cross-input vertex;
# $C_W = 1.8$ and $2.2$ must fail the criticality test.

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
import torch

from replib import Chapter, progress
from replib.fitting import seed_interval
from replib.moments import (mlp_pair_moments, preactivation_moments, vertex_estimate,
                            vertex_recursion)
from replib.plotting import colors, use_book_style

ch = Chapter("kernels/pdlt_finite_width_kurtosis", scale=SCALE, seed=SEED,
             cite="roberts2022pdlt",
             claim="Finite-width preactivation kurtosis grows with depth/width at the "
                   "predicted rate")
cfg = ch.settings(
    smoke=dict(draws=4_000, widths=[16, 32], depth=6, tanh_draws=20_000,
               tanh_widths=[64, 128], tanh_depth=16),
    book=dict(draws=20_000, widths=[16, 32, 64], depth=8, tanh_draws=100_000,
              tanh_widths=[128, 256], tanh_depth=24),
    full=dict(draws=200_000, widths=[16, 32, 64, 128, 256], depth=16,
              tanh_draws=1_000_000, tanh_widths=[256, 512, 1024], tanh_depth=64),
)
use_book_style()
dev = ch.device
R = 10  # batches of networks for the delete-one-batch jackknife
MAX_RATIO = 0.3  # kurtosis tests use (L − 1)/n ≤ 0.3
VERTEX_RATIO = 0.11  # the two-input vertex test uses (L − 1)/n ≤ 0.11
K_TESTS = 4  # interval-contains-prediction claim rows; each at level 1 − 0.05/4
LEVEL = 1 - 0.05 / K_TESTS
layers = np.arange(1, cfg.depth + 1)
gen = lambda k: torch.Generator(device=dev).manual_seed(1000 * SEED + k)  # noqa: E731

# %% [markdown]
# ## What the theory predicts
#
# Take zero biases and weights $W \sim \mathcal N(0, C_W/n)$. Given layer $\ell$, the
# preactivations of layer $\ell+1$ are Gaussian with the random covariance
# $\hat G_{ab} = \tfrac{C_W}{n}\sum_j \phi(z_{j;a})\phi(z_{j;b})$ between inputs $a, b$.
# The four-point vertex measures its fluctuation,
# $V_{(ab)(cd)} = n\,\mathrm{Cov}(\hat G_{ab}, \hat G_{cd})$, and to leading order in
# $1/n$ it obeys the book's recursion
#
# $$
# V_{\ell+1} = C_W^2\,\mathrm{Cov}_{K_\ell}(\phi_a\phi_b,\ \phi_c\phi_d)
#   + C_W^2\, J_\ell\, V_\ell\, J_\ell^\top ,
# $$
#
# where $K_\ell$ is the infinite-width kernel and $J_\ell$ the derivative of
# $\langle\phi_a\phi_b\rangle_{K}$ with respect to the kernel; the first term is fresh
# fluctuation, the second carries the lower layers' fluctuation up. We evaluate it by
# quadrature (`replib.moments.vertex_recursion`). For one input the excess kurtosis of a
# preactivation is $\kappa_L = 3V_L/(nK_L^2)$; for ReLU and linear networks the
# recursion closes exactly at any width,
# $\kappa_L = 3[(1 + c/n)^{L-1} - 1] \approx 3c(L-1)/n$ with $c = 5$ (ReLU) and $2$
# (linear).

# %%
def exact_kurtosis(c, width, depth):
    return 3 * ((1 + c / width) ** (np.asarray(depth) - 1) - 1)


# |x|² = 1 = d/2: first-layer variance C_W |x|²/d = 1 at C_W = 2
x_two = torch.tensor([[1.0, 0.0], [0.6, 0.8]], dtype=torch.float64, device=dev)
K_lo, V_lo = vertex_recursion(x_two, depth=cfg.depth, activation="relu", weight_var=2.0)
x_one = torch.ones(1, 1, dtype=torch.float64, device=dev)  # first-layer variance C_W
K_tanh, V_tanh = vertex_recursion(x_one, depth=cfg.tanh_depth, activation="tanh",
                                  weight_var=1.0)
kn_tanh = (3 * V_tanh[:, 0, 0] / K_tanh[:, 0, 0] ** 2).numpy()  # κ·n at leading order

# %% [markdown]
# ## Random networks with explicit weights
#
# `replib.moments.mlp_pair_moments` draws whole networks — a $n \times n$ Gaussian
# matrix per layer — and runs them on the inputs, batched. From every network we keep
# the neuron averages of $z_a z_b$ and $z_a z_b z_c z_d$; the kurtosis and the vertex
# are estimated from them (`vertex_estimate`: a U-statistic over distinct neurons), in
# $R = 10$ batches of networks, with a delete-one-batch jackknife interval. ReLU
# networks see two inputs at $\cos\theta = 0.6$; linear networks and the criticality
# runs see one.

# %%
def jackknife(stat, items):
    """Delete-one-batch jackknife: pseudo-values (R, ...) of ``stat(index)``, where
    batch r holds the networks k with k mod R = r. Their mean is the bias-corrected
    estimate and their t-interval (`seed_interval`) the jackknife interval; ratio
    estimators such as the kurtosis are biased at small samples, and the jackknife
    removes the 1/N bias."""
    idx = torch.arange(items, device=dev)
    full = stat(idx).cpu().numpy()
    return np.array([R * full - (R - 1) * stat(idx[idx % R != r]).cpu().numpy()
                     for r in range(R)])


def kurtosis_of(s, q):
    return lambda i: q[i, :, 0, 0].mean(0) / s[i, :, 0].mean(0) ** 2 - 3


runs = {}  # (activation, width) -> (kurtosis pseudo-values (R, L), s, q)
for i, n in enumerate(progress(cfg.widths, desc="explicit networks")):
    for a, cw, x in (("relu", 2.0, x_two), ("linear", 1.0, x_one)):
        s, q = mlp_pair_moments(x, width=n, depth=cfg.depth, draws=cfg.draws,
                                activation=a, weight_var=cw,
                                generator=gen(10 * i + len(a)))
        runs[a, n] = (jackknife(kurtosis_of(s, q), cfg.draws), s, q)
crit_width = cfg.widths[0]
var_ratio = {}  # C_W -> pseudo-values of E[z²] at the last layer / at layer 1, (R,)
for j, cw in enumerate((1.8, 2.0, 2.2)):
    s, _ = (mlp_pair_moments(x_one * (2 / cw) ** 0.5, width=crit_width, depth=cfg.depth,
                             draws=cfg.draws, weight_var=cw, generator=gen(500 + j))
            if cw != 2.0 else runs["relu", crit_width][1:])
    var_ratio[cw] = jackknife(lambda i: s[i, -1, 0].mean() / s[i, 0, 0].mean(),
                              cfg.draws)

# tanh: the library's exact conditional sampler (same law as explicit weights, O(n) per
# layer), so that depth can reach the regime where the book's asymptotic law applies
tanh = {}  # width -> kurtosis pseudo-values (R, L)
for i, n in enumerate(progress(cfg.tanh_widths, desc="tanh")):
    m = preactivation_moments(width=n, depth=cfg.tanh_depth, draws=cfg.tanh_draws,
                              activation="tanh", weight_var=1.0, generator=gen(700 + i))
    tanh[n] = jackknife(lambda i: m[:, i, 1].mean(1) / m[:, i, 0].mean(1) ** 2 - 3,
                        cfg.tanh_draws)

# %% [markdown]
# Kurtosis of one preactivation against depth for explicit-weight networks (points:
# jackknife estimate over the 10 batches, bars: its 95 % interval) and the finite-width
# prediction (lines).

# %%
def ci_half(values):
    return np.array([np.diff(seed_interval(v).ci)[0] / 2 for v in values.T])


fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
for ax, a, c_act in ((axes[0], "relu", 5), (axes[1], "linear", 2)):
    for n, c in zip(cfg.widths, colors(len(cfg.widths))):
        kurt = runs[a, n][0]  # jackknife pseudo-values
        ax.errorbar(layers, kurt.mean(0), yerr=ci_half(kurt), fmt="o", ms=3, color=c,
                    label=f"n = {n}")
        ax.plot(layers, exact_kurtosis(c_act, n, layers), color=c, lw=1)
    ax.set(xlabel="layer L", ylabel="excess kurtosis κ",
           title=f"{a} (C_W = {2 if a == 'relu' else 1}): 3[(1 + {c_act}/n)^(L−1) − 1]")
    ax.legend(fontsize="x-small", loc="upper left")
tl = np.arange(1, cfg.tanh_depth + 1)
for n, c in zip(cfg.tanh_widths, colors(len(cfg.tanh_widths))):
    axes[2].errorbar(tl, tanh[n].mean(0) * n, yerr=ci_half(tanh[n]) * n, fmt="o", ms=3,
                     color=c, label=f"measured κ·n, n = {n}")
axes[2].plot(tl, kn_tanh, color="black", lw=1.5,
             label="book's recursion (leading order)")
axes[2].plot(tl, 2 * tl, color="gray", ls="--", lw=1, label="asymptote 2L")
axes[2].set(xlabel="layer L", ylabel="κ · n", title="tanh (C_W = 1, K* = 0 class)")
axes[2].legend(fontsize="x-small", loc="upper left")
fig.tight_layout()
plt.show()

# %% [markdown]
# The two-input vertex of ReLU networks of width $n = $ the largest, normalised by the
# one-input vertex: the cross terms $V_{(11)(22)}$ (how the fluctuations of the two
# inputs' variances co-vary) and $V_{(12)(12)}$ (the fluctuation of their covariance).
# Lines: the book's recursion; open markers: the same estimator on pairs of
# *independent* networks, one per input.

# %%
n_v = cfg.widths[-1]
_, s_v, q_v = runs["relu", n_v]  # pairs (11), (12), (22)


def vertex_ratios(i):
    v = vertex_estimate(s_v[i], q_v[i], n_v)[1:]
    return torch.stack([v[:, 0, 2] / v[:, 0, 0], v[:, 1, 1] / v[:, 0, 0]])


def independent_ratio(i):
    """Control: input 1 from network k, input 2 from network k + 1 (no shared
    weights)."""
    s1, s2 = s_v[i, 1:, 0], s_v[i.roll(1), 1:, 2]
    cov = n_v * ((s1 * s2).mean(0) - s1.mean(0) * s2.mean(0))
    return cov / vertex_estimate(s_v[i], q_v[i], n_v)[1:, 0, 0]


ratios = jackknife(vertex_ratios, cfg.draws)  # (R, 2, L − 1)
ratio_a, ratio_b = ratios[:, 0], ratios[:, 1]
lo_a = (V_lo[1:, 0, 2] / V_lo[1:, 0, 0]).numpy()
lo_b = (V_lo[1:, 1, 1] / V_lo[1:, 0, 0]).numpy()
ctrl = jackknife(independent_ratio, cfg.draws)
fig, ax = plt.subplots(figsize=(8, 4.2))
for vals, lo, name, c in ((ratio_a, lo_a, "V(11)(22) / V(11)(11)", colors(3)[0]),
                          (ratio_b, lo_b, "V(12)(12) / V(11)(11)", colors(3)[1])):
    ax.errorbar(layers[1:], vals.mean(0), yerr=ci_half(vals), fmt="o", ms=4, color=c,
                label=f"{name}, n = {n_v}")
    ax.plot(layers[1:], lo, color=c, lw=1.5)
ax.errorbar(layers[1:], ctrl.mean(0), yerr=ci_half(ctrl), fmt="o", mfc="none", ms=4,
            color=colors(3)[2], label="V(11)(22) / V(11)(11), independent networks")
ax.axvline(1 + VERTEX_RATIO * n_v, color="gray", ls=":", lw=1)
ax.set(xlabel="layer L", ylabel="ratio of vertex components",
       title="ReLU, two inputs at cos θ = 0.6 (lines: leading-order recursion)")
ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1))
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Verdict
#
# Four rows ask whether an interval contains the prediction: each interval is a
# jackknife $t$-interval over the 10 batches at level $1 - 0.05/4$, so a correct theory
# passes all four with probability at least 95 % (Bonferroni). The kurtosis slope is a
# least-squares slope through the origin of measured on predicted kurtosis over every
# width and depth with $2 \le L$ and $(L-1)/n \le 0.3$: a wrong coefficient or a wrong
# depth dependence moves it. The two-input vertex is an equivalence test: the intervals
# of the mean deviation from the recursion (layers with $(L-1)/n \le 0.11$) must lie
# within ±0.06, about 10 % of the ratios, because the recursion drops terms of order
# $1/n$.

# %% tags=["nbval-check-output"]
def slope_per_batch(a, c):
    """Per batch, slope through the origin of measured on exact kurtosis (coeff. c)."""
    xs, ys = [], []
    for n in cfg.widths:
        keep = (layers >= 2) & ((layers - 1) / n <= MAX_RATIO)
        xs.append(exact_kurtosis(c, n, layers[keep]))
        ys.append(runs[a, n][0][:, keep])
    x, y = np.concatenate(xs), np.concatenate(ys, axis=1)
    return y @ x / (x @ x)


def interval(values):
    return seed_interval(values, level=LEVEL)


why_t = (f"delete-one-batch jackknife t-interval over {R} batches of "
         f"{cfg.draws // R:,} networks at "
         f"level 1 − 0.05/{K_TESTS}: a correct prediction passes all {K_TESTS} "
         "interval rows with probability ≥ 95 % (Bonferroni)")
relu = interval(slope_per_batch("relu", 5))
HEAD = "ReLU, explicit weights: slope of measured on predicted kurtosis"
ch.check_claim(HEAD, paper=1.0, ours=relu.value, ci=relu.ci, passed=relu.contains(1.0),
               headline=True, why=why_t)
lin = interval(slope_per_batch("linear", 2))
LIN = "linear, explicit weights: slope of measured on predicted kurtosis"
ch.check_claim(LIN, paper=1.0, ours=lin.value, ci=lin.ci, passed=lin.contains(1.0),
               why=why_t)

keep_v = (layers[1:] - 1) / n_v <= VERTEX_RATIO
dev_a = interval((ratio_a - lo_a)[:, keep_v].mean(1))
dev_b = interval((ratio_b - lo_b)[:, keep_v].mean(1))
TOL = 0.06  # equivalence margin, about 10 % of ratios of 0.5–0.75 (see why=)
worst = max(abs(v) for v in (*dev_a.ci, *dev_b.ci))
VERT = (f"ReLU two-input vertex, n = {n_v}: |measured − recursion| of both ratios, "
        f"L ≤ {int(1 + VERTEX_RATIO * n_v)}")
ch.check_claim(VERT, paper=f"≤ {TOL}", ours=worst, passed=worst <= TOL,
               why=f"equivalence test at about 10 %: both {why_t.split(':')[0]} "
                   f"(of the mean deviation over layers) must lie within ±{TOL}. The "
                   "recursion is leading order; a calibration run (100 000 "
                   "exact-law networks, n = 64) put its dropped 1/n terms at ≤ 0.01 "
                   "averaged over these layers. With a bias of 0.01 and the book-scale "
                   "half-width ≈ 0.03 (normal approximation), a correct leading-order "
                   "theory passes with probability ≈ 96 %")

win = tl >= cfg.tanh_depth // 2  # the deeper half of the layers
slope_lo = np.polyfit(tl[win], kn_tanh[win], 1)[0]
n1, n2 = cfg.tanh_widths[-2:]
# κ·n = (leading order) + O(1/n): Richardson over two widths removes the 1/n term
kn_inf = (n2 * tanh[n2] * n2 - n1 * tanh[n1] * n1) / (n2 - n1)
tanh_slope = interval([np.polyfit(tl[win], k[win], 1)[0] for k in kn_inf])
TANH = (f"tanh: slope in L of κ·n extrapolated to n → ∞ (n = {n1}, {n2}), layers "
        f"{tl[win][0]}–{tl[-1]}")
ch.check_claim(TANH, paper=f"{slope_lo:.4g} (→ 2)", ours=tanh_slope.value,
               ci=tanh_slope.ci, passed=tanh_slope.contains(slope_lo),
               why=why_t + "; the prediction is the slope of the book's leading-order "
                   "recursion over the same layers, which tends to 2 as L grows")

ratio_of = {cw: interval(v) for cw, v in var_ratio.items()}
CRIT = f"ReLU C_W = 2, width {crit_width}: E[z²] layer {cfg.depth} / layer 1"
ch.check_claim(CRIT, paper=1.0, ours=ratio_of[2.0].value, ci=ratio_of[2.0].ci,
               passed=ratio_of[2.0].contains(1.0), why=why_t)

wrong = interval(slope_per_batch("linear", 5))
ch.control("ReLU prediction applied to linear networks (activation removed)", paper=1.0,
           ours=wrong.value, ci=wrong.ci, passed=not wrong.contains(1.0),
           why="linear networks also grow non-Gaussian, with c = 2 instead of 5: the "
               "headline test must tell the universality classes apart")
off = interval(slope_per_batch("relu", 5.5))
ch.control("ReLU against a prediction 10 % off (c = 5.5)", paper=1.0, ours=off.value,
           ci=off.ci, passed=not off.contains(1.0),
           why="a small effect of known size: the headline test must reject a "
               "coefficient 10 % too large")
indep = interval(ctrl[:, keep_v].mean(1) - lo_a[keep_v].mean())
ch.control("independent network per input: V(11)(22) ratio − recursion",
           paper=f"outside ±{TOL}", ours=indep.value, ci=indep.ci,
           passed=min(abs(v) for v in indep.ci) > TOL,
           why="the cross-input vertex exists because both inputs pass through the "
               "same weights; with one network per input the vertex test must fail")
for cw in (1.8, 2.2):
    ch.control(f"ReLU C_W = {cw}: E[z²] layer {cfg.depth} / layer 1", paper=1.0,
               ours=ratio_of[cw].value, ci=ratio_of[cw].ci,
               passed=not ratio_of[cw].contains(1.0),
               why=f"off criticality the variance changes by (C_W/2)^(L−1) = "
                   f"{(cw / 2) ** (cfg.depth - 1):.3g}: the criticality test must fail")
ch.sanity("recursion reproduces the exact ReLU vertex 5(L − 1) at one input",
          paper=5 * (cfg.depth - 1), ours=float(V_lo[-1, 0, 0] / K_lo[-1, 0, 0] ** 2),
          passed=abs(float(V_lo[-1, 0, 0] / K_lo[-1, 0, 0] ** 2) - 5 * (cfg.depth - 1))
          < 1e-6)
ch.paper_claim("the normalised four-point vertex of ReLU networks grows linearly in "
               "L/n with coefficient 5 (κ ≈ 15 L/n; Ch. 5, scale-invariant class)",
               row=HEAD)
ch.paper_claim("for linear networks the coefficient is 2 (Ch. 3 deep linear networks)",
               row=LIN)
ch.paper_claim("the four-point vertex at several inputs obeys the layer-to-layer "
               "recursion (Ch. 4)", row=VERT)
ch.paper_claim("for tanh (K* = 0 class) κ·n/L → 2 at large depth (Ch. 5)", row=TANH)
ch.paper_claim("critical initialisation C_W = 2 keeps the ReLU signal from vanishing "
               "or exploding (Ch. 5)", row=CRIT)
ch.paper_claim("finite-width NTK fluctuations and representation learning (dNTK, "
               "Ch. 8–11)", tested="no",
               note="needs gradients of many explicit networks and training runs; this "
                    "chapter covers the book's initialisation results only")
ch.verdict()

# %% [markdown]
# ## Differences from the paper
#
# * **Explicit networks.** Kurtosis, vertex and criticality are measured on networks
#   with explicit Gaussian weight matrices (10 batches, 20 000 networks per width at
#   book scale). Only the tanh test uses the library's conditional sampler, which draws
#   each layer from its exact law given the layer below (the same distribution at $O(n)$
#   instead of $O(n^2)$ cost), so that depth 24 is affordable.
# * **Exact and leading order.** For ReLU and linear networks at one input we test the
#   exact finite-width kurtosis, whose first term is the book's $3c(L-1)/n$. The
#   two-input vertex and tanh are compared with the book's leading-order recursion,
#   evaluated numerically; its relative corrections are of order $L/n$, so the vertex
#   is compared at $(L-1)/n \le 0.11$ with a 10 % margin, and the tanh kurtosis is
#   extrapolated to $n \to \infty$ from two widths (Richardson) before its slope is
#   compared.
# * **Intervals.** Delete-one-batch jackknife over 10 batches of networks (the kurtosis
#   is a ratio of moments, biased at small samples; the jackknife removes the $1/N$
#   bias).
# * **Two inputs** at $\cos\theta = 0.6$ with equal norms; zero biases throughout.
# * **Scale.** Book: widths 16–64, depth 8 (explicit), tanh widths 128–256 to depth 24.
#   The book (the paper) does not fix a simulation size; `full` is simply larger.

# %% [markdown]
# ## Run info

# %%
ch.run_info()
