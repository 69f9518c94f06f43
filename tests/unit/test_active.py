import pytest
import torch
import torch.nn.functional as F

from replib.active import (active_learning, feature_noise_patches, labelled_errors, patch_cnn, query,
                           train_patch_cnn)

G = lambda s=0: torch.Generator().manual_seed(s)  # noqa: E731


def data(n=400, seeds=2, weak_share=0.1, seed=0):
    return feature_noise_patches(seeds=seeds, n=n, dim=30, strong=3.0, weak=1.0, weak_share=weak_share, noise=0.5,
                                 generator=G(seed))


def test_feature_noise_patches_have_the_label_times_a_feature_and_orthogonal_noise():
    d = data(n=4000, seeds=1)
    signal, noise = d.x[..., 0, :], d.x[..., 1, :]
    expected = torch.where(d.weak, 0.0, 3.0)[..., None] * torch.tensor([1.0, 0.0]) \
        + torch.where(d.weak, 1.0, 0.0)[..., None] * torch.tensor([0.0, 1.0])
    assert torch.equal(signal[..., :2], expected * d.y[..., None]) and (signal[..., 2:] == 0).all()
    assert (noise[..., :2] == 0).all() and abs(noise[..., 2:].std().item() - 0.5) < 0.01
    assert abs(d.weak.float().mean().item() - 0.1) < 0.015
    with pytest.raises(ValueError, match="weak_share"):
        feature_noise_patches(seeds=1, n=5, dim=30, strong=1, weak=1, weak_share=1.5, noise=1, generator=G())


def test_batched_training_equals_one_network_at_a_time_and_lowers_the_loss():
    d = data(n=40)
    w0 = 0.1 * torch.randn(3, 2, 2, 5, 30, generator=G(1))  # (strategies, seeds, classes, filters, dim)
    x, y = d.x[None].expand(3, -1, -1, -1, -1), d.y[None].expand(3, -1, -1)
    w = train_patch_cnn(w0, x, y, lr=0.5, steps=20)
    single = train_patch_cnn(w0[1, 0], d.x[0], d.y[0], lr=0.5, steps=20)
    assert torch.allclose(w[1, 0], single, atol=1e-6)

    def loss(v):
        return F.softplus(-d.y[0] * patch_cnn(v, d.x[0])[0]).mean()
    assert loss(single) < loss(w0[1, 0])


def test_queries_respect_each_criterion_and_never_repeat_labelled_samples():
    out = torch.tensor([3.0, -0.1, 0.2, -2.0, 0.05, 1.0])
    feats = torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [1.0, 0.05], [-1.0, 0.0], [0.7, 0.7]])
    labelled = torch.tensor([True, False, False, False, True, False])
    assert query("uncertainty", out, feats, labelled.clone(), 2, G()).tolist() == [1, 2]  # 4 is labelled
    far = query("diversity", out, feats, labelled.clone(), 2, G()).tolist()
    assert far[0] == 2 and len(set(far)) == 2 and not labelled[far].any()  # farthest from {0, 4} first
    rand = query("random", out, feats, labelled.clone(), 4, G())
    assert sorted(rand.tolist()) == [1, 2, 3, 5]
    with pytest.raises(ValueError, match="unknown strategy"):
        query("entropy", out, feats, labelled, 1, G())
    with pytest.raises(ValueError, match="left"):
        query("random", out, feats, labelled, 5, G())


def test_active_learning_grows_distinct_labelled_sets_from_a_shared_start():
    pool, test = data(n=200), data(n=100, seed=1)
    initial = torch.stack([torch.randperm(200, generator=G(s))[:10] for s in range(2)])
    run = active_learning(pool, test, strategies=["random", "uncertainty", "diversity"], initial=initial, rounds=2,
                          per_round=5, width=4, init_std=0.1, lr=0.5, steps=10, generator=G(2))
    assert run.labels == [10, 15, 20] and run.error.shape == (3, 3, 2) and run.labelled.shape == (3, 2, 20)
    assert all(len(set(run.labelled[a, s].tolist())) == 20 for a in range(3) for s in range(2))
    assert torch.equal(run.labelled[:, :, :10], initial[None].expand(3, -1, -1))
    assert torch.equal(run.error[0, 0], run.error[0, 1])  # same start: same first-round errors


def test_active_learning_uses_given_initial_filters_and_returns_them():
    pool, test = data(n=120), data(n=60, seed=1)
    initial = torch.stack([torch.randperm(120, generator=G(s))[:8] for s in range(2)])
    w0 = 0.1 * torch.randn(2, 2, 3, 30, generator=G(5))
    kw = dict(strategies=["random", "uncertainty"], initial=initial, rounds=1, per_round=4, width=3,
              init_std=0.1, lr=0.5, steps=5)
    a = active_learning(pool, test, generator=G(2), w0=w0, **kw)
    b = active_learning(pool, test, generator=G(9), w0=w0, **kw)
    assert torch.equal(a.w0, w0) and torch.equal(a.error[0], b.error[0])  # same filters, same start
    assert active_learning(pool, test, generator=G(2), **kw).w0.shape == (2, 2, 3, 30)
    with pytest.raises(ValueError, match="w0"):
        active_learning(pool, test, generator=G(2), w0=w0[:, :, :2], **kw)


def test_labelled_errors_equal_training_each_seed_by_hand():
    pool, test = data(n=80), data(n=50, seed=1)
    w0 = 0.1 * torch.randn(2, 2, 3, 30, generator=G(3))
    idx = torch.stack([torch.randperm(80, generator=G(s))[:20] for s in range(2)])
    err, weak_err = labelled_errors(w0, pool, test, idx, lr=0.5, steps=10)
    assert err.shape == weak_err.shape == (2,)
    for s in range(2):
        w = train_patch_cnn(w0[s], pool.x[s, idx[s]], pool.y[s, idx[s]], lr=0.5, steps=10)
        wrong = (patch_cnn(w, test.x[s])[0] * test.y[s] <= 0).float()
        assert torch.isclose(err[s], wrong.mean())
        assert torch.isclose(weak_err[s], wrong[test.weak[s]].mean())
    with pytest.raises(ValueError, match="seeds"):
        labelled_errors(w0[:1], pool, test, idx, lr=0.5, steps=1)
