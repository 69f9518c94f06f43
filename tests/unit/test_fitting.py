import numpy as np
import pytest

from replib.fitting import best_rate_crossings, fit_power_law, first_crossing, sample_complexity


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


def test_sample_complexity_median_and_interval():
    n = np.arange(1, 101.0)
    rng = np.random.default_rng(0)
    crossings = rng.integers(30, 50, size=25)
    errors = (n[None, :] < crossings[:, None]).astype(float)  # error 1 until the crossing, then 0
    sc = sample_complexity(n, errors, 0.5, n_boot=500)
    assert sc.n == np.median(crossings) and sc.ci[0] <= sc.n <= sc.ci[1]
    assert 30 <= sc.ci[0] and sc.ci[1] < 50
    assert np.array_equal(sc.per_replicate, crossings)


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
