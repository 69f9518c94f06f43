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
# # Mean-field two-layer networks as kernel learners
#
# **Paper.** {cite}`takakura2024meanfield`.
#
# **Claim.** Let the second layer of a two-layer network move infinitely faster than the first (a
# two-timescale limit). Then the network is always kernel ridge regression with its *intrinsic kernel* —
# the average of $h(x; w)\,h(x'; w)$ over the first-layer neurons — and training the first layer by
# mean-field Langevin dynamics is a convex problem over that kernel, which converges globally. What the
# network learns is a data-dependent kernel: during training the kernel turns toward the target (its
# alignment grows) and its degrees of freedom change, growing with the noise in the labels. The paper
# also proposes a label-noise procedure — fresh noise added to the labels the second layer is fitted to,
# at every step — that penalises the degrees of freedom and so acts as an implicit regulariser.
#
# The chapter mirrors the paper's Figure 1 (kernel-target alignment and degrees of freedom during
# training, on $y = x_1 x_2$ in 15 dimensions, for several label-noise levels $\sigma$) and Figure 2
# (degrees of freedom and test loss with the label-noise procedure at several strengths $\tilde\sigma$).
#
# **Negative controls.** (i) Remove the data from the first layer's dynamics (weight decay and Langevin
# noise only): the kernel is then a random-feature kernel that never learns, and its alignment must not
# grow. (ii) Let the first layer's loss see the noisy labels too (plain fresh label noise): the paper's
# own analysis of data noise says this pushes the degrees of freedom *up*, so it must not lower them.

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
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from replib import Chapter
from replib.kernels import MLPKernel, kernel_ridge_path, rbf_kernel
from replib.meanfield import train_two_timescale
from replib.plotting import colors, median_band, use_book_style

ch = Chapter("feature_learning/meanfield_kernel_perspective", scale=SCALE, seed=SEED, cite="takakura2024meanfield",
             claim="Two-timescale mean-field Langevin training learns a data-dependent kernel that aligns with the "
                   "target; data noise raises its degrees of freedom and a label-noise procedure lowers them")
cfg = ch.settings(
    smoke=dict(seeds=2, n=200, width=200, n_test=500, steps=150),
    book=dict(seeds=5, n=500, width=500, n_test=1000, steps=300),
    full=dict(seeds=5, n=1000, width=2000, n_test=2000, steps=10000),
)
use_book_style()
torch.set_default_dtype(torch.float64)
DIM, SIGMAS = 15, [0.0, 0.5, 1.0]  # input dimension; label noise U[-sigma, sigma]
PROCEDURE = [1.0, 2.0]  # strengths sigma~ of the label-noise procedure (fresh U[-sigma~, sigma~] every step)
DYNAMICS = dict(ridge=0.25, weight_decay=0.25, temperature=0.004, lr=0.2)  # the paper's lambda_a, lambda_w, lambda, eta
INIT_STD = 0.3
RECORD = 10

# %% [markdown]
# ## Setup
#
# $x \sim \mathcal N(0, I_{15})$, target $f^*(x) = x_1 x_2$, labels $y = f^*(x) + \varepsilon$ with
# $\varepsilon \sim U[-\sigma, \sigma]$. Neurons $h(x; w) = \mathrm{relu}(\langle w, (x, 1)\rangle)$, $m$
# particles initialised $\mathcal N(0, 0.3^2 I)$. The second layer is solved exactly at every step (ridge
# $\lambda_a = 0.25$ on the summed squared loss); the particles follow the mean-field Langevin update with
# step $\eta = 0.2$, weight decay $\lambda_w = 0.25$ and temperature $\lambda = 0.004$, the paper's
# constants (`replib.meanfield`). We record the intrinsic kernel's alignment with $f^*$ on held-out
# points (centred), its degrees of freedom $\operatorname{tr} K(K + \lambda_a I)^{-1}$ on the training
# points, and the network's test error against $f^*$. Seeds and noise levels run as one batch.

# %%
gen = ch.generator
S = cfg.seeds
x = torch.randn(S, cfg.n, DIM, generator=gen)
x_test = torch.randn(S, cfg.n_test, DIM, generator=gen)
f, f_test = x[..., 0] * x[..., 1], x_test[..., 0] * x_test[..., 1]
w0 = INIT_STD * torch.randn(S, cfg.width, DIM + 1, generator=gen)
noise = 2 * torch.rand(S, cfg.n, generator=gen) - 1
batch = lambda t: t.repeat(len(SIGMAS), *[1] * (t.ndim - 1))  # noqa: E731  (noise level major, seed minor)
y = batch(f) + torch.tensor(SIGMAS).repeat_interleave(S)[:, None] * batch(noise)
main = train_two_timescale(batch(x), y, batch(w0), x_test=batch(x_test), f_test=batch(f_test), steps=cfg.steps,
                           record_every=RECORD, generator=gen, **DYNAMICS)
