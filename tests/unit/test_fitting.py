import numpy as np
import pytest

from replib.fitting import fit_power_law


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
