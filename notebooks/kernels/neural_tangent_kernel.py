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
# # The neural tangent kernel: fixed at infinite width
#
# **Paper.** {cite}`jacot2018ntk`.
#
# **Claim.** Gradient descent moves a network's outputs along its *neural tangent
# kernel* $\Theta(x, x') = \sum_p \partial_p f(x)\, \partial_p f(x')$. In the NTK
# parametrisation the paper proves that, as the width $n$ of every hidden layer grows,
# $\Theta$ at initialisation converges to a deterministic kernel $\Theta_\infty$ (its
# Theorem 1) and stays at it during training (Theorem 2); $\Theta_\infty$ is positive
# definite for data on the sphere (Proposition 2). Least-squares training then follows a
# linear equation, $f_{t+1} - y = (I - \tfrac{\eta}{N}\Theta_\infty)(f_t - y)$ in our
# discrete-time form, so the residual along the kernel's top eigenvector decays fastest,
# at the rate $\eta\lambda_1/N$, and the trained network is a Gaussian process whose
# mean and percentiles follow from the kernels (the paper's Fig. 2). We mirror the
# paper's Fig. 1 (the kernel $\Theta(x_0, x(\gamma))$ on the unit circle at
# initialisation and after training), its Fig. 2 (trained functions against the limiting
# Gaussian), and its least-squares analysis on handwritten digits, and we measure
# *rates*: how fast the kernel's randomness and its movement vanish as the width grows.
#
# **Negative control.** Everything rests on the $1/\sqrt{n}$ scaling of the NTK
# parametrisation. The *mean-field* scaling multiplies the output by $1/\sqrt{n}$ and
# the learning rate by $n$: the function moves at the same speed, but the features move
# by an amount that does not shrink with width. Run with the same initial weights, every
# test of a vanishing kernel effect must fail there.

# %% tags=["remove-cell"]
# Colab: install the book's library (at the release this chapter was written against).
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "replib @ git+https://github.com/theory-replicated/theory-replicated@v0.1.0"], check=True)

# %% tags=["parameters"]
SCALE = "book"  # smoke (~30 s on 2 CPU cores) | book (~3 min) | full (large, GPU)
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
from replib.data import circle, digits
from replib.fitting import bootstrap_interval, replicate_exponents, seed_interval
from replib.kernels import MLPKernel
from replib.nets import StackedMLP, train
from replib.plotting import colors, label_log_ticks, use_book_style

ch = Chapter("kernels/neural_tangent_kernel", scale=SCALE, seed=SEED,
             cite="jacot2018ntk",
             claim="The NTK of a wide network converges to a deterministic kernel "
                   "and stays constant in training; least squares follows the linear "
                   "kernel dynamics")
cfg = ch.settings(
    smoke=dict(circle_points=32, seeds=10, init_widths=[32, 64, 128, 256],
               train_widths=[32, 64, 128, 256], figure_widths=(64, 256), steps=100,
               digits=64, dyn_members=5, dyn_widths=[32, 64, 128, 256], dyn_steps=40,
               rate_width=256, rate_members=10),
    book=dict(circle_points=64, seeds=10,
              init_widths=[64, 128, 256, 512, 1024, 2048],
              train_widths=[64, 128, 256, 512, 1024], figure_widths=(128, 1024),
              steps=200, digits=128, dyn_members=6,
              dyn_widths=[32, 64, 128, 256, 512], dyn_steps=100,
              rate_width=1024, rate_members=24),
    # large: the paper's Fig. 1 widths (500 and 10 000) and more members (for a GPU)
    full=dict(circle_points=128, seeds=10,
              init_widths=[250, 500, 1000, 2000, 4000, 10000],
              train_widths=[250, 500, 1000, 2000, 4000, 10000],
              figure_widths=(500, 10000),
              steps=200, digits=256, dyn_members=10,
              dyn_widths=[64, 128, 256, 512, 1024, 2048, 4096], dyn_steps=300,
              rate_width=4096, rate_members=40),
)
use_book_style()
DEPTH, WEIGHT_VAR, BIAS_VAR = 3, 1.0, 0.01  # the paper's Fig. 1: 4 layers, β = 0.1
dev = ch.device

