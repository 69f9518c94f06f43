import numpy as np
import pytest

from replib.fitting import (best_rate_crossings, fit_power_law, first_crossing,
                            seed_interval)


def test_an_exact_power_law_is_recovered():
    x = np.array([16, 32, 64, 128, 256.0])
    fit = fit_power_law(x, 3.0 * x**-0.5)
    assert fit.exponent == pytest.approx(-0.5) and fit.prefactor == pytest.approx(3.0)
    assert fit.contains(-0.5) and fit(4.0) == pytest.approx(1.5)


def test_replicates_give_an_interval_that_covers_the_truth_most_of_the_time():
    rng = np.random.default_rng(0)
    x = np.array([8, 16, 32, 64, 128, 256.0])
    covered = 0
    for _ in range(100):
        y = x**-1.0 * np.exp(0.2 * rng.standard_normal((20, x.size)))
        covered += fit_power_law(x, y, n_boot=400, seed=1).contains(-1.0)
    assert 85 <= covered <= 100  # nominal 95 %


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match="at least 3"):
        fit_power_law([1, 2], [1, 2])
    with pytest.raises(ValueError, match="positive"):
        fit_power_law([1, 2, 3], [1, -2, 3])
    with pytest.raises(ValueError, match="shape"):
        fit_power_law([1, 2, 3], [1, 2])


def test_first_crossing_finds_the_first_grid_point_and_marks_misses():
    n = np.array([10, 20, 40, 80.0])
    errors = np.array([[0.9, 0.4, 0.2, 0.1], [0.9, 0.8, 0.7, 0.6], [0.1, 0.5, 0.1, 0.1]])
    assert first_crossing(n, errors, 0.3).tolist() == [40.0, np.inf, 10.0]
    assert first_crossing(n, errors, 0.8, below=False).tolist() == [10.0, 10.0, np.inf]
    with pytest.raises(ValueError, match="increasing"):
        first_crossing(n[::-1], errors, 0.3)
    with pytest.raises(ValueError, match="grid's length"):
        first_crossing(n[:3], errors, 0.3)


def test_median_statistic_tolerates_a_minority_of_infinite_replicates():
    x = np.array([10, 20, 40, 80.0])
    y = np.tile(2.0 * x, (5, 1))
    y[0, 1] = y[1, 3] = np.inf  # runs that never reached a threshold
    fit = fit_power_law(x, y, statistic="median", n_boot=200)
    assert fit.exponent == pytest.approx(1.0)
    with pytest.raises(ValueError, match="infinite"):
        fit_power_law(x, np.where(np.arange(5)[:, None] < 3, np.inf, y), statistic="median")
    with pytest.raises(ValueError, match="statistic"):
        fit_power_law(x, y, statistic="mode")


def test_best_rate_crossings_picks_the_rate_with_the_smallest_median():
    history = np.zeros((4, 3, 2))  # (steps, seeds, rates)
    history[1:, :, 1] = 1.0  # rate 1: every seed through at step 2
    history[3, :2, 0] = 1.0  # rate 0: two seeds at step 4, one never
    best, samples = best_rate_crossings(history, 0.5, samples_per_step=10)
    assert best == 1
    assert samples.tolist() == [[40.0, 40.0, np.inf], [20.0, 20.0, 20.0]]
    with pytest.raises(ValueError, match="steps, seeds, rates"):
        best_rate_crossings(history[0], 0.5, samples_per_step=10)


