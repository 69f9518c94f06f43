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
# **Claim.** Take an infinitely wide deep CNN whose filters tile the input without overlap, in the kernel
# regime. Its tangent kernel's spectrum inherits the network's hierarchy, and kernel regression with it
# *adapts to the spatial scale of the target*: if the target depends only on small groups of adjacent
# input variables, the test error falls with the number of samples $n$ at a rate set by the effective
# dimension of those groups; if it depends on the whole input, the rate is set by the input dimension, as
# for a fully connected network. Targets drawn from a random deep CNN of the same architecture are of the
# second kind: too rich to be learned fast in high dimension.
#
# The chapter mirrors the paper's teacher-student learning curves (its Figure 1, right, sketches the same
# three cases): targets that depend on one patch, on a meta-patch of two patches, or on the whole input,
# learned by a deep CNN kernel and by a fully connected one, with fitted exponents.
#
# **Negative control.** Remove the locality of the target (the full-input teacher). Then the CNN has no
# spatial scale to adapt to and its advantage over the fully connected kernel must vanish.

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

from replib import Chapter, progress
from replib.data import torus
from replib.fitting import fit_power_law
from replib.kernels import HierarchicalCNNKernel, MLPKernel, teacher_student_risk
from replib.plotting import colors, label_log_ticks, use_book_style

ch = Chapter("kernels/wide_cnn_kernel_locality", scale=SCALE, seed=SEED, cite="cagnetta2023cnn",
             claim="Deep CNN kernels learn targets of a few adjacent input patches at a rate set by the patches' "
                   "dimension, not the input's; for full-input targets they are no faster than FC kernels")
cfg = ch.settings(
    smoke=dict(n_max=512, n_test=256, draws=2),
    book=dict(n_max=4096, n_test=1024, draws=3),
    full=dict(n_max=16384, n_test=2048, draws=5),
)
use_book_style()
CIRCLES = 4  # input: 4 patches of 2 numbers, each on the unit circle (d = 8)
STUDENT = (2, 2, 2)  # three hidden layers: patch -> pair of patches -> whole input
TEACHERS = {"one patch": (2,), "two patches": (2, 2), "whole input": (2, 2, 2)}
D_EFF = {"one patch": 1, "two patches": 2, "whole input": 4}  # circles the target depends on
FIT_SIZES = 4  # the exponent is fitted on the 4 largest training sizes (the asymptotic end)
sizes = [2**k for k in range(6, int(math.log2(cfg.n_max)) + 1)]

# %% [markdown]
# ## Setup
#
# Inputs are $d = 8$ numbers in four patches of two, each patch a point on the unit circle (the paper's
# product of spheres, with the smallest spheres). The student is the tangent kernel of a three-layer ReLU
# CNN with filters of size 2 (`replib.kernels.HierarchicalCNNKernel`): layer one sees a patch, layer two a
# pair of adjacent patches, layer three the whole input. The baseline is the tangent kernel of a fully
# connected three-layer ReLU network on the same inputs.
#
# Teachers are Gaussian random functions whose covariance is the tangent kernel of a smaller CNN: filters
# $(2)$ give a sum of independent functions of single patches, $(2, 2)$ a sum of functions of pairs of
# adjacent patches, $(2,2,2)$ the student itself, a function of the whole input. Regression is ridgeless. We
# never sample a teacher: for a Gaussian teacher the test error averaged over teachers is a closed-form
# expression in the two kernels (`replib.kernels.teacher_student_risk`), which removes the teacher noise
# from the learning curves. Each input draw gives one curve per pair; the training sets are nested.

