import pytest
import torch

from replib.nets import StackedMLP, train, train_online

G = lambda s=0: torch.Generator().manual_seed(s)  # noqa: E731


def test_a_padded_member_behaves_like_a_network_of_its_own_width():
    x = torch.randn(6, 3, generator=G(), dtype=torch.float64)
    net = StackedMLP(3, [4, 9], 2, bias_var=0.5, generator=G(1), dtype=torch.float64)
    w, b, m = net.weights, net.biases, net.multipliers
    # the narrow member, by hand, using only its first 4 units
    h = x @ w[0][0, :, :4] * m[0, 0] + b[0][0, :, :4] * net.bias_multipliers[0]
    h = torch.relu(h) @ w[1][0, :4, :4] * m[0, 1] + b[1][0, :, :4] * net.bias_multipliers[1]
    f = torch.relu(h) @ w[2][0, :4, :] * m[0, 2] + b[2][0] * net.bias_multipliers[2]
    torch.testing.assert_close(net(x)[0], f.squeeze(-1))
    assert torch.allclose(m[0, 1], torch.tensor(2 ** 0.5 / 2, dtype=torch.float64))


@pytest.mark.parametrize("parametrisation", ["ntk", "standard"])
def test_both_parametrisations_give_the_same_function_at_init(parametrisation):
    x = torch.randn(5, 3, generator=G(), dtype=torch.float64)
    a = StackedMLP(3, [7, 7], 2, bias_var=0.2, parametrisation="ntk", generator=G(4), dtype=torch.float64)
    b = StackedMLP(3, [7, 7], 2, bias_var=0.2, parametrisation=parametrisation, generator=G(4), dtype=torch.float64)
    torch.testing.assert_close(a(x), b(x))


def test_full_batch_training_is_gradient_descent_on_half_mse_per_member():
    x = torch.randn(8, 2, generator=G(), dtype=torch.float64)
    y = torch.randn(8, generator=G(1), dtype=torch.float64)
    net = StackedMLP(2, [16, 32, 64], 1, generator=G(2), dtype=torch.float64)
    before = [p.detach().clone() for p in net.parameters()]
    loss0 = 0.5 * ((net(x) - y) ** 2).mean(1)
    grads = torch.autograd.grad(loss0.sum(), list(net.parameters()), allow_unused=True)
    grads = [torch.zeros_like(p) if g is None else g for p, g in zip(net.parameters(), grads)]  # σ_b = 0: unused
    hist = train(net, x, y, steps=1, lr=0.1)
    torch.testing.assert_close(hist.loss[0], loss0.detach())
    for p, p0, g in zip(net.parameters(), before, grads):
        torch.testing.assert_close(p.detach(), p0 - 0.1 * g)
    hist = train(net, x, y, steps=300, lr=0.5, record=lambda m: m(x).detach(), record_every=100)
    assert hist.loss.shape == (300, 3) and hist.steps == [0, 100, 200, 300]
    assert (hist.loss[-1] < 0.05 * hist.loss[0]).all()


def test_sgd_uses_the_generator_and_is_reproducible():
    x = torch.randn(20, 2, generator=G(), dtype=torch.float64)
    y = torch.randn(20, generator=G(1), dtype=torch.float64)
    runs = []
    for _ in range(2):
        net = StackedMLP(2, [8, 8], 1, generator=G(3), dtype=torch.float64)
        runs.append(train(net, x, y, steps=20, lr=0.1, batch_size=4, generator=G(5)).loss)
    torch.testing.assert_close(runs[0], runs[1])


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match="widths"):
        StackedMLP(2, [], 1)
    with pytest.raises(ValueError, match="activation"):
        StackedMLP(2, [3], 1, activation="gelu")
    with pytest.raises(ValueError, match="parametrisation"):
        StackedMLP(2, [3], 1, parametrisation="abc")
    net = StackedMLP(2, [3], 1)
    with pytest.raises(ValueError, match="features"):
        net(torch.ones(4, 5))
    with pytest.raises(ValueError, match="targets"):
        train(net, torch.ones(4, 2), torch.ones(3), steps=1, lr=0.1)
    with pytest.raises(ValueError, match="batch_size"):
        train(net, torch.ones(4, 2), torch.ones(4), steps=1, lr=0.1, batch_size=9)


