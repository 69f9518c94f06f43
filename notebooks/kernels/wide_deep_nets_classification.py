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
# # Wide and deep networks as classifiers: nearest neighbour, majority vote, or optimal
#
# **Paper.** {cite}`radhakrishnan2023widedeep`.
#
# **Claim.** Take an infinitely wide network (a kernel machine with its NNGP or NTK) and
# let its depth go to infinity. Depending only on the activation, the classifier it
# implements tends to one of three rules: the label of the **nearest** training point,
# the **majority** label of the training set, or a **singular-kernel** rule
# $\operatorname{sign} \sum_i y_i \, \lVert x - x_i \rVert^{-\alpha}$. For the right
# activations the singular kernel's exponent equals the data's dimension, which makes
# the rule Bayes-consistent: wide and deep networks with those activations are optimal
# classifiers, and simple explicit activations (low-degree Hermite polynomials) do it.
#
# Which rule, for a normalised activation $\varphi$ with dual $\check\varphi(\xi) =
# \mathbb E[\varphi(u)\varphi(v)]$ ($u, v$ standard Gaussians with correlation $\xi$,
# $\check\varphi(1) = 1$), on the unit sphere without biases (our derivation, consistent
# with every activation in the authors' code):
#
# * $\check\varphi'(1) \le 1$ — all correlations flow to 1: **majority vote** (ReLU,
#   $\check\varphi'(1) = 1$);
# * $\check\varphi'(1) > 1$ and $\check\varphi'(0) = 0$ — correlations collapse
#   super-exponentially, the largest wins: **1-nearest neighbour** (e.g.
#   $\check\varphi(\xi) = \xi^3$);
# * $\check\varphi'(1) > 1 > \check\varphi'(0) > 0$ — a **singular kernel** with $\alpha
#   = 2 \ln(1/\check\varphi'(0)) / \ln \check\varphi'(1)$; optimal when $\alpha$ is the
#   data's intrinsic dimension ($\check\varphi(\xi) = (\xi + \xi^3)/2$ gives $\alpha =
#   2$, for data on a 2-sphere).
#
# The chapter mirrors the authors' three-dimensional experiment (two overlapping
# Dirichlet classes mapped onto the sphere, a known Bayes classifier): agreement of each
# deep network with its predicted limit, measured on the test points where the candidate
# rules disagree, and test error against the training-set size, compared with nearest
# neighbour on the same training sets.
#
# **Negative control.** Change the ingredient that makes the optimal activation optimal
# — its exponent: the paper's five-dimensional activation, $\check\varphi(\xi) = \xi/4 +
# \xi^2/2 + \xi^3/4$, has $\alpha = 4$. On the same data its network must *not*
# implement the $\alpha = 2$ rule, and its error must *not* fall faster than nearest
# neighbour's.

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
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from scipy import stats

from replib import Chapter, progress
from replib.data import dirichlet_classes
from replib.fitting import replicate_exponents, seed_interval
from replib.kernels import DualActivation, deep_dual_kernels
from replib.plotting import colors, label_log_ticks, use_book_style

ch = Chapter("kernels/wide_deep_nets_classification", scale=SCALE, seed=SEED,
             cite="radhakrishnan2023widedeep",
             claim="Infinitely wide and deep networks classify by nearest neighbour, "
                   "majority vote or a singular kernel, according to the activation; "
                   "the right singular kernel is Bayes-optimal")
