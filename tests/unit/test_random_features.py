import math

import pytest
import torch

from replib.random_features import (MIXTURES, URFDraw, input_features, urf_draw, urf_estimate, urf_pair_estimates,
                                    weight_features)

G = lambda s=0: torch.Generator().manual_seed(s)  # noqa: E731


@pytest.mark.parametrize("name", sorted(MIXTURES))
def test_the_mixture_averages_to_the_function(name):
    mixture = MIXTURES[name]
    s, c = mixture.sample(200_000, G())
    z = torch.linspace(-2, 2, 9, dtype=torch.float64)
    average = (c[None] * torch.exp(s[None] * z[:, None])).mean(1).real
    assert torch.allclose(average, mixture.exact(z), atol=1e-2)


@pytest.mark.parametrize("name", sorted(MIXTURES))
def test_urf_estimates_are_unbiased_and_the_uncorrected_ones_are_not(name):
    g = G(1)
    x = torch.tensor([[0.6, -0.3, 0.2]], dtype=torch.float64)
    w = torch.tensor([[0.1, 0.9, -0.5]], dtype=torch.float64)
    exact = MIXTURES[name].exact((x * w).sum())
    draws = torch.stack([urf_estimate(x, w, urf_draw(MIXTURES[name], 64, 3, g))[0, 0] for _ in range(4000)])
    assert abs(draws.mean() - exact) < 4 * draws.std() / math.sqrt(4000)
    biased = torch.stack([urf_estimate(x, w, urf_draw(MIXTURES[name], 64, 3, g), corrected=False)[0, 0]
                          for _ in range(4000)])
    assert abs(biased.mean() - exact) > 4 * biased.std() / math.sqrt(4000)  # ‖x‖ ≠ ‖w‖: the factors matter


def test_features_separate_inputs_from_weights_and_the_error_falls_like_one_over_m():
    g = G(2)
    x = torch.randn(5, 4, generator=g, dtype=torch.float64) / 2
    w = torch.randn(7, 4, generator=g, dtype=torch.float64) / 2
    draw = urf_draw(MIXTURES["cos"], 32, 4, g)
    assert input_features(x, draw).shape == (5, 32) and weight_features(w, draw).shape == (7, 32)
    assert not weight_features(w, draw).is_complex()
    exact = torch.cos(x @ w.T)
    mse = [torch.stack([((urf_estimate(x, w, urf_draw(MIXTURES["cos"], m, 4, g)) - exact) ** 2).mean()
                        for _ in range(200)]).mean() for m in (16, 256)]
    assert 10 < mse[0] / mse[1] < 25  # 16x more features: 16x smaller error
    with pytest.raises(ValueError, match="dimension"):
        input_features(torch.ones(2, 5), draw)
    with pytest.raises(ValueError, match="m >= 1"):
        urf_draw(MIXTURES["exp"], 0, 4, g)


def test_batched_pair_estimates_are_blocks_of_single_estimates():
    x = torch.randn(3, 4, generator=G(3), dtype=torch.float64) / 2
    w = torch.randn(3, 4, generator=G(4), dtype=torch.float64) / 2
    batched = urf_pair_estimates(x, w, MIXTURES["sin"], 16, 5, G(5))
    g = G(5)
    draw = urf_draw(MIXTURES["sin"], 5 * 16, 4, g)  # the same long draw, split by hand
    single = torch.stack([urf_estimate(x, w, URFDraw(draw.s[i * 16:(i + 1) * 16], draw.c[i * 16:(i + 1) * 16],
                                                     draw.g[i * 16:(i + 1) * 16])).diagonal() for i in range(5)])
    assert batched.shape == (5, 3) and torch.allclose(batched, single)
    with pytest.raises(ValueError, match="matched rows"):
        urf_pair_estimates(x, w[:2], MIXTURES["sin"], 16, 5, G())
