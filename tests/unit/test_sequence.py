import pytest
import torch

from replib.sequence import (IGNORE, RecallModel, mad_recall, mad_selective_copy, recall_batch, rotation_sequences,
                             train_recall)


def test_recall_batch_pairs_every_query_with_its_value():
    tokens, targets = recall_batch(3, 5, generator=torch.Generator().manual_seed(0))
    assert tokens.shape == targets.shape == (3, 15)
    for b in range(3):
        pairs = dict(zip(tokens[b, 0:10:2].tolist(), tokens[b, 1:10:2].tolist()))
        assert len(pairs) == 5 and all(k < 64 <= v < 128 for k, v in pairs.items())
        assert (targets[b, :10] == IGNORE).all()
        assert sorted(tokens[b, 10:].tolist()) == sorted(pairs)
        assert [pairs[q] for q in tokens[b, 10:].tolist()] == targets[b, 10:].tolist()
    with pytest.raises(ValueError, match="pairs"):
        recall_batch(1, 65)


def test_every_mixer_runs_causally_and_a_small_recall_task_is_learned():
    tokens, _ = recall_batch(2, 8, generator=torch.Generator().manual_seed(1))
    for mixer in ("delta", "linear", "softmax"):
        torch.manual_seed(0)
        model = RecallModel(mixer, 128, width=32, key_dim=16, chunk=8)
        out = model(tokens)
        changed = tokens.clone()
        changed[:, -1] = 0
        assert out.shape == (2, 24, 128)
        assert torch.allclose(model(changed)[:, :-1], out[:, :-1], atol=1e-6)  # the future does not leak
    torch.manual_seed(0)
    result = train_recall(RecallModel("linear", 128, width=32, key_dim=16), 4, steps=400,
                          generator=torch.Generator().manual_seed(2))
    assert result.accuracy > 0.9 and len(result.losses) == 400
    with pytest.raises(ValueError, match="mixer"):
        RecallModel("mamba", 128)


def test_rotation_sequences_follow_commuting_orthogonal_maps():
    g = torch.Generator().manual_seed(3)
    basis = torch.linalg.qr(torch.randn(4, 4, generator=g, dtype=torch.float64))[0]
    seq, w = rotation_sequences(5, 7, basis, generator=g)
    assert seq.shape == (5, 8, 4) and w.shape == (5, 4, 4)
    assert torch.allclose(w @ w.transpose(-1, -2), torch.eye(4, dtype=torch.float64).expand(5, 4, 4), atol=1e-12)
    assert torch.allclose(w[0] @ w[1], w[1] @ w[0], atol=1e-12)
    assert torch.allclose(seq[:, 1:], (w.unsqueeze(1) @ seq[:, :-1].unsqueeze(-1)).squeeze(-1), atol=1e-12)
    assert torch.allclose(seq.norm(dim=-1), torch.ones(5, 8, dtype=torch.float64))
    with pytest.raises(ValueError, match="even"):
        rotation_sequences(2, 3, torch.eye(3, dtype=torch.float64))


def test_mad_recall_scores_values_of_keys_seen_before():
    g = torch.Generator().manual_seed(0)
    x, y, scored = mad_recall(64, 32, generator=g)
    assert x.shape == y.shape == scored.shape == (64, 31)
    assert torch.equal(x[:, 1:], y[:, :-1])  # next-token targets
    keys, values = x[:, 0::2], torch.cat([x[:, 1::2], y[:, -1:]], 1)
    assert (keys < 8).all() and (values >= 8).all()
    for row in range(64):  # one value per key within a sequence; scored exactly where the key came before
        table = {}
        for i, (k, v) in enumerate(zip(keys[row].tolist(), values[row].tolist())):
            assert table.setdefault(k, v) == v
            assert (scored[row, 2 * i] != IGNORE) == (k in keys[row, :i].tolist())
            if scored[row, 2 * i] != IGNORE:
                assert scored[row, 2 * i] == v
        assert scored[row, -1] != IGNORE  # the final pair probes a key seen before
    _, _, noisy = mad_recall(64, 32, vocab=32, noise_vocab=16, noise_fraction=0.5, generator=g)
    assert (noisy != IGNORE).sum() < (scored != IGNORE).sum()
    with pytest.raises(ValueError, match="even length"):
        mad_recall(4, 31)


def test_mad_selective_copy_targets_the_scattered_tokens_in_order():
    x, y = mad_selective_copy(16, 20, 4, generator=torch.Generator().manual_seed(1))
    for row in range(16):
        content = x[row, :15][x[row, :15] != 14]
        assert len(content) == 4 and x[row, 15] == 15 and (x[row, 16:] == 14).all()
        assert torch.equal(y[row, 16:], content) and (y[row, :16] == IGNORE).all()
    plain, _ = mad_selective_copy(16, 20, 4, scattered=False, generator=torch.Generator().manual_seed(1))
    assert (plain[:, :4] < 14).all() and (plain[:, 4:15] == 14).all()
    with pytest.raises(ValueError, match="copies"):
        mad_selective_copy(2, 8, 4)


def test_token_task_and_task_splits_give_each_member_its_own_data():
    from replib.sequence import task_splits, token_task

    x, y, s = token_task("in-context recall", 4, 12, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == s.shape == (4, 11) and (s != IGNORE).sum() < (y != IGNORE).sum()
    x, y, s = token_task("plain copying", 4, 12, copies=2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(y, s) and torch.equal(y[:, -2:], x[:, :2])  # tokens at the start, copied in order
    members = [("selective copying", 0), ("selective copying", 1), ("in-context recall", 0)]
    data = task_splits(members, 12, {"train": 6, "test": 3}, copies=2, seed=1)
    assert data["train"][0].shape == (3, 6, 11) and data["test"][1].shape == (3, 3, 11)
    assert not torch.equal(data["train"][0][0], data["train"][0][1])  # replicates differ
    assert (data["train"][1][2] != IGNORE).all() and (data["test"][1][2] == IGNORE).any()
    again = task_splits(members, 12, {"train": 6, "test": 3}, copies=2, seed=1)
    assert torch.equal(again["test"][0], data["test"][0])
    assert not torch.equal(task_splits(members, 12, {"train": 6}, copies=2, seed=2)["train"][0],
                           data["train"][0])
    with pytest.raises(ValueError, match="task"):
        token_task("copying", 2, 12)
