import math

import pytest
import torch

from replib.layerwise import fit_three_layer, polynomial_dimension, spherical_sgd, unit_neurons
from replib.metrics import correlation, normalised_error
from replib.targets import hermite, hermite_feature


def test_unit_neurons_are_unit_and_reproducible():
    w = unit_neurons(3, 5, d=7, generator=torch.Generator().manual_seed(0))
    assert w.shape == (3, 5, 7) and torch.allclose(w.norm(dim=-1), torch.ones(3, 5, dtype=w.dtype))
    assert torch.equal(w, unit_neurons(3, 5, d=7, generator=torch.Generator().manual_seed(0)))
    with pytest.raises(ValueError, match="positive"):
        unit_neurons(0, d=3)


def test_one_spherical_step_matches_the_formula():
    g = torch.Generator().manual_seed(1)
    w = unit_neurons(2, d=4, generator=g)
    x = torch.randn(6, 4, generator=g, dtype=torch.float64)
    y = torch.randn(6, generator=g, dtype=torch.float64)
    out = spherical_sgd(w, lambda t: (x, y), steps=1, lr=0.1, activation_grad=torch.cos)
    grad = (y[None, :] * torch.cos(w @ x.T)) @ x / 6
    grad = grad - (grad * w).sum(-1, keepdim=True) * w
    expected = (w + 0.1 * grad) / (w + 0.1 * grad).norm(dim=-1, keepdim=True)
    assert torch.allclose(out, expected)
    twice = spherical_sgd(w, lambda t: (x, y), steps=1, lr=0.1, activation_grad=torch.cos, reuse=2)
    assert torch.allclose(twice, spherical_sgd(expected, lambda t: (x, y), steps=1, lr=0.1, activation_grad=torch.cos))


def test_spherical_sgd_recovers_a_single_index_direction():
    g = torch.Generator().manual_seed(2)
    d = 16
    theta = torch.zeros(d, dtype=torch.float64)
    theta[0] = 1
    lrs = torch.tensor([0.05, 0.1], dtype=torch.float64).view(2, 1, 1)

    def sample(t):
        x = torch.randn(64, d, generator=g, dtype=torch.float64)
        return x, hermite(2, x @ theta)  # information exponent 2, student activation He_2

    w = spherical_sgd(unit_neurons(2, 4, d=d, generator=g), sample, steps=400, lr=lrs,
                      activation_grad=lambda u: 2 * u)
    assert (w @ theta).abs().min() > 0.9


def test_bad_arguments_are_rejected():
    w = unit_neurons(2, d=3)
    with pytest.raises(ValueError, match="reuse"):
        spherical_sgd(w, lambda t: None, steps=1, lr=0.1, activation_grad=torch.cos, reuse=0)
    with pytest.raises(ValueError, match="positive"):
        spherical_sgd(w, lambda t: None, steps=1, lr=-1.0, activation_grad=torch.cos)


def test_three_layer_network_learns_a_hierarchical_target():
    g = torch.Generator().manual_seed(3)
    d, seeds = 8, 2
    signs = torch.where(torch.rand(seeds, d, generator=g) < 0.5, 1.0, -1.0).double()
    outer = lambda p: (p + hermite(3, p, normalised=True)) / math.sqrt(2)
    dim = polynomial_dimension(d, 2)
    x = torch.randn(seeds, 64 * dim, d, generator=g, dtype=torch.float64)
    net = fit_three_layer(x, outer(hermite_feature(x, signs, 2)), width1=2 * dim, width2=128, degree=2, generator=g,
                          ridge1=1e-3)
    xt = torch.randn(seeds, 2000, d, generator=g, dtype=torch.float64)
    pt = hermite_feature(xt, signs, 2)
    assert (correlation(net.feature(xt), pt) > 0.85).all()
    assert (normalised_error(net(xt), outer(pt)) < 0.6).all()
    assert net.w.shape == (seeds, 2 * dim, d) and polynomial_dimension(d, 2) == 36
