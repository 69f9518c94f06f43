import pytest
import torch

from replib.dkm import dkm_objective, fit_dkm, gram_kernel, log_likelihood, nngp_grams, sample_dgp

F64 = torch.float64


def problem(points=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(points, 2, generator=g, dtype=F64)
    y = torch.sin(2 * x[:, :1])
    return x @ x.T / 2, (y - y.mean()) / y.std(), g


def test_gram_kernel_is_the_squared_exponential_of_the_features():
    g = torch.Generator().manual_seed(1)
    f = torch.randn(6, 4, generator=g, dtype=F64)
    k = gram_kernel(f @ f.T, lengthscale=1.5, floor=0.2)
    explicit = 0.8 * torch.exp(-torch.cdist(f, f) ** 2 / (2 * 1.5**2)) + 0.2 * torch.eye(6, dtype=F64)
    assert torch.allclose(k, explicit, atol=1e-12)


def test_log_likelihood_is_the_gaussian_density():
    g0, y, _ = problem()
    cov = gram_kernel(g0) + 0.1 * torch.eye(len(y), dtype=F64)
    expected = torch.distributions.MultivariateNormal(torch.zeros(len(y), dtype=F64), cov).log_prob(y[:, 0])
    assert torch.isclose(log_likelihood(g0, y, 0.1), expected)


def test_without_the_likelihood_the_dkm_is_the_nngp_and_with_it_it_moves():
    g0, y, _ = problem()
    prior = nngp_grams(g0, 2)
    assert torch.isclose(dkm_objective(prior, g0, y, noise=0.1, likelihood_weight=0.0), torch.tensor(0.0, dtype=F64), atol=1e-9)
    flat = fit_dkm(g0, y, layers=2, noise=0.1, likelihood_weight=0.0)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(flat, prior))
    learned = fit_dkm(g0, y, layers=2, noise=0.1)
    assert dkm_objective(learned, g0, y, noise=0.1) > dkm_objective(prior, g0, y, noise=0.1) + 1
    params = [g.clone().requires_grad_(True) for g in learned]  # a stationary point: tiny gradient in G
    dkm_objective(params, g0, y, noise=0.1).backward()
    assert max(float(p.grad.abs().max()) for p in params) < 1e-4
    with pytest.raises(ValueError):
        fit_dkm(g0, y[:-1], layers=2, noise=0.1)


def test_langevin_without_likelihood_samples_the_prior():
    """With no likelihood, E[G_1] = K(G_0) exactly (the features are Gaussian with that covariance)."""
    g0, y, g = problem(points=8)
    grams = sample_dgp(g0, y, width=64, layers=2, noise=0.1, likelihood_scale=0.0, steps=600, burn_in=100,
                       step_size=0.1, chains=4, generator=g)
    assert float((grams[0] - gram_kernel(g0)).abs().max()) < 0.1
    with pytest.raises(ValueError):
        sample_dgp(g0, y, width=4, layers=2, noise=0.1, likelihood_scale=1.0, steps=10, burn_in=10, step_size=0.1,
                   chains=1, generator=g)


def test_per_chain_summaries_average_to_sample_dgp_and_the_prior_variance_is_wishart():
    """sample_dgp is the chain average of sample_dgp_chains (same draws); with no likelihood, layer 1's
    features are N(0, K) columns, so a Gram entry's variance is (K_ii K_jj + K_ij²)/N, times
    1/(1 − h/2)² for unadjusted Langevin with step h (its stationary covariance is K/(1 − h/2))."""
    from replib.dkm import sample_dgp_chains

    g0, y, _ = problem(points=6)
    kwargs = dict(width=32, layers=2, noise=0.1, likelihood_scale=0.0, steps=1500, burn_in=300,
                  step_size=0.2, chains=6)
    run = sample_dgp_chains(g0, y, generator=torch.Generator().manual_seed(3), **kwargs)
    pooled = sample_dgp(g0, y, generator=torch.Generator().manual_seed(3), **kwargs)
    assert [m.shape for m in run.mean] == [(6, 6, 6)] * 2 and [v.shape for v in run.var] == [(6,)] * 2
    assert all(torch.allclose(m.mean(0), p, atol=1e-12) for m, p in zip(run.mean, pooled))
    k = gram_kernel(g0)
    wishart = float(((k.diagonal()[:, None] * k.diagonal()[None, :] + k**2) / 32).mean())
    assert abs(float(run.var[0].mean()) / (wishart / (1 - 0.2 / 2) ** 2) - 1) < 0.1
