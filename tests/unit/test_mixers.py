import pytest
import torch

from replib.mixers import (delta_rule_chunked, delta_rule_fused_recurrent,
                           delta_rule_recurrent, linear_attention, softmax_attention)


def qkv(b=2, length=32, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(b, length, d, generator=g, dtype=torch.float64) for _ in range(3))
    k = k / k.norm(dim=-1, keepdim=True)
    beta = torch.rand(b, length, generator=g, dtype=torch.float64)
    return q, k, v, beta


def test_linear_and_softmax_attention_are_causal_sums():
    q, k, v, _ = qkv()
    t = 5
    expected = sum((q[:, t] * k[:, s]).sum(-1, keepdim=True) * v[:, s] for s in range(t + 1))
    assert torch.allclose(linear_attention(q, k, v)[:, t], expected)
    assert torch.allclose(linear_attention(q, k, v, average=True)[:, t], expected / (t + 1))
    w = torch.softmax((q[:, t:t + 1] @ k[:, :t + 1].transpose(-1, -2)) / 8**0.5, -1)
    assert torch.allclose(softmax_attention(q, k, v)[:, t], (w @ v[:, :t + 1])[:, 0])


def test_delta_rule_with_beta_one_stores_orthonormal_keys_exactly():
    keys = torch.eye(8, dtype=torch.float64)[None]  # orthonormal keys: no interference
    values = torch.randn(1, 8, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    out = delta_rule_recurrent(keys, keys, values, torch.ones(1, 8, dtype=torch.float64))
    assert torch.allclose(out, values)  # reading key t right after writing it returns v_t


def test_chunked_delta_rule_equals_the_recurrence_for_every_chunk_size():
    q, k, v, beta = qkv()
    ref = delta_rule_recurrent(q, k, v, beta)
    for chunk in (1, 4, 8, 32):
        assert torch.allclose(delta_rule_chunked(q, k, v, beta, chunk=chunk), ref, atol=1e-10)
    with pytest.raises(ValueError, match="multiple"):
        delta_rule_chunked(q, k, v, beta, chunk=5)
    with pytest.raises(ValueError, match="beta"):
        delta_rule_chunked(q, k, v, beta[:, :3])


def test_chunked_delta_rule_has_the_recurrences_gradients():
    """Training backpropagates through the chunked form: its gradients must match the loop's."""
    inputs = [t.requires_grad_(True) for t in qkv(length=16, seed=3)]
    weights = torch.randn(2, 16, 8, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    grads = []
    for fn in (delta_rule_recurrent, lambda *a: delta_rule_chunked(*a, chunk=4)):
        (fn(*inputs) * weights).sum().backward()
        grads.append([t.grad.clone() for t in inputs])
        for t in inputs:
            t.grad = None
    for ref, chunked in zip(*grads):
        assert torch.allclose(chunked, ref, atol=1e-10)



def test_fused_recurrent_delta_rule_has_the_recurrences_values_and_gradients():
    """The timing baseline: its own backward gives autograd's gradients of the loop."""
    inputs = [t.requires_grad_(True) for t in qkv(b=3, length=24, seed=5)]
    inputs[2] = inputs[2].detach()[..., :5].requires_grad_(True)  # d_v != d_k
    weights = torch.randn(3, 24, 5, generator=torch.Generator().manual_seed(6),
                          dtype=torch.float64)
    results = []
    for fn in (delta_rule_recurrent, delta_rule_fused_recurrent):
        out = fn(*inputs)
        (out * weights).sum().backward()
        results.append([out.detach()] + [t.grad.clone() for t in inputs])
        for t in inputs:
            t.grad = None
    for ref, fused in zip(*results):
        assert torch.allclose(fused, ref, atol=1e-12)
    q, k, v, beta = qkv(b=2, length=6)  # leading axes are flattened and restored
    heads = [t.reshape(1, *t.shape) for t in (q, k, v, beta)]
    expected = delta_rule_recurrent(q, k, v, beta)
    assert torch.allclose(delta_rule_fused_recurrent(*heads)[0], expected)
    with pytest.raises(ValueError, match="beta"):
        delta_rule_fused_recurrent(q, k, v, beta[:, :3])


def _householder_reference(q, k, v, beta):
    """An independent reference in flash-linear-attention's convention (its naive
    ``delta_rule_recurrence``): inputs (batch, heads, L, d), a d_k × d_v state S, the
    generalised Householder update S_t = (I − β_t k_t k_tᵀ) S_{t−1} + β_t k_t v_tᵀ with
    explicit d_k × d_k matrices, queries scaled by d_k^(−1/2), o_t = S_tᵀ q_t.
    Returns the outputs and the final state."""
    *lead, length, dk = q.shape
    eye = torch.eye(dk, dtype=q.dtype)
    state = q.new_zeros(*lead, dk, v.shape[-1])
    out = []
    for t in range(length):
        kt, bt = k[..., t, :, None], beta[..., t, None, None]
        householder = eye - bt * kt @ kt.transpose(-1, -2)
        state = householder @ state + bt * kt @ v[..., t, None, :]
        query = q[..., t, :, None] * dk ** -0.5
        out.append((state.transpose(-1, -2) @ query)[..., 0])
    return torch.stack(out, -2), state


def test_delta_rules_match_the_flash_linear_attention_recurrence():
    """Cross-test against the recurrence of fla-org/flash-linear-attention's naive
    reference (same equations, their layout): our state is its transpose and our queries
    carry no 1/√d_k."""
    g = torch.Generator().manual_seed(7)
    b, h, length, dk, dv = 2, 3, 32, 8, 6
    q, k = (torch.randn(b, h, length, dk, generator=g, dtype=torch.float64)
            for _ in range(2))
    k = torch.nn.functional.normalize(k, dim=-1)  # DeltaNet L2-normalises keys
    v = torch.randn(b, h, length, dv, generator=g, dtype=torch.float64)
    beta = torch.rand(b, h, length, generator=g, dtype=torch.float64)
    ref, final = _householder_reference(q, k, v, beta)
    ours = q * dk ** -0.5, k, v, beta
    assert torch.allclose(delta_rule_recurrent(*ours), ref, atol=1e-12)
    assert torch.allclose(delta_rule_fused_recurrent(*ours), ref, atol=1e-12)
    for chunk in (1, 8, 32):
        assert torch.allclose(delta_rule_chunked(*ours, chunk=chunk), ref, atol=1e-12)
    # the final state, read by unit queries at dk extra steps that write nothing (β = 0)
    probe = torch.eye(dk, dtype=torch.float64).expand(b, h, dk, dk)
    extra = ((q, probe), (k, probe), (v, v[..., :dk, :]))
    tail = [torch.cat([x, y], -2) for x, y in extra]
    tail.append(torch.cat([beta, beta.new_zeros(b, h, dk)], -1))
    read = delta_rule_recurrent(*tail)[..., length:, :]  # row j: S_ours e_j
    assert torch.allclose(read, final, atol=1e-12)  # col. j of S_oursᵀ = row j of S_fla