cfg = ch.settings(
    smoke=dict(n_test=500, n_taxonomy=150, taxonomy_sets=5, relu_test=200,
               sizes=[100, 200, 400], seeds=5, depths=[1, 3, 10, 30, 100],
               relu_depths=[10, 100, 1000, 10000], nn_depths=[1, 2, 4, 6, 8]),
    book=dict(n_test=2000, n_taxonomy=300, taxonomy_sets=5, relu_test=500,
              sizes=[100, 200, 400, 800], seeds=8, depths=[1, 3, 10, 30, 100],
              relu_depths=[10, 100, 1000, 10000], nn_depths=[1, 2, 4, 6, 8]),
    full=dict(n_test=10000, n_taxonomy=1000, taxonomy_sets=10, relu_test=2000,
              sizes=[100, 300, 1000, 3000, 10000], seeds=10,
              depths=[1, 3, 10, 30, 100, 300],
              relu_depths=[10, 100, 1000, 10000, 50000], nn_depths=[1, 2, 4, 6, 8]),
)
use_book_style()
torch.set_default_dtype(torch.float64)
# thousands of small layer updates: a second thread mostly adds synchronisation
torch.set_num_threads(1)
dev = ch.device
# Dirichlet concentrations of the two classes (the authors' 3-d setting)
CLASSES = ((0.5, 0.5, 2.5), (2.5, 0.1, 0.5))
# ReLU reaches its limit only at enormous depth; fewer points need less of it (an odd
# number: majority vote is never tied)
RELU_POINTS = 51
# "implements the rule": decides at least this fraction of the disputed points its way
AGREE = 0.9
ACTIVATIONS = {
    "optimal for d = 3: (xi + xi^3)/2": DualActivation.hermite({1: 1, 3: 1},
                                                               "optimal, alpha = 2"),
    "h_3 only: xi^3": DualActivation.hermite({3: 1}, "h_3"),
    "ReLU": DualActivation.relu(),
    "control, optimal for d = 5: xi/4 + xi^2/2 + xi^3/4": DualActivation.hermite(
        {1: 1, 2: 2, 3: 1}, "alpha = 4"),
}
OPTIMAL, CONTROL = "optimal for d = 3: (xi + xi^3)/2", (
    "control, optimal for d = 5: xi/4 + xi^2/2 + xi^3/4")


def data(n, seed):
    x, y, bayes = dirichlet_classes(n, CLASSES, seed=seed)
    return x.to(dev), y.to(dev), bayes.to(dev)


# %% [markdown]
# ## The activations and the limits they predict

# %% tags=["nbval-check-output"]
one, zero = torch.tensor(1.0, device=dev), torch.tensor(0.0, device=dev)
rows = []
for name, dual in ACTIVATIONS.items():
    slope0, slope1 = float(dual.derivative(zero)), float(dual.derivative(one))
    if slope1 <= 1:
        limit = "majority vote"
    elif slope0 == 0:
        limit = "1-nearest neighbour"
    else:
        alpha = 2 * math.log(1 / slope0) / math.log(slope1)
        limit = f"singular kernel, alpha = {alpha:.3g}"
    rows.append(dict(activation=name, **{"dual'(0)": slope0, "dual'(1)": slope1},
                     limit=limit))
print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3g}"))

# %% [markdown]
# ## Classifiers
#
# The network's classifier is the sign of minimum-norm kernel interpolation of the
# labels $\pm 1$ with its NNGP (or NTK) at depth $L$ — the function an infinitely wide
# network trained by gradient descent from zero output converges to;
# `replib.kernels.deep_dual_kernels` runs the layer recursion, rescaled so that
# thousands of layers neither overflow nor lose the diagonal. The minimum-norm solution
# is computed through the SVD (LAPACK's `gelsd`); the limit rules are one line each.

# %%
def network(x, y, x_test, dual, depths, kind="nngp", driver="gelsd"):
    """Predicted labels of the depth-L kernel interpolant, for every L in depths."""
    train = deep_dual_kernels(x, None, dual, depths, ntk=kind == "ntk")
    test = deep_dual_kernels(x_test, x, dual, depths, ntk=kind == "ntk")
    out = {}
    for depth in depths:
        k, k_test = getattr(train[depth], kind), getattr(test[depth], kind)
        coef = torch.linalg.lstsq(k, y[:, None], driver=driver).solution[:, 0]
        out[depth] = torch.sign(k_test @ coef)
    return out


def singular_rule(x, y, x_test, alpha):
    return torch.sign((2 - 2 * x_test @ x.T).clamp_min(1e-300).pow(-alpha / 2) @ y)


def nearest_neighbour(x, y, x_test):
    return y[(x_test @ x.T).argmax(1)]


def majority(y, x_test):
    return torch.full((len(x_test),), float(torch.sign(y.sum())), device=x_test.device)


