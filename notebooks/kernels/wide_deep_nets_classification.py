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
# # Infinitely wide and deep networks as classifiers: nearest neighbour, majority vote, or optimal
#
# **Paper.** {cite}`radhakrishnan2023widedeep`.
#
# **Claim.** Take an infinitely wide network (a kernel machine with its NNGP or NTK) and let its depth go
# to infinity. Depending only on the activation, the classifier it implements tends to one of three
# rules: the label of the **nearest** training point, the **majority** label of the training set, or a
# **singular-kernel** rule $\operatorname{sign} \sum_i y_i \, \lVert x - x_i \rVert^{-\alpha}$. For the
# right activations the singular kernel's exponent equals the data's dimension, which makes the rule
# Bayes-consistent: wide and deep networks with those activations are optimal classifiers, and simple
# explicit activations (low-degree Hermite polynomials) do it.
#
# Which rule, for a normalised activation $\varphi$ with dual $\check\varphi(\xi) = \mathbb E[\varphi(u)\varphi(v)]$
# ($u, v$ standard Gaussians with correlation $\xi$, $\check\varphi(1) = 1$), on the unit sphere without
# biases (our derivation, consistent with every activation in the authors' code):
#
# * $\check\varphi'(1) \le 1$ — all correlations flow to 1: **majority vote** (ReLU, $\check\varphi'(1) = 1$);
# * $\check\varphi'(1) > 1$ and $\check\varphi'(0) = 0$ — correlations collapse super-exponentially, the largest wins:
#   **1-nearest neighbour** (e.g. $\check\varphi(\xi) = \xi^3$);
# * $\check\varphi'(1) > 1 > \check\varphi'(0) > 0$ — a **singular kernel** with
#   $\alpha = 2 \ln(1/\check\varphi'(0)) / \ln \check\varphi'(1)$; optimal when $\alpha$ is the data's intrinsic
#   dimension ($\check\varphi(\xi) = (\xi + \xi^3)/2$ gives $\alpha = 2$, for data on a 2-sphere).
#
# The chapter mirrors the authors' three-dimensional experiment (two overlapping Dirichlet classes mapped
# onto the sphere, a known Bayes classifier): agreement of each deep network with its predicted limit,
# and test error against the training-set size.
#
# **Negative control.** Change the ingredient that makes the optimal activation optimal — its exponent:
# the paper's five-dimensional activation, $\check\varphi(\xi) = \xi/4 + \xi^2/2 + \xi^3/4$, has $\alpha = 4$.
# On the same data it must *not* implement the $\alpha = 2$ rule.

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
import pandas as pd
import seaborn as sns
import torch

from replib import Chapter, progress
from replib.data import dirichlet_classes
from replib.fitting import fit_power_law
from replib.kernels import DualActivation, deep_dual_kernels
from replib.plotting import colors, label_log_ticks, use_book_style

ch = Chapter("kernels/wide_deep_nets_classification", scale=SCALE, seed=SEED, cite="radhakrishnan2023widedeep",
             claim="Infinitely wide and deep networks classify by nearest neighbour, majority vote or a singular "
                   "kernel, according to the activation; the right singular kernel is Bayes-optimal")
cfg = ch.settings(
    smoke=dict(n_test=1000, n_taxonomy=200, sizes=[100, 300, 1000], seeds=2, depths=[1, 3, 10, 30, 100],
               relu_depths=[10, 100, 1000, 10000], nn_depths=[1, 2, 4, 6, 8]),
    book=dict(n_test=2000, n_taxonomy=300, sizes=[100, 200, 500, 1000, 2000], seeds=8, depths=[1, 3, 10, 30, 100],
              relu_depths=[10, 100, 1000, 10000], nn_depths=[1, 2, 4, 6, 8]),
    full=dict(n_test=10000, n_taxonomy=1000, sizes=[100, 300, 1000, 3000, 10000], seeds=5,
              depths=[1, 3, 10, 30, 100, 300], relu_depths=[10, 100, 1000, 10000, 50000], nn_depths=[1, 2, 4, 6, 8]),
)
use_book_style()
torch.set_default_dtype(torch.float64)
CLASSES = ((0.5, 0.5, 2.5), (2.5, 0.1, 0.5))  # Dirichlet concentrations of the two classes (the authors' 3-d setting)
RELU_POINTS = 50  # ReLU reaches its limit only at enormous depth; fewer points need less of it
AGREE = 0.98  # "implements the rule": same sign on at least this fraction of test points
ACTIVATIONS = {
    "optimal for d = 3: (xi + xi^3)/2": DualActivation.hermite({1: 1, 3: 1}, "optimal, alpha = 2"),
    "h_3 only: xi^3": DualActivation.hermite({3: 1}, "h_3"),
    "ReLU": DualActivation.relu(),
    "control, optimal for d = 5: xi/4 + xi^2/2 + xi^3/4": DualActivation.hermite({1: 1, 2: 2, 3: 1}, "alpha = 4"),
}