frozen = train_two_timescale(x, f, w0, x_test=x_test, f_test=f_test, steps=cfg.steps, record_every=RECORD,
                             generator=gen, drift=False, **DYNAMICS)


def per_sigma(values):
    """(T, len(SIGMAS) * S) → (len(SIGMAS), S, T) as numpy."""
    return values.T.reshape(len(SIGMAS), S, -1).numpy()


# %% [markdown]
# ## What the kernel does during training (the paper's Figure 1)
#
# Median over seeds (band: all seeds) for each label-noise level; the control (no data in the first
# layer's dynamics, $\sigma = 0$) in grey.

# %%
steps = np.array(main.steps)
fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
for ax, values, label in [(axes[0], main.alignment, "kernel-target alignment"), (axes[1], main.dof,
                          "degrees of freedom"), (axes[2], main.test, "test error vs f*")]:
    for color, sigma, curve in zip(colors(len(SIGMAS)), SIGMAS, per_sigma(values)):
        median_band(ax, steps, curve, color=color, label=f"sigma = {sigma:g}")
    ax.set(xlabel="step", ylabel=label)
for ax, values in zip(axes, (frozen.alignment, frozen.dof, frozen.test)):
    ax.plot(steps, np.median(values.numpy(), 1), color="gray", ls="--", label="control: no data drift")
axes[2].set_yscale("log")
axes[0].legend(fontsize="small")
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
align, dof, test = per_sigma(main.alignment), per_sigma(main.dof), per_sigma(main.test)
table = pd.DataFrame([{"sigma": s, "alignment t=0": np.median(align[i, :, 0]), "alignment end": np.median(align[i, :, -1]),
                       "dof t=0": np.median(dof[i, :, 0]), "dof end": np.median(dof[i, :, -1]),
                       "test t=0": np.median(test[i, :, 0]), "test end": np.median(test[i, :, -1])}
                      for i, s in enumerate(SIGMAS)])
print(f"medians over {S} seeds, {cfg.steps} steps")
print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
ctl_ratio = frozen.alignment[-1] / frozen.alignment[0]
print(f"control (no data drift): alignment end / start, median {float(ctl_ratio.median()):.3f}")

# %% [markdown]
# ## The label-noise procedure (the paper's Figure 2)
#
# At every step, draw fresh $\tilde\varepsilon \sim U[-\tilde\sigma, \tilde\sigma]^n$ and fit the second
# layer to $y + \tilde\varepsilon$; the first layer then descends the loss of *that* fit on the data's own
# labels $y$. Averaged over $\tilde\varepsilon$ this objective is the original one plus
# $(\tilde\sigma^2/6)\,\operatorname{tr} K(K + \lambda_a I)^{-1}$, a penalty on the degrees of freedom
# (`replib.meanfield` derives the drift and a unit test checks both facts). We run it on the noisiest
# data above ($\sigma = 1$), same seeds and initial particles, for $\tilde\sigma \in \{1, 2\}$, and the
# control that also feeds the noisy labels to the first layer's loss.

# %%
noisy_data = slice((len(SIGMAS) - 1) * S, len(SIGMAS) * S)  # the sigma = 1 problems of the main batch
procedure = {f"procedure, sigma~ = {t:g}": train_two_timescale(
    x, y[noisy_data], w0, x_test=x_test, f_test=f_test, steps=cfg.steps, record_every=RECORD, generator=gen,
    label_noise=t, **DYNAMICS) for t in PROCEDURE}
procedure[f"control: noisy labels in both layers, sigma~ = {PROCEDURE[-1]:g}"] = train_two_timescale(
    x, y[noisy_data], w0, x_test=x_test, f_test=f_test, steps=cfg.steps, record_every=RECORD, generator=gen,
    label_noise=PROCEDURE[-1], noisy_first_layer=True, **DYNAMICS)
runs = {"no procedure": (dof[-1], test[-1])}
runs |= {name: (run.dof.T.numpy(), run.test.T.numpy()) for name, run in procedure.items()}

fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
for color, (name, (d, e)) in zip(colors(len(runs)), runs.items()):
    median_band(axes[0], steps, d, color=color, label=name)
    median_band(axes[1], steps, e, color=color, label=name)
