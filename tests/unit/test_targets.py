import math

import numpy as np
import pytest
import torch

from replib.targets import (additive_index, hermite, hermite_coefficients, hermite_feature, information_exponent,
                            orthonormal_directions, single_index)


def test_hermite_polynomials_are_orthogonal_with_norm_k_factorial():
    z, w = np.polynomial.hermite_e.hermegauss(40)
    z, w = torch.as_tensor(z), torch.as_tensor(w / w.sum())
    gram = torch.stack([torch.stack([(w * hermite(j, z) * hermite(k, z)).sum() for k in range(6)]) for j in range(6)])
    torch.testing.assert_close(gram, torch.diag(torch.tensor([float(math.factorial(k)) for k in range(6)],
                                                             dtype=torch.float64)))
    torch.testing.assert_close(hermite(3, z), z**3 - 3 * z)
    torch.testing.assert_close(hermite(2, z, normalised=True), (z**2 - 1) / math.sqrt(2))


def test_coefficients_and_information_exponents_of_known_links():
    c = hermite_coefficients(lambda z: hermite(3, z) + 0.5 * z, 5)
    torch.testing.assert_close(c, torch.tensor([0, 0.5, 0, 1, 0, 0], dtype=torch.float64), atol=1e-10, rtol=0)
    assert information_exponent(lambda z: hermite(3, z, normalised=True)) == 3
    assert information_exponent(torch.relu) == 1
    assert information_exponent(lambda z: z**4 - 6 * z**2 + 3) == 4
    with pytest.raises(ValueError, match="max_degree"):
        information_exponent(lambda z: torch.ones_like(z), max_degree=3)


def test_directions_are_orthonormal_and_reproducible():
    a = orthonormal_directions(20, 4, generator=torch.Generator().manual_seed(1))
    b = orthonormal_directions(20, 4, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a @ a.T, torch.eye(4, dtype=torch.float64))
    with pytest.raises(ValueError):
        orthonormal_directions(3, 4)


def test_single_index_targets_depend_on_the_direction_only():
    theta = orthonormal_directions(10, 1, generator=torch.Generator().manual_seed(0))[0]
    x, y = single_index(1000, theta, torch.tanh, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(y, torch.tanh(x @ theta))
    assert x.shape == (1000, 10)
    with pytest.raises(ValueError, match="unit"):
        single_index(5, 2 * theta, torch.tanh)


def test_additive_index_has_unit_variance_for_centred_unit_links():
    g = torch.Generator().manual_seed(0)
    v = orthonormal_directions(20, 5, generator=g)
    x = torch.randn(200_000, 20, generator=g, dtype=torch.float64)
    y = additive_index(x, v, lambda z: hermite(2, z, normalised=True))
    assert abs(float(y.var()) - 1) < 0.02 and abs(float(y.mean())) < 0.01
    expected = sum(hermite(2, x @ v[m], normalised=True) for m in range(5)) / 5**0.5
    assert torch.allclose(y, expected)
    with pytest.raises(ValueError, match="dimension"):
        additive_index(x[:, :10], v, torch.sin)


def test_hermite_feature_is_a_unit_variance_degree_k_polynomial():
    g = torch.Generator().manual_seed(1)
    lam = torch.tensor([1.0, -1.0, 2.0, 0.5], dtype=torch.float64)
    x = torch.randn(400_000, 4, generator=g, dtype=torch.float64)
    p = hermite_feature(x, lam, 3)
    assert abs(float(p.var()) - 1) < 0.02
    # orthogonal to every polynomial of lower degree, e.g. the linear ones
    assert float((p[:, None] * x).mean(0).abs().max()) < 0.01
    assert torch.allclose(hermite_feature(x[:3], lam, 2),
                          ((x[:3] ** 2 - 1) * lam).sum(-1) / (2 * (lam**2).sum()) ** 0.5)