# %% [markdown]
# ## The activations and the limits they predict

# %% tags=["nbval-check-output"]
one, zero = torch.tensor(1.0), torch.tensor(0.0)
rows = []
for name, dual in ACTIVATIONS.items():
    slope0, slope1 = float(dual.derivative(zero)), float(dual.derivative(one))
    if slope1 <= 1:
        limit = "majority vote"
    elif slope0 == 0:
        limit = "1-nearest neighbour"
    else:
        limit = f"singular kernel, alpha = {2 * math.log(1 / slope0) / math.log(slope1):.3g}"
    rows.append(dict(activation=name, **{"dual'(0)": slope0, "dual'(1)": slope1}, limit=limit))
print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3g}"))

# %% [markdown]
# ## Classifiers
#
# The network's classifier is the sign of minimum-norm kernel interpolation of the labels $\pm 1$ with
# its NNGP (or NTK) at depth $L$; `replib.kernels.deep_dual_kernels` runs the layer recursion, rescaled so
# that thousands of layers neither overflow nor lose the diagonal. The limit rules are one line each.

# %%
def network(x, y, x_test, dual, depths, kind="nngp"):
    """Predicted labels of the depth-L kernel interpolant, for every L in depths."""
    train = deep_dual_kernels(x, None, dual, depths, ntk=kind == "ntk")
    test = deep_dual_kernels(x_test, x, dual, depths, ntk=kind == "ntk")
    out = {}
    for depth in depths:
        k, k_test = getattr(train[depth], kind), getattr(test[depth], kind)
        coef = torch.linalg.lstsq(k, y[:, None], driver="gelsd").solution[:, 0]
        out[depth] = torch.sign(k_test @ coef)
    return out


def singular_rule(x, y, x_test, alpha):
    return torch.sign((2 - 2 * x_test @ x.T).clamp_min(1e-300).pow(-alpha / 2) @ y)


def nearest_neighbour(x, y, x_test):
    return y[(x_test @ x.T).argmax(1)]


def majority(y, x_test):
    return torch.full((len(x_test),), float(torch.sign(y.sum())))


x_test, y_test, bayes_test = dirichlet_classes(cfg.n_test, CLASSES, seed=SEED + 10**6)
bayes_error = float((bayes_test != y_test).double().mean())
print(f"Bayes error of this test set: {bayes_error:.4f}")

# %% [markdown]
# ## Which rule each deep network implements
#
# One training set of `n_taxonomy` points (50 for ReLU, whose limit needs far more depth); fraction of test
# points on which the network at depth $L$ and each rule agree.

# %%
x, y, _ = dirichlet_classes(cfg.n_taxonomy, CLASSES, seed=SEED)
rules = {"1-nearest neighbour": nearest_neighbour(x, y, x_test), "singular, alpha = 2": singular_rule(x, y, x_test, 2),
         "singular, alpha = 4": singular_rule(x, y, x_test, 4), "majority vote": majority(y, x_test)}
x_relu, y_relu, _ = dirichlet_classes(RELU_POINTS, CLASSES, seed=SEED)
relu_rules = {"majority vote": majority(y_relu, x_test), "1-nearest neighbour": nearest_neighbour(x_relu, y_relu, x_test)}
agreement = []
plan = [("optimal for d = 3: (xi + xi^3)/2", "nngp", cfg.depths),
        ("optimal for d = 3: (xi + xi^3)/2", "ntk", cfg.depths + [300]),
        ("h_3 only: xi^3", "nngp", cfg.nn_depths),
        ("control, optimal for d = 5: xi/4 + xi^2/2 + xi^3/4", "nngp", cfg.depths),
        ("ReLU", "ntk", cfg.relu_depths)]
