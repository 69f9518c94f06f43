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
# # Three-layer networks learn a hierarchical polynomial with about dᵏ samples
#
# **Paper.** {cite}`wang2024hierarchical`.
#
# **Claim.** Take a target $h = g \circ p$: an inner polynomial $p:\mathbb R^d \to
# \mathbb R$ of degree $k$ and an outer polynomial $g$ of degree $q$, on standard
# Gaussian inputs. A three-layer network trained layer by layer with gradient descent
# first learns the feature $p$ in its middle layer, then $g$ on top of it, and reaches
# small test error with $\tilde O(d^k)$ samples. A kernel method sees only a degree-$kq$
# polynomial and needs about $d^{kq}$. For a quadratic feature ($k = 2$) the network's
# $d^2$ is optimal. We run the theory's layer-wise algorithm — one gradient step on the
# middle layer, then the top layer — with a quadratic feature, measure how the number of
# samples needed to learn the feature grows with $d$, at every success threshold from
# 0.70 to 0.90, and compare the whole network with the same pipeline without the learned
# middle layer.
#
# **Negative control.** Remove the learned middle layer: a random-feature ReLU model on
# the inputs, fitted exactly like the network's top layer. It is a kernel method, and
# must need clearly more samples than the network to learn $h$ beyond its best quadratic
# approximation.

# %% tags=["remove-cell"]
# Colab: install the book's library (at the release this chapter was written against).
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "replib @ git+https://github.com/theory-replicated/"
                    "theory-replicated@v0.1.0"], check=True)

# %% tags=["parameters"]
SCALE = "book"  # smoke (~30 s on 2 CPU cores) | book (~3 min) | full (large: a GPU)
SEED = 0

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from replib import Chapter, progress
from replib.metrics import correlation, normalised_error
from replib.plotting import colors, label_log_ticks, use_book_style
from replib.targets import hermite, hermite_feature

ch = Chapter("feature_learning/hierarchical_poly_3layer", scale=SCALE, seed=SEED,
             cite="wang2024hierarchical",
             claim="Layer-wise GD on a three-layer network learns g∘p (p quadratic) "
                   "with ~d^2 samples")
cfg = ch.settings(
    smoke=dict(dims=[12, 16, 24], seeds=10, ratios=(2, 256, 15), kernel_dim=12,
               test=2000, top_ratios=[32, 64, 128, 256], rf_width=256, chunk=20_000),
    book=dict(dims=[16, 24, 32, 48, 64], seeds=10, ratios=(2, 256, 22), kernel_dim=16,
              test=4000, top_ratios=[16, 32, 64, 128, 256], rf_width=512, chunk=20_000),
    full=dict(dims=[16, 24, 32, 48, 64, 96, 128], seeds=20, ratios=(2, 512, 25),
              kernel_dim=24, test=10_000, top_ratios=[16, 32, 64, 128, 256, 512],
              rf_width=4096, chunk=50_000),
)
use_book_style()
dev = ch.device
DT = torch.float64
K = 2  # degree of the inner feature p
THRESHOLDS = [0.70, 0.75, 0.80, 0.85, 0.90]  # success thresholds on corr(feature, p)
HEAD_T = 0.80  # the headline threshold: the middle of the range, fixed in advance
BAND = (2.0, 2.5)  # the theory's d^2 with at most one log factor (see the verdict)
TOP_WIDTH = 256  # ReLU units of the top layer
RIDGE = 1e-4  # relative ridge of the top-layer fit


def outer(z):
    """g(z) = (z + He₃(z)/√6)/√2: odd, degree q = 3, unit variance for Gaussian z."""
    return (z + hermite(3, z, normalised=True)) / math.sqrt(2)


