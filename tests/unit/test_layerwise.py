import math

import pytest
import torch

from replib.layerwise import (fit_three_layer, learning_rate_sweep, polynomial_dimension, sine_cosine_grad,
                              spherical_sgd, unit_neurons)
from replib.metrics import correlation, normalised_error
from replib.targets import hermite, hermite_coefficients, hermite_feature


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


def test_learning_rate_sweep_equals_separate_runs_and_stops_early():
    g = torch.Generator().manual_seed(4)
    w = unit_neurons(3, 2, d=5, generator=g)  # (seeds, neurons, d)
    batches = [(torch.randn(3, 8, 5, generator=g, dtype=torch.float64),
                torch.randn(3, 8, generator=g, dtype=torch.float64)) for _ in range(4)]
    queue = list(batches)
    history = learning_rate_sweep(w, lambda t: queue.pop(0), [0.1, 0.3], activation_grad=torch.cos, max_steps=4,
                                  summarise=lambda v: v.clone(), reuse=2, chunk=3)
    assert history.shape == (4, 3, 2, 2, 5)  # (steps, seeds, learning rates, neurons, d)
    for k, lr in enumerate([0.1, 0.3]):
        queue = list(batches)
        alone = spherical_sgd(w, lambda t: queue.pop(0), steps=4, lr=lr, activation_grad=torch.cos, reuse=2)
        assert torch.allclose(history[-1, :, k], alone)
    stopped = learning_rate_sweep(w, lambda t: batches[0], [0.1], activation_grad=torch.cos, max_steps=100,
                                  summarise=lambda v: v[..., 0], done=lambda h: h.shape[0] >= 5, chunk=3)
    assert stopped.shape[0] == 6  # asked after every chunk of 3 steps
    with pytest.raises(ValueError, match="learning rates"):
        learning_rate_sweep(w, lambda t: batches[0], [], activation_grad=torch.cos, max_steps=1, summarise=lambda v: v)


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


def test_sine_cosine_activation_is_bounded_with_the_advertised_hermite_signs():
    u = torch.linspace(-50, 50, 10001, dtype=torch.float64)
    assert sine_cosine_grad(u).abs().max() <= math.sqrt(1.25) + 1e-12
    sigma = lambda z: 0.5 * torch.sin(z) - torch.cos(z)
    coef = hermite_coefficients(sigma, 4)
    assert coef[2] > 0 and coef[1] != 0 and coef[3] != 0
    e = math.exp(-0.5)  # E[cos Z] for Z ~ N(0, 1); σ' integrates to E[σ'(Z)] = He_1 coefficient
    assert float(coef[1]) == pytest.approx(0.5 * e, abs=1e-6)


def test_median_settled_waits_for_the_fraction_then_confirms():
    from replib.layerwise import median_settled

    # (steps, seeds=10, rates=2): rate 1 has 8 of 10 seeds past 0.5 from step 4 on
    h = torch.zeros(20, 10, 2)
    h[3:, :8, 1] = 1.0
    h[2, :, 0] = 1.0  # rate 0: every seed past at step 3 only (a transient): settles there too
    done = median_settled(0.5, fraction=0.8, confirm=1.0)
    assert not done(h[:2])
    assert not done(h[:3])  # settled at step 3; confirm = 1 runs to step 6
    assert not done(h[:5])
    assert done(h[:6])
    fresh = median_settled(0.5, fraction=0.9, confirm=0.0)
    assert not fresh(h[:10, :, 1:])  # only 80 % of rate 1's seeds: never settled
    assert median_settled(0.5, below=True, confirm=0.0)(torch.zeros(1, 10, 1))
    with pytest.raises(ValueError):
        median_settled(0.5, fraction=0.0)