def test_online_training_sees_a_fresh_batch_every_step():
    seen = []

    def sample(step):
        seen.append(step)
        x = torch.randn(4, 2, generator=G(step), dtype=torch.float64)
        return x, x[:, 0]

    net = StackedMLP(2, [8, 8], 1, generator=G(3), dtype=torch.float64)
    hist = train_online(net, sample, steps=5, lr=0.1)
    assert seen == [0, 1, 2, 3, 4] and hist.loss.shape == (5, 2)


def test_output_scale_multiplies_the_function_and_the_ntk_by_its_square():
    x = torch.randn(5, 3, generator=G(), dtype=torch.float64)
    a = StackedMLP(3, [6, 9], 2, bias_var=0.1, generator=G(7), dtype=torch.float64)
    b = StackedMLP(3, [6, 9], 2, bias_var=0.1, output_scale=[0.5, 2.0], generator=G(7), dtype=torch.float64)
    s = torch.tensor([0.5, 2.0], dtype=torch.float64)
    torch.testing.assert_close(b(x), a(x) * s[:, None])
    torch.testing.assert_close(b.ntk(x), a.ntk(x) * s[:, None, None] ** 2)
    with pytest.raises(ValueError, match="output_scale"):
        StackedMLP(3, [6, 9], 2, output_scale=[1.0, 2.0, 3.0])


def test_per_member_learning_rates_equal_separate_runs():
    x = torch.randn(12, 3, generator=G(8))
    y = torch.randn(12, generator=G(9))
    both = StackedMLP(3, [16, 16], 1, generator=G(10))
    alone = [StackedMLP(3, [16, 16], 1, generator=G(10)) for _ in range(2)]
    train(both, x, y, steps=5, lr=torch.tensor([0.05, 0.2]))
    for k, lr in enumerate([0.05, 0.2]):
        train(alone[k], x, y, steps=5, lr=lr)
        assert torch.allclose(both(x)[k], alone[k](x)[k], atol=1e-5)
    with pytest.raises(ValueError, match="learning rates"):
        train(both, x, y, steps=1, lr=torch.tensor([0.1, 0.1, 0.1]))


def test_mup_keeps_feature_updates_of_order_one_as_width_grows():
    x = torch.randn(64, 8, generator=G(11))
    y = torch.sin(x[:, 0])
    change = {}
    for par in ("mup", "ntk"):
        for width in (64, 1024):
            net = StackedMLP(8, [width], 2, parametrisation=par, generator=G(width))
            before = net.features(x).detach()
            train(net, x, y, steps=10, lr=0.5)
            after = net.features(x).detach()
            change[par, width] = float((after - before).norm() / before.norm())
    assert 0.5 < change["mup", 1024] / change["mup", 64] < 2  # width-independent
    assert change["ntk", 1024] / change["ntk", 64] < 0.4  # ~ (64/1024)^(1/2) = 0.25
    with pytest.raises(ValueError, match="one width"):
        StackedMLP(8, [16, 32], 1, parametrisation="mup")


@pytest.mark.parametrize("parametrisation", ["ntk", "standard", "mup"])
def test_features_are_the_readout_input(parametrisation):
    x = torch.randn(20, 5, generator=G(12))
    widths = [24, 24] if parametrisation == "mup" else [16, 24]
    net = StackedMLP(5, widths, 2, parametrisation=parametrisation, bias_var=0.1,
                     output_scale=[1.0, 0.5], generator=G(13))
    phi = net.features(x)
    assert phi.shape == (2, 20, 24)
    if parametrisation != "mup":
        assert (phi[0, :, 16:] == 0).all()  # padded units of the narrower member
    readout = phi @ net.weights[-1] * net.multipliers[:, -1, None, None]
    readout = (readout + net.biases[-1] * net.bias_multipliers[-1]) * net.output_scale[:, None, None]
    assert torch.allclose(readout.squeeze(-1), net(x), atol=1e-5)
