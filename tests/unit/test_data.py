import math

import pytest
import torch

from replib.data import circle, digits, sphere, torus


def test_circle_points_are_equally_spaced_on_the_circle():
    gamma, x = circle(8, radius=2.0)
    torch.testing.assert_close(x.norm(dim=1), torch.full((8,), 2.0, dtype=torch.float64))
    torch.testing.assert_close(gamma[1] - gamma[0], torch.tensor(math.pi / 4, dtype=torch.float64))


def test_sphere_points_have_norm_sqrt_d_and_are_reproducible():
    a = sphere(5, 9, generator=torch.Generator().manual_seed(0))
    b = sphere(5, 9, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a.norm(dim=1), torch.full((5,), 3.0, dtype=torch.float64))


def test_digits_ship_with_scikit_learn_and_can_be_filtered():
    x, y = digits(classes=(0, 1))
    assert x.shape[1] == 64 and set(y.tolist()) == {0, 1}
    torch.testing.assert_close(x.norm(dim=1), torch.full((x.shape[0],), 8.0, dtype=torch.float64))


def test_torus_points_are_pairs_on_unit_circles_with_uniform_angles():
    x = torus(20000, 3, generator=torch.Generator().manual_seed(0))
    pairs = x.unflatten(1, (3, 2))
    assert x.shape == (20000, 6) and torch.allclose(pairs.norm(dim=-1), torch.ones(20000, 3, dtype=x.dtype))
    assert pairs.mean(0).abs().max() < 0.02  # uniform angles: each coordinate has mean 0
    with pytest.raises(ValueError, match="positive"):
        torus(3, 0)


def test_dirichlet_classes_lie_on_the_sphere_and_the_bayes_labels_are_best():
    from replib.data import dirichlet_classes

    concentrations = ((0.5, 0.5, 2.5), (2.5, 0.1, 0.5))
    x, y, bayes = dirichlet_classes(20_000, concentrations, seed=1)
    assert torch.allclose(x.norm(dim=1), torch.ones(20_000, dtype=torch.float64)) and (x >= 0).all()
    assert abs(float((y > 0).double().mean()) - 0.4) < 0.02
    bayes_acc = float((bayes == y).double().mean())
    assert bayes_acc > 0.9 and bayes_acc > float((y == -1).double().mean())  # beats the majority label
    flipped = torch.where(x[:, 0] > x[:, 1], 1.0, -1.0)  # any other rule does worse
    assert bayes_acc > float((flipped == y).double().mean())
    with pytest.raises(ValueError):
        dirichlet_classes(10, ((1.0, 1.0), (1.0, 1.0, 1.0)))
