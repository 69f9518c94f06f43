import pytest
import torch

from replib.meanfield import _features, paper_dynamics, ridge_fit, train_two_timescale

G = lambda s=0: torch.Generator().manual_seed(s)  # noqa: E731


def problem(s=2, n=30, m=12, d=4, q=20):
    g = G()
    x = torch.randn(s, n, d, generator=g, dtype=torch.float64)
    xt = torch.randn(s, q, d, generator=g, dtype=torch.float64)
    w0 = 0.5 * torch.randn(s, m, d + 1, generator=g, dtype=torch.float64)
    return x, x[..., 0] * x[..., 1], xt, xt[..., 0] * xt[..., 1], w0


def test_ridge_fit_is_kernel_ridge_regression_with_the_intrinsic_kernel():
    x, y, _, _, w = problem()
    k, alpha, h = ridge_fit(x, y, w, 0.3)
    explicit = torch.einsum("snj,skj->snk", h, h) / w.shape[1]
    assert torch.allclose(k, explicit)
    assert torch.allclose((k + 0.3 * torch.eye(k.shape[-1], dtype=k.dtype)) @ alpha[..., None], y[..., None])
    features = torch.relu(x @ w[..., :-1].transpose(-1, -2) + w[..., -1][:, None, :])
    assert torch.allclose(_features(x, w), features)


def test_one_noiseless_step_is_gradient_descent_on_the_two_timescale_objective():
    x, y, xt, ft, w0 = problem()
    lam, lr = 0.3, 0.05
    w = w0.clone().requires_grad_(True)
    k, _, _ = ridge_fit(x, y, w, lam)
    objective = lam / 2 * (y[..., None, :] @ torch.linalg.solve(k + lam * torch.eye(k.shape[-1], dtype=k.dtype), y[..., None]))
    (grad,) = torch.autograd.grad(objective.sum(), w)
    run = train_two_timescale(x, y, w0, x_test=xt, f_test=ft, ridge=lam, weight_decay=0.0, temperature=0.0,
                              lr=lr, steps=1, record_every=1, generator=G())
    # mean-field scaling: each particle moves by −lr · m · ∂G/∂w_j
    assert torch.allclose(run.particles, w0 - lr * w0.shape[1] * grad)
    assert run.alignment.shape == (2, 2) and run.steps == [0, 1]


def test_without_data_drift_particles_only_decay_and_diffuse():
    x, y, xt, ft, w0 = problem()
    run = train_two_timescale(x, y, w0, x_test=xt, f_test=ft, ridge=0.3, weight_decay=0.5, temperature=0.0, lr=0.1,
                              steps=3, record_every=1, generator=G(), drift=False)
    assert torch.allclose(run.particles, 0.95**3 * w0)
    with pytest.raises(ValueError, match="ridge"):
        train_two_timescale(x, y, w0, x_test=xt, f_test=ft, ridge=0.0, weight_decay=0.5, temperature=0.0, lr=0.1,
                            steps=3, record_every=1, generator=G())
    with pytest.raises(ValueError, match="w0"):
        train_two_timescale(x, y, w0[..., :-1], x_test=xt, f_test=ft, ridge=0.3, weight_decay=0.5, temperature=0.0,
                            lr=0.1, steps=3, record_every=1, generator=G())


def test_a_label_noise_step_descends_the_clean_loss_of_the_noisy_fit():
    """The drift differentiates through the noisy second-layer fit: compare with autograd for the same ε̃."""
    x, y, xt, ft, w0 = problem()
    lam, lr, sigma = 0.3, 0.05, 0.7
    for noisy_first_layer in (False, True):
        run = train_two_timescale(x, y, w0, x_test=xt, f_test=ft, ridge=lam, weight_decay=0.0, temperature=0.0,
                                  lr=lr, steps=1, record_every=1, generator=G(5), label_noise=sigma,
                                  noisy_first_layer=noisy_first_layer)
        noisy = y + sigma * (2 * torch.rand(y.shape, generator=G(5), dtype=y.dtype) - 1)  # the same draw
        labels = noisy if noisy_first_layer else y
        w = w0.clone().requires_grad_(True)
        k, alpha, _ = ridge_fit(x, noisy, w, lam)
        fit = (k @ alpha[..., None])[..., 0]
        objective = 0.5 * ((labels - fit) ** 2).sum() + lam / 2 * (alpha * fit).sum()
        (grad,) = torch.autograd.grad(objective, w)
        assert torch.allclose(run.particles, w0 - lr * w0.shape[1] * grad)