# %% [markdown]
# ## The network and its limiting kernel
#
# Three hidden ReLU layers of width $n$ in the NTK parametrisation (weights $\mathcal
# N(0, 1)$ scaled by $1/\sqrt{\text{fan-in}}$, bias scale $\beta = 0.1$), as in the
# paper's Fig. 1. The limiting kernels — $\Theta_\infty$ and the Gaussian-process
# covariance $\Sigma$ of the network at initialisation — follow from the layer-by-layer
# recursion of the paper's Theorem 1 (`replib.kernels.MLPKernel`); the empirical kernel
# of a whole batch of networks comes from `StackedMLP.ntk`, which contracts per-layer
# activations and back-propagated signals instead of forming Jacobians. Inputs are
# points $x(\gamma) = (\cos\gamma, \sin\gamma)$ on the unit circle.
#
# Each training run is done twice from *the same initial weights*: once in the NTK
# parametrisation and once in the mean-field scaling (output $\times 1/\sqrt n$,
# learning rate $\times n$), so the control differs from the claim in that one
# ingredient only.

# %%
gamma, x_circle = circle(cfg.circle_points)
gamma, x_circle = gamma.to(dev), x_circle.to(dev)
limit = MLPKernel(DEPTH, "relu", WEIGHT_VAR, BIAS_VAR)
theta_limit = limit(x_circle).ntk
x_circle = x_circle.float()
SCALINGS = ("NTK", "mean-field")


def output_scale(scaling, width):
    return 1.0 if scaling == "NTK" else 1 / math.sqrt(width)


def networks(width, seed, scale=1.0, d_in=2, weight_var=WEIGHT_VAR, members=None):
    """``members`` independent networks of one width, as one stacked computation."""
    return StackedMLP(d_in, [width] * (members or cfg.seeds), DEPTH,
                      weight_var=weight_var, bias_var=BIAS_VAR, output_scale=scale,
                      device=dev,
                      generator=torch.Generator().manual_seed(seed))


def relative(a, b):
    """‖a − b‖_F / ‖b‖_F for each member of a stack of Gram matrices."""
    a, b = a.double(), b.double()
    return ((a - b).norm(dim=(-2, -1)) / b.norm(dim=(-2, -1))).cpu().numpy()


def decay(widths, values):
    """Exponent of the seed-mean against width; bootstrap interval over the seeds."""
    logw = np.log(widths)
    return bootstrap_interval(
        values, lambda u: float(np.polyfit(logw, np.log(u.mean(0)), 1)[0]), seed=SEED)


def pass_probability(interval, true=-0.5, bound=-0.25):
    """P(the interval's upper end < bound) if the exponent were ``true``, with the
    interval's own spread (normal approximation of the bootstrap distribution)."""
    se = (interval.ci[1] - interval.ci[0]) / (2 * 1.96)
    return float(stats.norm.cdf((bound - true) / se - 1.96))


# %% [markdown]
# ## 1. At initialisation the kernel converges to $\Theta_\infty$
#
# For each width, the relative Frobenius distance between each random network's kernel
# on the circle and $\Theta_\infty$. The kernel is an average over $n$ neurons per
# layer, so the central limit theorem predicts fluctuations of order $n^{-1/2}$: a slope
# of $-1/2$ on log-log axes. (The paper proves the convergence; the rate is the CLT's.)

# %%
init_error = np.stack([
    relative(networks(w, 1000 * SEED + i).ntk(x_circle), theta_limit)
    for i, w in enumerate(progress(cfg.init_widths, desc="widths"))
], axis=1)  # (seeds, widths)
init_fit = decay(cfg.init_widths, init_error)

# %% [markdown]
# ## 2. During training the kernel stays at $\Theta_\infty$
#
# The paper's Fig. 1 experiment: each network is trained by full-batch gradient descent
# (learning rate 1, 200 steps at book scale) on four points of the circle, and we
# compare its kernel before and after training — with its own initial kernel (the
# movement) and with $\Theta_\infty$ (where Theorems 1 and 2 together say it must end
# up). Kernels of the mean-field runs are divided by the squared output scale, so both
# are in the same units.

# %%
angles = torch.tensor([0.25, 0.75, 1.25, 1.75], dtype=torch.float64, device=dev)
angles = angles * math.pi
x_train = torch.stack([angles.cos(), angles.sin()], 1)
y_train = torch.tensor([0.4, -0.2, 0.3, -0.5], device=dev)


def train_on_circle(width, scaling, seed):
    """Kernels on the circle (NTK units) before and after training; trained outputs."""
    a = output_scale(scaling, width)
    net = networks(width, seed, a)
    hist = train(net, x_train.float(), y_train, steps=cfg.steps, lr=1.0 / a**2,
                 record=lambda m: (m.ntk(x_circle) / a**2, m(x_circle).detach()),
                 record_every=cfg.steps)
    (before, _), (after, f_after) = hist.records[0], hist.records[-1]
    return before, after, f_after.double()


