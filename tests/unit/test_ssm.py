import math

import pytest
import torch

import numpy as np
from scipy.signal import lfilter

from replib.ssm import (causal_conv, companion, layer_output_shape, poles_and_residues, random_s4d,
                        random_stable_ssm, recurrent_scan, rtf_kernel, rtf_numerator, stable_denominator,
                        vandermonde_kernel)


def random_ssm(h=3, n=6, radius=(0.5, 0.95), seed=0):
    g = torch.Generator().manual_seed(seed)
    r = radius[0] + (radius[1] - radius[0]) * torch.rand(h, n // 2, generator=g, dtype=torch.float64)
    p = r * torch.exp(1j * math.pi * torch.rand(h, n // 2, generator=g, dtype=torch.float64))
    a = stable_denominator(torch.cat([p, p.conj()], 1))
    c = torch.randn(h, n, generator=g, dtype=torch.float64)
    d = torch.randn(h, generator=g, dtype=torch.float64)
    return a, c, d, torch.cat([p, p.conj()], 1)


def test_denominator_and_companion_have_the_poles():
    a, c, d, poles = random_ssm()
    eig = torch.linalg.eigvals(companion(a))
    for h in range(3):
        got = sorted(eig[h].tolist(), key=lambda z: (round(z.real, 8), z.imag))
        want = sorted(poles[h].tolist(), key=lambda z: (round(z.real, 8), z.imag))
        assert torch.allclose(torch.tensor(got), torch.tensor(want), atol=1e-9)


def test_recurrence_is_the_convolution_with_its_impulse_response():
    a, c, d, _ = random_ssm()
    u = torch.randn(3, 40, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    impulse = recurrent_scan(a, c, d, torch.nn.functional.one_hot(torch.zeros(3, dtype=torch.long), 40).double())
    assert torch.allclose(impulse[:, 0], d)
    assert torch.allclose(recurrent_scan(a, c, d, u), causal_conv(u, impulse), atol=1e-10)


def test_three_kernels_agree_and_the_uncorrected_rtf_aliases():
    a, c, d, _ = random_ssm(radius=(0.9, 0.99))
    length = 64
    truth = recurrent_scan(a, c, d, torch.nn.functional.one_hot(torch.zeros(3, dtype=torch.long), length).double())
    assert torch.allclose(vandermonde_kernel(*poles_and_residues(a, c), d, length), truth, atol=1e-9)
    assert torch.allclose(rtf_kernel(a, rtf_numerator(a, c, length), d, length), truth, atol=1e-9)
    assert (rtf_kernel(a, c, d, length) - truth).abs().max() > 1e-3  # taps beyond 2L fold back


def test_bad_shapes_are_rejected():
    a, c, d, _ = random_ssm()
    with pytest.raises(ValueError, match="shape"):
        rtf_kernel(a, c[:, :2], d, 16)
    with pytest.raises(ValueError, match="state size"):
        rtf_kernel(a, c, d, 3)
    with pytest.raises(ValueError, match="same length"):
        causal_conv(torch.zeros(2, 5), torch.zeros(2, 4))


def test_causal_conv_broadcasts_one_kernel_over_a_batch():
    u, kernel = torch.randn(3, 2, 8, dtype=torch.float64), torch.randn(2, 8, dtype=torch.float64)
    batched = causal_conv(u, kernel)
    assert torch.allclose(batched[1], causal_conv(u[1], kernel), atol=1e-12)
    direct = sum(kernel[0, s] * u[2, 0, 5 - s] for s in range(6))
    assert torch.isclose(batched[2, 0, 5], direct, atol=1e-12)


def test_random_stable_ssm_is_stable_at_every_state_size_and_the_memory_entry_point():
    for n in (8, 64, 512):
        a, c, d = random_stable_ssm(2, n, generator=torch.Generator().manual_seed(3))
        assert a.shape == c.shape == (2, n) and d.shape == (2,)
        assert (a.abs().sum(-1) < 1).all()  # Montel: every pole inside the unit disk
    a, c, d = random_stable_ssm(2, 8, generator=torch.Generator().manual_seed(3))
    assert (torch.linalg.eigvals(companion(a)).abs() < 1).all()
    a32 = random_stable_ssm(2, 8, generator=torch.Generator().manual_seed(3),
                            dtype=torch.float32)[0]
    assert a32.dtype == torch.float32 and torch.allclose(a32.double(), a, atol=1e-7)
    poles, residues, d = random_s4d(3, 5, generator=torch.Generator().manual_seed(0))
    assert poles.shape == residues.shape == (3, 5) and d.shape == (3,)
    assert ((poles.abs() > 0.9 - 1e-12) & (poles.abs() < 0.999 + 1e-12)).all()
    shapes = {layer_output_shape(m, 2, 8, 32, 0) for m in ("rtf", "vandermonde")}
    assert shapes == {(2, 32)}
    with pytest.raises(ValueError, match="positive"):
        random_stable_ssm(2, 0)
    with pytest.raises(ValueError, match="method"):
        layer_output_shape("scan", 2, 8, 32, 0)


@pytest.mark.parametrize("n", [16, 256, 1000])
def test_rtf_kernel_matches_lfilter_in_float64_and_float32(n):
    length = 512
    a, c, d = random_stable_ssm(2, n, generator=torch.Generator().manual_seed(n))
    impulse = np.zeros(length)
    impulse[0] = 1.0
    an, cn, dn = a.numpy(), c.numpy(), d.numpy()
    truth = np.stack([lfilter(np.r_[dn[h], cn[h] + dn[h] * an[h]], np.r_[1.0, an[h]],
                              impulse) for h in range(2)])
    numerator = rtf_numerator(a, c, length)
    k64 = rtf_kernel(a, numerator, d, length).numpy()
    assert np.abs(k64 - truth).max() < 1e-12 * np.abs(truth).max()
    k32 = rtf_kernel(a.float(), numerator.float(), d.float(), length)
    assert torch.isfinite(k32).all()
    assert np.abs(k32.double().numpy() - truth).max() < 1e-5 * np.abs(truth).max()
