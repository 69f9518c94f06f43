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