runs = {}
for i, w in enumerate(progress(cfg.train_widths, desc="circle")):
    for scaling in SCALINGS:  # same seed: same initial weights in both scalings
        runs[scaling, w] = train_on_circle(w, scaling, 1000 * SEED + 100 + i)
moved = {s: np.stack([relative(runs[s, w][1], runs[s, w][0])
                      for w in cfg.train_widths], 1) for s in SCALINGS}
final = {s: np.stack([relative(runs[s, w][1], theta_limit)
                      for w in cfg.train_widths], 1) for s in SCALINGS}
moved_fit = {s: decay(cfg.train_widths, moved[s]) for s in SCALINGS}
final_fit = {s: decay(cfg.train_widths, final[s]) for s in SCALINGS}

# %% [markdown]
# The paper's Fig. 1, reproduced: $\Theta(x_0, x(\gamma))$ with $x_0 = (1, 0)$ for every
# network at initialisation and after training, at a narrow and a wide width, against
# the limit. At the wider width the kernels of different initialisations bunch around
# $\Theta_\infty$ and barely move in training.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
deg = np.degrees(gamma.cpu().numpy())
deg = np.where(deg > 180, deg - 360, deg)
order = np.argsort(deg)
c2 = colors(2)
for ax, w in zip(axes, cfg.figure_widths):
    before, after = (runs["NTK", w][k][:, 0].cpu().numpy() for k in (0, 1))
    for s in range(cfg.seeds):
        ax.plot(deg[order], before[s][order], color=c2[0], lw=0.8, alpha=0.7,
                label="initialisation" if s == 0 else None)
        ax.plot(deg[order], after[s][order], color=c2[1], lw=0.8, ls="--", alpha=0.7,
                label=f"after {cfg.steps} GD steps" if s == 0 else None)
    ax.plot(deg[order], theta_limit[:, 0].cpu().numpy()[order], color="black", lw=2,
            label=r"$\Theta_\infty$")
    ax.set(title=f"width n = {w}, {cfg.seeds} initialisations",
           xlabel=r"angle $\gamma$ (degrees)")
axes[0].set_ylabel(r"$\Theta(x_0, x(\gamma))$")
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.06))
fig.suptitle("Empirical NTK on the unit circle (mirrors Fig. 1 of Jacot et al.)")
fig.tight_layout(rect=(0, 0.05, 1, 1))
plt.show()

# %% [markdown]
# Rates: on the left the distance to $\Theta_\infty$ at initialisation and after
# training in both scalings; on the right the kernel's own movement in training. Points
# are single networks, lines the seed means. In the NTK parametrisation everything falls
# with width; in the mean-field scaling the kernel moves by as much at every width (it
# grows severalfold in training), so it never settles at $\Theta_\infty$.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
series = [
    (axes[0], "at initialisation", cfg.init_widths, init_error, init_fit),
    (axes[0], "after training, NTK", cfg.train_widths, final["NTK"], final_fit["NTK"]),
    (axes[0], "after training, mean-field (control)", cfg.train_widths,
     final["mean-field"], final_fit["mean-field"]),
    (axes[1], "NTK", cfg.train_widths, moved["NTK"], moved_fit["NTK"]),
    (axes[1], "mean-field (control)", cfg.train_widths, moved["mean-field"],
     moved_fit["mean-field"]),
]
palette = colors(3)
for k, (ax, name, widths, values, fit) in enumerate(series):
    c = palette[k % 3] if ax is axes[0] else palette[1 + (k - 3)]
    for j, w in enumerate(widths):
        ax.scatter([w] * len(values), values[:, j], color=c, s=10, alpha=0.4)
    ax.plot(widths, values.mean(0), color=c, marker="o",
            label=f"{name}: slope {fit.value:.2f} [{fit.ci[0]:.2f}, {fit.ci[1]:.2f}]")
axes[0].set(ylabel=r"$\|\Theta - \Theta_\infty\|_F / \|\Theta_\infty\|_F$",
            title="Distance from the limiting kernel")
axes[1].set(ylabel=r"$\|\Theta_T - \Theta_0\|_F / \|\Theta_0\|_F$",
            title=f"Movement in {cfg.steps} steps of training")