x_test, y_test, bayes_test = data(cfg.n_test, SEED + 10**6)
bayes_error = float((bayes_test != y_test).double().mean())
print(f"Bayes error of this test set: {bayes_error:.4f}")

# %% [markdown]
# ## Which rule each deep network implements
#
# The candidate rules agree with each other on most test points (nearest neighbour and
# the two singular rules on about 97 % of them), so agreement over all points cannot
# tell them apart. We count only the **disputed** points: those where the candidate
# rules (1-nearest neighbour, the $\alpha = 2$ and $\alpha = 4$ singular rules; for
# ReLU, nearest neighbour and majority vote) do not all give the same label. On them a
# network can side with at most one of two disagreeing rules. `taxonomy_sets`
# independent training sets of `n_taxonomy` points (51 for ReLU, whose limit needs far
# more depth, tested on the first `relu_test` test points); counts are pooled over the
# sets.

# %%
LOCAL = ["1-nearest neighbour", "singular, alpha = 2", "singular, alpha = 4"]
plan = [(OPTIMAL, "nngp", cfg.depths), (OPTIMAL, "ntk", cfg.depths),
        ("h_3 only: xi^3", "nngp", cfg.nn_depths), (CONTROL, "nngp", cfg.depths),
        ("ReLU", "ntk", cfg.relu_depths)]
counts, qr, relu_sets = [], {"agree": 0, "disputed": 0}, []
x_relu_test = x_test[:cfg.relu_test]
for t in progress(range(cfg.taxonomy_sets), desc="taxonomy training sets"):
    x, y, _ = data(cfg.n_taxonomy, SEED + 7919 * t)
    rules = {"1-nearest neighbour": nearest_neighbour(x, y, x_test),
             "singular, alpha = 2": singular_rule(x, y, x_test, 2),
             "singular, alpha = 4": singular_rule(x, y, x_test, 4),
             "majority vote": majority(y, x_test)}
    stacked = torch.stack([rules[r] for r in LOCAL])
    disputed = (stacked != stacked[0]).any(0)
    x_r, y_r, _ = data(RELU_POINTS, SEED + 7919 * t)
    relu_rules = {"majority vote": majority(y_r, x_relu_test),
                  "1-nearest neighbour": nearest_neighbour(x_r, y_r, x_relu_test)}
    relu_disputed = relu_rules["majority vote"] != relu_rules["1-nearest neighbour"]
    for name, kind, depths in plan:
        relu = name == "ReLU"
        if relu:
            preds = network(x_r, y_r, x_relu_test, ACTIVATIONS[name], depths, kind)
            agree = preds[depths[-1]] == relu_rules["majority vote"]
            relu_sets.append(dict(margin=abs(int(y_r.sum())),
                                  disputed=int(relu_disputed.sum()),
                                  agree=int(agree[relu_disputed].sum())))
        else:
            preds = network(x, y, x_test, ACTIVATIONS[name], depths, kind)
        for depth, pred in preds.items():
            for rule, target in (relu_rules if relu else rules).items():
                mask = relu_disputed if relu else disputed
                counts.append(dict(activation=name, kernel=kind.upper(), depth=depth,
                                   rule=rule, set=t, disputed=int(mask.sum()),
                                   agree=int((pred == target)[mask].sum()),
                                   agree_all=float((pred == target).double().mean())))
    # the same deepest xi^3 network, solved by QR with pivoting (not minimum-norm)
    pred = network(x, y, x_test, ACTIVATIONS["h_3 only: xi^3"], cfg.nn_depths[-1:],
                   driver="gelsy")[cfg.nn_depths[-1]]
    qr["agree"] += int((pred == rules["1-nearest neighbour"])[disputed].sum())
    qr["disputed"] += int(disputed.sum())
counts = pd.DataFrame(counts)
pooled = counts.groupby(["activation", "kernel", "depth", "rule"], sort=False)[
    ["agree", "disputed"]].sum().reset_index()
pooled["agreement"] = pooled.agree / pooled.disputed

# %%
panels = pooled.groupby(["activation", "kernel"], sort=False)
fig, axes = plt.subplots(2, 3, figsize=(15, 8.5), sharey=True)
axes = axes.ravel()
rule_names = ["1-nearest neighbour", "singular, alpha = 2", "singular, alpha = 4",
              "majority vote"]
