import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from replib.plotting import median_band  # noqa: E402


def test_median_band_draws_the_median_and_the_chosen_quantiles():
    curves = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 6.0], [3.0, 7.0], [4.0, 8.0]])
    fig, ax = plt.subplots()
    median_band(ax, [1, 2], curves, color="C0", band=(0.25, 0.75), label="m")
    line, = ax.get_lines()
    assert np.allclose(line.get_ydata(), [2.0, 6.0]) and line.get_label() == "m"
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert np.isclose(band.min(), 1.0) and np.isclose(band.max(), 7.0)  # 25 % and 75 % quantiles
    with pytest.raises(ValueError, match="replicates"):
        median_band(ax, [1, 2, 3], curves, color="C0")
    plt.close(fig)
