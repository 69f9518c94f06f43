import math

import pytest
import torch
from scipy import stats

from replib.gp import Predictive, gp_predict, tp_predict
from replib.kernels import rbf_kernel


def problem():
    g = torch.Generator().manual_seed(0)
    x = torch.linspace(-2, 2, 30, dtype=torch.float64)[:, None]
    xt = torch.linspace(-2.5, 2.5, 7, dtype=torch.float64)[:, None]
    y = torch.sin(2 * x[:, 0]) + 0.1 * torch.randn(30, generator=g, dtype=torch.float64)
    return rbf_kernel(x, lengthscale=0.7), y, rbf_kernel(xt, x, lengthscale=0.7), torch.ones(7, dtype=torch.float64)


def test_gp_predictive_matches_the_dense_formula():
    k, y, kt, kd = problem()
    p = gp_predict(k, y, kt, kd, noise=0.01, signal_var=2.0)
    a = k + 0.01 * torch.eye(30, dtype=torch.float64)
    torch.testing.assert_close(p.loc, kt @ torch.linalg.solve(a, y))
    var = 2.0 * (kd + 0.01 - (kt @ torch.linalg.solve(a, kt.T)).diagonal())
    torch.testing.assert_close(p.scale**2, var)


def test_t_process_tends_to_the_gp_when_the_scale_prior_concentrates():
    k, y, kt, kd = problem()
    s2 = 1.5
    a = 1e7
    tp = tp_predict(k, y, kt, kd, noise=0.01, a=a, b=a * s2)  # InvGamma with mean ≈ s2, vanishing spread
    gp = gp_predict(k, y, kt, kd, noise=0.01, signal_var=s2)
    torch.testing.assert_close(tp.scale, gp.scale, rtol=1e-5, atol=0)
    torch.testing.assert_close(tp.nll(y[:7]), gp.nll(y[:7]), rtol=1e-4, atol=1e-6)


def test_nll_matches_scipy():
    p = Predictive(torch.tensor([0.0, 1.0], dtype=torch.float64), torch.tensor([1.0, 2.0], dtype=torch.float64), 3.0)
    y = torch.tensor([0.5, -1.0], dtype=torch.float64)
    expected = -stats.t(df=3.0, loc=[0, 1], scale=[1, 2]).logpdf([0.5, -1.0])
    torch.testing.assert_close(p.nll(y), torch.as_tensor(expected))
    g = Predictive(p.loc, p.scale, math.inf)
    torch.testing.assert_close(g.nll(y), torch.as_tensor(-stats.norm(loc=[0, 1], scale=[1, 2]).logpdf([0.5, -1.0])))


def test_bad_inputs_get_clear_errors():
    k, y, kt, kd = problem()
    with pytest.raises(ValueError, match="need k_train"):
        gp_predict(k, y[:5], kt, kd, noise=0.1)
    with pytest.raises(ValueError, match="positive"):
        tp_predict(k, y, kt, kd, noise=0.1, a=0, b=1)