# %% [markdown]
# ## Target, network and training
#
# The feature is $p(x) = \sum_i \lambda_i \mathrm{He}_2(x_i)/\sqrt{2d}$ with signs
# $\lambda_i = \pm 1$, exactly half of each in a random order (unit variance, a
# full-rank indefinite quadratic form with zero trace). The outer function $g(z) = (z +
# \mathrm{He}_3(z)/\sqrt6)/\sqrt2$ is odd of degree $q = 3$, so $h = g(p)$ has degree 6.
# The balanced signs make $p$ and $-p$ equal in law up to a permutation of the
# coordinates, which forces the best quadratic approximation of $h$ to be a multiple of
# $p$ — the thing the middle layer can find.
#
# The network is $f(x) = \sum_j a_j\,\mathrm{relu}(s_j\,\phi(x) + b_j)$ with the scalar
# feature $\phi(x) = \mathbb E_w[u(w)\,\mathrm{He}_2(\langle w, x\rangle)]$: a first
# layer of quadratic units on random unit directions $w$ (frozen, as in the theory),
# taken infinitely wide, and a middle layer $u$. The theory's layer-wise algorithm, as
# we read it:
#
# 1. **Middle layer, one gradient step.** Start from $u = 0$ and a top layer initialised
#    in symmetric pairs $(a, s, b)$, $(-a, -s, b)$, so that $f \equiv 0$ at the start
#    while $\partial f/\partial\phi \ne 0$. One full-batch gradient step on the square
#    loss over the first half of the samples gives $u(w) \propto \frac1{n_1}\sum_i
#    y_i\,\mathrm{He}_2(\langle w, x_i \rangle)$ (the positive scalar in front does not
#    change the feature's direction). With $\hat A = \frac1{n_1}\sum_i y_i(x_ix_i^\top -
#    I)$ and the sphere moment $\mathbb E_w[(w^\top B w)(w^\top C w)] =
#    (2\,\mathrm{tr}\,BC + \mathrm{tr}B\,\mathrm{tr}C)/(d(d+2))$, the learned feature
#    is, up to a constant, $\phi(x) = x^\top M x$ with $M = 2\hat A + \mathrm{tr}(\hat
#    A)\,I$.
# 2. **Top layer.** With $\phi$ frozen (standardised on its data), fit $a$ on the second
#    half of the samples to convergence: the loss is convex in $a$, so gradient descent
#    with weight decay converges to the ridge solution, which we compute directly (256
#    random $(s_j, b_j)$).
#
# Nothing here is least squares on the quadratics: the middle layer sees the data only
# through one gradient, an average of $y_i$ times the units' activations. For Gaussian
# inputs the correlation of two quadratic forms is exact, $\mathrm{corr}(x^\top Mx,
# x^\top Ax) = \mathrm{tr}(MA)/(\|M\|_F \|A\|_F)$, so we track the feature's correlation
# with $p$ (whose matrix is $A = \mathrm{diag} (\lambda)/\sqrt{2d}$) at every sample
# size without a test set, on nested samples.