# %%
students = {"CNN": HierarchicalCNNKernel(STUDENT), "fully connected": MLPKernel(len(STUDENT))}
rows = []
for draw in progress(range(cfg.draws), desc="input draws"):
    x = torus(cfg.n_max + cfg.n_test, CIRCLES, generator=ch.generator)
    train, test = x[:cfg.n_max], x[cfg.n_max:]
    teachers = []
    for filters in TEACHERS.values():
        k = HierarchicalCNNKernel(filters)
        teachers.append((k(train).ntk, k(test, train).ntk, k(test[:1]).ntk[0, 0].expand(cfg.n_test)))
    for name, kernel in students.items():
        scale = math.sqrt(2) if name == "fully connected" else 1.0  # MLPKernel expects |x|² = d
        risk = teacher_student_risk(kernel(scale * train).ntk, kernel(scale * test, scale * train).ntk,
                                    teachers, sizes)
        rows += [{"draw": draw, "student": name, "target": target, "n": n, "error": float(risk[i, j])}
                 for i, target in enumerate(TEACHERS) for j, n in enumerate(sizes)]
curves = pd.DataFrame(rows)

# %% [markdown]
# ## Learning curves
#
# Test error relative to the teacher's variance, against the number of training points (mean over input
# draws; the dotted lines are the power-law fits on the largest sizes).

# %%
def exponent(student, target):
    e = curves[(curves.student == student) & (curves.target == target)].pivot(index="draw", columns="n",
                                                                               values="error")
    return fit_power_law(sizes[-FIT_SIZES:], e.to_numpy()[:, -FIT_SIZES:])


fits = {(s, t): exponent(s, t) for s in students for t in TEACHERS}
fig, axes = plt.subplots(1, 2, figsize=(13, 4.4), sharey=True)
palette = dict(zip(TEACHERS, colors(len(TEACHERS))))
for ax, student in zip(axes, students):
    sub = curves[curves.student == student]
    sns.lineplot(sub, x="n", y="error", hue="target", palette=palette, marker="o", errorbar=None, ax=ax)
    for target in TEACHERS:
        fit = fits[(student, target)]
        grid = np.array(sizes[-FIT_SIZES:], dtype=float)
        ax.plot(grid, fit(grid), color="k", ls=":", lw=1)
        ax.annotate(f"beta = {-fit.exponent:.2f}", (grid[-1], fit(grid[-1])), textcoords="offset points",
                    xytext=(4, 0), fontsize="small", color=palette[target], va="center")
    ax.set(xscale="log", yscale="log", xlabel="training points n", ylabel="test error / teacher variance",
           title=f"{student} kernel (three hidden layers)")
    label_log_ticks(ax, sizes)
    ax.tick_params(axis="x", labelrotation=45)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Exponents against the target's effective dimension
#
# The fitted exponent $\beta$ of $\epsilon(n) \propto n^{-\beta}$ (bootstrap interval over input draws). If
# the rate is set by the dimension of what the target depends on, $\beta \propto 1/d_\text{eff}$ with
# $d_\text{eff}$ = 1, 2 or 4 circles for the CNN, and all three targets learned at the full-input rate by
# the fully connected kernel. The grey line is $1/d_\text{eff}$, the exponent our reading of the theory
# gives for these cusp-smooth teachers; it is drawn for orientation, not tested. "last doubling" is the
# local slope between the two largest sizes: where it exceeds $\beta$, the exponent is still growing.

# %% tags=["nbval-check-output"]
def last_slope(student, target):
    """The local exponent between the two largest sizes: is beta still drifting?"""
    e = curves[(curves.student == student) & (curves.target == target)].groupby("n").error.mean()
    return -np.log(e[sizes[-1]] / e[sizes[-2]]) / np.log(sizes[-1] / sizes[-2])


table = pd.DataFrame([{"student": s, "target": t, "d_eff": D_EFF[t], "beta": -f.exponent,
                       "beta low": -f.ci[1], "beta high": -f.ci[0], "last doubling": last_slope(s, t)}
                      for (s, t), f in fits.items()])
print(f"exponents fitted on n = {sizes[-FIT_SIZES]}..{sizes[-1]}, {cfg.draws} input draws")
print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))

# %%
fig, ax = plt.subplots(figsize=(7, 4.2))
for student, marker, shift in [("CNN", "o", -0.04), ("fully connected", "s", 0.04)]:
    sub = table[table.student == student]
    yerr = np.clip([sub.beta - sub["beta low"], sub["beta high"] - sub.beta], 0, None)
    ax.errorbar(sub.d_eff * (1 + shift), sub.beta, yerr=yerr, fmt=marker, capsize=3, label=student)