def test_label_noise_adds_a_degrees_of_freedom_penalty_on_average():
    """E over ε̃ of the procedure's objective = the clean objective + (σ̃²/6) tr K(K + λI)⁻¹."""
    x, y, _, _, w = problem(s=1, n=10)
    lam, sigma = 0.3, 0.8
    k, alpha, _ = ridge_fit(x, y, w, lam)
    clean = lam / 2 * (y * alpha).sum()
    eps = sigma * (2 * torch.rand(200_000, 10, generator=G(1), dtype=y.dtype) - 1)
    a_noisy = alpha + torch.linalg.solve(k[0] + lam * torch.eye(10, dtype=k.dtype), eps.T).T
    fit = a_noisy @ k[0]
    objective = 0.5 * ((y[0] - fit) ** 2).sum(-1) + lam / 2 * (a_noisy * fit).sum(-1)
    eig = torch.linalg.eigvalsh(k[0])
    expected = clean + sigma**2 / 6 * (eig / (eig + lam)).sum()
    assert abs(objective.mean() - expected) < 4 * objective.std() / 200_000**0.5


def test_paper_dynamics_is_one_langevin_step_on_the_mean_loss_objective():
    """η(−m ∂G/∂w_j − λλ_w w) + √(2ηλ) ξ, G = min_a (1/2n)‖y − f‖² + (λλ_a/2) mean_j a_j²."""
    x, y, xt, ft, w0 = problem()
    n, m = x.shape[1], w0.shape[1]
    eta, lam, lam_w, lam_a = 0.2, 0.004, 0.25, 0.5
    rho = lam * lam_a
    w = w0.clone().requires_grad_(True)
    h = _features(x, w)
    # second layer a (m,) at its optimum: the representer form a = hᵀc / (n ρ) ... solved explicitly
    gram = h.transpose(-1, -2) @ h / (n * m) + rho * torch.eye(m, dtype=h.dtype)
    a = torch.linalg.solve(gram, h.transpose(-1, -2) @ y[..., None] / n)[..., 0]
    fit = (h @ a[..., None])[..., 0] / m
    objective = ((y - fit) ** 2).sum(-1) / (2 * n) + rho / 2 * (a**2).mean(-1)
    (grad,) = torch.autograd.grad(objective.sum(), w)  # envelope theorem: a's own gradient is 0
    xi = torch.randn(w0.shape, generator=G(3), dtype=w0.dtype)
    expected = w0 + eta * (-m * grad - lam * lam_w * w0) + (2 * eta * lam) ** 0.5 * xi
    run = train_two_timescale(x, y, w0, x_test=xt, f_test=ft, steps=1, record_every=1, generator=G(3),
                              **paper_dynamics(n, lr=eta, temperature=lam, weight_decay=lam_w, ridge=lam_a))
    assert torch.allclose(run.particles, expected)
    with pytest.raises(ValueError, match="temperature"):
        paper_dynamics(n, lr=eta, temperature=0.0, weight_decay=lam_w, ridge=lam_a)


def test_scaled_dof_ignores_a_pure_rescaling_of_the_kernel():
    """Decay alone shrinks every particle by the same factor c: K → c²K; dof falls, dof_scaled does not."""
    x, y, xt, ft, w0 = problem()
    run = train_two_timescale(x, y, w0, x_test=xt, f_test=ft, ridge=0.3, weight_decay=2.0, temperature=0.0,
                              lr=0.1, steps=2, record_every=1, generator=G(), drift=False)
    assert torch.allclose(run.dof_scaled[0], run.dof_scaled[-1])
    assert (run.dof[-1] < run.dof[0] - 1e-3).all()
    assert torch.allclose(run.scale[-1], 0.8**4 * run.scale[0])
    k, _, _ = ridge_fit(x, y, w0, 0.3)
    eig = torch.linalg.eigvalsh(k)
    assert torch.allclose(run.dof[0], (eig / (eig + 0.3)).sum(-1))
    assert torch.allclose(run.dof_scaled[0], run.dof[0])