for name, kind, depths in progress(plan, desc="activations"):
    relu = name == "ReLU"
    predictions = network(x_relu if relu else x, y_relu if relu else y, x_test, ACTIVATIONS[name], depths, kind)
    for depth, pred in predictions.items():
        for rule, target in (relu_rules if relu else rules).items():
            agreement.append(dict(activation=name, kernel=kind.upper(), depth=depth, rule=rule,
                                  agreement=float((pred == target).double().mean())))
agreement = pd.DataFrame(agreement)

# %%
panels = agreement.groupby(["activation", "kernel"], sort=False)
fig, axes = plt.subplots(2, 3, figsize=(15, 8.5), sharey=True)
axes = axes.ravel()
palette = dict(zip(list(rules), colors(len(rules))))
for ax, ((name, kind), part) in zip(axes, panels):
    sns.lineplot(part, x="depth", y="agreement", hue="rule", palette=palette, marker="o", ax=ax, legend=ax is axes[0])
    ax.set(xscale="log", title=f"{name.split(':')[0]} ({kind})", xlabel="depth L (hidden layers)",
           ylabel="agreement with the rule")
    ax.axhline(AGREE, color="gray", lw=0.8, ls=":")
    label_log_ticks(ax, sorted(part.depth.unique()))
axes[-1].set_visible(False)
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
deepest = agreement.loc[agreement.groupby(["activation", "kernel", "rule"], sort=False).depth.idxmax()]
print(deepest.pivot_table(index=["activation", "kernel", "depth"], columns="rule", values="agreement", sort=False)
      .to_string(float_format=lambda v: f"{v:.3f}"))

# %% [markdown]
# ## Test error against the number of training points
#
# The optimal activation's network at depth 100 (NNGP) beside the other limits it could have had —
# nearest neighbour, the $\alpha = 4$ singular rule (the control activation's limit) and majority vote —
# over `seeds` training sets per size, as excess error over the Bayes classifier on the same test points.

# %%
risk = []
for n in progress(cfg.sizes, desc="training-set sizes"):
    for seed in range(cfg.seeds):
        x, y, _ = dirichlet_classes(n, CLASSES, seed=SEED + 1000 * (seed + 1) + n)
        preds = {"deep network, optimal activation": network(x, y, x_test, ACTIVATIONS[
                     "optimal for d = 3: (xi + xi^3)/2"], [100])[100],
                 "1-nearest neighbour": nearest_neighbour(x, y, x_test),
                 "singular, alpha = 4": singular_rule(x, y, x_test, 4), "majority vote": majority(y, x_test)}
        for name, pred in preds.items():
            risk.append(dict(method=name, n=n, seed=seed, excess=float((pred != y_test).double().mean()) - bayes_error))
risk = pd.DataFrame(risk)

fig, ax = plt.subplots(figsize=(7, 4.3))
sns.lineplot(risk, x="n", y="excess", hue="method", estimator="median", errorbar=("pi", 100), marker="o",
             palette=colors(risk.method.nunique()), ax=ax)
ax.set(xscale="log", xlabel="training points n", ylabel="test error - Bayes error",
       title="Excess error (median and range over training sets)")
ax.set_yscale("symlog", linthresh=1e-3)
label_log_ticks(ax, cfg.sizes)
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
median = risk.groupby(["method", "n"]).excess.median().unstack()
print(median.to_string(float_format=lambda v: f"{v:.4f}") + "   (median excess error)")
optimal = risk[risk.method == "deep network, optimal activation"].pivot(index="seed", columns="n", values="excess")
floor = 1 / cfg.n_test  # the test set's resolution: a finite test set can put a classifier at or below Bayes
fit = fit_power_law(cfg.sizes, optimal[cfg.sizes].to_numpy().clip(floor), statistic="median", seed=SEED)
print(f"optimal activation: excess error ~ n^{fit.exponent:.2f} [{fit.ci[0]:.2f}, {fit.ci[1]:.2f}]")