palette = dict(zip(rule_names, colors(len(rule_names))))
for ax, ((name, kind), part) in zip(axes, panels):
    sns.lineplot(part, x="depth", y="agreement", hue="rule", palette=palette,
                 marker="o", ax=ax, legend=False)
    ax.set(xscale="log", title=f"{name.split(':')[0]} ({kind})",
           xlabel="depth L (hidden layers)", ylabel="agreement on disputed points")
    ax.axhline(AGREE, color="gray", lw=0.8, ls=":")
    label_log_ticks(ax, sorted(part.depth.unique()))
axes[-1].set_visible(False)
handles = [plt.Line2D([], [], color=palette[r], marker="o", label=r)
           for r in rule_names]
axes[-1].legend(handles=handles, loc="center", title="rule")
axes[-1].set_visible(True)
axes[-1].axis("off")
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
deepest = pooled.loc[pooled.groupby(["activation", "kernel", "rule"], sort=False)
                     .depth.idxmax()]
print(deepest.pivot_table(index=["activation", "kernel", "depth"], columns="rule",
                          values="agreement", sort=False)
      .to_string(float_format=lambda v: f"{v:.3f}")
      + "   (agreement on disputed points)")
sets = deepest.groupby(["activation", "kernel"], sort=False).disputed.first()
print("disputed points, pooled over the training sets: " + ", ".join(
    f"{a.split(':')[0]} {k} {v}" for (a, k), v in sets.items()))
print(f"ReLU NTK, L = {cfg.relu_depths[-1]}, per training set (vote margin out of "
      f"{RELU_POINTS}: agreement with majority vote on disputed points): " + ", ".join(
          f"{r['margin']}: {r['agree'] / r['disputed']:.2f}" for r in relu_sets))
print(f"xi^3 NNGP, L = {cfg.nn_depths[-1]}, solved by QR (gelsy, not minimum-norm): "
      f"agreement with 1-nearest neighbour {qr['agree'] / qr['disputed']:.3f}")

# %% [markdown]
# ## Test error against the number of training points
#
# The optimal activation's network at depth 100 (NNGP) beside nearest neighbour, the
# control activation's network ($\alpha = 4$, depth 100) and majority vote, over `seeds`
# training sets per size, as excess error over the Bayes classifier on the same test
# points. The methods share each training set, so their learning curves can be compared
# pairwise.

# %%
risk = []
for n in progress(cfg.sizes, desc="training-set sizes"):
    for seed in range(cfg.seeds):
        x, y, _ = data(n, SEED + 1000 * (seed + 1) + n)
        preds = {"deep network, optimal activation":
                     network(x, y, x_test, ACTIVATIONS[OPTIMAL], [100])[100],
                 "deep network, alpha = 4 (control)":
                     network(x, y, x_test, ACTIVATIONS[CONTROL], [100])[100],
                 "1-nearest neighbour": nearest_neighbour(x, y, x_test),
                 "majority vote": majority(y, x_test)}
        for name, pred in preds.items():
            risk.append(dict(method=name, n=n, seed=seed,
                             excess=float((pred != y_test).double().mean())
                             - bayes_error))
risk = pd.DataFrame(risk)

fig, ax = plt.subplots(figsize=(7.5, 4.3))
sns.lineplot(risk, x="n", y="excess", hue="method", estimator="median",
             errorbar=("pi", 100), marker="o", palette=colors(risk.method.nunique()),
             ax=ax)
ax.set(xscale="log", xlabel="training points n", ylabel="test error - Bayes error",
       title="Excess error (median and range over training sets)")
ax.set_yscale("symlog", linthresh=1e-3)
label_log_ticks(ax, cfg.sizes)
ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize="small")
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
median = risk.groupby(["method", "n"]).excess.median().unstack()
print(median.to_string(float_format=lambda v: f"{v:.4f}") + "   (median excess error)")
# the test set's resolution: a finite test set can put a classifier at or below Bayes
floor = 1 / cfg.n_test


