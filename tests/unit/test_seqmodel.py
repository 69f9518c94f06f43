import pytest
import torch

from replib.seqmodel import LAYERS, DiagonalSSM, SequenceModel


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_every_layer_is_causal(layer):
    torch.manual_seed(0)
    model = SequenceModel(12, 32, (layer, "mlp", layer), width=16)
    tokens = torch.randint(12, (3, 32))
    changed = tokens.clone()
    changed[:, 20] = (changed[:, 20] + 1) % 12
    diff = (model(changed) - model(tokens)).abs().amax(dim=(0, 2))
    assert diff[:20].max() < 1e-5 and diff[20:].max() > 1e-3


def test_diagonal_ssm_kernel_is_its_modes_summed():
    torch.manual_seed(1)
    layer = DiagonalSSM(3, 10, state=4)
    k = layer.kernel(10)
    dt = layer.log_dt.exp()[:, None]
    poles = torch.exp(dt * torch.complex(-layer.log_damping.exp(), layer.freq)).detach()
    residues = (2 * dt * torch.view_as_complex(layer.residue) * poles).detach()
    for t in range(1, 10):
        assert torch.allclose(k[:, t], (residues * poles ** (t - 1)).sum(-1).real, atol=1e-5)
    assert torch.allclose(k[:, 0], layer.skip)


def test_sequence_model_rejects_bad_layers_and_lengths():
    with pytest.raises(ValueError, match="layers"):
        SequenceModel(8, 16, ("attention", "lstm"))
    with pytest.raises(ValueError, match="exceed"):
        SequenceModel(8, 16, ("mlp",))(torch.zeros(1, 17, dtype=torch.long))


def test_a_two_layer_attention_model_learns_to_copy_the_previous_token():
    torch.manual_seed(0)
    model = SequenceModel(8, 16, ("attention", "mlp"), width=32)
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    for _ in range(150):
        tokens = torch.randint(8, (32, 16))
        loss = torch.nn.functional.cross_entropy(model(tokens)[:, 1:].flatten(0, 1), tokens[:, :-1].flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
    tokens = torch.randint(8, (64, 16))
    assert (model(tokens)[:, 1:].argmax(-1) == tokens[:, :-1]).float().mean() > 0.95