# %%
def balanced_signs(seeds, d, generator):
    """±1 weights, half of each, in a random order per seed: (seeds, d)."""
    base = torch.tensor([1.0] * (d // 2) + [-1.0] * (d - d // 2), dtype=DT)
    order = torch.stack([torch.randperm(d, generator=generator) for _ in range(seeds)])
    return base[order].to(dev)


def sample(n, lam, generator):
    x = torch.randn(lam.shape[0], n, lam.shape[1], generator=generator, dtype=DT)
    x = x.to(dev)
    p = hermite_feature(x, lam, K)
    return x, p, outer(p)


def one_step_matrix(a_sum, n1):
    """M of the feature x^T M x after one gradient step on the middle layer (text)."""
    a_hat = a_sum / n1
    eye = torch.eye(a_hat.shape[-1], dtype=DT, device=dev)
    return 2 * a_hat + a_hat.diagonal(dim1=-2, dim2=-1).sum(-1)[:, None, None] * eye


def exact_corr(m, lam):
    """corr(x^T M x, p(x)) under x ~ N(0, I): tr(MA)/(|M| |A|), A = diag(λ)/√(2d)."""
    num = (m.diagonal(dim1=-2, dim2=-1) * lam).sum(-1)
    return num / (m.norm(dim=(-2, -1)) * lam.norm(dim=-1))


def feature_curve(d, generator):
    """Correlation of the one-step feature with p at every n of the grid (nested)."""
    dim = math.comb(d + 1, 2)
    lam = balanced_signs(cfg.seeds, d, generator)
    ns = np.unique(2 * np.round(np.geomspace(*cfg.ratios) * dim / 2).astype(int))
    a_sum = torch.zeros(cfg.seeds, d, d, dtype=DT, device=dev)
    done, corr, mats = 0, [], []
    for n in ns:
        for lo in range(done, n // 2, cfg.chunk):
            x, _, y = sample(min(n // 2, lo + cfg.chunk) - lo, lam, generator)
            xc = x * y.unsqueeze(-1)
            a_sum += xc.transpose(-1, -2) @ x - y.sum(-1)[:, None, None] * torch.eye(
                d, dtype=DT, device=dev)
        done = n // 2
        m = one_step_matrix(a_sum, n // 2)
        corr.append(exact_corr(m, lam).cpu().numpy())
        mats.append(m)
    return ns, np.stack(corr, 1), lam, mats


gen = torch.Generator().manual_seed(SEED)
curves = {d: feature_curve(d, gen)
          for d in progress(cfg.dims, desc="one-step features")}

# %% [markdown]
# ## Does the feature appear after about $d^2$ samples?
#
# The correlation between the middle layer's feature and the true $p$, against the total
# number of samples $n$ divided by the number of quadratics $\binom{d+1}{2} \approx
# d^2/2$ (half of them train the middle layer). If learning the feature costs $\asymp
# d^2$ samples, the curves of all dimensions fall on top of each other. Lines are
# medians over seeds, bands the middle 50 %.

# %%
rows = []
for d, (ns, corr, _, _) in curves.items():
    dim = math.comb(d + 1, 2)
    rows += [dict(d=d, n=n, ratio=n / dim, seed=s, corr=corr[s, j])
             for j, n in enumerate(ns) for s in range(cfg.seeds)]
feat = pd.DataFrame(rows)
palette = dict(zip(cfg.dims, colors(len(cfg.dims))))
fig, ax = plt.subplots(figsize=(7.5, 4.4))
sns.lineplot(feat, x="ratio", y="corr", hue="d", palette=palette, estimator="median",
             errorbar=("pi", 50), ax=ax)
for t in THRESHOLDS:
    ax.axhline(t, color="gray", ls=":", lw=0.8)
ax.set(xscale="log", xlabel=r"samples $n$ / $\binom{d+1}{2}$",
       ylabel=r"corr(learned feature, $p$)",
       title="Middle-layer feature after one gradient step (dotted: thresholds)")
label_log_ticks(ax, [2, 4, 8, 16, 32, 64, 128])
ax.legend(title="dimension d", fontsize="small")
fig.tight_layout()
plt.show()


# %% [markdown]
# $n^\star_\tau(d)$ is the sample size at which the median over seeds of the current
# correlation first reaches the threshold $\tau$ (interpolated in $\log n$ between grid
# points; the median of the current value, not each seed's first touch, which would
# reward seeds that touch the threshold and fall back). The exponent is the log-log
# slope of $n^\star_\tau$ against $d$, with a percentile bootstrap over the seeds
# (resampled independently at each $d$). We do this at every threshold from 0.70 to
# 0.90: the reviewers of the first version saw the exponent move with the threshold.

# %%
def crossing(ns, values, threshold, below=False):
    """First n at which each row of ``values`` (seeds, len(ns)) reaches ``threshold``,
    log-linear interpolation between grid points; inf where it never does."""
    logn = np.log(np.asarray(ns, dtype=float))
    out = np.full(values.shape[0], np.inf)
    for s, v in enumerate(values):
        ok = np.nonzero(v <= threshold if below else v >= threshold)[0]
        if ok.size == 0:
            continue
        j = ok[0]
        if j == 0:
            out[s] = ns[0]
            continue
        f = (threshold - v[j - 1]) / (v[j] - v[j - 1])
        out[s] = math.exp(logn[j - 1] + f * (logn[j] - logn[j - 1]))
    return out


def median_crossing(ns, values, threshold, below=False, n_boot=2000, seed=SEED):
    """n at which the median over seeds of the *current* value first reaches
    ``threshold`` (not each seed's first touch, which rewards seeds that touch it and
    fall back), and the same on ``n_boot`` resamples of the seeds (inf where a
    resample's median never gets there)."""
    rng = np.random.default_rng(seed)
    point = crossing(ns, np.median(values, 0, keepdims=True), threshold, below)[0]
    idx = rng.integers(0, values.shape[0], size=(n_boot, values.shape[0]))
    boot = crossing(ns, np.median(values[idx], 1), threshold, below)
    return point, boot


class Exponent:
    """Log-log slope of the median crossings against d, percentile interval from the
    seed bootstrap (independent resamples per d); None-like when never reached."""

    def __init__(self, threshold, level):
        pairs = [median_crossing(curves[d][0], curves[d][1], threshold, seed=SEED + i)
                 for i, d in enumerate(cfg.dims)]
        self.n = np.array([p for p, _ in pairs])
        boot = np.stack([b for _, b in pairs], 1)
        logd = np.log(np.asarray(cfg.dims, dtype=float))
        finite = np.isfinite(boot).all(1)
        missing = 1 - finite.mean()  # resamples in which some d never got there
        self.ok = bool(np.isfinite(self.n).all() and missing <= (1 - level) / 4)
        if self.ok:
            slopes = np.polyfit(logd, np.log(boot[finite]).T, 1)[0]
            self.value = float(np.polyfit(logd, np.log(self.n), 1)[0])
            self.ci = tuple(float(q) for q in
                            np.quantile(slopes, [(1 - level) / 2, (1 + level) / 2]))
            self.method = (f"{level:.0%} percentile bootstrap over {cfg.seeds} seeds "
                           "of the median crossing")

    def __bool__(self):
        return self.ok


def exponent(threshold, level):
    est = Exponent(threshold, level)
    return est.n, est if est else None


by_threshold = {t: exponent(t, 0.95) for t in THRESHOLDS}
family = {t: exponent(t, 0.99)[1] for t in THRESHOLDS}  # Bonferroni over the five

fig, axes = plt.subplots(1, 2, figsize=(13, 4.4))
tcol = dict(zip(THRESHOLDS, colors(len(THRESHOLDS))))
for t, (n_star, _) in by_threshold.items():
    axes[0].plot(cfg.dims, n_star, "o-", color=tcol[t],
                 label=f"τ = {t:.2f}")
ref = np.array([cfg.dims[0], cfg.dims[-1]], dtype=float)
n0 = by_threshold[HEAD_T][0][0]
axes[0].plot(ref, n0 * (ref / ref[0]) ** K, color="black", ls="--", lw=1,
             label=r"slope $d^2$")
axes[0].set(xscale="log", yscale="log", xlabel="input dimension d",
            ylabel=r"samples $n^\star_\tau$ (median curve)",
            title=r"Samples to reach corr $\geq\tau$")
label_log_ticks(axes[0], cfg.dims)
axes[0].legend(fontsize="small")
ok = [t for t in THRESHOLDS if by_threshold[t][1] is not None]
axes[1].axhspan(*BAND, color="gray", alpha=0.2,
                label=r"theory: $d^2$ up to a log factor")
for level, iv, off, mk in [("95 %", {t: by_threshold[t][1] for t in ok}, -0.004, "o"),
                           ("99 %", {t: family[t] for t in ok}, 0.004, "s")] * bool(ok):
    axes[1].errorbar([t + off for t in ok], [iv[t].value for t in ok],
                     yerr=np.array([[iv[t].value - iv[t].ci[0],
                                     iv[t].ci[1] - iv[t].value] for t in ok]).T,
                     fmt=mk, capsize=3, label=f"{level} interval")
axes[1].set(xlabel=r"threshold $\tau$ on corr(feature, $p$)",
            ylabel=r"exponent of $n^\star_\tau(d)$",
            title="Sample-complexity exponent against the threshold")
axes[1].legend(fontsize="small")
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
def show(iv, what):
    if iv is None:
        return "not reached" if what == "value" else ""
    return f"{iv.value:.3f}" if what == "value" else f"[{iv.ci[0]:.3f}, {iv.ci[1]:.3f}]"


table = pd.DataFrame({
    "threshold": [f"{t:.2f}" for t in THRESHOLDS],
    "exponent": [show(by_threshold[t][1], "value") for t in THRESHOLDS],
    "95 % interval": [show(by_threshold[t][1], "ci") for t in THRESHOLDS],
    "99 % interval": [show(family[t], "ci") for t in THRESHOLDS],
    **{f"n*/C(d+1,2) d={d}": [
        f"{by_threshold[t][0][i] / math.comb(d + 1, 2):.3g}"
        for t in THRESHOLDS] for i, d in enumerate(cfg.dims)},
})
print(table.to_string(index=False))
med = by_threshold[HEAD_T][0]
local = np.diff(np.log(med)) / np.diff(np.log(cfg.dims))
print("local exponents at τ = 0.80 between neighbouring d:",
      ", ".join(f"{a}-{b}: {s:.2f}" for a, b, s in zip(cfg.dims, cfg.dims[1:], local)))


# %% [markdown]
# ## The whole network against the same pipeline without the learned middle layer
#
# At $d = $ `kernel_dim` we train the top layer on the one-step feature at several
# sample sizes and measure the test error. The best any degree-2 function can do on $h$
# is the error of the best multiple of $p$, $1 - \mathrm{corr}(h, p)^2$ (dotted line,
# Monte Carlo); we call $h$ *learned* when the error is at most 0.8 times that floor,
# which needs the degree-6 part. The control is the same top-layer fit with the middle
# layer removed: ReLU random features $\mathrm{relu}(\langle v_j, x \rangle + c_j)$ of
# the input ($v_j \sim N(0, I/d)$, $c_j \sim N(0, 1)$), fitted on all $n$ samples, the
# best of three ridges chosen on the test set (generous to the control). It is a kernel
# method; the theory says it needs about $d^{kq} = d^6$ samples to go below the floor.

# %%
kd = cfg.kernel_dim
ns_k, _, lam_k, mats_k = curves[kd]
dim_k = math.comb(kd + 1, 2)
g_top = torch.Generator().manual_seed(SEED + 1)
xt, pt, yt = sample(cfg.test, lam_k, g_top)
floor = float((1 - correlation(yt, pt) ** 2).mean())
EPS = 0.8 * floor
s_top = torch.randn(cfg.seeds, TOP_WIDTH, generator=g_top, dtype=DT).to(dev)
b_top = torch.randn(cfg.seeds, TOP_WIDTH, generator=g_top, dtype=DT).to(dev)


def quad(x, m):
    return ((x @ m) * x).sum(-1)


def chunked_ridge(featurize, x, y, ridges, chunk=4096):
    """Ridge regression of y on featurize(x) for each relative ridge (as in
    ``replib.kernels.feature_regression``), the Gram matrix summed over chunks."""
    gram, rhs = 0.0, 0.0
    for lo in range(0, x.shape[-2], chunk):
        f = featurize(x[..., lo:lo + chunk, :])
        gram = gram + f.transpose(-1, -2) @ f
        rhs = rhs + f.transpose(-1, -2) @ y[..., lo:lo + chunk].unsqueeze(-1)
    gram, rhs = gram / x.shape[-2], rhs / x.shape[-2]
    scale = gram.diagonal(dim1=-2, dim2=-1).mean()
    eye = torch.eye(gram.shape[-1], dtype=DT, device=dev)
    return [torch.linalg.solve(gram + r * scale * eye, rhs).squeeze(-1) for r in ridges]


def top_features(phi, mu, sd):
    z = ((phi - mu) / sd).unsqueeze(-1)
    return torch.relu(z * s_top.unsqueeze(-2) + b_top.unsqueeze(-2))


def rf_error(x, y, width):
    v = torch.randn(cfg.seeds, kd, width, generator=g_top, dtype=DT) / math.sqrt(kd)
    v = v.to(dev)
    c = torch.randn(cfg.seeds, 1, width, generator=g_top, dtype=DT).to(dev)
    feats_t = torch.relu(xt @ v + c)
    coefs = chunked_ridge(lambda z: torch.relu(z @ v + c), x, y, (1e-4, 1e-2, 1.0))
    errs = [normalised_error((feats_t @ a.unsqueeze(-1)).squeeze(-1), yt)
            for a in coefs]
    return torch.stack(errs).min(0).values.cpu().numpy()


top_n = [int(2 * round(r * dim_k / 2)) for r in cfg.top_ratios]
net_err, rf_err = [], None
for n in progress(top_n, desc="top layer"):
    m = mats_k[int(np.argmin(np.abs(ns_k - n)))]  # one-step feature, n/2 samples
    x2, _, y2 = sample(n // 2, lam_k, g_top)  # fresh samples for the top layer
    phi2 = quad(x2, m)
    mu, sd = phi2.mean(-1, keepdim=True), phi2.std(-1, keepdim=True)
    a = chunked_ridge(lambda z: top_features(z[..., 0], mu, sd), phi2.unsqueeze(-1), y2,
                      (RIDGE,))[0]
    pred = (top_features(quad(xt, m), mu, sd) @ a.unsqueeze(-1)).squeeze(-1)
    net_err.append(normalised_error(pred, yt).cpu().numpy())
    if n == top_n[-1]:
        x_all, _, y_all = sample(n, lam_k, g_top)
        rf_err = rf_error(x_all, y_all, cfg.rf_width)
net_err = np.stack(net_err, 1)  # (seeds, len(top_n))
mc_corr = correlation(quad(xt, mats_k[-1]), pt).cpu().numpy()  # sanity: vs exact


n_net, n_net_boot = median_crossing(top_n, net_err, EPS, below=True)
n_net_ci = tuple(float(q) for q in
                 np.quantile(n_net_boot, [0.025, 0.975], method="inverted_cdf"))
rng = np.random.default_rng(SEED + 3)
rf_boot = np.median(rf_err[rng.integers(0, cfg.seeds, size=(2000, cfg.seeds))], 1)
rf_above = float((rf_boot > EPS).mean())  # resamples in which the control is not there
ratio_lo = top_n[-1] / n_net_ci[1] if np.isfinite(n_net_ci[1]) else float("nan")

fig, ax = plt.subplots(figsize=(7.5, 4.4))
err_df = pd.DataFrame([dict(n=n, error=net_err[s, j], seed=s)
                       for j, n in enumerate(top_n) for s in range(cfg.seeds)])
sns.lineplot(err_df, x="n", y="error", estimator="median", errorbar=("pi", 50),
             marker="o", color=colors(2)[0], ax=ax,
             label="three-layer network (layer-wise GD)")
ax.errorbar([top_n[-1]], [np.median(rf_err)], yerr=[[np.median(rf_err) - rf_err.min()],
            [rf_err.max() - np.median(rf_err)]], fmt="s", color=colors(2)[1], capsize=3,
            label=f"control: ReLU random features ({cfg.rf_width}), range over seeds")
ax.axhline(floor, color="gray", ls=":", lw=1.2, label="best quadratic approximation")
ax.axhline(EPS, color="black", ls="--", lw=0.8, label="'learned': 0.8 × floor")
ax.set(xscale="log", yscale="log", xlabel="samples n", ylabel="normalised test MSE",
       title=f"Test error at d = {kd}")
label_log_ticks(ax, top_n)
ax.legend(fontsize="small")
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
print(f"d = {kd}: best quadratic leaves {floor:.3f}; "
      f"'learned' means error <= {EPS:.3f}")
print("network, median test error: " + ", ".join(
    f"n={n}: {e:.3f}" for n, e in zip(top_n, np.median(net_err, 0))))
print(f"network reaches it at n = {n_net:.4g}, 95 % bootstrap interval "
      f"[{n_net_ci[0]:.4g}, {n_net_ci[1]:.4g}]")
print(f"control at n = {top_n[-1]}: median error {np.median(rf_err):.3f} "
      f"(seeds {rf_err.min():.3f}–{rf_err.max():.3f}); above the threshold in "
      f"{rf_above:.1%} of the bootstrap resamples")
print(f"samples control / network >= {ratio_lo:.3g} (lower 95 % end)")
print(f"exact vs Monte Carlo feature correlation, largest |difference| "
      f"{np.abs(mc_corr - curves[kd][1][:, -1]).max():.2g}")

# %% [markdown]
# ## Verdict
#
# * **Sample complexity (headline).** The theory says the feature is learned with $n
#   \asymp d^2$ samples up to log factors: at least $\binom{d+1}{2}$ (a quadratic form
#   has that many free coefficients), at most $d^2\,\mathrm{polylog}(d)$. Over our range
#   of $d$, one factor of $\log d$ adds $1/\ln d \le 0.36$ to the local slope ($d \ge
#   16$), so the band is $[2, 2.5]$, and the check passes when the exponent's 95 %
#   seed-bootstrap interval at $\tau = 0.8$ (fixed in advance, the middle of the range)
#   meets it.
# * **Every threshold.** The same with the 99 % interval at each of the five thresholds
#   0.70–0.90; by Bonferroni a correct $d^2$ passes all five with probability $\ge 95$
#   %.
# * **The whole network.** At $d = $ `kernel_dim` the median test error gets below 0.8 ×
#   the best quadratic's within the grid, the upper end of its bootstrap interval
#   included.
# * **Control.** Without the learned middle layer the samples needed must be at least
#   twice the network's (lower 95 % end of the ratio): the theory predicts a factor of
#   order $d^{kq-k} = d^4$.

# %% tags=["nbval-check-output"]
HEAD = "exponent of the samples to learn the feature, corr ≥ 0.80"
EVERY = "exponent in the band at every threshold 0.70–0.90"
WHOLE = "network's test error below 0.8 × best-quadratic error at d = kernel_dim"
CTRL = "no learned middle layer (ReLU random features): samples relative to the network"
ch.paper_claim("layer-wise GD on a three-layer network learns h = g∘p with Õ(d^k) "
               "samples, optimal d^2 for a quadratic p (Thm 1, k = 2)", row=HEAD)
ch.paper_claim("the first stage recovers the feature p with Õ(d^k) samples (Sec. 4), "
               "at any fixed accuracy", row=EVERY)
ch.paper_claim("after the feature is learned the network fits g and reaches small test "
               "error on h (Thm 1)", row=WHOLE)
ch.paper_claim("kernel methods need Θ̃(d^{kq}) samples for h (Sec. 3)", tested="no",
               note="only the relative control below: a random-feature model at one d "
                    "and one n, not the d^{kq} rate")
ch.paper_claim("the same holds for features of degree k > 2, e.g. the cubic feature of "
               "Fig. 2", tested="not testable here",
               note="d^3 samples at interesting d are out of reach on two CPU cores")
ch.paper_claim("jointly trained networks (all layers, Adam) show the same feature "
               "learning (Sec. 5, Fig. 2)", tested="not testable here",
               note="joint Adam training over a sample-size grid costs far more than "
                    "the book budget; we run the theory's layer-wise algorithm instead")

head_iv = by_threshold[HEAD_T][1]


def meets(iv):
    return iv is not None and iv.ci[1] >= BAND[0] and iv.ci[0] <= BAND[1]


ch.check_claim(HEAD, headline=True, paper="2 (band [2, 2.5])",
               ours=head_iv.value if head_iv else "not reached",
               ci=head_iv.ci if head_iv else None, passed=meets(head_iv),
               why="theory: n ≍ d^2 up to log factors; one log d adds ≤ 0.36 to the "
                   "slope at d ≥ 16, so [2, 2.5]; "
                   f"{head_iv.method if head_iv else 'no interval'} "
                   "must meet the band")
ch.check_claim(EVERY, paper="[2, 2.5] at each",
               ours=", ".join(f"{t:.2f}: {family[t].value:.2f}" if family[t] else
                              f"{t:.2f}: not reached" for t in THRESHOLDS),
               passed=all(meets(family[t]) for t in THRESHOLDS),
               why="each threshold's 99 % seed-bootstrap interval must meet [2, 2.5]; "
                   "Bonferroni: a correct d^2 passes all five with probability ≥ 95 %")
ch.check_claim(WHOLE, paper=f"≤ {EPS:.3f} within n ≤ {top_n[-1]}", ours=n_net,
               ci=n_net_ci, passed=bool(np.isfinite(n_net_ci[1])),
               why="threshold 0.8 × the best-quadratic error (Monte Carlo), fixed in "
                   "advance; the n at which the median over seeds gets there, 95 % "
                   f"bootstrap over {cfg.seeds} seeds, upper end inside the grid")
ch.control(CTRL, paper="≫ 1 (≍ d^4)", ours=f"≥ {ratio_lo:.3g}" if np.isfinite(ratio_lo)
           else "network did not get there",
           passed=bool(np.isfinite(ratio_lo) and ratio_lo >= 2 and rf_above >= 0.975),
           why="the learned middle layer removed, the top-layer fit kept: it must not "
               "reach the threshold at the largest n (median above it in ≥ 97.5 % of "
               "seed-bootstrap resamples) and that n must be ≥ 2 × the upper end of "
               "the network's interval")
ch.sanity("exact Gaussian correlation of quadratic forms vs Monte Carlo (test set)",
          paper="< 0.03", ours=float(np.abs(mc_corr - curves[kd][1][:, -1]).max()),
          passed=bool(np.abs(mc_corr - curves[kd][1][:, -1]).max() < 0.03),
          note=f"{cfg.test} test points: Monte Carlo error ≈ 1/√n")
ch.verdict()

# %% [markdown]
# ### Reading the exponent
#
# For a quadratic feature no method can do with fewer than order $d^2$ samples, so an
# exponent below 2 can only be a small-$d$ effect. The one-step feature is an average of
# $y_i$ times the units' activations; its error is the noise of that average, and the
# degree-6 part $\mathrm{He}_3(p)/\sqrt{12}$ of the target is part of the noise. For
# small $d$ the feature $p$ is a sum of few terms, far from Gaussian and heavy-tailed,
# so that noise is larger per quadratic than at large $d$, and $n^\star/\binom{d+1}{2}$
# can fall as $d$ grows (the table shows whether it does). The local exponents between
# neighbouring dimensions show whether the growth is settling towards 2. Where the
# interval sits below the band, the paper's $d^k$ is an upper bound we are under, not a
# rate we have measured, and the headline reads *not reproduced at this scale*: the
# $d^2$ law itself is not seen at $d \le 64$.

# %% [markdown]
# ## Differences from the paper
#
# * **Training.** The paper's experiment (Sec. 5, Fig. 2) trains all layers jointly with
#   Adam, with a trainable first layer of width $m_1 = d^2$, cubic activations and $m_2
#   = 1000$ top units. We run the layer-wise algorithm the theorem is about: one
#   gradient step on the middle layer with the first layer frozen at random and
#   infinitely wide (the theorem's width grows with $d^k$; at $m_1 = d^2$ random
#   quadratic units the fluctuations of $\sum_k w_kw_k^\top$ around its mean amplify the
#   trace part of the gradient and swamp the feature), then the top layer to convergence
#   (ridge, the limit of gradient descent with weight decay on a convex loss). Joint
#   Adam training over a grid of sample sizes and dimensions does not fit the two-core
#   budget.
# * **Feature degree.** A quadratic feature ($k = 2$, where $d^2$ is optimal) with
#   balanced ±1 weights and an odd cubic outer function; the paper's experiment uses the
#   cubic feature $\sum_i \lambda_i \mathrm{He}_3(x_i)$ with $g(z) \propto z^3$, whose
#   $d^3$ samples are out of reach.
# * **Dimensions.** $d \le 64$ at book scale (the paper's experiment: $d \in \{16, 24,
#   32, 40\}$).
# * **Success threshold.** The paper plots the correlation; thresholds are ours, so we
#   report the exponent at every threshold from 0.70 to 0.90.
# * **Control.** A random-feature ReLU model of the input (512 features at book scale),
#   at one $d$, the largest $n$, the best of three ridges on the test set; the theory's
#   comparison is with all kernel methods and their $d^{kq}$ rate, which we do not
#   measure.
# * **First version of this chapter.** It fitted the middle layer by least squares on a
#   dictionary of degree-2 units (which makes $n \propto d^2$ hold by construction),
#   scored the kernel comparison on an absolute gap, and reported one threshold; all
#   three are replaced here.

# %% [markdown]
# ## Run info

# %%
ch.run_info()