def exponents(method):
    """One log-log slope of the excess error against n per training-set replicate."""
    table = risk[risk.method == method].pivot(index="seed", columns="n",
                                              values="excess")
    return replicate_exponents(cfg.sizes, table[cfg.sizes].to_numpy().clip(floor))


nn_slopes = exponents("1-nearest neighbour")
gain = seed_interval(exponents("deep network, optimal activation") - nn_slopes)
gain_control = seed_interval(exponents("deep network, alpha = 4 (control)") - nn_slopes)
for label, fit in [("optimal", gain), ("alpha = 4", gain_control)]:
    print(f"{label} network minus 1-NN: excess-error exponent {fit.value:.3f} "
          f"[{fit.ci[0]:.3f}, {fit.ci[1]:.3f}] ({fit.method})")

# %% [markdown]
# ## Verdict
#
# * **Headline: the right deep network is a consistent classifier.** Its excess error
#   over Bayes falls with $n$ *faster than nearest neighbour's* on the same training
#   sets (nearest neighbour is not consistent: its error stalls above Bayes). One
#   log-log slope per training-set replicate for each method; the t-interval of the
#   paired difference must lie below zero.
# * **Taxonomy.** At the largest depth each network decides at least 90 % of the
#   disputed test points the way of its predicted rule (lower end of the 95 % Wilson
#   interval), and more of them than any other rule: the optimal activation's NNGP the
#   $\alpha = 2$ singular rule, $\xi^3$ nearest neighbour, the ReLU NTK majority vote.
# * **Controls.** The $\alpha = 4$ activation's network must fail both tests: it must
#   not implement the $\alpha = 2$ rule, and its error must not fall faster than nearest
#   neighbour's.

# %% tags=["nbval-check-output"]
def implements(name, kind, rule):
    """(pooled agreement on disputed points, its Wilson 95 % interval, depth, passes,
    number of disputed points)."""
    part = deepest[(deepest.activation == name) & (deepest.kernel == kind)]
    part = part.set_index("rule")
    k, m = int(part.agree[rule]), int(part.disputed[rule])
    ci = stats.binomtest(k, m).proportion_ci(method="wilson")
    best = part.agreement[rule] == part.agreement.max()
    ok = ci.low >= AGREE and best
    return k / m, (ci.low, ci.high), int(part.depth.iloc[0]), ok, m


ch.paper_claim("With a bias-free activation whose dual has slope above 1 at 1 and "
               "between 0 and 1 at 0, the infinitely deep network is a singular-kernel "
               "classifier whose exponent is set by the activation (main theorem)",
               row=f"optimal for d = 3 NNGP: agreement with singular, alpha = 2")
ch.paper_claim("With the dual's slope 0 at 0 it is the 1-nearest-neighbour classifier",
               row="h_3 only NNGP: agreement with 1-nearest neighbour")
ch.paper_claim("With the dual's slope at most 1 at 1 (e.g. ReLU) it is majority vote",
               row="ReLU NTK: agreement with majority vote")
ch.paper_claim("Choosing the activation so that the exponent equals the data's "
               "dimension makes the infinitely wide and deep network Bayes-consistent "
               "(the paper's headline)",
               row="optimal network: excess-error exponent minus 1-NN's (paired)")
ch.paper_claim("The NTK and the NNGP of the same activation have the same deep limit",
               tested="no",
               note="the NTK converges far more slowly in depth; at the depths "
                    "computable here it still sides with a more singular rule "
                    "(taxonomy table)")
ch.check_claim(
    "optimal network: excess-error exponent minus 1-NN's (paired)", paper="< 0",
    ours=gain.value, ci=gain.ci, passed=gain.ci[1] < 0, headline=True,
    why=f"theory: a consistent rule's excess error goes to 0 while 1-NN's stalls, so "
        f"its learning curve is steeper; one log-log slope per training-set replicate "
        f"(n = {cfg.sizes[0]}..{cfg.sizes[-1]}, excess clipped at 1/n_test), "
        f"{gain.method} of the paired difference must lie below 0")