grid = np.array([1, 2, 4])
ax.plot(grid, 1 / grid, color="gray", lw=1, ls="--", label="1 / d_eff")
ax.set(xscale="log", yscale="log", xlabel="circles the target depends on (d_eff)", ylabel="fitted exponent beta",
       title="learning-curve exponent against the target's scale")
label_log_ticks(ax, grid)
ax.legend(fontsize="small")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Verdict
#
# * **The CNN adapts to the target's scale.** On the one-patch target the CNN's exponent is at least
#   twice its exponent on the whole-input target (the prediction $\beta \propto 1/d_\text{eff}$ gives 4),
#   and the two-patch target falls in between.
# * **Locality in the architecture is what helps.** On the one-patch target the CNN's exponent is at
#   least 1.5 times the fully connected kernel's (prediction: 4).
# * **Control.** On the whole-input target the CNN must lose that advantage: the same 1.5× check fails.

# %% tags=["nbval-check-output"]
beta = {k: -f.exponent for k, f in fits.items()}
local_vs_full = beta[("CNN", "one patch")] / beta[("CNN", "whole input")]
cnn_vs_fc = beta[("CNN", "one patch")] / beta[("fully connected", "one patch")]
ordered = beta[("CNN", "one patch")] > beta[("CNN", "two patches")] > beta[("CNN", "whole input")]
control = beta[("CNN", "whole input")] / beta[("fully connected", "whole input")]
ch.check("CNN exponent: one-patch / whole-input target", paper="4 (beta ~ 1/d_eff); at least 2",
         ours=local_vs_full, passed=local_vs_full >= 2)
ch.check("CNN exponents ordered one patch > two patches > whole input", paper="yes",
         ours=" > ".join(f"{beta[('CNN', t)]:.3f}" for t in TEACHERS), passed=ordered)
ch.check("one-patch target: CNN / fully connected exponent", paper="4; at least 1.5", ours=cnn_vs_fc,
         passed=cnn_vs_fc >= 1.5)
ch.control("whole-input target: CNN / fully connected exponent", paper="no advantage (< 1.5)", ours=control,
           passed=control < 1.5)
ch.verdict()

# %% [markdown]
# Reading the verdict: the fully connected kernel learns all three targets at about the same rate, close
# to the whole-input one, and the CNN's exponents are ordered by the scale of the target, as the paper
# says. The size of the effect is what falls short: the one-patch exponent is well below the $1/d_\text{eff}$
# reading and is still increasing at the largest $n$ (compare "last doubling" with "beta"), so at these
# sizes its ratio to the whole-input exponent can land on either side of the threshold of 2. The `full`
# scale, four times more training points, is the run that would settle it.

# %% [markdown]
# ## Differences from the paper
#
# * **Sources.** We could read the paper's abstract and its authors' code, not its theorems, so the
#   predicted exponents above ($\beta \propto 1/d_\text{eff}$, hence the ratios 4 and 2) are our reading
#   of "the decay is controlled by the effective dimensionality", worked out with the standard spectral
#   theory of ridgeless regression for teachers and students with the same cusp; the checks use the
#   looser thresholds (2 and 1.5) set before we ran anything.
# * **Scale.** $d = 8$ with patches on circles, filters of size 2, $n \le 4096$ at book scale (16384 at
#   `full`), three input draws. The authors' code uses the same kind of setting ($d = 8$, filters of size 2)
#   with $n$ up to 8192. Exponents at these sizes are pre-asymptotic and still drifting (see the curves),
#   which is why they are fitted on the four largest sizes only.
# * **Expected error.** We average the error over Gaussian teachers in closed form instead of sampling
#   teachers; the expectation is the quantity the theory predicts.
# * **Weight sharing.** The kernels are those of locally connected networks; with non-overlapping filters
#   and a dense readout, weight sharing gives the same infinite-width kernels.

# %% [markdown]
# ## Run info

# %%
ch.run_info()