# %% [markdown]
# ## Verdict
#
# * **Taxonomy.** At the largest depth, each network *implements* its predicted rule — agrees with it on
#   at least 98 % of test points, and more than with any other rule: the optimal activation's NNGP the
#   $\alpha = 2$ singular rule, $\xi^3$ nearest neighbour, and the ReLU NTK the majority vote. (The rules
#   themselves agree on most points, hence the second condition.)
# * **Optimality.** The optimal network's excess error over Bayes falls with $n$ (the fitted exponent's
#   95 % interval is below zero), and at the largest $n$ it is below that of nearest neighbour and of the
#   $\alpha = 4$ rule (medians).
# * **Control.** The $\alpha = 4$ activation must not implement the $\alpha = 2$ rule (same test).

# %% tags=["nbval-check-output"]
def implements(name, kind, rule):
    """(agreement with the rule, depth, whether it is >= AGREE and the highest of all rules)."""
    part = deepest[(deepest.activation == name) & (deepest.kernel == kind)].set_index("rule")
    value = float(part.agreement[rule])
    return value, int(part.depth.iloc[0]), value >= AGREE and value == part.agreement.max()


for name, kind, rule in [("optimal for d = 3: (xi + xi^3)/2", "NNGP", "singular, alpha = 2"),
                         ("h_3 only: xi^3", "NNGP", "1-nearest neighbour"), ("ReLU", "NTK", "majority vote")]:
    value, depth, ok = implements(name, kind, rule)
    ch.check(f"{name.split(':')[0]} {kind}, L = {depth}: agreement with {rule}",
             paper=f"-> 1 (>= {AGREE}, best rule)", ours=value, passed=ok)
ch.check("optimal activation: excess error exponent in n (upper end of 95% CI)", paper="falls (< 0)",
         ours=fit.ci[1], passed=fit.ci[1] < 0)
largest = median[cfg.sizes[-1]]
rivals = min(largest["1-nearest neighbour"], largest["singular, alpha = 4"])
ch.check(f"excess error at n = {cfg.sizes[-1]}: optimal / best of 1-NN and alpha = 4 (medians)",
         paper="optimal is best (< 1)", ours=float(largest["deep network, optimal activation"] / rivals),
         passed=bool(largest["deep network, optimal activation"] < rivals))
value, depth, ok = implements("control, optimal for d = 5: xi/4 + xi^2/2 + xi^3/4", "NNGP", "singular, alpha = 2")
ch.control(f"alpha = 4 activation NNGP, L = {depth}: agreement with the alpha = 2 rule",
           paper=f"not that rule (not >= {AGREE} and best)", ours=value, passed=not ok)
ch.verdict()

# %% [markdown]
# The control activation does implement *its own* limit: its agreement with the $\alpha = 4$ rule is in
# the table above.
#
# ## Differences from the paper
#
# * **Derivation of the taxonomy.** We could read the authors' code but not the paper's theorems; the
#   conditions on $\check\varphi'(0)$, $\check\varphi'(1)$ and the formula for $\alpha$ above are our derivation,
#   which reproduces the exponent of every tuned activation in the code.
# * **Scale.** The authors use 10 000 training and test points and depths 50–200 (NNGP), and the ReLU NTK
#   at depth 50 000 with 100 training points; the book uses at most 2000 points, depth 100 and, for ReLU,
#   depth 10 000 with 50 points (the `full` scale goes further).
# * **Interpolation.** Minimum-norm least squares through the SVD pseudo-inverse (LAPACK's default rank
#   cut-off), so that shallow kernels of low rank are defined too. The second class piles up near an edge of
#   the simplex, so some training points are near-duplicates (cosines within $10^{-6}$ of 1) and the $\xi^3$
#   network's kernel is nearly singular at depth 8: its agreement with nearest neighbour depends on how the
#   solver cuts off small singular values (a QR-based solver gave lower agreement in our trials).
# * **The NTK.** Its deep limit is the same rule, but it converges far more slowly in depth; at the depths we
#   can compute before its entries underflow it still sides with a more singular rule (table above). The
#   checks use the NNGP, as the authors' experiments do, except for ReLU, whose NTK is the authors' example.

# %% [markdown]
# ## Run info

# %%
ch.run_info()