def test_seed_interval_is_the_student_t_interval_and_needs_five_seeds():
    from scipy import stats

    from replib.fitting import seed_interval

    v = np.array([1.0, 2.0, 3.0, 4.0, 6.0])
    got = seed_interval(v, level=0.9)
    lo, hi = stats.t.interval(0.9, 4, loc=v.mean(), scale=stats.sem(v))
    assert got.value == pytest.approx(3.2) and got.ci == pytest.approx((lo, hi))
    assert got.method == "t-interval over 5 seeds" and got.contains(3.0)
    with pytest.raises(ValueError, match=">= 5"):
        seed_interval([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="non-finite"):
        seed_interval([1.0, 2.0, 3.0, 4.0, np.inf])


def test_bootstrap_interval_resamples_units_and_refuses_few():
    from replib.fitting import bootstrap_interval

    rng = np.random.default_rng(0)
    units = rng.normal(size=(400, 3))
    got = bootstrap_interval(units, lambda u: u[:, 0].mean())
    assert got.value == pytest.approx(units[:, 0].mean()) and got.contains(got.value)
    assert got.ci[1] - got.ci[0] == pytest.approx(2 * 1.96 / 20, rel=0.2)  # 2 z sigma / sqrt(400)
    with pytest.raises(ValueError, match="seed_interval"):
        bootstrap_interval(units[:9], np.mean)


def test_replicate_exponents_recovers_each_seeds_slope():
    from replib.fitting import replicate_exponents

    x = np.array([1.0, 2.0, 4.0, 8.0])
    y = np.stack([3 * x**-0.5, 2 * x**-1.0])
    assert replicate_exponents(x, y) == pytest.approx([-0.5, -1.0])


def test_jackknife_interval_removes_the_bias_of_a_squared_mean():
    from replib.fitting import jackknife_interval

    rng = np.random.default_rng(1)
    x = rng.normal(loc=1.0, size=(2000, 8))  # 2000 experiments with 8 units each
    naive = np.array([u.mean() ** 2 for u in x]).mean()  # biased up by var / 8
    jack = np.array([jackknife_interval(lambda keep, u=u: u[keep].mean() ** 2, 8).value
                     for u in x[:400]]).mean()
    assert naive == pytest.approx(1 + 1 / 8, abs=0.03) and jack == pytest.approx(1.0, abs=0.05)
    got = jackknife_interval(lambda keep: x[0][keep].mean(), 8)  # linear: the t-interval itself
    want = seed_interval(x[0])
    assert got.value == pytest.approx(want.value) and got.ci == pytest.approx(want.ci)
    with pytest.raises(ValueError, match=">= 5"):
        jackknife_interval(np.mean, 3)


def test_rate_selected_crossing_uses_the_median_of_the_current_value():
    from replib.fitting import rate_selected_crossing

    steps, seeds = 6, 11
    history = np.zeros((steps, seeds, 2))  # (steps, seeds, rates)
    # rate 0: every seed touches 1 at step 2 and falls back; 6 of 11 seeds reach it for good at step 5
    history[1, :, 0] = 1.0
    history[4:, :6, 0] = 1.0
    # rate 1: 6 of 11 seeds through at step 4 and stay
    history[3:, :6, 1] = 1.0
    c = rate_selected_crossing(history, 0.5, samples_per_step=10, n_boot=400)
    assert c.per_rate.tolist() == [20.0, 40.0]  # first step at which the median is >= 0.5
    s = rate_selected_crossing(history, 0.5, samples_per_step=10, sustained=True, n_boot=400)
    assert s.per_rate.tolist() == [50.0, 40.0] and s.rate == 1 and s.n == 40.0
    # resamples with a minority of the 6 good seeds have no crossing at any rate
    assert np.isinf(s.boot).any() and s.ci[1] == np.inf
    assert s.contains(40.0)
    with pytest.raises(ValueError, match="10 seeds"):
        rate_selected_crossing(history[:, :5], 0.5, samples_per_step=10)
    with pytest.raises(ValueError, match="steps, seeds, rates"):
        rate_selected_crossing(history[0], 0.5, samples_per_step=10)


def test_rate_selection_inside_the_bootstrap_widens_nothing_when_one_rate_dominates():
    from replib.fitting import rate_selected_crossing

    rng = np.random.default_rng(0)
    t = np.arange(1, 201)[:, None, None]
    k = rng.uniform(0.02, 0.04, size=(1, 20, 1)) * np.array([1.0, 0.25])  # rate 1 is 4x slower
    history = 1 - np.exp(-k * t)
    c = rate_selected_crossing(history, 0.5, samples_per_step=1, below=False)
    assert c.rate == 0 and (np.isfinite(c.boot).all())
    assert c.ci[0] <= c.n <= c.ci[1]
    assert 0.69 / 0.04 - 1 <= c.ci[0] and c.ci[1] <= 0.69 / 0.02 + 1


def test_crossing_exponent_recovers_a_power_law_across_dimensions():
    from replib.fitting import crossing_exponent, rate_selected_crossing

    rng = np.random.default_rng(1)
    dims = np.array([16, 32, 64, 128])
    crossings = []
    for i, d in enumerate(dims):
        t = np.arange(1, 4 * d**1.5 + 1)[:, None, None]
        rate = rng.uniform(0.8, 1.25, size=(1, 16, 1)) / d**1.5 * np.array([1.0, 0.5, 2.0])
        crossings.append(rate_selected_crossing(1 - np.exp(-rate * t), 0.5, samples_per_step=1,
                                                n_boot=300, seed=i))
    fit = crossing_exponent(dims, crossings)
    assert fit.value == pytest.approx(1.5, abs=0.05) and fit.contains(1.5)
    assert all(c.rate == 2 for c in crossings)  # the fastest rate wins at every d
    with pytest.raises(ValueError, match="one crossing per x"):
        crossing_exponent(dims[:3], crossings)
