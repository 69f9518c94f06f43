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
# # What wide CNNs can learn: locality sets the learning-curve exponent
#
# **Paper.** {cite}`cagnetta2023cnn`.
#
# ```{admonition} Built from the abstract
# We could read the paper's abstract and its Figure 1, not its theorems. The predictions
# below are our own, worked out with the standard spectral theory of kernel regression
# that the paper's analysis rests on; the verdict is labelled "our construction".
# ```
#
# **Claim.** Take an infinitely wide deep CNN whose filters tile the input without
# overlap, in the kernel regime. Its tangent kernel's spectrum inherits the network's
# hierarchy, and kernel regression with it *adapts to the spatial scale of the target*:
# if the target depends only on small groups of adjacent input variables, the test error
# falls with the number of samples $n$ at a rate set by the effective dimension of those
# groups; if it depends on the whole input, the rate is set by the input dimension.
# Targets drawn from a random deep CNN of the same architecture are of the second kind.
#
# The chapter mirrors the paper's teacher-student learning curves (its Figure 1, right,
# sketches the same three cases): targets that depend on one patch, on a meta-patch of
# two patches, or on the whole input, learned by a deep CNN kernel and by a fully
# connected one. Next to the measured curves we draw the curves *predicted* from the
# kernels' exact spectra, which we compute on the torus.
#
# **Negative control.** Remove the locality of the student (a fully connected kernel on
# the same targets): the same adaptation test must fail.

# %% tags=["remove-cell"]
# Colab: install the book's library (at the release this chapter was written against).
import sys

if "google.colab" in sys.modules:
    import subprocess

    pkg = "replib @ git+https://github.com/theory-replicated/theory-replicated@v0.1.0"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", pkg], check=True)

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
from replib.data import torus
from replib.fitting import replicate_exponents, seed_interval
from replib.kernels import HierarchicalCNNKernel, MLPKernel, teacher_student_risk
from replib.plotting import colors, label_log_ticks, use_book_style
from replib.spectral import eigenlearning_risk, tree_torus_spectrum
from scipy import stats

ch = Chapter("kernels/wide_cnn_kernel_locality", scale=SCALE, seed=SEED,
             cite="cagnetta2023cnn", basis="abstract",
             claim="Deep CNN kernels learn targets of a few adjacent input patches at "
                   "a rate set by the patches' dimension, not the input's; for "
                   "full-input targets they are no faster than FC kernels")
cfg = ch.settings(
    smoke=dict(n_max=512, n_test=256, draws=5, grid=24, axis_grid=256, pair_grid=64),
    book=dict(n_max=4096, n_test=256, draws=5, grid=32, axis_grid=1024, pair_grid=128),
    full=dict(n_max=16384, n_test=2048, draws=8, grid=48, axis_grid=2048,
              pair_grid=192),
)
use_book_style()
CIRCLES = 4  # input: 4 patches of 2 numbers, each on the unit circle (d = 8)
STUDENT = (2, 2, 2)  # three hidden layers: patch -> pair of patches -> whole input
TEACHERS = {"one patch": (2,), "two patches": (2, 2), "whole input": (2, 2, 2)}
FIT_SIZES = 4  # exponents are fitted on the 4 largest sizes (the asymptotic end)
RATIO = 1.5  # adaptation bar: halfway between none (1) and the spectral prediction (~2)
sizes = [2**k for k in range(6, int(math.log2(cfg.n_max)) + 1)]
fit_n = sizes[-FIT_SIZES:]