for ax in axes:
    ax.set(xscale="log", yscale="log", xlabel="width n (neurons per hidden layer)")
    label_log_ticks(ax, cfg.init_widths)
    ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.2))
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 3. The trained network is the limiting Gaussian (the paper's Fig. 2)
#
# In the limit, the network at initialisation is a centred Gaussian process with
# covariance $\Sigma$, and training acts on it linearly: $f_T(x) = f_0(x) +
# \Theta_\infty(x, X)\Theta_\infty(X, X)^{-1} \big[I - (I -
# \tfrac{\eta}{N}\Theta_\infty(X, X))^T\big](y - f_0(X))$. So the trained function is
# Gaussian with a mean and a covariance we can compute. As in the paper's Fig. 2 we draw
# the trained networks over the Gaussian's median and its 10 % and 90 % percentiles. The
# test: at the 60 circle points that are not training points, the fraction of each
# network's values inside the 10–90 % band must be 80 % on average over the networks.
# In the mean-field control the same computation gives the same median and a band
# shrunk by the output scale $1/\sqrt n$ (the initial function is that much smaller):
# in the lazy picture these networks would all end on the kernel's prediction. They
# end visibly off it, because their features move; the test must fail there.

# %%
x_all = torch.cat([x_train, x_circle.double()])
kernels = limit(x_all)
n_tr = len(x_train)
th_xx, th_zx = kernels.ntk[:n_tr, :n_tr], kernels.ntk[n_tr:, :n_tr]
eye = torch.eye(n_tr, dtype=torch.float64, device=dev)
shrink = eye - torch.linalg.matrix_power(eye - th_xx / n_tr, cfg.steps)  # lr 1
gain = th_zx @ torch.linalg.solve(th_xx, shrink)  # (circle, train)
gp_mean = gain @ y_train.double()
op = torch.cat([-gain, torch.eye(len(x_circle), dtype=torch.float64, device=dev)], 1)
gp_sd = (op @ kernels.nngp @ op.T).diagonal().clamp_min(0).sqrt()
q90 = stats.norm.ppf(0.9)
off_train = (torch.cdist(x_circle.double(), x_train).min(1).values > 1e-6).cpu().numpy()


def band_fraction(scaling, width):
    """Per network: fraction of the off-training circle points inside the band."""
    z = (runs[scaling, width][2] - gp_mean) / (gp_sd * output_scale(scaling, width))
    return (z.abs() <= q90).cpu().numpy()[:, off_train].mean(1)


wide = cfg.train_widths[-1]
band = {s: seed_interval(band_fraction(s, wide)) for s in SCALINGS}

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
panels = [("NTK", cfg.train_widths[0]), ("NTK", wide), ("mean-field", wide)]
lo, hi = (gp_mean - q90 * gp_sd).cpu().numpy(), (gp_mean + q90 * gp_sd).cpu().numpy()
train_deg = np.degrees(angles.cpu().numpy())
train_deg = np.where(train_deg > 180, train_deg - 360, train_deg)
for ax, (scaling, w) in zip(axes, panels):
    a = output_scale(scaling, w)
    f = runs[scaling, w][2].cpu().numpy()
    for s in range(cfg.seeds):
        ax.plot(deg[order], f[s][order], color=c2[0], lw=0.8, alpha=0.6,
                label="trained networks" if s == 0 else None)
    mean = gp_mean.cpu().numpy()
    ax.plot(deg[order], mean[order], color="black", lw=2,
            label="limiting Gaussian: median")
    for q, lab in ((lo, "10 % / 90 % percentiles"), (hi, None)):
        q = mean + (q - mean) * a
        ax.plot(deg[order], q[order], color="black", lw=1.2, ls="--", label=lab)
    ax.scatter(train_deg, y_train.cpu().numpy(), color=c2[1], zorder=5, s=30,
               label="training points")
    ax.set(title=f"{scaling}, width {w}", xlabel=r"angle $\gamma$ (degrees)")
axes[0].set_ylabel(r"$f_T(x(\gamma))$")
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncol=4, bbox_to_anchor=(0.5, -0.07))
fig.suptitle("Trained networks against the limiting Gaussian "
             "(mirrors Fig. 2 of Jacot et al.)")
fig.tight_layout(rect=(0, 0.05, 1, 1))
plt.show()