axes[0].set(xlabel="step", ylabel="degrees of freedom", title="data noise sigma = 1")
axes[1].set(xlabel="step", ylabel="test error vs f*", yscale="log", title="data noise sigma = 1")
axes[0].legend(fontsize="small")
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
print(f"data noise sigma = 1, medians over {S} seeds at step {cfg.steps}")
for name, (d, e) in runs.items():
    print(f"  {name:50s} dof {np.median(d[:, -1]):6.1f}   test error {np.median(e[:, -1]):.4f}")

# %% [markdown]
# The procedure raises the degrees of freedom here instead of lowering them. Its drift is the penalised
# objective's gradient *plus* zero-mean noise from $\tilde\varepsilon$, and the fit
# $(K + \lambda_a I)^{-1}\tilde\varepsilon$ amplifies that noise along the kernel's small eigenvalues. How
# large the noise is compared with the mean, per step, at the final particles of the $\tilde\sigma = 2$ run:

# %% tags=["nbval-check-output"]
last = procedure[f"procedure, sigma~ = {PROCEDURE[-1]:g}"].particles
draws = torch.stack([train_two_timescale(x, y[noisy_data], last, x_test=x_test, f_test=f_test, steps=1,
                                         record_every=1, generator=gen, label_noise=PROCEDURE[-1],
                                         **(DYNAMICS | dict(temperature=0.0, weight_decay=0.0))).particles - last
                     for _ in range(32)])
mean_step, spread = draws.mean(0), draws.std(0)
noise_to_drift = (spread.norm(dim=(-2, -1)) / mean_step.norm(dim=(-2, -1))).numpy()
print(f"per-step update from the first layer's loss (32 draws): noise / mean = {np.median(noise_to_drift):.1f} "
      f"(median over seeds)")

# %% [markdown]
# In the paper's parametrisation (mean loss, second-layer ridge $\lambda\lambda_a = 10^{-3}$, first-layer
# drift scaled by that ridge) the data's pull on a particle is a few hundred times weaker per step than in
# ours, relative to its Langevin noise $\sqrt{2\eta\lambda}$; the procedure's own noise shrinks with it,
# so over its $10^4$ steps the extra randomness is small next to the Langevin noise and the mean effect —
# the penalty — can win. In our faster parametrisation (300 steps) the same $\eta$ plausibly turns it into
# a much hotter random walk of the particles, and a hotter, less structured kernel has *more* degrees of
# freedom. This is our diagnosis, not a tested fact: rerunning in the paper's parametrisation needs its
# $10^4$ steps, beyond this page's budget (the `full` scale runs them, in our parametrisation).

# %% [markdown]
# ## Beside fixed kernels
#
# The paper proves that the learned kernel can beat *every* fixed kernel on unions of RKHSs, in sample
# complexity. Its experiments do not compare against fixed kernels, and neither is this task built to
# separate them: $x_1 x_2$ is a degree-2 polynomial and 500 samples are plenty for a well-tuned fixed
# kernel. For orientation only (not a check), the noiseless task with kernel ridge regression whose
# ridge — and, for the Gaussian kernel, lengthscale — is tuned on the test set itself.

# %% tags=["nbval-check-output"]
ridges = torch.logspace(-4, 2, 13)


def oracle(kernel):
    errors = [((kernel_ridge_path(kernel(x[s]), f[s], kernel(x_test[s], x[s]), ridges) - f_test[s]) ** 2)
              .mean(-1).min().item() for s in range(S)]
    return float(np.median(errors))


relu = MLPKernel(1, weight_var=INIT_STD**2 * DIM, bias_var=INIT_STD**2)  # the initial particles' kernel, m → ∞
fixed = {"ReLU kernel of the initial particles": oracle(lambda a, b=None: relu(a, b).nngp)}
fixed |= {f"Gaussian kernel, lengthscale {ls}": oracle(lambda a, b=None, ls=ls: rbf_kernel(a, b, lengthscale=ls))
          for ls in (2, 4, 8, 16)}
fixed["mean-field network, end of training"] = float(np.median(test[0, :, -1]))
print("test error vs f* (median over seeds; fixed kernels with test-tuned ridge)")
for name, err in fixed.items():
    print(f"  {name}: {err:.4f}")