# %% [markdown]
# ## Setup
#
# Inputs are $d = 8$ numbers in four patches of two, each patch a point on the unit
# circle (the paper's product of spheres, with the smallest spheres). The student is the
# tangent kernel of a three-layer ReLU CNN with filters of size 2
# (`replib.kernels.HierarchicalCNNKernel`): layer one sees a patch, layer two a pair of
# adjacent patches, layer three the whole input. The baseline is the tangent kernel of a
# fully connected three-layer ReLU network on the same inputs.
#
# Teachers are Gaussian random functions whose covariance is the tangent kernel of a
# smaller CNN: filters $(2)$ give a sum of independent functions of single patches, $(2,
# 2)$ a sum of functions of pairs of adjacent patches, $(2,2,2)$ the student itself, a
# function of the whole input (a random deep CNN of the student's architecture).
# Regression is ridgeless.
#
# **The exact spectrum.** Every kernel here depends only on the four angle differences,
# so on the torus its eigenfunctions are the Fourier modes $e^{i k\cdot\theta}$, $k \in
# \mathbb{Z}^4$, and its eigenvalues are the Fourier coefficients, one FFT of the kernel
# on a grid (`replib.spectral.tree_torus_spectrum`; modes on one circle or one pair of
# circles get finer grids, since those are learned up to high frequency). A mode that
# depends on $m$ circles belongs to the smallest meta-patch that contains them.

# %%
def cnn(filters):
    kernel = HierarchicalCNNKernel(filters)
    return lambda a, b: kernel(a, b, block=1).ntk


def fully_connected(a, b):
    return MLPKernel(len(STUDENT))(math.sqrt(2) * a, math.sqrt(2) * b).ntk  # |x|² = d


grids = dict(grid=cfg.grid, axis_grid=cfg.axis_grid, pair_grid=cfg.pair_grid,
             device=ch.device)
spectra = {name: tree_torus_spectrum(cnn(f), **grids)[0]
           for name, f in TEACHERS.items()}
spectra["fully connected"], modes = tree_torus_spectrum(fully_connected, **grids)
spectra["CNN"] = spectra["whole input"]  # the student is the full-input teacher
origin = torus(1, CIRCLES, generator=ch.generator).to(ch.device)
variance = {name: float(fn(origin, origin).reshape(())) for name, fn in
            [*[(t, cnn(f)) for t, f in TEACHERS.items()],
             ("fully connected", fully_connected)]}
spectrum_error = max(abs(spectra[k].sum() / variance[k] - 1) for k in variance)
print(f"{len(modes)} modes; largest |sum of eigenvalues / K(0) - 1| = "
      f"{spectrum_error:.2g}")


def sector_line(values, direction, ks):
    """Eigenvalues along k = q * direction, and their log-log slope in q."""
    index = {tuple(m): i for i, m in enumerate(modes)}
    vals = np.array([values[index[tuple(q * np.array(direction))]] for q in ks])
    return vals, np.polyfit(np.log(ks), np.log(vals), 1)[0]


