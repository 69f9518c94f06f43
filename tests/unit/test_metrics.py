import pytest
import torch

from replib.metrics import correlation, localisation, normalised_error, overlaps, subspace_overlap, kernel_alignment
from replib.targets import orthonormal_directions


def test_overlaps_are_scale_free_cosines():
    v = orthonormal_directions(6, 2, generator=torch.Generator().manual_seed(0))
    w = torch.stack([3 * v[0], -v[1], (v[0] + v[1]), torch.zeros(6, dtype=torch.float64)])
    ov = overlaps(w, v)
    expected = torch.tensor([[1, 0], [0, 1], [0.5**0.5, 0.5**0.5], [0, 0]], dtype=torch.float64)
    assert torch.allclose(ov, expected, atol=1e-12)
    assert torch.allclose(subspace_overlap(w, v), torch.tensor([1, 1, 1, 0.0], dtype=torch.float64))


def test_batched_overlaps_keep_leading_axes():
    g = torch.Generator().manual_seed(1)
    w = torch.randn(3, 5, 10, 8, generator=g, dtype=torch.float64)
    v = torch.stack([orthonormal_directions(8, 2, generator=g) for _ in range(5)])  # one set per seed
    assert overlaps(w, v).shape == (3, 5, 10, 2)
    assert torch.allclose(overlaps(w, v)[1, 2], overlaps(w[1, 2], v[2]))


def test_localisation_assigns_a_single_direction_or_none():
    v = torch.eye(4, dtype=torch.float64)[:3]
    w = torch.tensor([[0.99, 0.1, 0, 0], [0.1, 0.1, -0.99, 0], [0.7, 0.7, 0, 0]], dtype=torch.float64)
    assert localisation(w, v).tolist() == [0, 2, -1]
    with pytest.raises(ValueError, match="one direction"):
        localisation(w, v, threshold=0.5)


def test_normalised_error():
    y = torch.tensor([1.0, -1.0, 1.0, -1.0])
    assert normalised_error(torch.zeros(4), y) == pytest.approx(1.0)
    assert normalised_error(y, y) == 0
    with pytest.raises(ValueError, match="points"):
        normalised_error(torch.zeros(3), y)


def test_correlation_ignores_scale_offset_and_sign():
    g = torch.Generator().manual_seed(2)
    a = torch.randn(3, 500, generator=g, dtype=torch.float64)
    assert torch.allclose(correlation(a, -3 * a + 1), torch.ones(3, dtype=torch.float64))
    b = torch.randn(3, 500, generator=g, dtype=torch.float64)
    expected = torch.stack([torch.corrcoef(torch.stack([a[i], b[i]]))[0, 1].abs() for i in range(3)])
    assert torch.allclose(correlation(a, b), expected)
    with pytest.raises(ValueError, match="points"):
        correlation(a, b[:, :10])


def test_kernel_alignment_is_one_for_the_target_outer_product_and_small_for_noise():
    g = torch.Generator().manual_seed(0)
    y = torch.randn(3, 50, generator=g, dtype=torch.float64)
    yc = y - y.mean(-1, keepdim=True)
    perfect = kernel_alignment(y[..., :, None] * y[..., None, :] + 5.0, y)  # offsets are centred away
    assert torch.allclose(perfect, torch.ones(3, dtype=torch.float64))
    features = torch.randn(3, 50, 400, generator=g, dtype=torch.float64)
    noise = kernel_alignment(features @ features.transpose(-1, -2), y)
    assert (noise.abs() < 0.2).all()
    assert torch.allclose(kernel_alignment(2 * yc[..., :, None] * yc[..., None, :], y), perfect)
    with pytest.raises(ValueError, match="kernel"):
        kernel_alignment(torch.eye(4), torch.ones(5))
