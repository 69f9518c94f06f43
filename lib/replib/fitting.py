"""Power laws and log-log slopes with bootstrap confidence intervals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PowerLawFit:
    """y ≈ prefactor · x^exponent, with a bootstrap confidence interval ``ci`` on the exponent."""

    exponent: float
    prefactor: float
    ci: tuple[float, float]
    level: float

    def __call__(self, x) -> np.ndarray:
        return self.prefactor * np.asarray(x, dtype=float) ** self.exponent

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the confidence interval of the exponent."""
        return self.ci[0] <= value <= self.ci[1]


def _slope_intercept(logx: np.ndarray, logy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares line through each row of ``logy`` (..., k) against ``logx`` (k,)."""
    xc = logx - logx.mean()
    slope = (logy - logy.mean(-1, keepdims=True)) @ xc / (xc @ xc)
    return slope, logy.mean(-1) - slope * logx.mean()


def fit_power_law(x, y, *, level: float = 0.95, n_boot: int = 2000, seed: int = 0,
                  statistic: str = "mean") -> PowerLawFit:
    """Fit y = c · x^a by least squares in log-log coordinates.

    ``y`` is either (k,) — one value per x — or (r, k) — r independent replicates (seeds) per x. With
    replicates the bootstrap resamples whole replicates and fits their ``statistic`` ("mean" or
    "median"; the median tolerates a minority of ``inf`` replicates, e.g. runs that never reached a
    threshold), so the interval reflects seed-to-seed variability; with one value per x it resamples the
    (x, y) pairs.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 1 or x.size < 3:
        raise ValueError(f"need at least 3 x values in a 1-D array, got shape {x.shape}")
    if y.shape[-1] != x.size or y.ndim not in (1, 2):
        raise ValueError(f"y must have shape ({x.size},) or (replicates, {x.size}), got {y.shape}")
    if (x <= 0).any() or (y <= 0).any():
        raise ValueError("a power-law fit needs positive x and y")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if statistic not in ("mean", "median"):
        raise ValueError(f"statistic must be 'mean' or 'median', got {statistic!r}")
    center = np.mean if statistic == "mean" else np.median
    logx, logy = np.log(x), np.log(y)
    rng = np.random.default_rng(seed)
    if y.ndim == 2:
        mean_logy = np.log(center(y, axis=0))
        if not np.isfinite(mean_logy).all():
            raise ValueError(f"the {statistic} over replicates is infinite at some x: too few finite replicates")
        rows = rng.integers(0, y.shape[0], size=(n_boot, y.shape[0]))
        boot_logy = np.log(center(y[rows], axis=1))
        boot, _ = _slope_intercept(logx, boot_logy[np.isfinite(boot_logy).all(-1)])
    else:
        mean_logy = logy
        idx = rng.integers(0, x.size, size=(n_boot, x.size))
        bx, by = logx[idx], logy[idx]
        bxc = bx - bx.mean(1, keepdims=True)
        denom = (bxc**2).sum(1)
        ok = denom > 0
        boot = ((by - by.mean(1, keepdims=True)) * bxc).sum(1)[ok] / denom[ok]
    slope, intercept = _slope_intercept(logx, mean_logy)
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return PowerLawFit(float(slope), float(np.exp(intercept)), (float(lo), float(hi)), level)


def first_crossing(n, values, threshold: float, *, below: bool = True) -> np.ndarray:
    """The smallest grid point ``n`` at which each replicate's curve reaches ``threshold``.

    ``values`` is (..., k) against the increasing grid ``n`` (k,) — test errors against sample size, or
    overlaps along a training run against samples seen. "Reaches" means ≤ threshold when ``below`` (errors)
    and ≥ threshold otherwise (overlaps). Replicates that never reach it get ``inf``.
    """
    n = np.asarray(n, dtype=float)
    values = np.asarray(values, dtype=float)
    if n.ndim != 1 or values.shape[-1] != n.size:
        raise ValueError(f"values must end with the grid's length {n.size}, got shape {values.shape}")
    if (np.diff(n) <= 0).any():
        raise ValueError("the grid n must be strictly increasing")
    reached = values <= threshold if below else values >= threshold
    first = reached.argmax(-1)
    return np.where(reached.any(-1), n[first], np.inf)


def best_rate_crossings(history, threshold: float, *, samples_per_step: int) -> tuple[int, np.ndarray]:
    """Samples to first reach ``threshold`` (≥) in a learning-rate sweep, and the best rate.

    ``history`` is a metric recorded after every step, (steps, seeds, rates) — e.g. overlaps from
    :func:`replib.layerwise.learning_rate_sweep`. Returns the index of the rate whose median over seeds is
    smallest and the samples each (rate, seed) needed, (rates, seeds), ``inf`` where it never got there.
    """
    history = np.asarray(history, dtype=float)
    if history.ndim != 3 or samples_per_step < 1:
        raise ValueError(f"need a (steps, seeds, rates) history and samples_per_step >= 1, got shape "
                         f"{history.shape} and {samples_per_step}")
    steps = np.arange(1, history.shape[0] + 1)
    samples = samples_per_step * first_crossing(steps, history.transpose(2, 1, 0), threshold, below=False)
    return int(np.argmin(np.median(samples, axis=1))), samples


@dataclass(frozen=True)
class Interval:
    """A point estimate with a confidence interval and the name of the method that produced it."""

    value: float
    ci: tuple[float, float]
    n: int  # independent units (seeds, draws) behind it
    method: str  # e.g. "t-interval over 6 seeds", shown in a row's why=

    def contains(self, value: float) -> bool:
        return self.ci[0] <= value <= self.ci[1]


MIN_SEEDS = 5
MIN_BOOTSTRAP_UNITS = 10


def seed_interval(values, *, level: float = 0.95) -> Interval:
    """Mean of one number per independent seed (or draw) with a Student-t interval.

    Needs at least ``MIN_SEEDS`` (5) values: fewer give intervals too wide to decide anything or, with a
    bootstrap, far too narrow (3 seeds allow 10 distinct resamples)."""
    from scipy import stats

    v = np.asarray(values, dtype=float).ravel()
    if v.size < MIN_SEEDS:
        raise ValueError(f"an interval over seeds needs >= {MIN_SEEDS} independent values, got {v.size}")
    if not np.isfinite(v).all():
        raise ValueError("seed_interval got a non-finite value: decide what a failed run means first")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    mean, sem = float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size))
    half = float(stats.t.ppf((1 + level) / 2, v.size - 1)) * sem
    return Interval(mean, (mean - half, mean + half), int(v.size), f"t-interval over {v.size} seeds")