# %% [markdown]
# ## 4. Least squares: linear kernel dynamics, fastest along the top eigenvector
#
# The paper's least-squares analysis, on handwritten digits from scikit-learn (128
# images at book scale; inputs on the sphere, target 1 for digits ≥ 5 and 0 for the
# rest; the paper used MNIST). Each network is trained on the target *plus its own
# initial output*, so that its residual starts at $-y$ whatever the initialisation
# (training the centred network $f - f_0$; the dynamics are unchanged). Learning rate
# $\eta = N/(2\lambda_1)$, with $\lambda_1$ the top eigenvalue of $\Theta_\infty$ on the
# training set.
#
# *Linear dynamics.* For each network we predict its whole trajectory from its kernel at
# initialisation, $r_t^{\mathrm{lin}} = (I - \tfrac{\eta}{N}\Theta_0)^t r_0$, and
# measure the worst distance $\max_t \|r_t - r_t^{\mathrm{lin}}\| / \|r_0\|$ against
# width, in both scalings. (Part 1 measures the remaining gap between $\Theta_0$ and
# $\Theta_\infty$.)
#
# *Rate along the top eigenvector.* $\Theta_\infty$'s top eigenvalue on these digits is
# isolated (about 10 times the next), and its eigenvector $u_1$ is nearly the constant
# direction. The linear equation says $u_1^\top r_t$ shrinks by the factor $1 -
# \eta\lambda_1/N = 1/2$ per step: a decay rate $\eta\lambda_1/N$ (in the
# continuous-time form of the paper, $e^{-t\eta\lambda_1/N}$). We measure it over the
# first 3 steps for 24 networks of width 1024 (book scale).

# %%
x_digits, labels = digits()
pick = torch.randperm(len(x_digits), generator=torch.Generator().manual_seed(SEED))
pick = pick[:cfg.digits]
xd = x_digits[pick].to(dev)
yd = (labels[pick] >= 5).to(dev, torch.float64)
N = len(xd)
theta_digits = MLPKernel(DEPTH, "relu", 2.0, BIAS_VAR)(xd).ntk
lam, eigvec = torch.linalg.eigh(theta_digits)
u1 = eigvec[:, -1]
LR = N / (2 * lam[-1].item())
xd = xd.float()


def digits_run(width, scaling, seed, members, steps, lr_factor=1.0, kernel=True):
    """Residuals (steps + 1, members, N) and initial kernels (members, N, N)."""
    a = output_scale(scaling, width)
    net = networks(width, seed, a, d_in=64, weight_var=2.0, members=members)
    f0 = net(xd).detach().double()
    theta0 = net.ntk(xd).double() / a**2 if kernel else None
    hist = train(net, xd, (yd + f0).float(), steps=steps, lr=lr_factor * LR / a**2,
                 record=lambda m: m(xd).detach().double(), record_every=1)
    return torch.stack(hist.records) - (yd + f0), theta0


def linear_distance(r, theta0):
    step = torch.eye(N, dtype=torch.float64, device=dev) - LR / N * theta0
    r_lin = [r[0]]
    for _ in range(len(r) - 1):
        r_lin.append(torch.einsum("eij,ej->ei", step, r_lin[-1]))
    gap = (r - torch.stack(r_lin)).norm(dim=-1).amax(0)
    return (gap / r[0].norm(dim=-1)).cpu().numpy()


lin, residuals = {}, {}
for i, w in enumerate(progress(cfg.dyn_widths, desc="digits")):
    for scaling in SCALINGS:
        r, theta0 = digits_run(w, scaling, 1000 * SEED + 200 + i, cfg.dyn_members,
                               cfg.dyn_steps)
        lin[scaling, w] = linear_distance(r, theta0)
        residuals[scaling, w] = r
lin_error = {s: np.stack([lin[s, w] for w in cfg.dyn_widths], 1) for s in SCALINGS}
lin_fit = {s: seed_interval(replicate_exponents(cfg.dyn_widths, lin_error[s]))
           for s in SCALINGS}

RATE_STEPS = 3
predicted_rate = -math.log(1 - LR * lam[-1].item() / N)  # = log 2


def top_rate_ratio(lr_factor):
    """Measured decay rate along u₁ over the first steps / the predicted ηλ₁/N rate."""
    r, _ = digits_run(cfg.rate_width, "NTK", 1000 * SEED + 300, cfg.rate_members,
                      RATE_STEPS, lr_factor, kernel=False)
    p = r @ u1
    rate = -torch.log((p[RATE_STEPS] / p[0]).abs()) / RATE_STEPS
    return (rate / predicted_rate).cpu().numpy()


rate_ratio = top_rate_ratio(1.0)
LR_ERROR = 1.25  # power control: the same networks trained 25 % faster, same prediction
rate_ratio_fast = top_rate_ratio(LR_ERROR)
RATE_BAND = (0.8, 1.25)
rate_iv, rate_iv_fast = seed_interval(rate_ratio), seed_interval(rate_ratio_fast)


def inside(iv, band=RATE_BAND):
    return band[0] <= iv.ci[0] and iv.ci[1] <= band[1]