# %% [markdown]
# ## Verdict
#
# * **The kernel aligns with the target.** Without label noise, the intrinsic kernel's alignment at the
#   end is at least twice its initial value on every seed, and the network's test error is below that of
#   its initial kernel.
# * **Noise raises the degrees of freedom.** The final degrees of freedom increase with $\sigma$ (medians),
#   and on every seed they are larger at $\sigma = 1$ than without noise.
# * **The label-noise procedure lowers the degrees of freedom and the test error.** At $\tilde\sigma = 1$
#   and $2$, on every seed, the final degrees of freedom and test error are below those without it.
# * **Controls.** With the data removed from the first layer's dynamics the alignment must not double.
#   With the noisy labels fed to both layers the degrees of freedom must not fall (median).

# %% tags=["nbval-check-output"]
ratio = align[0, :, -1] / align[0, :, 0]
final_dof = np.median(dof[:, :, -1], 1)
ch.check("alignment end / start, sigma = 0 (smallest seed)", paper="grows (>= 2 on every seed)",
         ours=float(ratio.min()), passed=bool(ratio.min() >= 2))
ch.check("test error end / start, sigma = 0 (largest seed)", paper="better than the initial kernel (< 1)",
         ours=float((test[0, :, -1] / test[0, :, 0]).max()), passed=bool((test[0, :, -1] < test[0, :, 0]).all()))
ch.check("final degrees of freedom at sigma = 0, 0.5, 1 (medians)", paper="increase with the noise",
         ours=", ".join(f"{v:.0f}" for v in final_dof),
         passed=bool((np.diff(final_dof) > 0).all() and (dof[-1, :, -1] > dof[0, :, -1]).all()))
base_dof, base_test = runs["no procedure"][0][:, -1], runs["no procedure"][1][:, -1]
for t in PROCEDURE:
    d, e = (v[:, -1] for v in runs[f"procedure, sigma~ = {t:g}"])
    ch.check(f"label-noise procedure sigma~ = {t:g}: dof / without (largest seed)", paper="lower (< 1 on every seed)",
             ours=float((d / base_dof).max()), passed=bool((d < base_dof).all()))
    ch.check(f"label-noise procedure sigma~ = {t:g}: test error / without (largest seed)",
             paper="lower (< 1 on every seed)", ours=float((e / base_test).max()), passed=bool((e < base_test).all()))
ch.control("alignment end / start without data drift (largest seed)", paper="does not grow (< 2)",
           ours=float(ctl_ratio.max()), passed=bool(ctl_ratio.max() < 2))
naive_dof = runs[f"control: noisy labels in both layers, sigma~ = {PROCEDURE[-1]:g}"][0][:, -1]
ch.control(f"noisy labels in both layers, sigma~ = {PROCEDURE[-1]:g}: dof / without (median)",
           paper="not lower (>= 1)", ours=float(np.median(naive_dof / base_dof)),
           passed=bool(np.median(naive_dof / base_dof) >= 1))
ch.verdict()

# %% [markdown]
# ## Differences from the paper
#
# * **Scale.** The paper trains $m = 2000$ particles for $T = 10\,000$ steps with 5 seeds; the book uses
#   $m = 500$, $n = 500$ and 300 steps (the curves have flattened by then), the `full` scale restores
#   $m = 2000$ and $T = 10\,000$. The constants $\eta, \lambda, \lambda_w, \lambda_a$ are the paper's
#   numbers, but they enter differently (next item).
# * **Activation, initialisation and $n$.** ReLU with a bias input and initial particles
#   $\mathcal N(0, 0.3^2 I)$; the paper's theory uses $\tanh(u \cdot x + b)$ and its experiment section
#   names neither the activation nor $n$.
# * **Parametrisation.** The paper uses the mean loss with second-layer ridge $\lambda\lambda_a$ and weight
#   decay $\lambda\lambda_w$ ($10^{-3}$ each, temperature $\lambda = 0.004$, initial particles
#   $\mathcal N(0, I/\lambda_w)$, the Gibbs prior) and $10^4$ steps; we use the summed loss with ridge
#   $\lambda_a$ and weight decay $\lambda_w$ directly. Relative to the data's pull, our Langevin noise is a few
#   hundred times weaker and each step covers far more of the dynamics — which is what lets the book run
#   in 300 steps, and, by our diagnosis above, likely what defeats the label-noise procedure.
# * **Label-noise procedure.** Implemented as the paper describes it (noise redrawn every step, in the
#   second-layer fit only; the first layer's drift differentiates through that fit). Its convergence
#   theorem needs as many output tasks as samples; like the paper's experiment, ours has one output.

# %% [markdown]
# ## Run info

# %%
ch.run_info()
