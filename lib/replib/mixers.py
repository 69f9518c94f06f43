"""Token mixers: the part of a sequence layer that moves information along the sequence.

Each mixer maps queries, keys and values (..., L, d) to outputs (..., L, d_v), causally (output t sees
inputs 1..t only). Leading axes are batch and heads.

- :func:`softmax_attention` — causal softmax attention.
- :func:`linear_attention` — S_t = S_{t−1} + v_t k_tᵀ, o_t = S_t q_t, computed as a masked matrix product.
- :func:`delta_rule_recurrent` — DeltaNet's S_t = S_{t−1}(I − β_t k_t k_tᵀ) + β_t v_t k_tᵀ, one step at a time.
- :func:`delta_rule_chunked` — the same outputs, chunk by chunk: within a chunk everything is a matrix
  product, and only the L/C chunk-boundary states are sequential (Yang et al., 2024).
- :func:`delta_rule_fused_recurrent` — the recurrent form as a training baseline: the
  step loop compiled (TorchScript), with its own reverse-time backward pass (L
  sequential steps both ways, no autograd graph per step), the CPU analogue of a fused
  recurrent kernel.
"""

from __future__ import annotations

import torch


def _check_qkv(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None:
    if q.shape != k.shape or q.shape[:-1] != v.shape[:-1]:
        raise ValueError(f"q and k must share a shape and v its leading axes: {tuple(q.shape)}, "
                         f"{tuple(k.shape)}, {tuple(v.shape)}")


def _causal_mask(length: int, device, diagonal: int = 0) -> torch.Tensor:
    return torch.ones(length, length, dtype=torch.bool, device=device).tril(diagonal)


def softmax_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Causal softmax attention with the usual 1/√d scaling."""
    _check_qkv(q, k, v)
    scores = (q @ k.transpose(-1, -2)) / q.shape[-1] ** 0.5
    scores = scores.masked_fill(~_causal_mask(q.shape[-2], q.device), float("-inf"))
    return scores.softmax(-1) @ v


def linear_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, average: bool = False) -> torch.Tensor:
    """o_t = Σ_{s ≤ t} (q_t·k_s) v_s: the additive outer-product memory read at every step; with
    ``average=True`` the sum is divided by t (a causal mean, so the output's scale does not grow with t)."""
    _check_qkv(q, k, v)
    out = ((q @ k.transpose(-1, -2)) * _causal_mask(q.shape[-2], q.device)) @ v
    if average:
        out = out / torch.arange(1, q.shape[-2] + 1, dtype=out.dtype, device=out.device).unsqueeze(-1)
    return out


def delta_rule_recurrent(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """The delta rule one step at a time: the memory S (d_v × d_k) moves its prediction S k_t towards v_t by
    the fraction β_t, S_t = S_{t−1} + β_t (v_t − S_{t−1} k_t) k_tᵀ, and is read with o_t = S_t q_t."""
    _check_qkv(q, k, v)
    if beta.shape != q.shape[:-1]:
        raise ValueError(f"beta must have shape {tuple(q.shape[:-1])}, got {tuple(beta.shape)}")
    state = q.new_zeros(*q.shape[:-2], v.shape[-1], k.shape[-1])
    out = []
    for t in range(q.shape[-2]):
        kt, vt = k[..., t, :], v[..., t, :]
        error = vt - (state @ kt.unsqueeze(-1)).squeeze(-1)
        state = state + (beta[..., t, None] * error).unsqueeze(-1) * kt.unsqueeze(-2)
        out.append((state @ q[..., t, :].unsqueeze(-1)).squeeze(-1))
    return torch.stack(out, -2)


def delta_rule_chunked(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, beta: torch.Tensor,
                       chunk: int = 64) -> torch.Tensor:
    """:func:`delta_rule_recurrent`'s outputs with L/C sequential steps instead of L.

    Write the update as S_t = S_{t−1} + u_t k_tᵀ with u_t = β_t (v_t − S_{t−1} k_t). Within a chunk that
    starts from the state S₀, the u_t solve a unit lower-triangular system,
    (I + diag(β) tril(K Kᵀ, −1)) U = diag(β) (V − K S₀ᵀ), so U = Ũ − W S₀ᵀ with Ũ = T diag(β) V and
    W = T diag(β) K (T the triangular inverse; this is the WY form of the product of the chunk's
    generalised Householder factors), computed for all chunks at once. Then the chunk's outputs are
    O = Q S₀ᵀ + tril(Q Kᵀ) U and its final state S₀ + Uᵀ K: one small sequential loop over chunks.
    """
    _check_qkv(q, k, v)
    if beta.shape != q.shape[:-1]:
        raise ValueError(f"beta must have shape {tuple(q.shape[:-1])}, got {tuple(beta.shape)}")
    length = q.shape[-2]
    if chunk < 1 or length % chunk:
        raise ValueError(f"the length {length} must be a positive multiple of the chunk size {chunk}")
    *lead, _, dk = k.shape
    dv = v.shape[-1]
    n = length // chunk
    qc, kc = q.reshape(*lead, n, chunk, dk), k.reshape(*lead, n, chunk, dk)
    vc, bc = v.reshape(*lead, n, chunk, dv), beta.reshape(*lead, n, chunk, 1)
    strictly_lower = _causal_mask(chunk, q.device, -1)
    system = torch.eye(chunk, dtype=q.dtype, device=q.device) + bc * ((kc @ kc.transpose(-1, -2)) * strictly_lower)
    rhs = torch.cat([bc * vc, bc * kc], -1)
    solved = torch.linalg.solve_triangular(system, rhs, upper=False, unitriangular=True)
    u_tilde, w = solved[..., :dv], solved[..., dv:]
    scores = (qc @ kc.transpose(-1, -2)) * _causal_mask(chunk, q.device)
    state = q.new_zeros(*lead, dv, dk)
    out = []
    # unbind once: indexing chunk i inside the loop would make autograd build a
    # full-size gradient for every chunk in the backward pass
    chunks = (t.unbind(-3) for t in (qc, kc, u_tilde, w, scores))
    for qi, ki, ui, wi, si in zip(*chunks):
        u = ui - wi @ state.transpose(-1, -2)
        out.append(qi @ state.transpose(-1, -2) + si @ u)
        state = state + u.transpose(-1, -2) @ ki
    return torch.cat(out, -2)


@torch.jit.script
def _recurrent_forward(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                       beta: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    # q, k (n, L, dk), v (n, L, dv), beta (n, L) -> outputs, u_t (n, L, dv), final state
    state = q.new_zeros(q.shape[0], v.shape[-1], k.shape[-1])
    out, us = [], []
    for t in range(q.shape[1]):
        kt = k[:, t].unsqueeze(-1)
        u = (v[:, t].unsqueeze(-1) - torch.bmm(state, kt)) * beta[:, t, None, None]
        state = torch.baddbmm(state, u, kt.transpose(1, 2))
        out.append(torch.bmm(state, q[:, t].unsqueeze(-1)))
        us.append(u)
    return torch.cat(out, -1).transpose(1, 2), torch.cat(us, -1).transpose(1, 2), state


@torch.jit.script
def _recurrent_backward(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                        beta: torch.Tensor, u: torch.Tensor, state: torch.Tensor,
                        grad_out: torch.Tensor) -> list[torch.Tensor]:
    # reverse-time sweep: G = dloss/dS_t; S_{t-1} = S_t - u_t k_tᵀ rebuilt on the way
    grad = torch.zeros_like(state)
    dq, dk, dv, dbeta = [], [], [], []
    for t in range(q.shape[1] - 1, -1, -1):
        qt, kt, do, ut = (x[:, t].unsqueeze(-1) for x in (q, k, grad_out, u))
        bt = beta[:, t, None, None]
        grad = torch.baddbmm(grad, do, qt.transpose(1, 2))
        dq.append(torch.bmm(state.transpose(1, 2), do))
        state = torch.baddbmm(state, ut, kt.transpose(1, 2), alpha=-1.0)  # S_{t-1}
        du = torch.bmm(grad, kt)
        dk.append(torch.bmm(grad.transpose(1, 2), ut)
                  - bt * torch.bmm(state.transpose(1, 2), du))
        dv.append(bt * du)
        dbeta.append((du * (v[:, t].unsqueeze(-1) - torch.bmm(state, kt))).sum(1))
        grad = torch.baddbmm(grad, bt * du, kt.transpose(1, 2), alpha=-1.0)
    grads = [torch.cat(g[::-1], -1).transpose(1, 2) for g in (dq, dk, dv)]
    return grads + [torch.cat(dbeta[::-1], -1)]


class _FusedRecurrent(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, beta):
        out, u, state = _recurrent_forward(q, k, v, beta)
        ctx.save_for_backward(q, k, v, beta, u, state)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        return tuple(_recurrent_backward(*ctx.saved_tensors, grad_out.contiguous()))


def delta_rule_fused_recurrent(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                               beta: torch.Tensor) -> torch.Tensor:
    """:func:`delta_rule_recurrent`'s outputs and gradients, by a recurrent kernel.

    The forward loop runs compiled (TorchScript) and keeps only the
    u_t = β_t (v_t − S_{t−1} k_t) and the final state; the backward pass is its own
    reverse-time recurrence: with G_t = ∂loss/∂S_t, G_t ← G_t + ∂o_t q_tᵀ,
    ∂u_t = G_t k_t, G_{t−1} = G_t (I − β_t k_t k_tᵀ), and S_{t−1} = S_t − u_t k_tᵀ
    rebuilt on the way back. Both passes take L sequential steps: this is the recurrent
    baseline the chunked form is timed against (autograd through
    :func:`delta_rule_recurrent` would record a graph node per operation and step).
    Rebuilding the states costs accuracy in low precision over very long sequences.
    """
    _check_qkv(q, k, v)
    if beta.shape != q.shape[:-1]:
        raise ValueError(f"beta must have shape {tuple(q.shape[:-1])}, "
                         f"got {tuple(beta.shape)}")
    lead = q.shape[:-2]
    flat = [t.reshape(-1, *t.shape[len(lead):]).contiguous() for t in (q, k, v, beta)]
    out = _FusedRecurrent.apply(*flat)
    return out.reshape(*lead, *out.shape[-2:])