def simulated_pass(true_ratio, spread):
    """P(the rate check passes) at a true mean ratio, with our spread (simulated)."""
    k = len(rate_ratio)
    sim = np.random.default_rng(SEED).normal(true_ratio, spread, size=(4000, k))
    half = stats.t.ppf(0.975, k - 1) * sim.std(1, ddof=1) / math.sqrt(k)
    return float(np.mean((sim.mean(1) - half >= RATE_BAND[0])
                         & (sim.mean(1) + half <= RATE_BAND[1])))


EXPECTED_FAST = math.log(1 / (1 - LR_ERROR / 2)) / math.log(2)  # 1.415
rate_pass = simulated_pass(1.0, rate_ratio.std(ddof=1))
rate_power = 1 - simulated_pass(EXPECTED_FAST, rate_ratio_fast.std(ddof=1))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
widest = cfg.dyn_widths[-1]
t = np.arange(cfg.dyn_steps + 1)
r = residuals["NTK", widest]
for k, c in zip((1, 2, 3), colors(3)):
    comp = (r @ eigvec[:, -k]).abs().mean(1).cpu().numpy()
    axes[0].plot(t, comp / comp[0], color=c, label=f"network, eigenvector {k}")
    pred = (1 - LR * lam[-k].item() / N) ** t
    axes[0].plot(t, pred, color=c, ls=":", label=rf"$(1-\eta\lambda_{k}/N)^t$")
axes[0].set(yscale="log", ylim=(1e-4, 2), xlabel="gradient-descent step t",
            ylabel=r"$|u_k^\top r_t| \,/\, |u_k^\top r_0|$",
            title=f"Residual along eigenvectors of $\\Theta_\\infty$ (width {widest})")
axes[0].legend(fontsize="x-small", ncol=3, loc="upper center",
               bbox_to_anchor=(0.5, -0.2))
for (scaling, err), c in zip(lin_error.items(), colors(2)):
    for j, w in enumerate(cfg.dyn_widths):
        axes[1].scatter([w] * len(err[:, j]), err[:, j], color=c, alpha=0.5, s=12)
    fit = lin_fit[scaling]
    axes[1].plot(cfg.dyn_widths, err.mean(0), color=c, marker="o",
                 label=f"{scaling}: slope {fit.value:.2f} "
                       f"[{fit.ci[0]:.2f}, {fit.ci[1]:.2f}]")
axes[1].set(xscale="log", yscale="log", xlabel="width n",
            ylabel=r"$\max_t \|r_t - r_t^{\mathrm{lin}}\| \,/\, \|r_0\|$",
            title="Distance from the linear kernel dynamics")
label_log_ticks(axes[1], cfg.dyn_widths)
axes[1].legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.2))
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5. $\Theta_\infty$ is positive definite on the sphere
#
# The paper proves it for a non-polynomial activation (its Proposition 2). We compute
# the smallest eigenvalue of $\Theta_\infty$ on the circle's points relative to the
# largest. The control replaces ReLU by the polynomial $\phi(h) = h^2$: its limiting
# kernel is a polynomial of degree $2^3 = 8$ in $\cos(\gamma - \gamma')$, of rank at
# most 17, so on more than 17 points of the circle it must be singular.


# %%
def quadratic_ntk(x):
    """Θ∞ of the same network with φ(h) = h².

    E[φ(u)φ(v)] = k₁₁k₂₂ + 2k₁₂² and E[φ'(u)φ'(v)] = 4k₁₂ for Gaussian (u, v)."""
    k = WEIGHT_VAR * x @ x.T / x.shape[1] + BIAS_VAR
    ntk = k.clone()
    for _ in range(DEPTH):
        d = k.diagonal()
        dk = 4 * WEIGHT_VAR * k
        k = WEIGHT_VAR * (torch.outer(d, d) + 2 * k**2) + BIAS_VAR
        ntk = ntk * dk + k
    return ntk


def min_over_max(k):
    ev = torch.linalg.eigvalsh(k)
    return (ev[0] / ev[-1]).item()


pd_relu = min_over_max(theta_limit)
pd_quad = min_over_max(quadratic_ntk(x_circle.double()))
PD_FLOOR = 1e-8  # 10⁶ × the float64 round-off of an eigenvalue, N·ε ≈ 1e-14