def bootstrap_interval(units, statistic, *, level: float = 0.95, n_boot: int = 2000,
                       seed: int = 0) -> Interval:
    """``statistic(units)`` with a percentile-bootstrap interval that resamples whole ``units`` (first
    axis: seeds, training sets, draws). Needs at least ``MIN_BOOTSTRAP_UNITS`` (10) units; with fewer,
    use :func:`seed_interval` on one number per unit."""
    u = np.asarray(units, dtype=float)
    if u.shape[0] < MIN_BOOTSTRAP_UNITS:
        raise ValueError(f"a bootstrap needs >= {MIN_BOOTSTRAP_UNITS} units, got {u.shape[0]}: "
                         "use seed_interval on one number per unit")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, u.shape[0], size=(n_boot, u.shape[0]))
    boot = np.array([statistic(u[i]) for i in idx], dtype=float)
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(statistic(u)), (float(lo), float(hi)), int(u.shape[0]),
                    f"bootstrap over {u.shape[0]} units")


def replicate_exponents(x, y) -> np.ndarray:
    """The log-log slope of each replicate row of ``y`` (r, k) against ``x`` (k,): one exponent per seed,
    to feed :func:`seed_interval` (the honest interval when there are fewer than 10 replicates)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if y.ndim != 2 or y.shape[1] != x.size or x.size < 3:
        raise ValueError(f"need y of shape (replicates, {x.size}) and >= 3 x values, got {y.shape}")
    if (x <= 0).any() or (y <= 0).any():
        raise ValueError("a power-law fit needs positive x and y")
    return _slope_intercept(np.log(x), np.log(y))[0]


def jackknife_interval(statistic, units: int, *, level: float = 0.95) -> Interval:
    """Delete-one-unit jackknife for a statistic of pooled units (chains, batches of networks):
    ``statistic(keep)`` gets the indices of the units to pool. The pseudo-values
    ``n·θ − (n−1)·θ₋ᵢ`` are the bias-corrected estimate's replicates; their t-interval
    (:func:`seed_interval`) is the jackknife interval. Use it when the quantity of interest is a
    function of a pooled average (a distance of the mean over chains), which no single unit estimates."""
    if units < MIN_SEEDS:
        raise ValueError(f"a jackknife needs >= {MIN_SEEDS} units, got {units}")
    idx = np.arange(units)
    full = float(statistic(idx))
    pseudo = [units * full - (units - 1) * float(statistic(np.delete(idx, i))) for i in idx]
    out = seed_interval(pseudo, level=level)
    return Interval(out.value, out.ci, units, f"delete-one jackknife t-interval over {units} units")


@dataclass(frozen=True)
class RateSelectedCrossing:
    """Samples until the median over seeds of a training metric reaches a threshold, at the best rate.

    ``boot`` holds the same quantity on seed-bootstrap resamples, each with its own best rate (``inf``
    where no rate's median got there), so the interval carries the cost of choosing the rate."""

    n: float  # samples at the best rate (inf if no rate's median reached the threshold)
    rate: int  # index of the best rate
    per_rate: np.ndarray  # (rates,) samples for every rate
    ci: tuple[float, float]
    boot: np.ndarray  # (n_boot,)
    method: str

    def contains(self, value: float) -> bool:
        return self.ci[0] <= value <= self.ci[1]


def _median_crossings(history: np.ndarray, threshold: float, below: bool, sustained: bool) -> np.ndarray:
    """First step (1-based; inf if never) at which the median over seeds reaches ``threshold``.
    ``history`` is (steps, ..., seeds, rates); returns (..., rates)."""
    med = np.median(history, axis=-2)  # (steps, ..., rates)
    ok = med <= threshold if below else med >= threshold
    if sustained:  # reached and never left again: the last step at which it was out, plus one
        ok = np.flip(np.logical_and.accumulate(np.flip(ok, 0), axis=0), 0)
    steps = np.arange(1, ok.shape[0] + 1, dtype=float).reshape((-1,) + (1,) * (ok.ndim - 1))
    return np.where(ok.any(0), np.where(ok, steps, np.inf).min(0), np.inf)


def rate_selected_crossing(history, threshold: float, *, samples_per_step: int, below: bool = False,
                           sustained: bool = False, level: float = 0.95, n_boot: int = 1000,
                           seed: int = 0) -> RateSelectedCrossing:
    """Samples needed for a learning-rate sweep's metric to reach ``threshold``, measured on the median.

    ``history`` is the metric after every step, (steps, seeds, rates) (e.g. overlaps from
    :func:`replib.layerwise.learning_rate_sweep`). At each step we take the median over seeds of the
    *current* value (not each seed's first touch, which rewards seeds that touch the threshold and fall
    back); a rate's crossing is the first step at which that median reaches the threshold (≥, or ≤ with
    ``below``; with ``sustained`` it must stay there to the end of the record). The best rate is the one
    with the earliest crossing. The interval is a percentile bootstrap over seeds that re-selects the rate
    inside every resample. Needs ≥ 10 seeds.
    """
    h = np.asarray(history, dtype=float)
    if h.ndim != 3 or samples_per_step < 1:
        raise ValueError(f"need a (steps, seeds, rates) history and samples_per_step >= 1, got shape "
                         f"{h.shape} and {samples_per_step}")
    if h.shape[1] < MIN_BOOTSTRAP_UNITS:
        raise ValueError(f"a bootstrap over seeds needs >= {MIN_BOOTSTRAP_UNITS} seeds, got {h.shape[1]}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    per_rate = samples_per_step * _median_crossings(h, threshold, below, sustained)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, h.shape[1], size=(n_boot, h.shape[1]))
    chunks = max(1, int(h.size * n_boot // 20_000_000))  # ~160 MB of resampled history at a time
    boot = np.concatenate([samples_per_step * _median_crossings(h[:, i], threshold, below, sustained).min(-1)
                           for i in np.array_split(idx, min(chunks, n_boot))])
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2], method="inverted_cdf")  # inf-safe
    best = int(np.argmin(per_rate))
    return RateSelectedCrossing(float(per_rate[best]), best, per_rate, (float(lo), float(hi)), boot,
                                f"bootstrap over {h.shape[1]} seeds, rate re-selected in each resample")


def crossing_exponent(x, crossings, *, level: float = 0.95) -> Interval:
    """Log-log slope of :func:`rate_selected_crossing` results against ``x`` (e.g. the dimension), with
    the interval from pairing their (independent) bootstrap resamples. A resample in which some x never
    reached the threshold has no slope; if more than half the interval's tail mass is such resamples the
    horizon was too short and this raises."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 3 or len(crossings) != x.size or (x <= 0).any():
        raise ValueError(f"need >= 3 positive x values and one crossing per x, got {x.size} and {len(crossings)}")
    n = np.array([c.n for c in crossings])
    if not np.isfinite(n).all():
        raise ValueError(f"the median never reached the threshold at x = {x[~np.isfinite(n)].tolist()}: "
                         "run longer")
    boot = np.stack([c.boot for c in crossings], axis=-1)  # (n_boot, k)
    finite = np.isfinite(boot).all(-1)
    missing = 1 - finite.mean()
    if missing > (1 - level) / 4:
        raise ValueError(f"{missing:.1%} of the bootstrap resamples never reached the threshold at some x: "
                         "run longer before fitting an exponent")
    slopes, _ = _slope_intercept(np.log(x), np.log(boot[finite]))
    lo, hi = np.quantile(slopes, [(1 - level) / 2, (1 + level) / 2])
    slope = float(_slope_intercept(np.log(x), np.log(n))[0])
    return Interval(slope, (float(lo), float(hi)), len(crossings[0].boot),
                    f"{crossings[0].method}, resamples paired across x")
