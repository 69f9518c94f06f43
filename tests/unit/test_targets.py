import math

import numpy as np
import pytest
import torch

from replib.targets import (hermite, hermite_coefficients, information_exponent, orthonormal_directions,
                            single_index)


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
