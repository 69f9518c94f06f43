import pytest
import torch

from replib.seqmodel import LAYERS, DiagonalSSM, SequenceModel, Stacked, token_loss, train_on_tasks, train_stacked


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


def test_train_stacked_trains_each_member_like_torch_adamw_with_a_cosine_schedule():
    torch.manual_seed(0)
    stacked = Stacked(lambda: SequenceModel(8, 12, ("hyena", "mlp", "attention"), width=16), 2)
    reference = SequenceModel(8, 12, ("hyena", "mlp", "attention"), width=16)
    reference.load_state_dict({k: v[1].detach().clone() for k, v in stacked.params.items()}
                              | {k: v[1] for k, v in stacked.buffers.items()})
    batches = [torch.randint(8, (2, 4, 12), generator=torch.Generator().manual_seed(i)) for i in range(4)]
    feed = iter(batches)
    seen = []
    losses = train_stacked(stacked, lambda: (lambda b: (b, b))(next(feed)), token_loss, steps=4,
                           lr=torch.tensor([1e-2, 3e-3]), weight_decay=0.1, record=seen.append, record_every=2)
    opt = torch.optim.AdamW(reference.parameters(), lr=3e-3, weight_decay=0.1)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 4)
    for b in batches:
        loss = token_loss(reference(b[1]), b[1])
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
    assert seen == [2, 4] and losses.shape == (4, 2)
    for name, p in reference.named_parameters():
        assert torch.allclose(stacked.params[name][1], p, atol=1e-4), name
    assert torch.allclose(stacked(batches[0])[1], reference(batches[0][1]), atol=1e-4)
    with pytest.raises(ValueError, match="lr > 0"):
        train_stacked(stacked, lambda: None, token_loss, steps=1, lr=0.0)


def test_token_loss_ignores_unscored_positions():
    logits = torch.randn(3, 5, 7)
    targets = torch.randint(7, (3, 5))
    targets[:, :2] = -100
    expected = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100)
    assert torch.allclose(token_loss(logits, targets), expected)


def test_train_on_tasks_records_accuracy_and_learns_a_previous_token_task():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randint(8, (2, 256, 12), generator=g)
    y = torch.full_like(x, -100)
    y[..., 1:] = x[..., :-1]  # output the previous token
    y[1, :, 1::2] = -100  # the second member is scored on half the positions
    history = train_on_tasks(("attention", "mlp"), (x, y, x, y), vocab=8, length=12, width=32, steps=150,
                             lr=3e-3, batch=32, every=50, generator=g)
    assert sorted(history) == [0, 50, 100, 150] and all(len(v) == 2 for v in history.values())
    assert max(history[0]) < 0.4 and min(history[150]) > 0.95
    with pytest.raises(ValueError, match="members"):
        train_on_tasks(("mlp",), (x, y, x[:1], y), vocab=8, length=12, width=8, steps=1, lr=1e-3, batch=4, every=1)


def test_train_and_evaluate_scores_every_split_and_takes_a_learning_rate_per_member():
    from replib.seqmodel import train_and_evaluate

    g = torch.Generator().manual_seed(0)
    x = torch.randint(8, (2, 256, 12), generator=g)
    y = torch.full_like(x, -100)
    y[..., 1:] = x[..., :-1]  # output the previous token
    torch.manual_seed(0)
    history = train_and_evaluate(("attention", "mlp"), (x, y), {"valid": (x[:, :64], y[:, :64]), "test": (x, y)},
                                 vocab=8, length=12, width=32, steps=100, lr=torch.tensor([3e-3, 1e-7]),
                                 batch=32, every=50, generator=g)
    assert sorted(history) == ["test", "valid"] and sorted(history["test"]) == [0, 50, 100]
    assert history["test"][100][0] > 0.9 and history["test"][100][1] < 0.4  # lr 1e-7 barely moves
    with pytest.raises(ValueError, match="members"):
        train_and_evaluate(("mlp",), (x, y), {"test": (x[:1], y[:1])}, vocab=8, length=12, width=8, steps=1,
                           lr=1e-3, batch=4, every=1)