SECTORS = {  # direction in k-space, circles involved, frequencies its grid resolves
    "one circle": ((1, 0, 0, 0), 1, np.arange(cfg.axis_grid // 32, cfg.axis_grid // 4)),
    "pair of circles": ((1, 1, 0, 0), 2,
                        np.arange(cfg.pair_grid // 32, cfg.pair_grid // 4)),
    "all four circles": ((1, 1, 1, 1), 4, np.arange(2, cfg.grid // 4 + 1)),
}
decay = {name: sector_line(spectra["CNN"], direction, ks)[1]
         for name, (direction, _, ks) in SECTORS.items()}

# %%
fig, ax = plt.subplots(figsize=(7.5, 4.4))
for (name, (direction, circles, ks)), color in zip(SECTORS.items(), colors(3)):
    ks_all = np.arange(1, ks[-1] + 1)
    vals, _ = sector_line(spectra["CNN"], direction, ks_all)
    ax.plot(ks_all, vals, "o", ms=3, color=color,
            label=f"{name}: fitted q^{decay[name]:.2f} (-(d_eff + 1) = {-circles - 1})")
ax.set(xscale="log", yscale="log", xlabel="frequency q of the mode k = q·direction",
       ylabel="eigenvalue", title="deep CNN tangent kernel: eigenvalues by meta-patch")
ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
fig.tight_layout()
plt.show()

# %% [markdown]
# The eigenvalues fall faster with frequency the more circles a mode involves (the
# hierarchy), but higher-dimensional sectors hold many more modes per frequency. Counted
# by rank, the one-circle sector falls as $\rho^{-2}$ and the four-circle sector only as
# $\rho^{-5/4}$: a student with $n$ samples learns the $n$ largest eigenvalues, and most
# of them lie in the four-circle sector. This is what sets the exponents predicted
# below.
#
# ## Learning curves: measured and predicted
#
# Measured: for each input draw, kernel regression on nested training sets, with the
# test error averaged exactly over Gaussian teachers in closed form
# (`replib.kernels.teacher_student_risk`; no teacher is sampled). Predicted: the
# eigenlearning estimate from the exact spectra (`replib.spectral.eigenlearning_risk`):
# with $\kappa$ solving $n = \sum_k \lambda_k/(\lambda_k + \kappa)$ and $L_k =
# \lambda_k/(\lambda_k+\kappa)$, error $= \frac{n}{n - \sum_k L_k^2}\sum_k (1-L_k)^2
# v_k$ for a teacher with power $v_k$ in mode $k$.

# %%
def top_layer(pair):
    """The (2, 2, 2) NTK from the (2, 2) kernels: the top layer sees the one
    remaining node (`HierarchicalCNNKernel`'s recursion once more; checked below)."""
    k = pair.nngp.clamp(-1.0, 1.0)
    k0 = math.pi - torch.arccos(k)
    k1 = torch.sqrt((1 - k * k).clamp_min(0.0)) + k0 * k
    return (pair.ntk * k0 + k1) / math.pi


students = {"CNN": HierarchicalCNNKernel(STUDENT),
            "fully connected": MLPKernel(len(STUDENT))}
probe = torus(64, CIRCLES, generator=ch.generator).to(ch.device)
top_layer_error = float((top_layer(HierarchicalCNNKernel((2, 2))(probe))
                         - students["CNN"](probe).ntk).abs().max())
rows = []
for draw in progress(range(cfg.draws), desc="input draws"):
    x = torus(cfg.n_max + cfg.n_test, CIRCLES, generator=ch.generator).to(ch.device)
    train, test = x[:cfg.n_max], x[cfg.n_max:]
    one, two, m = HierarchicalCNNKernel((2,)), HierarchicalCNNKernel((2, 2)), cfg.n_test
    two_train, two_test = two(train), two(test, train)
    # the student, also the whole-input teacher, is one layer above the (2, 2) kernel
    teachers = [(one(train).ntk, one(test, train).ntk,
                 one(test[:1]).ntk[0, 0].expand(m)),
                (two_train.ntk, two_test.ntk, two(test[:1]).ntk[0, 0].expand(m)),
                (top_layer(two_train), top_layer(two_test),
                 students["CNN"](test[:1]).ntk[0, 0].expand(m))]
    del two_train, two_test  # frees the (2, 2) NNGP matrices
    for name, kernel in students.items():
        if name == "CNN":  # the student is the whole-input teacher's kernel: reuse it
            k_train, k_test = teachers[-1][:2]
        else:
            k_train = kernel(math.sqrt(2) * train).ntk
            k_test = kernel(math.sqrt(2) * test, math.sqrt(2) * train).ntk
        risk = teacher_student_risk(k_train, k_test, teachers, sizes)
        rows += [{"draw": draw, "student": name, "target": target, "n": n,
                  "error": float(risk[i, j])}
                 for i, target in enumerate(TEACHERS) for j, n in enumerate(sizes)]
    del teachers, k_train, k_test
curves = pd.DataFrame(rows)
predicted = {(s, t): eigenlearning_risk(np.clip(spectra[s], 0, None),
                                        np.clip(spectra[t], 0, None), sizes)
             for s in students for t in TEACHERS}

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.4), sharey=True)
palette = dict(zip(TEACHERS, colors(len(TEACHERS))))
for ax, student in zip(axes, students):
    for target in TEACHERS:
        sub = curves[(curves.student == student) & (curves.target == target)]
        mean = sub.groupby("n").error.mean()
        ax.plot(mean.index, mean.values, "o", color=palette[target],
                label=f"{target}: measured")
        ax.plot(sizes, predicted[(student, target)], "-", color=palette[target], lw=1.2,
                label=f"{target}: predicted")
    ax.set(xscale="log", yscale="log", xlabel="training points n",
           ylabel="test error / teacher variance",
           title=f"{student} kernel (three hidden layers)")
    label_log_ticks(ax, sizes)
    ax.tick_params(axis="x", labelrotation=45)
axes[1].legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Exponents
#
# The exponent $\beta$ of $\epsilon(n) \propto n^{-\beta}$ is fitted on the four largest
# sizes, once per input draw (`replib.fitting.replicate_exponents`), with a t-interval
# over the draws. The predicted exponent is the slope of the predicted curve over the
# same sizes; "as n → ∞" is the spectral count: a one-circle target's power beyond
# frequency $q$ falls as $q^{-1}$, and the student learns it up to $q \sim n^{5/8}$
# (where the one-circle eigenvalue $q^{-2}$ meets the four-circle sector's $n$-th
# eigenvalue $n^{-5/4}$), so $\beta = 5/8$; the pair of circles gives $5/12$, the whole
# input $1/4$. The fully connected kernel has no low-dimensional sector, so every target
# is learned at the whole-input rate $1/4$.

# %% tags=["nbval-check-output"]
def exponents(student, target):
    e = curves[(curves.student == student) & (curves.target == target)].pivot(
        index="draw", columns="n", values="error")
    return -replicate_exponents(fit_n, e[fit_n].to_numpy())


def predicted_exponent(student, target):
    curve = predicted[(student, target)][None, -FIT_SIZES:]
    return -replicate_exponents(fit_n, curve)[0]


ASYMPTOTIC = {("CNN", "one patch"): 5 / 8, ("CNN", "two patches"): 5 / 12,
              ("CNN", "whole input"): 1 / 4}
beta = {(s, t): exponents(s, t) for s in students for t in TEACHERS}
table = pd.DataFrame([{"student": s, "target": t, "beta": seed_interval(b).value,
                       "low": seed_interval(b).ci[0], "high": seed_interval(b).ci[1],
                       "predicted": predicted_exponent(s, t),
                       "n -> inf": ASYMPTOTIC.get((s, t), 0.25)}
                      for (s, t), b in beta.items()])
print(f"exponents fitted on n = {fit_n[0]}..{fit_n[-1]}, {cfg.draws} input draws")


def spectral_ratio(window):
    lam = np.clip(spectra["CNN"], 0, None)
    b = [-replicate_exponents(window, eigenlearning_risk(
        lam, np.clip(spectra[t], 0, None), window)[None])[0]
         for t in ("one patch", "whole input")]
    return b[0] / b[1]


print("exact-spectrum ratio, one patch / whole input: "
      + ", ".join(f"n = {w[0]}..{w[-1]}: {spectral_ratio(w):.3f}"
                  for w in ([1024, 2048, 4096, 8192], [2048, 4096, 8192, 16384]))
      + ", n -> inf: 2.5")
print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))

# %% [markdown]
# ## Verdict
#
# * **Headline: the CNN adapts to the target's scale.** The CNN's exponent on the
#   one-patch target is at least 1.5 times its exponent on the whole-input target, with
#   95 % confidence (the lower end of the t-interval over input draws of the per-draw
#   ratio is at least 1.5). Without adaptation the ratio is about 1 (the fully connected
#   kernel); the exact spectrum predicts about 2 over the sizes we fit and $2.5$ as
#   $n \to \infty$; 1.5 lies halfway. An earlier version of this chapter asked for 2,
#   which at $n \le 4096$ is the prediction itself: a correct model would fail it about
#   half the time.
# * **Spectrum.** The eigenvalue decay steepens with the number of circles a mode
#   involves.
# * **Ordering.** One patch > two patches > whole input for the CNN, with disjoint
#   intervals.
# * **Full-input target.** No locality advantage: the CNN's exponent on it is less than
#   1.5 times the fully connected kernel's (predicted about 1; the same bar as the
#   headline's).
# * **Predictions.** The measured exponents agree with the exact-spectrum predictions to
#   within 0.05 for every student and target.
# * **Control.** The same adaptation test with the locality of the student removed (the
#   fully connected kernel) must fail.

# %% tags=["nbval-check-output"]
def ratio_interval(student):
    return seed_interval(beta[(student, "one patch")] / beta[(student, "whole input")])


headline = ratio_interval("CNN")
control = ratio_interval("fully connected")
pred_ratio = (predicted_exponent("CNN", "one patch")
              / predicted_exponent("CNN", "whole input"))
# chance that a model at the prediction, with the spread we measure, clears the bar
t975 = stats.t.ppf(0.975, cfg.draws - 1)
se = (headline.ci[1] - headline.ci[0]) / (2 * t975)
p_pass = stats.norm.cdf((pred_ratio - RATIO) / max(se, 1e-12) - t975)
ch.check_claim(
    "CNN exponent: one-patch / whole-input target", headline=True,
    paper=f">= {RATIO:g} (exact spectrum: {pred_ratio:.3g} here, 2.5 as n -> inf)",
    ours=headline.value, ci=headline.ci, passed=headline.ci[0] >= RATIO,
    why=f"threshold {RATIO:g}: halfway between no adaptation (1) and the "
        f"exact-spectrum prediction at these sizes; passes when the lower end of the "
        f"{headline.method} of the per-draw ratio clears it; a "
        f"model at the prediction with the measured spread passes with probability "
        f"{p_pass:.2f}")
ordered_decay = (decay["one circle"] > decay["pair of circles"]
                 > decay["all four circles"])
ch.check_claim(
    "eigenvalue decay steepens with the meta-patch's circles (1, 2, 4)",
    paper="ordered; ~k^-(d_eff + 1): -2, -3, -5",
    ours=", ".join(f"{v:.2f}" for v in decay.values()), passed=ordered_decay,
    why="exact Fourier spectrum of the student, log-log slope along one direction per "
        "sector, over the frequencies its grid resolves; the hierarchy implies the "
        "order")
ivals = {t: seed_interval(beta[("CNN", t)]) for t in TEACHERS}
disjoint = (ivals["one patch"].ci[0] > ivals["two patches"].ci[1]
            and ivals["two patches"].ci[0] > ivals["whole input"].ci[1])
ch.check_claim(
    "CNN exponents ordered one patch > two patches > whole input", paper="yes",
    ours=" > ".join(f"{ivals[t].value:.3f}" for t in TEACHERS), passed=disjoint,
    why=f"{ivals['one patch'].method} per exponent; the intervals must not overlap")
full = seed_interval(beta[("CNN", "whole input")]
                     / beta[("fully connected", "whole input")])
pred_full = (predicted_exponent("CNN", "whole input")
             / predicted_exponent("fully connected", "whole input"))
ch.check_claim(
    "whole-input target: CNN / fully connected exponent",
    paper=f"< 1.5 (exact spectrum: {pred_full:.3g}; 1 as n -> inf)", ours=full.value,
    ci=full.ci, passed=full.ci[1] < 1.5,
    why=f"no locality advantage: upper end of the {full.method} below 1.5, halfway "
        "between no advantage (1) and the spectral prediction for a local target (~2)")
gap = max(abs(seed_interval(b).value - predicted_exponent(s, t))
          for (s, t), b in beta.items())
ch.check_claim(
    "measured exponents match the exact-spectrum prediction", paper="within 0.05",
    ours=gap, passed=gap <= 0.05,
    why="largest |measured - predicted| over the 6 student-target pairs; 0.05 is a "
        "fifth "
        "of the smallest exponent (1/4), the precision the ratio claims need")
ch.control(
    "fully connected student (no locality): one-patch / whole-input exponent",
    paper=f"< {RATIO:g} (test fails)", ours=control.value, ci=control.ci,
    passed=control.ci[0] < RATIO,
    why="the headline test with the one ingredient it depends on, the student's "
        "locality, removed: same targets, inputs and sizes, a fully connected kernel")
ch.sanity("assembled spectrum sums to the kernel's variance", paper="< 1 %",
          ours=spectrum_error, passed=spectrum_error < 0.01)
ch.sanity("top layer from the (2, 2) kernel = the library's (2, 2, 2) kernel",
          paper="< 1e-12", ours=top_layer_error, passed=top_layer_error < 1e-12)
ch.paper_claim("the deep CNN kernel's spectrum inherits the network's hierarchy",
               row="eigenvalue decay steepens with the meta-patch's circles (1, 2, 4)")
ch.paper_claim("a target of a few adjacent variables is learned at a rate set by their "
               "effective dimension (the CNN adapts to the target's scale)",
               row="CNN exponent: one-patch / whole-input target")
ch.paper_claim("targets of larger meta-patches are learned more slowly (Fig. 1, right)",
               row="CNN exponents ordered one patch > two patches > whole input")
ch.paper_claim("a full-input target is learned at a rate set by the input dimension",
               row="whole-input target: CNN / fully connected exponent")
ch.paper_claim("the error rates follow from the kernel's spectrum (the paper's method)",
               row="measured exponents match the exact-spectrum prediction")
ch.paper_claim("functions of random deep CNNs are too rich to learn efficiently in "
               "high dimension", tested="no",
               note="needs several input dimensions; we run one (d = 8, 4 circles)")
ch.paper_claim("the rates hold as upper bounds (generalisation bounds) for every "
               "target of the class", tested="not testable here",
               note="a bound over a function class; we measure the typical Gaussian "
                    "teacher")
ch.verdict()

# %% [markdown]
# **Reading the verdict.** The "paper" column of the headline holds two predictions: the
# ratio the exact spectrum gives over the fitted sizes, and its limit 2.5. Both are
# below the ratio 4 that $\beta \propto 1/d_\text{eff}$ would give, because a deep
# student spends most of its samples on its four-circle sector; the one-patch exponent
# approaches $5/8$ slowly from below, so the ratio is still climbing at the largest $n$
# (the line above the verdict gives the spectral ratio over larger windows). The curves
# above show how closely the spectral prediction tracks the measured errors.

# %% [markdown]
# ## Differences from the paper
#
# * **Sources.** We could read the abstract and Figure 1, not the theorems: the spectral
#   predictions (sector exponents, the ratio 2.5) are ours, from the exact spectrum and
#   the standard eigenlearning theory of ridgeless regression. An earlier version of
#   this chapter predicted a ratio of 4 from $\beta \propto 1/d_\text{eff}$, which
#   ignores that the student spends most of its samples on its four-circle sector.
# * **Scale.** $d = 8$ with patches on circles, filters of size 2, $n \le 4096$ at book
#   scale (16384 at `full`, which is "large", not the paper's scale), five input draws.
#   A review asked for $n \le 8192$ at book scale; on two shared CPU cores that costs
#   about five minutes per seed and did not fit, so the larger windows are shown from
#   the exact spectrum only.
# * **Expected error.** We average the error over Gaussian teachers in closed form
#   instead of sampling teachers; the expectation is the quantity the theory predicts.
# * **Weight sharing.** The kernels are those of locally connected networks; with
#   non-overlapping filters and a dense readout, weight sharing gives the same
#   infinite-width kernels.

# %% [markdown]
# ## Run info

# %%
ch.run_info()