# %% [markdown]
# ## Verdict
#
# * **Headline** (Theorems 1 and 2 together): after training, the kernel must be at
#   $\Theta_\infty$ up to a distance that vanishes with width. The paper proves the
#   limit without a rate, so we ask for a clear decay: the 95 % bootstrap interval (over
#   the 10 seeds) of the exponent of the mean distance must lie below $-1/4$, halfway
#   between no decay (0) and the $n^{-1/2}$ rate of the kernel's fluctuations. The same
#   rule decides the rows on the kernel at initialisation, its movement, and the
#   distance from the linear dynamics (there a t-interval over the per-network
#   exponents).
# * The Gaussian of Fig. 2, the rate along $u_1$ and positive definiteness as described
#   above; each row says how its threshold was set.
# * Controls: the mean-field scaling (same initial weights, the one ingredient removed)
#   must fail every decay test and the Gaussian band; the quadratic activation must fail
#   positive definiteness; and a 25 % learning-rate error must be caught by the rate
#   test.

# %% tags=["nbval-check-output"]
def below(iv, bound=-0.25):
    return iv.ci[1] < bound


BOOT = "bootstrap over the 10 seeds of the slope of the seed-mean"
CLEAR = ("the paper gives no rate: the interval must lie below -1/4, halfway to the "
         "CLT's -1/2")
HEADLINE = "kernel after training → Θ∞: exponent of ‖Θ_T − Θ∞‖ vs width"
INIT = "NTK at init: exponent of ‖Θ₀ − Θ∞‖ vs width"
MOVED = "NTK movement in training: exponent of ‖Θ_T − Θ₀‖ vs width"
LINEAR = "distance from the linear dynamics: exponent vs width"
RATE = f"rate along Θ∞'s top eigenvector / ηλ₁/N (width {cfg.rate_width})"
BAND = f"trained nets inside the Gaussian's 10-90 % band (width {wide})"
PD = "Θ∞ positive definite on the circle: λ_min/λ_max"
MF = "mean-field scaling"
ch.check_claim(HEADLINE, headline=True, paper="< -0.25", ours=final_fit["NTK"].value,
               ci=final_fit["NTK"].ci, passed=below(final_fit["NTK"]),
               why=f"{CLEAR}; {BOOT}; a true -1/2 passes with probability "
                   f"{pass_probability(final_fit['NTK']):.2f} at this spread")
ch.check_claim(INIT, paper="< -0.25 (CLT -0.5)", ours=init_fit.value, ci=init_fit.ci,
               passed=below(init_fit),
               why=f"{CLEAR}; {BOOT}; a true -1/2 passes with probability "
                   f"{pass_probability(init_fit):.2f}")
ch.check_claim(MOVED, paper="< -0.25", ours=moved_fit["NTK"].value,
               ci=moved_fit["NTK"].ci, passed=below(moved_fit["NTK"]),
               why=f"{CLEAR}; {BOOT}")
ch.check_claim(LINEAR, paper="< -0.25", ours=lin_fit["NTK"].value, ci=lin_fit["NTK"].ci,
               passed=below(lin_fit["NTK"]),
               why=f"{CLEAR}; {lin_fit['NTK'].method} (one exponent per network)")
ch.check_claim(RATE, paper=1, ours=rate_iv.value, ci=rate_iv.ci, passed=inside(rate_iv),
               why=f"stated tolerance: the {rate_iv.method} must lie in [0.8, 1.25] "
                   "(the next eigenvalue is ~10x smaller, so this pins the top "
                   f"direction); a correct model passes with probability "
                   f"{rate_pass:.2f} (simulated at our spread)")
ch.check_claim(BAND, paper=0.8, ours=band["NTK"].value, ci=band["NTK"].ci,
               passed=band["NTK"].contains(0.8),
               why=f"the band holds 80 % by definition; the {band['NTK'].method} (one "
                   "fraction per network) must contain 0.8: a correct model passes "
                   "with probability 0.95, the interval's coverage")
ch.check_claim(PD, paper="> 0", ours=pd_relu, passed=pd_relu > PD_FLOOR,
               why="must exceed 1e-8, a million times the float64 round-off of an "
                   "eigenvalue")
ch.control(f"{MF}: kernel after training → Θ∞", paper="no decay",
           ours=final_fit["mean-field"].value, ci=final_fit["mean-field"].ci,
           passed=not below(final_fit["mean-field"]),
           why="same initial weights, output ×1/√n and learning rate ×n: the headline "
               "test must fail")
ch.control(f"{MF}: NTK movement exponent", paper="no decay",
           ours=moved_fit["mean-field"].value, ci=moved_fit["mean-field"].ci,
           passed=not below(moved_fit["mean-field"]),
           why="the NTK scaling removed: the kernel keeps moving at every width")
ch.control(f"{MF}: linear-dynamics distance exponent", paper="no decay",
           ours=lin_fit["mean-field"].value, ci=lin_fit["mean-field"].ci,
           passed=not below(lin_fit["mean-field"]),
           why="the NTK scaling removed: training leaves the linear regime at every "
               "width")
