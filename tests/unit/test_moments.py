import math

import pytest
import torch

from replib.moments import excess_kurtosis, preactivation_moments
from replib.nets import StackedMLP

G = lambda s=0: torch.Generator().manual_seed(s)  # noqa: E731


def test_first_layer_is_gaussian_and_relu_kurtosis_follows_the_exact_recursion():
    m = preactivation_moments(width=32, depth=4, draws=100_000, generator=G())
    est = excess_kurtosis(m, generator=G(1))
    assert est[0].contains(0.0)
    for layer in (1, 2, 3):
        assert est[layer].contains(3 * ((1 + 5 / 32) ** layer - 1))
    torch.testing.assert_close(m[:, :, 0].mean(1), torch.ones(4, dtype=torch.float64), rtol=0.02, atol=0)


def test_the_conditional_sampler_matches_networks_with_explicit_weights():
    width, depth, draws = 8, 2, 40_000
    d = 4
    x = torch.full((1, d), math.sqrt(0.5))  # C_W |x|² / d = 1 with C_W = 2
    net = StackedMLP(d, [width] * draws, depth, weight_var=2.0, generator=G(2))
    with torch.no_grad():
        z = net(x)[:, 0].double()  # one neuron of layer depth + 1, one per network
    explicit = (z**4).mean() / (z**2).mean() ** 2 - 3
    sampled = excess_kurtosis(preactivation_moments(width=width, depth=depth + 1, draws=draws, generator=G(3)),
                              generator=G(4))[-1].value
    exact = 3 * ((1 + 5 / width) ** depth - 1)
    assert abs(float(explicit) - exact) < 0.2 * exact and abs(sampled - exact) < 0.05 * exact


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match="positive"):
        preactivation_moments(width=0, depth=1, draws=1)
    with pytest.raises(ValueError, match="activation"):
        preactivation_moments(width=2, depth=1, draws=1, activation="gelu")
    with pytest.raises(ValueError, match="shape"):
        excess_kurtosis(torch.ones(3, 4))
