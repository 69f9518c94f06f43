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


def test_hidden_features_average_to_the_nngp_kernel_in_bounded_chunks():
    from replib.kernels import MLPKernel
    from replib.moments import hidden_features

    x = torch.randn(3, 5, generator=G(5), dtype=torch.float64)
    chunks = list(hidden_features(x, width=16, draws=6000, generator=G(6), max_elements=16 * 5 * 500))
    assert len(chunks) == 12 and all(c.shape[1:] == (3, 16) for c in chunks)
    phi = torch.cat(chunks)
    gram = phi @ phi.transpose(1, 2)  # empirical kernel per network
    sem = gram.std(0) / math.sqrt(len(gram))
    k = MLPKernel(1, "relu", weight_var=2.0)(x).nngp
    assert ((gram.mean(0) - k).abs() < 4 * sem).all()
    with pytest.raises(ValueError, match="positive"):
        next(hidden_features(x, width=0, draws=1))


def test_vertex_recursion_matches_the_exact_single_input_results_and_is_symmetric():
    from replib.moments import vertex_recursion

    one = torch.ones(1, 1, dtype=torch.float64)
    for act, cw, c in (("relu", 2.0, 5), ("linear", 1.0, 2)):
        k, v = vertex_recursion(one, depth=5, activation=act, weight_var=cw)
        torch.testing.assert_close(v[:, 0, 0] / k[:, 0, 0] ** 2,
                                   c * torch.arange(5, dtype=torch.float64), rtol=1e-6, atol=1e-9)
    two = torch.tensor([[1.0, 0.0], [0.6, 0.8]], dtype=torch.float64)
    k2, v2 = vertex_recursion(two, depth=4, activation="relu", weight_var=2.0)
    torch.testing.assert_close(v2, v2.transpose(1, 2))
    torch.testing.assert_close(v2[:, 0, 0] / k2[:, 0, 0] ** 2,
                               5 * torch.arange(4, dtype=torch.float64), rtol=1e-5, atol=1e-8)
    assert (v2[1:, 0, 2] < v2[1:, 0, 0]).all() and (v2[1:, 0, 2] > 0).all()
    with pytest.raises(ValueError, match="one or two"):
        vertex_recursion(torch.ones(3, 2), depth=2)


def test_explicit_networks_match_the_exact_vertex_of_linear_networks():
    from replib.moments import mlp_pair_moments, vertex_estimate

    width, depth, draws = 16, 4, 6000
    s, q = mlp_pair_moments(torch.ones(1, 1), width=width, depth=depth, draws=draws,
                            activation="linear", weight_var=1.0, generator=G(7))
    assert s.shape == (draws, depth, 1) and q.shape == (draws, depth, 1, 1)
    v = vertex_estimate(s, q, width)[:, 0, 0]
    exact = width * ((1 + 2 / width) ** torch.arange(depth, dtype=torch.float64) - 1)
    reps = torch.stack([vertex_estimate(s[r::6], q[r::6], width)[:, 0, 0] for r in range(6)])
    sem = reps.std(0) / math.sqrt(6)
    assert abs(float(v[0])) < 0.2 and ((v[1:] - exact[1:]).abs() < 4 * sem[1:] + 0.05).all()
