import math

import numpy as np
import pytest
import torch

from replib.laziness import (QuadraticTarget, _linearised, linear_projection, squared_projection,
                             train_output_scaled)
from replib.kernels import kernel_regression


def problem(seeds=2, n=30, dim=6, width=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(seeds, n, dim, generator=g, dtype=torch.float64) / math.sqrt(dim)
    beta = torch.randn(seeds, dim, generator=g, dtype=torch.float64)
    w0 = torch.randn(seeds, width, dim, generator=g, dtype=torch.float64)
    return x, beta, w0


def test_population_risk_matches_monte_carlo_and_the_gaussian_moments():
    _, beta, _ = problem(dim=5)
    target = squared_projection(beta)
    sq = (beta**2).sum(-1)
    # y = z²/2 with z ~ N(0, |β|²/D): E y² = 3|β|⁴/(4D²), Var y = |β|⁴/(2D²)
    assert torch.allclose(target.risk(torch.zeros_like(beta), torch.zeros_like(target.m)), 3 * sq**2 / (4 * 25))
    assert torch.allclose(target.variance, sq**2 / (2 * 25))
    g = torch.Generator().manual_seed(1)
    v = torch.randn(2, 5, generator=g, dtype=torch.float64)
    m = torch.randn(2, 5, 5, generator=g, dtype=torch.float64)
    m = (m + m.transpose(-1, -2)) / 2
    x = torch.randn(2, 400_000, 5, generator=g, dtype=torch.float64) / math.sqrt(5)
    mc = ((QuadraticTarget(v, m)(x) - target(x)) ** 2).mean(-1)
    assert torch.allclose(target.risk(v, m), mc, rtol=0.02)
    lin = linear_projection(beta)
    assert torch.allclose(lin(x[:, :3]), (x[:, :3] @ beta[..., None])[..., 0])


def explicit_gd(x, y, w0, alpha, eps, steps):
    """Gradient descent on the explicit network by autograd: the reference for the batched trainer."""
    w = w0.clone().requires_grad_(True)

    def f(w):
        h = x @ w.transpose(-1, -2)
        return alpha * (h + eps / 2 * h**2).mean(-1)

    f0 = f(w0).detach()
    losses = []
    for _ in range(steps + 1):
        loss = ((f(w) - f0 - y) ** 2).mean(-1)
        losses.append(loss.detach())
        (grad,) = torch.autograd.grad(loss.sum(), w)
        with torch.no_grad():
            w -= w0.shape[-2] / alpha**2 * grad
    return torch.stack(losses)


def test_batched_training_equals_autograd_gradient_descent_for_each_scale():
    x, beta, w0 = problem()
    target = squared_projection(beta)
    run = train_output_scaled(x, target, w0, alphas=[0.5, 2.0], eps=0.3, record_at=range(6))
    for a, alpha in enumerate([0.5, 2.0]):
        reference = explicit_gd(x, target(x), w0, alpha, 0.3, 5)
        assert torch.allclose(run.train[:, a], reference, rtol=1e-10)


def test_test_risk_is_the_risk_of_the_trained_quadratic_form():
    x, beta, w0 = problem()
    target = squared_projection(beta)
    run = train_output_scaled(x, target, w0, alphas=[1.0], eps=0.3, record_at=[0, 40])
    assert torch.allclose(run.test[0, 0], target.variance + (target.m.diagonal(dim1=-2, dim2=-1).sum(-1) / 6) ** 2)
    assert (run.test[-1, 0] < run.test[0, 0]).all()


def test_a_very_lazy_network_follows_its_closed_form_linearisation():
    x, beta, w0 = problem()
    target = squared_projection(beta)
    steps = [0, 5, 20, 60]
    run = train_output_scaled(x, target, w0, alphas=[1e4], eps=0.3, record_at=steps)
    assert torch.allclose(run.train[:, 0], run.linear_train, rtol=1e-3)
    assert torch.allclose(run.test[:, 0], run.linear_test, rtol=1e-3)


def test_converged_linearisation_is_ridgeless_regression_with_the_initial_kernel():
    x, beta, w0 = problem(n=20, dim=6, width=8)
    target, eps = squared_projection(beta), 0.3
    y = target(x)
    train, test, kernel = _linearised(x, y, w0, eps, target, np.array([10**9]))
    assert torch.allclose(test[0], kernel)
    assert (train[0] < 1e-12).all()  # P = 20 < N·D = 48: the kernel interpolates
    # the same risk from explicit kernel regression, predicted on fresh points
    g = torch.Generator().manual_seed(3)
    xt = torch.randn(2, 200_000, 6, generator=g, dtype=torch.float64) / math.sqrt(6)

    def ntk(a, b, w):  # tangent kernel of the linearised network, up to a constant factor
        sa, sb = 1 + eps * a @ w.T, 1 + eps * b @ w.T
        return (sa @ sb.T) * (a @ b.T)

    y_test = target(xt)
    for s in range(2):
        prediction = kernel_regression(ntk(x[s], x[s], w0[s]), y[s], ntk(xt[s], x[s], w0[s]))
        assert torch.isclose(((prediction - y_test[s]) ** 2).mean(), kernel[s], rtol=0.03)


def test_bad_inputs_get_clear_errors():
    x, beta, w0 = problem()
    target = squared_projection(beta)
    with pytest.raises(ValueError, match="matching"):
        train_output_scaled(x, target, w0[:1], alphas=[1.0], eps=0.1, record_at=[0, 1])
    with pytest.raises(ValueError, match="alphas > 0"):
        train_output_scaled(x, target, w0, alphas=[0.0], eps=0.1, record_at=[0, 1])
    with pytest.raises(ValueError, match="record"):
        train_output_scaled(x, target, w0, alphas=[1.0], eps=0.1, record_at=[])