for name, kind, rule in [(OPTIMAL, "NNGP", "singular, alpha = 2"),
                         ("h_3 only: xi^3", "NNGP", "1-nearest neighbour"),
                         ("ReLU", "NTK", "majority vote")]:
    value, ci, depth, ok, m = implements(name, kind, rule)
    extra = ("; the minimum-norm interpolant, by SVD: a QR solver (not minimum-norm) "
             f"gives {qr['agree'] / qr['disputed']:.3f}"
             if name.startswith("h_3") else "")
    if name == "ReLU":
        extra = ("; the depth ReLU needs grows as the training set's vote gets closer "
                 "(per-set numbers above)")
    ch.check_claim(f"{name.split(':')[0]} {kind}: agreement with {rule}",
                   paper=f"-> 1 (>= {AGREE}, best rule)", ours=value, ci=ci, passed=ok,
                   why=f"stated tolerance: at depth {depth} the network decides >= "
                       f"{AGREE} of the {m} disputed test points (pooled over "
                       f"{cfg.taxonomy_sets} training sets) its predicted rule's way, "
                       f"lower end of the Wilson 95 % interval, and more than any "
                       f"other rule{extra}")
ch.control("alpha = 4 network: excess-error exponent minus 1-NN's (paired)",
           paper=">= 0", ours=gain_control.value, ci=gain_control.ci,
           passed=not gain_control.ci[1] < 0,
           why="the headline test with the one ingredient changed (the exponent: "
               "alpha = 4 on 2-dimensional data, not consistent): it must fail")
value, ci, depth, ok, m = implements(CONTROL, "NNGP", "singular, alpha = 2")
ch.control(f"alpha = 4 activation NNGP, L = {depth}: agreement with the alpha = 2 rule",
           paper=f"not that rule (not >= {AGREE} and best)", ours=value, ci=ci,
           passed=not ok,
           why="the alpha = 2 taxonomy test on the alpha = 4 activation's network: it "
               "must fail")
ch.sanity("Bayes error of the test set", paper="about 0.04", ours=bayes_error,
          passed=0 < bayes_error < 0.1)
ch.verdict()

# %% [markdown]
# The control activation does implement *its own* limit: its agreement with the $\alpha
# = 4$ rule is in the table above.
#
# ## Differences from the paper
#
# * **Derivation of the taxonomy.** We could read the authors' code but not the paper's
#   theorems; the conditions on $\check\varphi'(0)$, $\check\varphi'(1)$ and the formula
#   for $\alpha$ above are our derivation, which reproduces the exponent of every tuned
#   activation in the code.
# * **Scale.** The authors use 10 000 training and test points and depths 50–200 (NNGP),
#   and the ReLU NTK at depth 50 000 with 100 training points; the book uses at most
#   800 training points, depth 100 and, for ReLU, depth 10 000 with 51 points (the
#   `full` scale is larger, not the authors' exact settings).
# * **Interpolation and the $\xi^3$ result.** Minimum-norm least squares through the SVD
#   pseudo-inverse (LAPACK's default rank cut-off), so that shallow kernels of low rank
#   are defined too. The second class piles up near an edge of the simplex, so some
#   training points are near-duplicates (cosines within $10^{-6}$ of 1) and the $\xi^3$
#   network's kernel is nearly singular at depth 8: its agreement with nearest neighbour
#   depends on the solver. The minimum-norm solution is the one a wide network trained
#   by gradient descent reaches, so the check uses it; a QR-based solver, which is not
#   minimum-norm on a rank-deficient kernel, gives a lower agreement (printed above and
#   under the check).
# * **The NTK.** Its deep limit is the same rule, but it converges far more slowly in
#   depth; at the depths we can compute before its entries underflow it still sides with
#   a more singular rule (table above). The checks use the NNGP, as the authors'
#   experiments do, except for ReLU, whose NTK is the authors' example.
# * **ReLU's depth.** How deep the ReLU NTK must be before it follows the majority grows
#   as the vote gets closer: at depth 10 000 it does so on training sets whose labels
#   are lopsided, but on sets with a margin of a few votes it still sides with nearest
#   neighbour on most disputed points (per-set numbers above). An earlier version of
#   this chapter tested one training set, with a comfortable margin; the check now pools
#   several.

# %% [markdown]
# ## Run info

# %%
ch.run_info()
