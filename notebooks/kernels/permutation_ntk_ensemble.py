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
# # Learning a permutation from k examples with an ensemble of wide networks
#
# **Paper.** {cite}`giapitzakis2025permutations`.
#
# **Claim.** Train a wide two-layer ReLU network, in the kernel (NTK) regime, on just the $k$ standard
# basis vectors $e_i \mapsto e_{\pi(i)}$ of an unknown permutation $\pi$ — logarithmically many examples
# of the $2^k - 1$ nonzero binary inputs. One network does not generalise exactly, but the *average* of
# an ensemble, thresholded, maps binary inputs to their permutation exactly, and the ensemble size needed
# grows at most quadratically in $k$.
#
# The chapter mirrors the paper's Figure 1: how many networks an ensemble needs before it decodes test
# inputs with two ones correctly (90 % and 99.9 % of them), against $k$. We predict that number in closed
# form from the infinite-width theory and set it beside the runs logged in the authors' repository, and
# we check the theory against an ensemble of finite networks actually trained by gradient descent.
#
# **Negative control.** Remove the ensemble: a single network. Its thresholded outputs must *not* decode
# the test inputs exactly.

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
import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from scipy.stats import norm

from replib import Chapter
from replib.fitting import fit_power_law
from replib.gp import gp_predict
from replib.kernels import MLPKernel
from replib.nets import StackedMLP, train
from replib.plotting import colors, label_log_ticks, use_book_style

ch = Chapter("kernels/permutation_ntk_ensemble", scale=SCALE, seed=SEED, cite="giapitzakis2025permutations",
             claim="An averaged ensemble of wide two-layer nets trained on the k basis vectors decodes a "
                   "permutation exactly on binary inputs, with an ensemble size growing at most like k^2")
cfg = ch.settings(
    smoke=dict(ks=list(range(4, 17, 2)), replays=3, k_net=5, width=512, nets=64, steps=200),
    book=dict(ks=list(range(4, 31, 2)), replays=15, k_net=6, width=1024, nets=256, steps=300),
    full=dict(ks=list(range(4, 61, 2)), replays=50, k_net=10, width=8192, nets=1024, steps=600),
)
use_book_style()
# Ensemble sizes logged by the authors' runs (results/experiment_{1,2}/<k>/0/results.csv in
# opallab/permlearn: width 50 000, 10 000 epochs, 1000 test inputs with two ones), for accuracy 0.9 and 0.999.
LOGGED = {0.9: {5: 43, 10: 69, 15: 103, 20: 117, 25: 157, 30: 175},
          0.999: {5: 43, 10: 129, 15: 163, 20: 254, 25: 308, 30: 318}}
KERNEL = MLPKernel(1, weight_var=1.0)  # first layer N(0, 1/k) weights, zero biases: the nets below