ch.control(f"{MF}: inside the Gaussian band (width {wide})", paper="≠ 0.8",
           ours=band["mean-field"].value, ci=band["mean-field"].ci,
           passed=not band["mean-field"].contains(0.8),
           why="the NTK scaling removed: the trained functions leave the (rescaled) "
               "Gaussian")
ch.control("quadratic activation: Θ∞ positive definite, λ_min/λ_max",
           paper="0 (rank ≤ 17)", ours=pd_quad, passed=not pd_quad > PD_FLOOR,
           why="a polynomial activation, the one ingredient of Prop. 2 removed: must "
               "fail")
ch.control("learning rate 25 % off: rate along the top eigenvector", paper="≈ 1.42",
           ours=rate_iv_fast.value, ci=rate_iv_fast.ci, passed=not inside(rate_iv_fast),
           why="power: the same test must catch a known 25 % error in η (expected "
               f"ratio log(1/0.375)/log 2 = 1.42); it does with probability "
               f"{rate_power:.2f} (simulated at our spread)")
ch.paper_claim("the NTK converges to a deterministic kernel and stays constant in "
               "training as the width grows (abstract; Theorems 1 and 2)", row=HEADLINE)
ch.paper_claim("at initialisation the NTK converges to Θ∞ (Theorem 1)", row=INIT)
ch.paper_claim("during training the NTK stays constant at infinite width (Theorem 2)",
               row=MOVED)
ch.paper_claim("Θ∞ is positive definite on the sphere for a non-polynomial activation "
               "(Proposition 2)", row=PD)
ch.paper_claim("least-squares training follows a linear differential equation (Sec. 5)",
               row=LINEAR)
ch.paper_claim("convergence is fastest along the kernel's top principal components, at "
               "rate ηλ_k/N (Sec. 5)", row=RATE)
ch.paper_claim("the trained network function is a Gaussian process with the mean and "
               "percentiles given by the kernels (Sec. 5, Fig. 2)", row=BAND)
ch.paper_claim("at initialisation the network is a Gaussian process with covariance Σ "
               "(Proposition 1)", tested="no",
               note="known before this paper (Neal; Lee et al.); it enters our Fig. 2 "
                    "test through the band's width, but is not tested on its own")
ch.paper_claim("the kernel's principal components motivate early stopping (Sec. 5)",
               tested="not testable here",
               note="a motivation without a quantitative prediction")
ch.verdict()

# %% [markdown]
# ## Differences from the paper
#
# * **Scale.** Widths up to 1024 in training and 2048 at initialisation (book scale)
#   instead of the paper's 10 000, and 10 initialisations per width; the `full` scale
#   (large, for a GPU) uses the paper's Fig. 1 widths 500 and 10 000 among others.
# * **Training task for Figs. 1 and 2.** Four points of the circle with fixed targets,
#   full-batch gradient descent with learning rate 1 for 200 steps (book scale); the
#   paper trains on a similar small regression problem but does not list its targets.
#   The Gaussian of Fig. 2 is the finite-time one (after $T$ steps), not $t \to \infty$.
# * **Least squares.** Digits from scikit-learn instead of MNIST, a subset of 128 images
#   (book scale), 0/1 targets, and training of the centred network ($f - f_0$) so that
#   every residual starts at $-y$. The linear prediction uses each network's *own*
#   initial kernel (part 1 measures the gap between that and $\Theta_\infty$); the rate
#   test uses $\Theta_\infty$'s top eigenvalue and eigenvector, as the paper does. We
#   test the top direction only: $\lambda_1$ is isolated (10 times $\lambda_2$), while
#   the following eigenvalues are close together, so a single lower eigenvector is not
#   stable under the kernel's $O(n^{-1/2})$ fluctuations at these widths (the left panel
#   above shows directions 2 and 3 following their predicted rates only roughly).
# * **Rates.** The paper proves convergence without rates. The $n^{-1/2}$ rate at
#   initialisation is the central limit theorem; for the movement during training the
#   measured exponent (about $-0.9$ at book scale) is near $-1$, the rate later derived
#   by Dyer & Gur-Ari. The kernel after training is therefore dominated by its
#   fluctuation at initialisation, and the headline exponent is near $-1/2$.
# * **Control.** The mean-field scaling used here is the plain one (output $\times
#   1/\sqrt n$, learning rate $\times n$, with no reference width), run from the same
#   initial weights as the NTK networks.

# %% [markdown]
# ## Run info

# %%
ch.run_info()