def two_hot(k):
    """All inputs with exactly two ones, normalised to unit length as in the paper's tests."""
    rows = torch.zeros(k * (k - 1) // 2, k, dtype=torch.float64)
    for r, (i, j) in enumerate(itertools.combinations(range(k), 2)):
        rows[r, [i, j]] = 1.0
    return rows


# %% [markdown]
# ## The infinite-width prediction
#
# In the standard parametrisation of the authors' code (weights $\mathcal N(0, 1/\text{fan-in})$, zero
# biases) a very wide network trained to convergence on the $k$ basis vectors is, for each output
# coordinate, a Gaussian process conditioned on the training data: its mean is kernel regression with the
# first layer's kernel $\kappa$ (ReLU arc-cosine), its randomness the network's output at initialisation
# left over in the directions the training data do not pin down — the GP posterior covariance of
# $\kappa$, independent across output coordinates. The mean of $N$ networks is therefore Gaussian with
# that mean and $1/N$ of that variance, and the chance that thresholding at 0 decodes a test input exactly
# is a product of normal probabilities, one per coordinate — no training needed to predict the ensemble
# size.

# %%
def gp_law(k):
    """Posterior mean (m, k) and standard deviation (m,) of a trained network's outputs on the two-hot inputs."""
    eye = torch.eye(k, dtype=torch.float64)
    inputs = two_hot(k)
    x = inputs / inputs.norm(dim=1, keepdim=True)
    k_train, k_test, k_diag = KERNEL(eye).nngp, KERNEL(x, eye).nngp, KERNEL.diag(x)
    columns = [gp_predict(k_train, eye[:, c], k_test, k_diag, noise=0.0, signal_var=1.0) for c in range(k)]
    return inputs, torch.stack([p.loc for p in columns], 1), columns[0].scale  # pi = identity (wlog)


def expected_accuracy(mean, std, targets, sizes):
    """Mean over test inputs of P(every coordinate of the N-net average has the target's sign)."""
    sign = torch.where(targets > 0, 1.0, -1.0).double()
    z = (sign * mean / std[:, None]).numpy()[None] * np.sqrt(np.asarray(sizes, dtype=float))[:, None, None]
    return np.exp(norm.logcdf(z).sum(-1)).mean(-1)


def ensemble_needed(k, accuracy, sizes=np.unique(np.geomspace(1, 10**6, 3000).astype(int))):
    inputs, mean, std = gp_law(k)
    reached = expected_accuracy(mean, std, inputs, sizes) >= accuracy
    return int(sizes[reached.argmax()]) if reached.any() else np.inf


needed = pd.DataFrame([{"k": k, "accuracy": a, "networks": ensemble_needed(k, a)}
                       for k in sorted(set(cfg.ks) | set(LOGGED[0.9])) for a in (0.9, 0.999)])

# %% [markdown]
# The authors' runs are single realisations: they add networks one at a time and stop as soon as the
# ensemble decodes at least 90 % (or 99.9 %) of 1000 random two-hot test inputs. We replay that protocol
# with ensembles drawn from the same Gaussian law (jointly over test inputs, so that inputs sharing a
# coordinate err together), several times per $k$, and ask whether the logged size is a typical outcome.

# %%
def replay(k, accuracies, runs, max_nets, generator):
    """Stopping ensemble sizes of ``runs`` replays of the authors' protocol, per accuracy: (runs, A)."""
    inputs, mean, _ = gp_law(k)
    eye = torch.eye(k, dtype=torch.float64)
    x = inputs / inputs.norm(dim=1, keepdim=True)
    k_test, k_train = KERNEL(x, eye).nngp, KERNEL(eye).nngp
    cov = KERNEL(x).nngp - k_test @ torch.linalg.solve(k_train, k_test.T)
    chol = torch.linalg.cholesky(cov + 1e-12 * torch.eye(len(x), dtype=torch.float64))
    stops = np.full((runs, len(accuracies)), np.inf)
    for r in range(runs):
        tests = torch.randint(len(x), (1000,), generator=generator)
        total = torch.zeros_like(mean)
        for n in range(1, max_nets + 1):
            total += mean + chol @ torch.randn(len(x), k, generator=generator, dtype=torch.float64)
            right = ((total > 0).double() == inputs).all(1)[tests].double().mean().item()
            for i, a in enumerate(accuracies):
                if np.isinf(stops[r, i]) and right >= a:
                    stops[r, i] = n
            if np.isfinite(stops[r]).all():
                break
    return stops


replays = {k: replay(k, list(LOGGED), cfg.replays, 3000, ch.generator) for k in LOGGED[0.9]}

# %% tags=["nbval-check-output"]
comparison = pd.DataFrame([{"k": k, "accuracy": a, "expected-accuracy law": int(
    needed[(needed.k == k) & (needed.accuracy == a)].networks.iloc[0]),
    "replays 5 %": float(np.quantile(replays[k][:, i], 0.05)), "replays median": float(np.median(replays[k][:, i])),
    "replays 95 %": float(np.quantile(replays[k][:, i], 0.95)), "authors' run": n}
    for i, (a, runs) in enumerate(LOGGED.items()) for k, n in runs.items()])
comparison["inside"] = comparison["authors' run"].between(comparison["replays 5 %"], comparison["replays 95 %"])
print(comparison.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
fits = {a: fit_power_law(cfg.ks[2:], needed[(needed.accuracy == a) & needed.k.isin(cfg.ks[2:])].networks.to_numpy())
        for a in (0.9, 0.999)}
for a, fit in fits.items():
    print(f"accuracy {a}: networks needed ~ k^{fit.exponent:.3f} [{fit.ci[0]:.3f}, {fit.ci[1]:.3f}] "
          f"for k = {cfg.ks[2]}..{cfg.ks[-1]}")

# %% [markdown]
# Reading the table: the law reproduces the size and the growth of the authors' ensembles, but not every
# logged run is a typical outcome of it — the misses sit just outside the replays' band (see the table),
# mostly on the side of the authors needing more networks. Their networks are finite (width 50 000) and
# trained by SGD for a fixed number of epochs; the law is the infinite-width, fully trained limit. At
# $k = 5$ there are only 10 distinct two-hot inputs, so a run's accuracy moves in steps of 10 % and its
# stopping size scatters widely.

# %%
fig, ax = plt.subplots(figsize=(8, 4.4))
for color, a in zip(colors(2), (0.9, 0.999)):
    sub = needed[(needed.accuracy == a) & needed.k.isin(cfg.ks)]
    ax.plot(sub.k, sub.networks, "-", color=color, label=f"theory, accuracy {a}")
    runs = LOGGED[a]
    ax.plot(list(runs), list(runs.values()), "o", color=color, label=f"authors' runs, accuracy {a}")
grid = np.array(cfg.ks, dtype=float)
ax.plot(grid, grid**2, "k:", lw=1, label="k^2 (the paper's bound, up to constants)")
ax.set(xscale="log", yscale="log", xlabel="k (input dimension)", ylabel="networks in the ensemble",
       title="ensemble size needed to decode inputs with two ones")
label_log_ticks(ax, [4, 8, 16, 30])
ax.legend(fontsize="small")
fig.tight_layout()
plt.show()

# %% [markdown]
# Why the growth is close to linear here: the margin by which a wrong coordinate's mean sits below 0
# shrinks like $1/k$, but the spread of each network's output shrinks too, because the first layer's
# weights have variance $1/k$ and the inputs unit length (the output's variance at initialisation is
# $1/2k$). The paper's $k^2$ is an upper bound that does not use the second effect.

# %% [markdown]
# ## Finite networks, trained
#
# An ensemble of real networks for $k = 6$: width 1024, the authors' initialisation, full-batch gradient
# descent on the squared error until the training loss is at machine precision, all networks as one
# batched computation (`replib.nets.StackedMLP`). Their outputs on the two-hot inputs, against the
# Gaussian-process law above.

# %%
k = cfg.k_net
perm = torch.randperm(k, generator=ch.generator)
eye = torch.eye(k, dtype=torch.float64)
nets = StackedMLP(k, [cfg.width] * cfg.nets, 1, d_out=k, weight_var=1.0, bias_var=0.0, parametrisation="standard",
                  generator=ch.generator, dtype=torch.float64)
history = train(nets, eye, eye[perm], steps=cfg.steps, lr=0.02)
all_inputs = torch.tensor([[(mask >> i) & 1 for i in range(k)] for mask in range(1, 2**k)], dtype=torch.float64)
with torch.no_grad():
    outputs = nets(all_inputs / all_inputs.norm(dim=1, keepdim=True))  # (nets, 2^k - 1, k)
targets = all_inputs @ eye[perm]  # x ↦ Σ_i x_i e_perm(i)

# %% tags=["nbval-check-output"]
inputs, mean, std = gp_law(k)
rows = [(all_inputs == r).all(1).nonzero()[0, 0].item() for r in inputs]
emp = outputs[:, rows] @ eye[perm].T  # back to the identity permutation's coordinates
mean_gap = float((emp.mean(0) - mean).abs().max())
std_ratio = (emp.std(0) / std[:, None])
print(f"k = {k}, {cfg.nets} networks of width {cfg.width}; final training loss (max over nets) "
      f"{float(history.loss[-1].max()):.1e}")
print(f"two-hot inputs: max |ensemble mean - GP mean| {mean_gap:.3f} (GP margins: targets >= "
      f"{float(mean[inputs > 0].min()):.3f}, others <= {float(mean[inputs == 0].max()):.3f}); "
      f"std / GP std in [{float(std_ratio.min()):.3f}, {float(std_ratio.max()):.3f}]")

# %%
sizes = np.unique(np.geomspace(1, cfg.nets, 12).astype(int))
ones = all_inputs.sum(1)
acc_rows = []
for n_nets in sizes:
    decoded = (outputs[:n_nets].mean(0) > 0).double()
    correct = (decoded == targets).all(1).double()
    acc_rows += [{"networks": n_nets, "ones in the input": int(o), "accuracy": float(correct[ones == o].mean())}
                 for o in range(2, k + 1)]
acc = pd.DataFrame(acc_rows)
theory = expected_accuracy(mean, std, inputs, sizes)
fig, ax = plt.subplots(figsize=(8, 4.2))
sns.lineplot(acc, x="networks", y="accuracy", hue="ones in the input", marker="o",
             palette=colors(k - 1), ax=ax)
ax.plot(sizes, theory, "k--", lw=1.2, label="GP theory, two ones")
ax.set(xscale="log", xlabel="networks averaged", ylabel="inputs decoded exactly",
       title=f"trained ensemble, k = {k} (all inputs with 2..{k} ones)")
ax.legend(fontsize="small", title="ones in the input")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Verdict
#
# * **The ensemble size law.** Every ensemble size the authors logged (accuracy 0.9 and 0.999) lies within
#   the central 90 % of our replays of their protocol with ensembles drawn from the infinite-width law, and
#   the expected-accuracy law grows no faster than $k^2$ (fitted exponent $\le 2$).
# * **Theory vs trained networks.** The trained ensemble's mean output is within 0.05 of the predicted
#   mean on every two-hot input and coordinate, and its spread within 25 % of the predicted one.
# * **Exact decoding.** The average of all trained networks decodes every input with two or more ones.
# * **Control.** A single trained network must fail on some of those inputs.

# %% tags=["nbval-check-output"]
inside = int(comparison.inside.sum())
full = (outputs.mean(0) > 0).double()
multi = ones >= 2
exact_all = bool((full[multi] == targets[multi]).all())
single_acc = float(((outputs[0] > 0).double()[multi] == targets[multi]).all(1).double().mean())
ch.check("authors' logged ensemble sizes inside the replays' 5-95 % range", paper=f"all {len(comparison)}",
         ours=f"{inside} of {len(comparison)}", passed=inside == len(comparison))
ch.check("exponent of the ensemble size in k (accuracy 0.999)", paper="<= 2 (quadratic bound)",
         ours=fits[0.999].exponent, ci=fits[0.999].ci, passed=fits[0.999].exponent <= 2)
ch.check("trained ensemble: max |mean - GP mean|; std / GP std", paper="<= 0.05; within [0.8, 1.25]",
         ours=f"{mean_gap:.3f}; {float(std_ratio.min()):.3f} to {float(std_ratio.max()):.3f}",
         passed=mean_gap <= 0.05 and float(std_ratio.min()) >= 0.8 and float(std_ratio.max()) <= 1.25)
ch.check(f"average of {cfg.nets} nets decodes every input with >= 2 ones (k = {k})", paper="exact",
         ours=exact_all, passed=exact_all)
ch.control("a single network: inputs with >= 2 ones decoded exactly", paper="not all (< 1)", ours=single_acc,
           passed=single_acc < 1)
ch.verdict()

# %% [markdown]
# ## Differences from the paper
#
# * **Theory instead of 50 000-wide networks.** The ensemble-size curve comes from the infinite-width
#   Gaussian-process law of trained networks, evaluated in closed form, not from training thousands of
#   networks of width 50 000 for 10 000 epochs; we compare it with the sizes the authors' own runs logged,
#   and check the law on a smaller ensemble that we do train (width 1024, $k = 6$).
# * **Expected vs realised.** The theory gives the *expected* accuracy of an $N$-network ensemble; a single
#   run's accuracy on 1000 random test inputs fluctuates around it, which is one reason the logged sizes
#   scatter around the prediction.
# * **Inputs with one 1.** These are the training inputs: every network fits them, and a non-target
#   coordinate's output is zero up to rounding, so thresholding at exactly 0 is ill-posed there; we test
#   inputs with two or more ones, as the paper's experiments do (with two).
# * **Not shown.** The paper's proof constants and its logarithmic-training-size argument for other
#   input sets.

# %% [markdown]
# ## Run info

# %%
ch.run_info()
